// The largest JSON that a CRD schema admits, counted the way kube-apiserver stores a custom
// resource in etcd: compact JSON written by Go's encoding/json, which escapes control characters
// as \u00XX, the HTML characters < > & as \u003c \u003e \u0026 and U+2028/U+2029 as \u2028/\u2029
// (6 bytes for one character), and writes other non-ASCII characters as UTF-8 (up to 4 bytes).
// The apiserver's maxLength counts characters (runes), so a string of maxLength N may take up to
// 6N bytes; its pattern can bound that (an ASCII-only pattern means 1 byte per character).
//
// Two sizes per schema:
//   jsonWorst     the value itself (every list at maxItems, every string at maxLength in its
//                 costliest characters, every optional field present, every number at its widest);
//   fieldsWorst   what the value adds to metadata.managedFields (the FieldsV1 set of one field
//                 manager): each field's name, and the value of each item of a `set` list and the
//                 keys of each item of a `map` list, escaped twice (JSON inside a JSON key).

export type Schema = Record<string, unknown>;

/** What Go's encoding/json writes for `s` inside a string literal (HTML-safe, as the apiserver). */
export function goEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029)
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    else if (c >= 0xd800 && c <= 0xdfff)
      out += "\\ufffd"; // a lone surrogate is invalid UTF-8
    else out += ch;
  }
  return out;
}

export const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8");

/** Bytes of one character inside a JSON string. */
export const valueCost = (ch: string): number => utf8Length(goEscape(ch));
/** Bytes of one character of a string value inside a managedFields key (`k:{"path":"…"}`, `v:"…"`). */
export const keyCost = (ch: string): number => utf8Length(goEscape(goEscape(ch)));

/** The size of `value` as the apiserver stores it: Go's JSON, escapes included. */
export function storedSize(value: unknown): number {
  const text = JSON.stringify(value);
  let extra = 0;
  // JSON.stringify leaves < > & U+2028 U+2029 as they are; Go writes 6 bytes for each.
  for (const ch of text) {
    if (ch === "<" || ch === ">" || ch === "&") extra += 5;
    else if (ch === "\u2028" || ch === "\u2029") extra += 3;
  }
  return utf8Length(text) + extra;
}

// ---------------------------------------------------------------- patterns

/** Characters that stand for every class of byte cost a character can have. */
const PROBES: string[] = [
  ...Array.from({ length: 0x80 }, (_, i) => String.fromCodePoint(i)),
  ...[0x80, 0xe9, 0x7ff, 0x800, 0x2028, 0x2029, 0x202e, 0xfeff, 0xfffd, 0x10000, 0x1f680, 0x10ffff].map((c) =>
    String.fromCodePoint(c),
  ),
];

/** cost -> how many characters of that cost a match can contain at most (Infinity: unbounded). */
type Profile = Map<number, number>;

const add = (a: Profile, b: Profile): Profile => {
  const out = new Map(a);
  for (const [cost, n] of b) out.set(cost, (out.get(cost) ?? 0) + n);
  return out;
};
const either = (a: Profile, b: Profile): Profile => {
  const out = new Map(a);
  for (const [cost, n] of b) out.set(cost, Math.max(out.get(cost) ?? 0, n));
  return out;
};
const times = (a: Profile, k: number): Profile =>
  new Map([...a].map(([cost, n]) => [cost, n === 0 ? 0 : k === Number.POSITIVE_INFINITY ? k : n * k]));

/** The costliest character one atom (a class, an escape, `.` or a literal) matches. */
function atomProfile(source: string, cost: (ch: string) => number): Profile {
  const re = new RegExp(`^(?:${source})$`, "u");
  const costs = PROBES.filter((p) => re.test(p)).map(cost);
  if (costs.length === 0) throw new Error(`pattern atom ${source} matches none of the probe characters`);
  return new Map([[Math.max(...costs), 1]]);
}

/**
 * How many characters of each byte cost a string matching `pattern` can contain, from the
 * pattern's structure (alternatives, groups, quantifiers). Covers the RE2 subset CRDs use here:
 * classes, escapes, `.`, groups, `|`, anchors and the quantifiers * + ? {n} {n,} {n,m}.
 */
export function patternProfile(pattern: string, cost: (ch: string) => number): Profile {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`pattern ${pattern} at ${i}: ${why}`);
  };
  const alternation = (): Profile => {
    let p = sequence();
    while (pattern[i] === "|") {
      i++;
      p = either(p, sequence());
    }
    return p;
  };
  const sequence = (): Profile => {
    let p: Profile = new Map();
    while (i < pattern.length && pattern[i] !== "|" && pattern[i] !== ")") p = add(p, quantified(atom()));
    return p;
  };
  const atom = (): Profile => {
    const c = pattern[i] as string;
    if (c === "^" || c === "$") {
      i++;
      return new Map();
    }
    if (c === "(") {
      i++;
      if (pattern.startsWith("?:", i)) i += 2;
      else if (pattern[i] === "?") fail("only (…) and (?:…) groups are supported");
      const inner = alternation();
      if (pattern[i] !== ")") fail("unclosed group");
      i++;
      return inner;
    }
    if (c === "[") {
      const start = i++;
      if (pattern[i] === "^") i++;
      if (pattern[i] === "]") i++;
      while (i < pattern.length && pattern[i] !== "]") i += pattern[i] === "\\" ? 2 : 1;
      if (pattern[i] !== "]") fail("unclosed class");
      i++;
      return atomProfile(pattern.slice(start, i), cost);
    }
    if (c === "\\") {
      const e = pattern[i + 1] ?? fail("trailing backslash");
      if (!/[dDwWsS.\\^$|?*+()[\]{}/nrt]/.test(e)) fail(`unsupported escape \\${e}`);
      i += 2;
      return atomProfile(`\\${e}`, cost);
    }
    if ("*+?{".includes(c)) fail("quantifier without an atom");
    i++;
    return atomProfile(c === "." ? "." : c.replace(/[\\^$*+?.()|[\]{}/]/g, "\\$&"), cost);
  };
  const quantified = (p: Profile): Profile => {
    const c = pattern[i];
    let max = 1;
    if (c === "*" || c === "+") {
      i++;
      max = Number.POSITIVE_INFINITY;
    } else if (c === "?") {
      i++;
    } else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i)) ?? fail("bad {n,m}");
      i += m[0].length;
      max = m[2] === undefined ? Number(m[1]) : m[3] ? Number(m[3]) : Number.POSITIVE_INFINITY;
    } else return p;
    if (pattern[i] === "?") i++; // lazy: same set of matches
    return times(p, max);
  };
  const p = alternation();
  if (i !== pattern.length) fail("unbalanced )");
  return p;
}

/** The most bytes `maxLength` characters can take, the costliest characters first. */
export function worstChars(maxLength: number, profile: Profile): number {
  let left = maxLength;
  let bytes = 0;
  for (const [cost, n] of [...profile].sort((a, b) => b[0] - a[0])) {
    const k = Math.min(left, n);
    bytes += k * cost;
    left -= k;
  }
  return bytes;
}

// ---------------------------------------------------------------- schemas

const ANY_CHARACTER = (cost: (ch: string) => number): Profile =>
  new Map([[Math.max(...PROBES.map(cost)), Number.POSITIVE_INFINITY]]);

/** Bytes of a string's characters (no quotes), at the schema's maxLength, escaped by `cost`. */
function stringBody(s: Schema, at: string, cost: (ch: string) => number): number {
  if (Array.isArray(s.enum))
    return Math.max(...s.enum.map((v) => [...String(v)].reduce((n, ch) => n + cost(ch), 0)));
  if (s.format === "date-time") return "2006-01-02T15:04:05.999999999+07:00".length;
  if (typeof s.maxLength !== "number") throw new Error(`${at}: a string without maxLength is unbounded`);
  const profile = typeof s.pattern === "string" ? patternProfile(s.pattern, cost) : ANY_CHARACTER(cost);
  return worstChars(s.maxLength, profile);
}

function integerWidth(s: Schema): number {
  const wide = s.format === "int32" ? -(2 ** 31) : -(2 ** 63);
  const lo = typeof s.minimum === "number" ? s.minimum : wide;
  const hi = typeof s.maximum === "number" ? s.maximum : -wide - 1;
  return Math.max(String(lo).length, String(hi).length);
}

const props = (s: Schema): [string, Schema][] =>
  Object.entries((s.properties ?? {}) as Record<string, Schema>);

/** The most bytes a value of schema `s` takes in compact JSON as the apiserver stores it. */
export function jsonWorst(s: Schema, at = ""): number {
  if (s["x-kubernetes-preserve-unknown-fields"] || s.additionalProperties)
    throw new Error(`${at}: free-form object, unbounded`);
  switch (s.type) {
    case "string":
      return 2 + stringBody(s, at, valueCost);
    case "integer":
      return integerWidth(s);
    case "boolean":
      return 5;
    case "array": {
      if (typeof s.maxItems !== "number") throw new Error(`${at}: an array without maxItems is unbounded`);
      const n = s.maxItems;
      return 2 + n * jsonWorst(s.items as Schema, `${at}[*]`) + Math.max(0, n - 1);
    }
    case "object": {
      const fields = props(s).map(([k, v]) => k.length + 3 + jsonWorst(v, `${at}.${k}`));
      return 2 + fields.reduce((a, b) => a + b, 0) + Math.max(0, fields.length - 1);
    }
    default:
      throw new Error(`${at}: unsupported type ${String(s.type)}`);
  }
}

/** `{".":{}` plus entries, as FieldsV1 writes a node that has children. */
const fieldsNode = (entries: number[]): number =>
  2 + '".":{}'.length + entries.reduce((a, b) => a + b + 1, 0);

/**
 * The most bytes the FieldsV1 of one field manager that owns all of a value of schema `s` takes,
 * for example `{".":{},"f:files":{".":{},"k:{\"path\":\"/etc/motd\"}":{...}}}`.
 */
export function fieldsWorst(s: Schema, at = ""): number {
  if (s.type === "object") {
    return fieldsNode(props(s).map(([k, v]) => `"f:${k}":`.length + fieldsWorst(v, `${at}.${k}`)));
  }
  if (s.type !== "array" || (s["x-kubernetes-list-type"] ?? "atomic") === "atomic") return "{}".length;
  const items = s.items as Schema;
  const n = s.maxItems as number;
  if (s["x-kubernetes-list-type"] === "set") {
    // "v:\"<value>\"":{}
    const key = '"v:\\"'.length + stringBody(items, `${at}[*]`, keyCost) + '\\""'.length;
    return fieldsNode(Array.from({ length: n }, () => key + ":{}".length));
  }
  // "k:{\"name\":\"<value>\",…}":{<fields of the item>}
  const keys = (s["x-kubernetes-list-map-keys"] as string[]).map((k) => {
    const v = props(items).find(([name]) => name === k)?.[1];
    if (v?.type !== "string") throw new Error(`${at}: map key ${k} must be a string property`);
    return `\\"${k}\\":\\"`.length + stringBody(v, `${at}[*].${k}`, keyCost) + '\\"'.length;
  });
  const key = '"k:{'.length + keys.reduce((a, b) => a + b, 0) + keys.length - 1 + '}"'.length;
  return fieldsNode(Array.from({ length: n }, () => key + 1 + fieldsWorst(items, `${at}[*]`)));
}

/** The subschema at a path of property names, e.g. ["spec", "customizations"]. */
export function subschema(root: Schema, path: string[]): Schema {
  let s = root;
  for (const p of path) {
    const next = (s.properties as Record<string, Schema> | undefined)?.[p];
    if (!next) throw new Error(`no property ${p} under ${path.join(".")}`);
    s = next;
  }
  return s;
}
