// The node:test suite around a ChaosRun, shared by test/chaos/chaos.test.ts (full) and
// test/integration/chaos.test.ts (the bounded subset in `make test`).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kubeconfigPath } from "../integration/cluster.js";
import { foreignOperator } from "../support/foreign-operator.js";
import { log } from "./clock.js";
import { type ChaosConfig, ChaosRun } from "./scenario.js";

export function chaosSuite(cfg: ChaosConfig, opts: { onForeignOperator: "skip" | "fail" }): void {
  // A golden-operator from `make up` watches every namespace and would fight the run's own.
  const why = foreignOperator(kubeconfigPath);
  describe(`chaos (${cfg.label}, seed ${cfg.seed})`, {
    skip: opts.onForeignOperator === "skip" ? why : undefined,
  }, () => {
    const run = new ChaosRun(cfg);
    before(async () => {
      if (why) throw new Error(why);
      await run.setup();
    });
    after(async () => {
      if (why) return;
      await run.teardown();
      log(`\n${run.summary()}`);
    });

    const faults = cfg.required.join(", ");
    it(`converges after faults (${faults}, Job/pod deletions) with every invariant held`, async () => {
      const problems = await run.chaos();
      assert.deepEqual(
        problems,
        [],
        `seed ${cfg.seed}: ${problems.length} violation(s):\n${problems.join("\n")}`,
      );
    });

    // The subset leaves fuzzing to test/integration/fuzz.test.ts, which needs no cluster of its own.
    if (cfg.fuzzCases === 0) return;
    it(`fuzzes the Image API (${cfg.fuzzCases} specs by dry run, ${cfg.fuzzReal} built) without an operator exit`, async () => {
      const problems = await run.fuzz();
      assert.deepEqual(
        problems,
        [],
        `seed ${cfg.seed}: ${problems.length} violation(s):\n${problems.join("\n")}`,
      );
    });
  });
}
