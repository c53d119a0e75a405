import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import {
  IMAGE_BUILD_PHASE_VALUES,
  type ImageBuild,
  type ImageBuildPhase,
} from "../../../src/api/v1alpha1/index.js";
import { isJobFinished } from "../../../src/build/job.js";
import { createdAtMs } from "../../../src/build/order.js";
import { isTerminal } from "../../../src/build/phase.js";
import { RECENT_DURATIONS, SchedulerState } from "../../../src/scheduler/state.js";
import { build, pod, T0 } from "./fixtures.js";

/** A build's Job: named after the ImageBuild that controls it. */
function job(
  namespace: string,
  name: string,
  finished?: "Complete" | "Failed",
  uid = `uid-job-${namespace}-${name}`,
): V1Job {
  const owner = { apiVersion: "golden.dev/v1alpha1", kind: "ImageBuild", name, uid: `uid-${name}` };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace, uid, ownerReferences: [{ ...owner, controller: true }] },
    ...(finished ? { status: { conditions: [{ type: finished, status: "True" }] } } : {}),
  };
}

function counts(state: SchedulerState): { total: number; byNamespace: Record<string, number> } {
  const f = state.inFlight();
  return { total: f.total, byNamespace: Object.fromEntries(f.byNamespace) };
}

function waitingKeys(state: SchedulerState): string[] {
  return state
    .waiting()
    .map((w) => w.key)
    .sort();
}

describe("SchedulerState", () => {
  describe("classification", () => {
    it("a waiting build that is being deleted waits no more; a running one keeps its slot", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "queued"));
      s.observeBuild(build("a", "running", { phase: "Building", started: 1 }));
      const deleting = (b: ImageBuild): ImageBuild => ({
        ...b,
        metadata: {
          ...b.metadata,
          deletionTimestamp: new Date(T0 + 5000),
          finalizers: ["golden.dev/artifacts"],
        },
      });
      assert.equal(s.observeBuild(deleting(build("a", "queued"))), true);
      assert.equal(s.slotOf("a/queued"), "none");
      s.observeBuild(deleting(build("a", "running", { phase: "Building", started: 1 })));
      assert.equal(s.slotOf("a/running"), "inFlight");
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
    });

    it("a new build waits, with the priority and creation time the policy orders by", () => {
      const s = new SchedulerState();
      assert.equal(s.observeBuild(build("a", "b1", { priority: 3, created: 7 })), true);
      assert.equal(s.slotOf("a/b1"), "waiting");
      assert.deepEqual(s.waiting(), [{ key: "a/b1", namespace: "a", priority: 3, createdAt: T0 + 7000 }]);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
    });

    it("any update of a waiting build can change a decision (priority, whether it is marked Queued)", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1"));
      assert.equal(s.observeBuild(build("a", "b1", { phase: "Queued" })), true);
      assert.equal(s.observeBuild(build("a", "b1", { phase: "Queued", priority: 9 })), true);
      assert.equal(s.waiting()[0]?.priority, 9, "the waiting entry follows the build");
    });

    it("an admitted build (phase Building) holds a slot in its namespace", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Queued" }));
      assert.equal(s.observeBuild(build("a", "b1", { phase: "Building", started: 10 })), true);
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.deepEqual(waitingKeys(s), []);
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
    });

    it("progress and heartbeat writes of a running build, and its running Job, change nothing", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Building", started: 10 }));
      assert.equal(
        s.observeBuild(build("a", "b1", { phase: "Building", started: 10, heartbeat: 20 })),
        false,
      );
      assert.equal(s.observeJob(job("a", "b1")), false);
      assert.equal(s.observeJob(job("a", "b1")), false);
      assert.equal(
        s.observeBuild(build("a", "b1", { phase: "Building", started: 10, heartbeat: 30 })),
        false,
      );
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
    });

    it("a finished build keeps its slot until its Job has finished; the finished Job frees it", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Building", started: 10 }));
      s.observeJob(job("a", "b1"));
      assert.equal(
        s.observeBuild(build("a", "b1", { phase: "Succeeded", started: 10, completed: 70 })),
        false,
      );
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.equal(s.observeJob(job("a", "b1", "Complete")), true);
      assert.equal(s.slotOf("a/b1"), "none");
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
      assert.deepEqual(waitingKeys(s), []);
    });

    it("a finished build whose Job finished first frees its slot with the build's own event", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Building", started: 10 }));
      s.observeJob(job("a", "b1"));
      assert.equal(s.observeJob(job("a", "b1", "Failed")), false, "Building still holds the slot");
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.equal(s.observeBuild(build("a", "b1", { phase: "Failed", started: 10, completed: 20 })), true);
      assert.equal(s.slotOf("a/b1"), "none");
    });

    it("a Job no ImageBuild controls holds no slot, whatever its labels or name", () => {
      const s = new SchedulerState();
      const labels = { "app.kubernetes.io/managed-by": "golden" };
      const unowned = (name: string): V1Job => ({
        ...job("a", name),
        metadata: { name, namespace: "a", labels },
      });
      const ownedByAnother = (name: string): V1Job => {
        const j = job("a", name);
        const ref = j.metadata?.ownerReferences?.[0];
        if (ref) ref.name = "someone-else";
        return j;
      };
      for (let i = 0; i < 10; i++) assert.equal(s.observeJob(unowned(`sleep-${i}`)), false);
      assert.equal(s.observeJob(ownedByAnother("other")), false);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
      s.observeBuild(build("a", "b1", { phase: "Queued" }));
      assert.equal(s.observeJob(unowned("b1")), false, "a look-alike of a build's Job is not its Job");
      assert.equal(s.slotOf("a/b1"), "waiting");
      assert.equal(s.rebuild([build("a", "b1", { phase: "Queued" })], [unowned("x"), unowned("b1")]), false);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
    });

    it("a pod not running as the worker ServiceAccount holds no slot, whatever its labels", () => {
      const s = new SchedulerState({ workerServiceAccount: "golden-worker" });
      const lookalike = (name: string): V1Pod => {
        const p = pod("a", name, "Running");
        return { ...p, spec: { serviceAccountName: "default", containers: [] } };
      };
      for (let i = 0; i < 10; i++) assert.equal(s.observePod(lookalike(`sleep-${i}`)), false);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
      assert.equal(s.rebuild([], [], [lookalike("x")]), false);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
      assert.equal(s.observePod(pod("a", "real", "Running")), true, "a build pod holds its slot");
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
    });

    it("a Job's own pod ending frees its slot; the pod of an earlier Job of the same name does not", () => {
      // A build's Job was deleted and created again (same name, new uid) while the old one's pod
      // still ran: the old pod ending must not free the slot the new Job's pod is about to use.
      const s = new SchedulerState({ workerServiceAccount: "golden-worker" });
      s.observeBuild(build("a", "b1", { phase: "Building", started: 1 }));
      s.observeJob(job("a", "b1", undefined, "old"));
      s.observePod(pod("a", "b1", "Running", "old"));
      assert.equal(s.forgetJob("a/b1"), false, "its pod still runs");
      assert.equal(s.observeJob(job("a", "b1", undefined, "new")), false);
      assert.equal(s.observePod(pod("a", "b1", "Succeeded", "old")), false, "the old Job's pod ended");
      assert.equal(s.slotOf("a/b1"), "inFlight", "the new Job holds the slot");
      assert.equal(
        s.rebuild(
          [build("a", "b1", { phase: "Building", started: 1 })],
          [job("a", "b1", undefined, "new")],
          [pod("a", "b1", "Succeeded", "old")],
        ),
        false,
        "rebuild agrees",
      );
      assert.equal(s.slotOf("a/b1"), "inFlight");
      const orphaned = pod("a", "b1", "Failed", null);
      const orphan = { ...orphaned, metadata: { ...orphaned.metadata, name: "b1-orphan" } };
      assert.equal(s.observePod(orphan), false, "a pod with no controlling Job frees no Job's slot");
      assert.equal(s.observeBuild(build("a", "b1", { phase: "Succeeded", started: 1, completed: 5 })), false);
      assert.equal(s.slotOf("a/b1"), "inFlight", "the new Job's pod is still to run");
      assert.equal(s.observePod(pod("a", "b1", "Succeeded", "new")), true, "the new Job's pod ended");
      assert.equal(s.slotOf("a/b1"), "none");
    });

    it("a pod seen ended before its Job is in the cache frees the slot once that Job shows up", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Building", started: 1 }));
      s.observePod(pod("a", "b1", "Succeeded"));
      s.observeBuild(build("a", "b1", { phase: "Succeeded", started: 1, completed: 5 }));
      assert.equal(s.slotOf("a/b1"), "inFlight", "its Job was never seen: it may still run");
      assert.equal(s.observeJob(job("a", "b1")), true, "the Job's pod has ended already");
      assert.equal(s.slotOf("a/b1"), "none");
    });

    it("a deleted Job frees the slot of a finished build (a cancelled build's Job is deleted)", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Cancelled", started: 10, completed: 20 }));
      s.observeJob(job("a", "b1"));
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.equal(s.forgetJob("a/b1"), true);
      assert.equal(s.slotOf("a/b1"), "none");
      assert.equal(s.forgetJob("a/b1"), false, "forgetting it twice changes nothing");
    });

    it("a running Job holds a slot even if its build does not say Building (yet)", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Queued" }));
      assert.equal(s.observeJob(job("a", "b1")), true);
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.deepEqual(waitingKeys(s), []);
    });

    it("a running Job holds a slot even without its build (a Job being deleted still runs its pod)", () => {
      const s = new SchedulerState();
      assert.equal(s.observeJob(job("a", "b1")), true);
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
      assert.equal(s.observeBuild(build("a", "b1", { phase: "Queued" })), false);
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.equal(s.forgetBuild("a/b1"), false, "the build going changes nothing while its Job runs");
      assert.equal(s.forgetJob("a/b1"), true);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
    });

    it("a terminal build without a running Job neither waits nor holds a slot", () => {
      const s = new SchedulerState();
      for (const phase of ["Succeeded", "Failed", "Cancelled"] as const) {
        assert.equal(s.observeBuild(build("a", phase, { phase })), false);
        assert.equal(s.slotOf(`a/${phase}`), "none");
      }
      assert.deepEqual(waitingKeys(s), []);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
    });

    it("a deleted build leaves the waiting set or frees its slot; an unknown one changes nothing", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "waits"));
      s.observeBuild(build("a", "runs", { phase: "Building" }));
      s.observeJob(job("a", "runs"));
      assert.equal(s.forgetBuild("a/waits"), true);
      assert.deepEqual(waitingKeys(s), []);
      assert.equal(s.forgetBuild("a/runs"), false, "its Job holds the slot until it is gone");
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
      assert.equal(s.forgetJob("a/runs"), true);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
      assert.equal(s.forgetBuild("a/runs"), false);
      assert.equal(s.forgetBuild("a/never"), false);
    });

    it("counts builds in flight per namespace and in total, and drops namespaces at zero", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "1", { phase: "Building" }));
      s.observeBuild(build("a", "2", { phase: "Building" }));
      s.observeBuild(build("b", "1", { phase: "Building" }));
      s.observeBuild(build("b", "2"));
      s.observeBuild(build("c", "1", { phase: "Succeeded" }));
      assert.deepEqual(counts(s), { total: 3, byNamespace: { a: 2, b: 1 } });
      s.observeBuild(build("b", "1", { phase: "Failed" }));
      assert.deepEqual(counts(s), { total: 2, byNamespace: { a: 2 } });
      s.forgetBuild("a/1");
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
      assert.deepEqual(waitingKeys(s), ["b/2"]);
    });

    it("hands out copies: a caller cannot corrupt the counts", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "1", { phase: "Building" }));
      const f = s.inFlight();
      (f.byNamespace as Map<string, number>).set("a", 99);
      s.lastServed().set("a", 1);
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
    });
  });

  describe("assumed admissions", () => {
    it("an admitted build holds a slot before the cache shows the admission", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Queued" }));
      s.assume("a/b1");
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
      // A stale Queued event (our own earlier write) must not put it back in the queue.
      assert.equal(s.observeBuild(build("a", "b1", { phase: "Queued" })), false);
      assert.equal(s.slotOf("a/b1"), "inFlight");
    });

    it("once the cache shows the admission, the build's own state decides", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Queued" }));
      s.assume("a/b1");
      s.observeBuild(build("a", "b1", { phase: "Building", started: 1 }));
      s.observeJob(job("a", "b1", "Failed"));
      s.observeBuild(build("a", "b1", { phase: "Failed", started: 1, completed: 2 }));
      assert.equal(s.slotOf("a/b1"), "none", "the assumption is gone with the Building event");
    });

    it("is not made when the cache already shows the admission or the build is gone", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Building", started: 1 }));
      s.assume("a/b1"); // the watch event beat the patch response
      s.observeJob(job("a", "b1", "Complete"));
      s.observeBuild(build("a", "b1", { phase: "Succeeded", started: 1, completed: 2 }));
      assert.equal(s.slotOf("a/b1"), "none");
      // Admitted, then cancelled, both seen before the admission's response: no event would
      // ever clear an assumption made now.
      s.observeBuild(build("a", "b2", { phase: "Cancelled", started: 1, completed: 2 }));
      s.assume("a/b2");
      assert.equal(s.slotOf("a/b2"), "none");
      s.assume("a/gone");
      assert.equal(s.slotOf("a/gone"), "none");
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
    });

    it("an uncertain one (the write timed out) is released by a newer version still waiting, or by expiry", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Queued", resourceVersion: "7" }));
      s.assume("a/b1", "7");
      s.assumeUncertain("a/b1", "7", T0 + 90_000);
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.equal(s.nextExpiryMs(), T0 + 90_000);
      assert.equal(s.observeBuild(build("a", "b1", { phase: "Queued", resourceVersion: "7" })), false);
      assert.equal(s.slotOf("a/b1"), "inFlight", "the version it was conditioned on: still unknown");
      s.observeBuild(build("a", "b1", { phase: "Queued", resourceVersion: "9" }));
      assert.equal(s.slotOf("a/b1"), "waiting", "a newer version: the conditional write cannot land");

      s.observeBuild(build("a", "b2", { phase: "Queued", resourceVersion: "8" }));
      s.assume("a/b2", "8");
      s.assumeUncertain("a/b2", "8", T0 + 90_000);
      assert.equal(s.expireAssumptions(T0 + 89_999), false);
      assert.equal(s.slotOf("a/b2"), "inFlight");
      assert.equal(s.expireAssumptions(T0 + 90_000), true);
      assert.equal(s.slotOf("a/b2"), "waiting");
      assert.equal(s.nextExpiryMs(), undefined);
    });

    it("a definite one never expires; one refused is dropped; an uncertain one needs its own", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Queued", resourceVersion: "7" }));
      s.assume("a/b1", "7");
      assert.equal(s.expireAssumptions(T0 + 10 * 60_000), false);
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.equal(s.nextExpiryMs(), undefined);
      assert.equal(s.unassume("a/b1", "6"), false, "another version's refusal says nothing of this one");
      assert.equal(s.unassume("a/b1", "7"), true, "refused (409): it waits again");
      assert.equal(s.slotOf("a/b1"), "waiting");
      // The cache showed a newer version while the write was out: that dropped the assumption, and
      // the write's unknown outcome cannot bring it back (it was conditioned on the old version).
      s.assume("a/b1", "7");
      s.observeBuild(build("a", "b1", { phase: "Queued", resourceVersion: "9" }));
      s.assumeUncertain("a/b1", "7", T0 + 90_000);
      assert.equal(s.slotOf("a/b1"), "waiting");
      assert.equal(s.nextExpiryMs(), undefined);
    });

    it("is forgotten with its build: a new build of the same name waits", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1"));
      s.assume("a/b1");
      assert.equal(s.forgetBuild("a/b1"), true);
      s.observeBuild(build("a", "b1"));
      assert.equal(s.slotOf("a/b1"), "waiting");
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
    });
  });

  describe("a Job the cache never showed (the Job watch lagging)", () => {
    it("an admitted build that ends before its Job shows up keeps its slot until a read settles it", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Building", started: 1 }));
      assert.equal(s.observeBuild(build("a", "b1", { phase: "Succeeded", started: 1, completed: 9 })), false);
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.deepEqual(s.unconfirmed(), ["a/b1"]);
      assert.equal(s.settleUnconfirmed("a/b1", job("a", "b1")), false, "read: still running");
      assert.equal(s.slotOf("a/b1"), "inFlight");
      assert.equal(s.settleUnconfirmed("a/b1", job("a", "b1", "Complete")), true, "read: finished");
      assert.equal(s.slotOf("a/b1"), "none");
      assert.deepEqual(s.unconfirmed(), []);
    });

    it("or until the Job cache shows the Job, whose own state then decides", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Building", started: 1 }));
      s.observeBuild(build("a", "b1", { phase: "Cancelled", started: 1, completed: 2 }));
      assert.equal(s.observeJob(job("a", "b1")), false, "running: the slot stays taken");
      assert.deepEqual(s.unconfirmed(), []);
      assert.equal(s.forgetJob("a/b1"), true);
      assert.equal(s.slotOf("a/b1"), "none");
    });

    it("a build deleted mid-build with its Job unseen holds its slot until a read finds no Job", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { phase: "Building", started: 1 }));
      s.forgetBuild("a/b1");
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
      assert.equal(s.settleUnconfirmed("a/b1", undefined), true);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
    });

    it("needs no read when the Job was seen, the build was never admitted, or was first seen finished", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "seen", { phase: "Building", started: 1 }));
      s.observeJob(job("a", "seen", "Complete"));
      s.observeBuild(build("a", "seen", { phase: "Succeeded", started: 1, completed: 2 }));
      s.observeBuild(build("a", "never", { phase: "Queued" }));
      s.observeBuild(build("a", "never", { phase: "Cancelled", completed: 2 }));
      s.observeBuild(build("a", "restart", { phase: "Succeeded", started: 1, completed: 2 }));
      assert.deepEqual(s.unconfirmed(), []);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
    });

    it("survive a rebuild, unless the rebuilt Job cache now shows the Job", () => {
      const s = new SchedulerState();
      for (const name of ["b1", "b2"]) {
        s.observeBuild(build("a", name, { phase: "Building", started: 1 }));
        s.observeBuild(build("a", name, { phase: "Succeeded", started: 1, completed: 2 }));
      }
      const finished = [1, 2].map((i) =>
        build("a", `b${i}`, { phase: "Succeeded", started: 1, completed: 2 }),
      );
      s.rebuild(finished, [job("a", "b2", "Complete")]);
      assert.deepEqual(s.unconfirmed(), ["a/b1"]);
      assert.deepEqual(counts(s), { total: 1, byNamespace: { a: 1 } });
    });
  });

  describe("lastServed", () => {
    it("is the latest start time per namespace and never goes back as builds are observed", () => {
      const s = new SchedulerState();
      assert.equal(s.observeBuild(build("a", "1", { phase: "Building", started: 20 })), true);
      assert.equal(s.lastServed().get("a"), T0 + 20_000);
      assert.equal(s.observeBuild(build("a", "0", { phase: "Succeeded", started: 5, completed: 9 })), false);
      assert.equal(s.lastServed().get("a"), T0 + 20_000, "an older build seen later does not lower it");
      s.observeBuild(build("a", "1", { phase: "Succeeded", started: 20, completed: 60 }));
      assert.equal(s.lastServed().get("a"), T0 + 20_000, "finishing does not change it");
      assert.equal(s.observeBuild(build("a", "2", { phase: "Building", started: 30 })), true);
      assert.equal(s.lastServed().get("a"), T0 + 30_000);
      s.observeBuild(build("b", "1"));
      assert.deepEqual([...s.lastServed().keys()], ["a"], "a namespace never served is missing");
    });

    it("follows the cache when the latest build is deleted, as a rebuild from the cache would", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "1", { phase: "Succeeded", started: 10, completed: 11 }));
      s.observeBuild(build("a", "2", { phase: "Succeeded", started: 30, completed: 31 }));
      s.observeBuild(build("a", "3", { phase: "Succeeded", started: 20, completed: 21 }));
      assert.equal(s.forgetBuild("a/1"), false, "an older build going changes nothing");
      assert.equal(s.lastServed().get("a"), T0 + 30_000);
      assert.equal(s.forgetBuild("a/2"), true);
      assert.equal(s.lastServed().get("a"), T0 + 20_000);
      s.forgetBuild("a/3");
      assert.equal(s.lastServed().has("a"), false);
    });
  });

  describe("Queued writes due", () => {
    const due = (s: SchedulerState) => s.queuedWritesDue().map((d) => [d.key, d.resourceVersion]);

    it("a waiting build not shown as Queued is due, on its latest resourceVersion", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { resourceVersion: "1" }));
      s.observeBuild(build("a", "b2", { phase: "Queued", resourceVersion: "1" }));
      assert.deepEqual(due(s), [["a/b1", "1"]]);
      s.observeBuild(build("a", "b1", { phase: "Pending", resourceVersion: "2" }));
      assert.deepEqual(due(s), [["a/b1", "2"]]);
    });

    it("is done once written, but a newer version seen meanwhile keeps it due", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { resourceVersion: "1" }));
      s.observeBuild(build("a", "b1", { resourceVersion: "2" }));
      s.queuedWriteDone("a/b1", "1");
      assert.deepEqual(due(s), [["a/b1", "2"]]);
      s.queuedWriteDone("a/b1", "2");
      assert.deepEqual(due(s), []);
    });

    it("is handed out once; due again if its write fails, or when a newer version is seen while it is out", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "b1", { resourceVersion: "1" }));
      s.observeBuild(build("a", "b2", { resourceVersion: "1" }));
      assert.deepEqual(
        s.takeQueuedWritesDue().map((d) => d.key),
        ["a/b1", "a/b2"],
      );
      assert.deepEqual(s.takeQueuedWritesDue(), [], "a write under way is not handed out again");
      s.observeBuild(build("a", "b1", { resourceVersion: "1" }));
      assert.deepEqual(due(s), [], "nor by an echo of the version it is written on");
      s.queuedWriteFailed("a/b1", "1");
      assert.deepEqual(due(s), [["a/b1", "1"]], "its write failed: due again");
      s.observeBuild(build("a", "b2", { resourceVersion: "3" }));
      assert.deepEqual(
        due(s),
        [
          ["a/b1", "1"],
          ["a/b2", "3"],
        ],
        "a newer version: its write (on 1) will be refused",
      );
      s.queuedWriteDone("a/b2", "1");
      assert.deepEqual(due(s), [
        ["a/b1", "1"],
        ["a/b2", "3"],
      ]);
      s.takeQueuedWritesDue();
      s.assume("a/b1", "1");
      s.queuedWriteFailed("a/b1", "1");
      assert.deepEqual(due(s), [], "a build admitted meanwhile needs no Queued write");
    });

    it("is not due once the build holds a slot, ended or is gone", () => {
      const s = new SchedulerState();
      for (const name of ["b1", "b2", "b3"]) s.observeBuild(build("a", name, { resourceVersion: "1" }));
      s.assume("a/b1", "1");
      s.observeBuild(build("a", "b2", { phase: "Cancelled", resourceVersion: "2" }));
      s.forgetBuild("a/b3");
      assert.deepEqual(due(s), []);
    });
  });

  describe("recent durations", () => {
    const succeeded = (name: string, started: number, completed: number) =>
      build("a", name, { phase: "Succeeded", started, completed });

    it("keeps the successful ones, newest completion first", () => {
      const s = new SchedulerState();
      s.observeBuild(succeeded("1", 0, 60));
      s.observeBuild(succeeded("2", 100, 130));
      s.observeBuild(succeeded("3", 50, 80));
      s.observeBuild(build("a", "f", { phase: "Failed", started: 0, completed: 500 }));
      s.observeBuild(build("a", "r", { phase: "Building", started: 0 }));
      assert.deepEqual(s.recentDurations(), [30_000, 30_000, 60_000]);
      assert.deepEqual(new SchedulerState().recentDurations(), []);
    });

    it("counts each build once however often it is updated", () => {
      const s = new SchedulerState();
      for (let i = 0; i < 5; i++) s.observeBuild(succeeded("1", 0, 60));
      assert.deepEqual(s.recentDurations(), [60_000]);
    });

    it(`is bounded to the ${RECENT_DURATIONS} most recent, whatever order builds are seen in`, () => {
      const s = new SchedulerState();
      // Build i ran i+1 seconds and completed at 1000+i; seen in a scrambled order.
      const order = Array.from({ length: 50 }, (_, i) => (i * 17) % 50);
      for (const i of order) s.observeBuild(succeeded(`b${i}`, 1000 + i - (i + 1), 1000 + i));
      const expected = Array.from({ length: RECENT_DURATIONS }, (_, j) => (49 - j + 1) * 1000);
      assert.deepEqual(s.recentDurations(), expected);
      s.observeBuild(succeeded("old", 0, 1));
      assert.deepEqual(s.recentDurations(), expected, "an older completion does not push one out");
    });

    it("outlives deleted builds (history pruning must not blind the estimates)", () => {
      const s = new SchedulerState();
      s.observeBuild(succeeded("1", 0, 60));
      s.forgetBuild("a/1");
      assert.deepEqual(s.recentDurations(), [60_000]);
    });
  });

  describe("rebuild", () => {
    it("from the same caches reports no drift and changes nothing", () => {
      const s = new SchedulerState();
      const builds = [
        build("a", "1", { phase: "Building", started: 5 }),
        build("a", "2", { phase: "Queued", priority: 2 }),
        build("b", "1", { phase: "Cancelled", started: 1, completed: 2 }),
        build("b", "2"),
      ];
      const jobs = [job("a", "1"), job("b", "1")];
      for (const b of builds) s.observeBuild(b);
      for (const j of jobs) s.observeJob(j);
      const before = { w: s.waiting(), f: counts(s), l: s.lastServed() };
      assert.equal(s.rebuild(builds, jobs), false);
      assert.deepEqual({ w: s.waiting(), f: counts(s), l: s.lastServed() }, before);
    });

    it("repairs a lost event and reports the drift", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "1", { phase: "Building", started: 5 }));
      s.observeBuild(build("a", "2"));
      // Lost: a/1's deletion and a/3's creation.
      assert.equal(s.rebuild([build("a", "2"), build("a", "3")], []), true);
      assert.deepEqual(waitingKeys(s), ["a/2", "a/3"]);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
      assert.equal(s.lastServed().has("a"), false);
      assert.equal(s.rebuild([build("a", "2"), build("a", "3")], []), false);
    });

    it("repairs a lost Job event", () => {
      const s = new SchedulerState();
      s.observeBuild(build("a", "1", { phase: "Cancelled" }));
      s.observeJob(job("a", "1"));
      assert.equal(s.rebuild([build("a", "1", { phase: "Cancelled" })], [job("a", "1", "Complete")]), true);
      assert.deepEqual(counts(s), { total: 0, byNamespace: {} });
    });

    it("keeps this process's admissions the cache has not caught up with, and drops those of gone builds", () => {
      const s = new SchedulerState();
      const caches = [build("a", "1", { phase: "Queued" }), build("a", "2", { phase: "Queued" })];
      for (const b of caches) s.observeBuild(b);
      s.assume("a/1");
      s.assume("a/2");
      assert.equal(s.rebuild([caches[0] as ImageBuild], []), true);
      assert.equal(s.slotOf("a/1"), "inFlight");
      s.observeBuild(build("a", "2", { phase: "Queued" }));
      assert.equal(s.slotOf("a/2"), "waiting", "a/2's assumption went with it");
    });
  });

  describe("against a full walk of the caches (the scheduler before it was incremental)", () => {
    /**
     * The original pass's bookkeeping, recomputed from scratch over every build and Job, plus the
     * slots held for Jobs the cache never showed (unconfirmed, which the caller tracks from events).
     */
    function fullWalk(
      builds: Map<string, ImageBuild>,
      jobs: Map<string, V1Job>,
      assumed: Set<string>,
      unconfirmed: Set<string>,
    ) {
      for (const key of assumed) {
        const phase = builds.get(key)?.status?.phase;
        if (!builds.has(key) || (phase !== undefined && phase !== "Pending" && phase !== "Queued"))
          assumed.delete(key);
      }
      const lastServed = new Map<string, number>();
      for (const b of builds.values()) {
        const started = b.status?.startTime ? new Date(b.status.startTime).getTime() : undefined;
        const ns = b.metadata?.namespace ?? "";
        if (started !== undefined && started > (lastServed.get(ns) ?? Number.NEGATIVE_INFINITY))
          lastServed.set(ns, started);
      }
      const waiting: { key: string; namespace: string; priority: number; createdAt: number }[] = [];
      const byNamespace: Record<string, number> = {};
      let total = 0;
      const runningJob = (key: string) => {
        const job = jobs.get(key);
        return job !== undefined && !isJobFinished(job);
      };
      const keys = new Set([...builds.keys(), ...[...jobs.keys()].filter(runningJob), ...unconfirmed]);
      for (const key of keys) {
        const b = builds.get(key);
        const namespace = key.split("/")[0] ?? "";
        const running =
          runningJob(key) ||
          unconfirmed.has(key) ||
          (b !== undefined && (assumed.has(key) || b.status?.phase === "Building"));
        if (running) {
          byNamespace[namespace] = (byNamespace[namespace] ?? 0) + 1;
          total++;
        } else if (b && !isTerminal(b)) {
          waiting.push({
            key,
            namespace,
            priority: b.spec.image.build?.priority ?? 0,
            createdAt: createdAtMs(b),
          });
        }
      }
      waiting.sort((x, y) => (x.key < y.key ? -1 : 1));
      return { waiting, inFlight: { total, byNamespace }, lastServed: Object.fromEntries(lastServed) };
    }

    function view(s: SchedulerState) {
      return {
        waiting: s.waiting().sort((x, y) => (x.key < y.key ? -1 : 1)),
        inFlight: counts(s),
        lastServed: Object.fromEntries(s.lastServed()),
      };
    }

    /** A tiny deterministic linear congruential generator (Numerical Recipes constants). */
    function lcg(seed: number): () => number {
      let state = seed >>> 0;
      return () => {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        return state / 2 ** 32;
      };
    }

    it("agrees after every event of 300 random sequences, and wakes the scheduler whenever it must", () => {
      const rand = lcg(42);
      const int = (n: number) => Math.floor(rand() * n);
      const phases: (ImageBuildPhase | undefined)[] = [undefined, ...IMAGE_BUILD_PHASE_VALUES];
      for (let run = 0; run < 300; run++) {
        const s = new SchedulerState();
        const builds = new Map<string, ImageBuild>();
        const jobs = new Map<string, V1Job>();
        const assumed = new Set<string>();
        // What the state must remember from the event history: builds whose Job it has seen,
        // and builds that ended or went, admitted, before their Job was ever seen.
        const jobSeen = new Set<string>();
        const unconfirmed = new Set<string>();
        const admitted = (b: ImageBuild | undefined) => b?.status?.startTime !== undefined;
        for (let step = 0; step < 80; step++) {
          const ns = `ns${int(3)}`;
          const name = `b${int(4)}`;
          const key = `${ns}/${name}`;
          const before = view(s);
          const wasWaiting = s.slotOf(key) === "waiting";
          let mayChange: boolean;
          let what: string;
          let touchesBuild = false;
          const roll = rand();
          if (roll < 0.45) {
            const phase = phases[int(phases.length)];
            const started =
              phase && phase !== "Pending" && phase !== "Queued" && rand() < 0.8 ? int(50) : undefined;
            const b = build(ns, name, {
              ...(phase ? { phase } : {}),
              priority: int(3),
              created: int(10),
              ...(started !== undefined ? { started } : {}),
              ...(phase === "Succeeded" && started !== undefined ? { completed: started + 1 + int(30) } : {}),
              heartbeat: step,
            });
            const prev = builds.get(key);
            if (!prev) jobSeen.delete(key);
            if (jobs.has(key)) jobSeen.add(key);
            if (prev && !isTerminal(prev) && isTerminal(b) && admitted(b) && !jobSeen.has(key))
              unconfirmed.add(key);
            builds.set(key, b);
            touchesBuild = true;
            mayChange = s.observeBuild(b);
            what = `observeBuild ${key} ${phase} started=${started}`;
          } else if (roll < 0.6) {
            const prev = builds.get(key);
            if (prev && !isTerminal(prev) && admitted(prev) && !jobSeen.has(key)) unconfirmed.add(key);
            jobSeen.delete(key);
            builds.delete(key);
            touchesBuild = true;
            mayChange = s.forgetBuild(key);
            what = `forgetBuild ${key}`;
          } else if (roll < 0.8) {
            const j = job(ns, name, rand() < 0.5 ? undefined : rand() < 0.5 ? "Complete" : "Failed");
            jobs.set(key, j);
            if (builds.has(key)) jobSeen.add(key);
            unconfirmed.delete(key);
            mayChange = s.observeJob(j);
            what = `observeJob ${key} finished=${isJobFinished(j)}`;
          } else if (roll < 0.87) {
            jobs.delete(key);
            unconfirmed.delete(key);
            mayChange = s.forgetJob(key);
            what = `forgetJob ${key}`;
          } else if (roll < 0.92) {
            // A live read of the Job of an unconfirmed build (the scheduler reads only those).
            const r = rand();
            const live = r < 0.3 ? undefined : job(ns, name, r < 0.6 ? undefined : "Complete");
            if (unconfirmed.has(key) && (live === undefined || isJobFinished(live))) unconfirmed.delete(key);
            mayChange = s.settleUnconfirmed(key, live);
            what = `settleUnconfirmed ${key} live=${live ? isJobFinished(live) : "none"}`;
          } else {
            // The scheduler only admits waiting builds.
            if (!wasWaiting) continue;
            assumed.add(key);
            s.assume(key);
            mayChange = true; // the pass that admitted it is running anyway
            what = `assume ${key}`;
          }
          const after = view(s);
          const context = `run ${run} step ${step}: ${what}`;
          assert.deepEqual(after, fullWalk(builds, jobs, assumed, unconfirmed), context);
          assert.deepEqual(s.unconfirmed().sort(), [...unconfirmed].sort(), `${context}: unconfirmed`);
          // Skipping a pass is safe only if the policy's inputs are unchanged and no waiting
          // build changed (a pass reads their objects: it patches their queue status).
          if (!mayChange) {
            assert.deepEqual(after, before, `${context}: said no change`);
            if (touchesBuild) {
              assert.equal(wasWaiting || s.slotOf(key) === "waiting", false, `${context}: a waiting build`);
            }
          }
        }
        assert.equal(s.rebuild(builds.values(), jobs.values()), false, `run ${run}: drift`);
        assert.deepEqual(view(s), fullWalk(builds, jobs, assumed, unconfirmed), `run ${run}: after rebuild`);
      }
    });
  });
});
