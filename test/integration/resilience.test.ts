// The controller runtime under failure: leader election and hand-over, graceful shutdown, Jobs
// deleted by hand, spec changes and deletion mid-build (the apiserver outage has a file of its
// own: it stops the cluster for everyone). Each case asserts: no lost build, no duplicate
// successful build per generation, no orphaned Job, and status converges.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { V1Lease } from "@kubernetes/client-node";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { batch, eventually, golden, kc, scratchNamespace } from "./cluster.js";
import { assertNoDuplicatesOrOrphans, building, builds, image, succeeded } from "./faults.js";
import { type OperatorProcess, startOperator } from "./operator.js";

const coordination = kc.makeApiClient(CoordinationV1Api);
type Ns = { name: string; remove: () => Promise<void> };

function reconcileCount(metrics: string, controller: string): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    if (
      line.startsWith("controller_runtime_reconcile_total{") &&
      line.includes(`controller="${controller}"`)
    ) {
      total += Number(line.split(" ").at(-1));
    }
  }
  return total;
}

describe("leader election", () => {
  let ns: Ns;
  const replicas: OperatorProcess[] = [];
  const lease = () => coordination.readNamespacedLease({ name: "golden-operator", namespace: ns.name });
  const holderPid = (l: V1Lease) => Number(l.spec?.holderIdentity?.split("_").at(-1));
  const flags = () => [
    "--leader-elect",
    "--leader-election-namespace",
    ns.name,
    "--lease-duration",
    "4",
    "--renew-deadline",
    "3",
    "--retry-period",
    "1",
  ];
  before(async () => {
    ns = await scratchNamespace("leader");
    replicas.push(await startOperator(ns.name, flags(), { name: "replica-1" }));
    replicas.push(await startOperator(ns.name, flags(), { name: "replica-2", waitReady: false }));
  });
  after(async () => {
    await ns.remove();
    for (const r of replicas) await r.stop();
  });

  it("lets exactly one replica reconcile", async () => {
    const held = await eventually("a lease holder", async () => {
      const l = await lease().catch(() => undefined);
      return l?.spec?.holderIdentity ? l : undefined;
    });
    const leader = replicas.find((r) => r.child.pid === holderPid(held));
    const follower = replicas.find((r) => r !== leader);
    assert.ok(leader && follower, `holder ${held.spec?.holderIdentity} is one of ours`);
    await golden.images.create(image(ns.name, "elected", 0));
    await succeeded(ns.name, "elected");
    assert.ok(reconcileCount(await leader.metrics(), "image") > 0, "the leader reconciled");
    assert.equal(reconcileCount(await follower.metrics(), "image"), 0, "the follower did not");
    assert.match(await follower.metrics(), /leader_election_master_status\{name="golden-operator"\} 0/);
  });

  it("hands over within the lease duration when the leader is killed", async () => {
    const before = await lease();
    const leader = replicas.find((r) => r.child.pid === holderPid(before));
    const follower = replicas.find((r) => r !== leader);
    assert.ok(leader && follower);
    assert.equal(await leader.stop("SIGKILL"), 137);
    // The dead leader's last renewal: the follower may take over once the lease has expired.
    const lastRenewal = await lease();
    const after = await eventually(
      "the follower to take the lease",
      async () => {
        const l = await lease();
        return holderPid(l) === follower.child.pid ? l : undefined;
      },
      20_000,
      100,
    );
    // Timed by the Lease itself (the follower stamps acquireTime as it takes over), so that the
    // apiserver's latency and this test's polling on a loaded machine are not in the figure.
    const ms = (t: Date | undefined) => new Date(t ?? 0).getTime();
    assert.equal(
      holderPid(lastRenewal),
      leader.child.pid,
      "the lease read right after the kill is the leader's",
    );
    const handOverMs = ms(after.spec?.acquireTime) - ms(lastRenewal.spec?.renewTime);
    assert.ok(
      handOverMs >= 4_000,
      `taken over ${handOverMs} ms after the last renewal, before the lease expired`,
    );
    // A follower polls every retryPeriod jittered by up to 1.2 × (as client-go's JitterUntil): it
    // sees the last renewal up to 2.2 retry periods after it was made, waits the lease duration
    // from then, and polls again up to 2.2 retry periods later; 1 s for its two requests.
    const retryMs = 1_000;
    const boundMs = 4_000 + 2 * 2.2 * retryMs + 1_000;
    assert.ok(
      handOverMs <= boundMs,
      `taken over ${handOverMs} ms after the last renewal (bound ${boundMs} ms)`,
    );
    assert.equal(after.spec?.leaseTransitions, (before.spec?.leaseTransitions ?? 0) + 1);
    await golden.images.create(image(ns.name, "after-failover", 0));
    await succeeded(ns.name, "after-failover");
  });

  it("exits 0 on SIGTERM and releases the lease", async () => {
    const holder = holderPid(await lease());
    const leader = replicas.find((r) => r.child.pid === holder);
    assert.ok(leader);
    assert.equal(await leader.stop("SIGTERM"), 0);
    const released = await lease();
    assert.ok(!released.spec?.holderIdentity, `lease still held by ${released.spec?.holderIdentity}`);
    // A released lease is taken at once, without waiting for it to expire.
    const startedAt = Date.now();
    const successor = await startOperator(ns.name, flags(), { name: "replica-3" });
    replicas.push(successor);
    await eventually("the new replica to take the released lease", async () => {
      const l = await lease();
      return holderPid(l) === successor.child.pid;
    });
    assert.ok(Date.now() - startedAt < 4_000 + 3_000, "well within one lease duration of starting");
  });
});

describe("failures mid-build", () => {
  let ns: Ns;
  let operator: OperatorProcess;
  before(async () => {
    ns = await scratchNamespace("midbuild");
    operator = await startOperator(ns.name, [], { name: "midbuild" });
  });
  after(async () => {
    await ns.remove();
    await operator.stop();
  });

  it("recreates a Job deleted by hand, and the build still succeeds once", async () => {
    await golden.images.create(image(ns.name, "job-deleted", 1));
    const build = await building(ns.name, "job-deleted");
    await batch.deleteNamespacedJob({
      name: build.metadata?.name ?? "",
      namespace: ns.name,
      propagationPolicy: "Background",
    });
    await succeeded(ns.name, "job-deleted");
    const all = await builds(ns.name, "job-deleted");
    assert.equal(all.length, 1);
    const job = await batch.readNamespacedJob({ name: build.metadata?.name ?? "", namespace: ns.name });
    assert.notEqual(job.metadata?.uid, undefined, "the Job was recreated");
    await assertNoDuplicatesOrOrphans(ns.name);
  });

  it("cancels and supersedes a running build when the spec changes", async () => {
    await golden.images.create(image(ns.name, "edited", 2));
    const first = await building(ns.name, "edited");
    await golden.images.patch(ns.name, "edited", {
      spec: { formats: ["qcow2"], build: { simulate: { stepSeconds: 0 } } },
    });
    const done = await succeeded(ns.name, "edited");
    assert.deepEqual(
      done.status?.artifacts?.map((a) => a.format),
      ["qcow2"],
    );
    const old = (await builds(ns.name, "edited")).find((b) => b.metadata?.name === first.metadata?.name);
    assert.equal(old?.status?.phase, "Cancelled");
    assert.match(old?.status?.message ?? "", /generation 2 supersedes/);
    await eventually(
      "the superseded build's Job to be deleted",
      async () =>
        !(await batch
          .readNamespacedJob({ name: first.metadata?.name ?? "", namespace: ns.name })
          .catch(() => undefined)),
    );
    await assertNoDuplicatesOrOrphans(ns.name);
  });

  it("stops the build and releases its finalizer when an Image is deleted mid-build", async () => {
    await golden.images.create(image(ns.name, "deleted", 2));
    const build = await building(ns.name, "deleted");
    // The build holds the artifacts, so it carries the finalizer; the Image carries none.
    assert.deepEqual(build.metadata?.finalizers, ["golden.dev/artifacts"]);
    assert.equal((await golden.images.get(ns.name, "deleted"))?.metadata?.finalizers, undefined);
    await golden.images.delete(ns.name, "deleted");
    await eventually("the Image, its build and Job to be gone", async () => {
      const [i, b, j] = await Promise.all([
        golden.images.get(ns.name, "deleted"),
        golden.imageBuilds.get(ns.name, build.metadata?.name ?? ""),
        batch
          .readNamespacedJob({ name: build.metadata?.name ?? "", namespace: ns.name })
          .catch(() => undefined),
      ]);
      return !i && !b && !j;
    });
    await assertNoDuplicatesOrOrphans(ns.name);
  });
});

describe("graceful shutdown", () => {
  let ns: Ns;
  let operator: OperatorProcess | undefined;
  before(async () => {
    ns = await scratchNamespace("sigterm");
  });
  after(async () => {
    await ns.remove();
    await operator?.stop();
  });

  it("exits 0 on SIGTERM mid-build and a new operator finishes the job without duplicates", async () => {
    operator = await startOperator(ns.name, ["--graceful-shutdown-timeout", "10"], { name: "sigterm-1" });
    for (const name of ["t1", "t2", "t3"]) await golden.images.create(image(ns.name, name, 1));
    await building(ns.name, "t1");
    const stoppedAt = Date.now();
    assert.equal(await operator.stop("SIGTERM"), 0);
    assert.ok(Date.now() - stoppedAt < 10_000, "within the grace period");
    assert.match(operator.logs(), /shutdown complete/);
    operator = await startOperator(ns.name, [], { name: "sigterm-2" });
    for (const name of ["t1", "t2", "t3"]) await succeeded(ns.name, name);
    await assertNoDuplicatesOrOrphans(ns.name);
  });
});
