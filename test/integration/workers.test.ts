// Lost and slow workers: a worker that heartbeats keeps its build however slow; one that never
// starts fails as WorkerLost.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { image, type Ns, waitPhase } from "./build-helpers.js";
import { golden, realNode, scratchNamespace } from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";

describe("lost and slow workers", () => {
  let ns: Ns;
  let operator: OperatorProcess;
  before(async () => {
    ns = await scratchNamespace("lost");
    operator = await startOperator(
      ns.name,
      // Only the real (amd64) node matches and arm64 builds want arm64 nodes, so an arm64 build's
      // pod can never be scheduled.
      [
        "--worker-lost-after",
        "5",
        "--worker-heartbeat-seconds",
        "1",
        "--worker-node-selector",
        `kubernetes.io/hostname=${realNode}`,
        "--arm64-placement",
        "native",
      ],
      { name: "lost" },
    );
  });
  after(async () => {
    await ns.remove();
    await operator.stop();
  });

  it("keeps a slow worker that heartbeats, and fails one that never starts", async () => {
    // Slow: each step (6 s) outlasts the 5 s silence limit, but heartbeats every second keep it alive.
    await golden.images.create(image(ns.name, "slow-but-alive", {}, 6));
    // Lost: its pod never starts, so it never heartbeats.
    await golden.images.create(
      image(ns.name, "never-starts", { base: { os: "fedora", release: "42", arch: "arm64" } }),
    );
    const lost = await waitPhase(ns.name, "never-starts", "Failed", 60_000).catch(async (err) => {
      throw new Error(`${String(err)}\n${operator.logs().slice(-3000)}`);
    });
    assert.match(lost.status?.message ?? "", /no heartbeat for \d+s/);
    const alive = await waitPhase(ns.name, "slow-but-alive", "Succeeded", 90_000);
    assert.equal(alive.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
  });
});
