// Bugs in golden that the chaos run has found and that are not fixed yet. A violation tagged
// with one of these (only when the evidence shows that bug, e.g. the build's own phase history)
// is printed in the summary but does not fail the run unless CHAOS_STRICT=1, so the subset in
// `make test` stays green meanwhile; `make chaos` sets CHAOS_STRICT=1 by default. Delete an entry
// once the bug is fixed, and its violations always fail the run again.
// None at the moment: the last one, an Image just under etcd's request limit that the schema
// accepted but that could take no finalizer, status or ImageBuild, is refused at admission now
// (the spec's limits; test/unit/api/size-budget.test.ts).
export const KNOWN_BUGS: Record<string, string> = {};

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
