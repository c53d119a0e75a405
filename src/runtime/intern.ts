// String interning for cached objects. JSON.parse gives every string value its own copy, so a
// namespace, a label value or an owner's name is stored once per object that carries it (an
// Image's name and uid appear in its build, Job and pod several times over). V8 keeps one copy of
// each property name in its string table, which is weak (a name no object uses any more is
// collected): using a value as a property name and reading the name back yields that one copy,
// with no table of our own that could only grow.

/** The string table's copy of `s` (equal to it; the same string for every equal value). */
export function intern(s: string): string {
  const holder = { [s]: 0 };
  // for-in yields the key as stored. Array-index keys ("1") come back as fresh short strings.
  for (const key in holder) return key;
  return s;
}

/**
 * Interns every string value of a JSON-like value in place (object keys from JSON.parse already
 * are) and returns it. Frozen objects (shared ones) and objects that are not plain (Date, class
 * instances) are left alone.
 */
export function internStrings<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === "string") value[i] = intern(v);
      else if (v !== null && typeof v === "object") internStrings(v);
    }
  } else if (isPlain(value)) {
    const o = value as Record<string, unknown>;
    for (const key in o) {
      const v = o[key];
      if (typeof v === "string") o[key] = intern(v);
      else if (v !== null && typeof v === "object") internStrings(v);
    }
  }
  return value;
}

function isPlain(o: object): boolean {
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
}
