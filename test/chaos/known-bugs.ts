// Bugs in golden that the chaos run has found and that are not fixed yet. A violation tagged
// with one of these (only when the evidence shows that bug, e.g. the build's own phase history)
// is printed in the summary but does not fail the run unless CHAOS_STRICT=1, so the subset in
// `make test` stays green meanwhile; `make chaos` sets CHAOS_STRICT=1 by default. Delete an entry
// once the bug is fixed, and its violations always fail the run again.
export const KNOWN_BUGS: Record<string, string> = {
  "oversized-image-stuck":
    "an Image just under etcd's request limit (1.5 MiB) is accepted, but the operator's finalizer patch " +
    "and status writes fail with 500 'etcdserver: request is too large' forever: no status, no Event",
};

const MARK = "KNOWN_BUG ";

/** Tags a violation as an instance of a known bug. */
export function knownBug(id: keyof typeof KNOWN_BUGS, text: string): string {
  return `${MARK}${id}: ${text}`;
}

/** Violations that fail the run, and those of known bugs (which fail only with CHAOS_STRICT=1). */
export function splitKnown(problems: string[]): { failing: string[]; known: string[] } {
  const strict = process.env.CHAOS_STRICT === "1";
  const failing: string[] = [];
  const known: string[] = [];
  for (const p of problems) {
    const id = p.startsWith(MARK) ? p.slice(MARK.length).split(":")[0] : undefined;
    if (id && id in KNOWN_BUGS && !strict) known.push(p);
    else failing.push(p);
  }
  return { failing, known };
}
