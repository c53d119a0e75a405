// Version numbers golden assigns: MAJOR.MINOR.PATCH, compared numerically.

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

export type Bump = "Initial" | "Major" | "Minor" | "Patch";

const PATTERN = /^(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})$/;

/** The version, or undefined when `text` is not MAJOR.MINOR.PATCH. */
export function parseVersion(text: string): SemVer | undefined {
  const m = PATTERN.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

export function formatVersion(v: SemVer): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** Negative when a < b, 0 when equal, positive when a > b; unparsable versions sort first. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return (x ? 1 : 0) - (y ? 1 : 0) || (a < b ? -1 : a > b ? 1 : 0);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

export function bumpVersion(previous: string | undefined, bump: Bump): string {
  const v = previous ? parseVersion(previous) : undefined;
  if (!v || bump === "Initial") return "1.0.0";
  if (bump === "Major") return formatVersion({ major: v.major + 1, minor: 0, patch: 0 });
  if (bump === "Minor") return formatVersion({ major: v.major, minor: v.minor + 1, patch: 0 });
  return formatVersion({ ...v, patch: v.patch + 1 });
}

/**
 * Compares package versions the way dpkg and rpm mostly agree on: runs of digits numerically,
 * everything else as text, left to right.
 */
export function comparePackageVersions(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|[^\d]+/g) ?? [];
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined || q === undefined) return p === undefined ? -1 : 1;
    if (p === q) continue;
    const digits = /^\d/.test(p) && /^\d/.test(q);
    if (digits) return Number(p) - Number(q) || (p < q ? -1 : 1);
    return p < q ? -1 : 1;
  }
  return 0;
}
