// The Image API fuzzed (test/chaos/fuzz.ts): 300 random and adversarial specs by dry run, each
// refused with an error naming the field or accepted with defaults applied; a sample of the
// accepted ones and the size edge (the largest spec the schema admits, and one too large for etcd)
// built for real by this file's own operator, which must not exit. It keeps to its namespace, so it
// runs beside the other files; `make chaos` fuzzes 3 000 specs after its faults. Replay a run with
// CHAOS_SEED=<seed printed>.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fuzzImageApi } from "../chaos/fuzz.js";
import { checkOrphans } from "../chaos/invariants.js";
import { chaosSeed, Rng } from "../chaos/prng.js";
import { scratchNamespace } from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";

const seed = chaosSeed();
const CASES = 300;
const BUILT = 6;
const SETTLE_MS = 120_000;
const log = (msg: string): void => console.log(`[fuzz] ${msg}`);

describe(`fuzzing the Image API (seed ${seed}, replay with CHAOS_SEED=${seed})`, () => {
  let ns: { name: string; remove: () => Promise<void> };
  let operator: OperatorProcess;
  before(async () => {
    ns = await scratchNamespace("fuzz");
    operator = await startOperator(ns.name, [], { name: "fuzz" });
  });
  after(async () => {
    await ns?.remove();
    await operator?.stop();
  });

  it(`refuses bad specs naming a field and builds good ones (${CASES} by dry run, ${BUILT} and the size edge for real) without an operator exit`, async () => {
    const run = await fuzzImageApi(
      new Rng(seed).fork("fuzz"),
      ns.name,
      { count: CASES, built: BUILT, timeoutMs: SETTLE_MS },
      log,
    );
    const accepted = run.results.filter((r) => r.verdict === "accepted").length;
    // Both verdicts must occur, or the judge had nothing to judge on one side.
    assert.ok(accepted > 0 && accepted < CASES, `accepted ${accepted} of ${CASES}`);
    const problems = run.problems;
    if (operator.child.exitCode !== null)
      problems.push(
        `the operator exited (${operator.child.exitCode}) during the fuzz:\n${operator.logs().slice(-2000)}`,
      );
    problems.push(...(await checkOrphans([ns.name], 30_000)));
    assert.deepEqual(problems, [], `seed ${seed}: ${problems.length} problem(s):\n${problems.join("\n")}`);
    const settled = [...run.outcomes.values()].reduce((a, b) => a + b, 0);
    assert.equal(settled, BUILT, "every sampled spec was created and settled");
  });
});
