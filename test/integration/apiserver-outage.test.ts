// The controller runtime through an apiserver outage and an etcd compaction: the operator keeps
// running without an apiserver, relists on 410 Gone, and every build converges without duplicates
// or orphans. It stops the apiserver for the whole cluster, so it runs alone (hack/test-integration.sh).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, golden, scratchNamespace } from "./cluster.js";
import { compactEtcd, startMissingComponents, stopComponent } from "./control-plane.js";
import { assertNoDuplicatesOrOrphans, building, image, succeeded } from "./faults.js";
import { type OperatorProcess, startOperator } from "./operator.js";

type Ns = { name: string; remove: () => Promise<void> };

describe("apiserver outage and etcd compaction", () => {
  let ns: Ns;
  let operator: OperatorProcess;
  before(async () => {
    ns = await scratchNamespace("outage");
    operator = await startOperator(ns.name, [], { name: "outage" });
  });
  after(async () => {
    await startMissingComponents();
    await ns.remove();
    await operator.stop();
  });

  it("keeps running through 15 s without an apiserver, relists after compaction, and converges", async () => {
    await golden.images.create(image(ns.name, "through-outage", 2));
    await building(ns.name, "through-outage");
    await stopComponent("kube-apiserver");
    const downAt = Date.now();
    // A leader-elected kube-controller-manager would lose its lease in this outage and restart;
    // ours runs without election, and its Job informer, left to catch up after the compaction,
    // holds every Job's status back for up to a minute. Restart it as it would restart.
    await stopComponent("kube-controller-manager");
    await compactEtcd(); // Every resourceVersion the operator holds is now too old.
    // Long enough for every informer's watch and a few reconnects to fail, and for the build's
    // worker to be refused its progress writes.
    while (Date.now() - downAt < 15_000) {
      assert.equal(operator.child.exitCode, null, "the operator keeps running");
      await new Promise((r) => setTimeout(r, 1000));
    }
    await startMissingComponents();
    await succeeded(ns.name, "through-outage", 180_000);
    assert.equal(operator.child.exitCode, null);
    await eventually("the operator's informers to relist after 410 Gone", async () =>
      /relisting/.test(operator.logs()),
    );
    await golden.images.create(image(ns.name, "after-outage", 0));
    await succeeded(ns.name, "after-outage");
    await assertNoDuplicatesOrOrphans(ns.name);
  });
});
