// ImageBuildReconciler as a unit: fake informers hold the build and its Job, a recording API takes
// the writes (status, Jobs, finalizer), and each case checks the writes it sends.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job } from "@kubernetes/client-node";
import type { ImageBuild, ImageBuildStatus } from "../../../src/api/v1alpha1/index.js";
import { ANNOTATIONS, FINALIZER } from "../../../src/build/names.js";
import type { EventInput } from "../../../src/controllers/events.js";
import {
  ADMISSION_JOB_GRACE_MS,
  ImageBuildReconciler,
} from "../../../src/controllers/imagebuild-reconciler.js";
import type { WorkerConfig } from "../../../src/controllers/job-template.js";
import { objectKey } from "../../../src/runtime/keys.js";
import { nopLogger } from "../../../src/runtime/logger.js";
import { FakeInformer } from "../../support/fake-informer.js";
import { BASE_TIME, build, job } from "../../support/fixtures.js";
import { apiError, RecordingApi, type Write } from "../../support/recording-api.js";

const NOW = new Date(BASE_TIME + 3_600_000);
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

const worker: WorkerConfig = {
  image: "golden:test",
  serviceAccount: "golden-worker",
  nodeSelector: {},
  tolerations: [],
  resources: {},
  heartbeatSeconds: 10,
  timeoutGraceSeconds: 30,
};

type StatusPatch = { metadata: { resourceVersion?: string }; status: ImageBuildStatus };

function bodyOf<T>(write: Write | undefined): T {
  assert.ok(write, "the write was sent");
  return write.body as T;
}

function harness(opts: { workerLostAfterMs?: number } = {}) {
  const api = new RecordingApi();
  const clock = { now: NOW };
  const requeued: string[] = [];
  let onRequeue = () => {};
  /** Resolves when the reconciler next hands a build back to its queue. */
  const nextRequeue = () => new Promise<void>((resolve) => (onRequeue = resolve));
  const builds = new FakeInformer<ImageBuild>();
  const jobs = new FakeInformer<V1Job>();
  const events: EventInput[] = [];
  const ensured: string[] = [];
  const finished: [string, number | undefined][] = [];
  const reconciler = new ImageBuildReconciler({
    builds,
    jobs,
    client: api.golden,
    batch: api.batch,
    workerAccess: { ensure: async (ns) => void ensured.push(ns) },
    worker,
    events: { record: (_obj, event) => events.push(event) },
    log: nopLogger,
    workerLostAfterMs: opts.workerLostAfterMs ?? 120_000,
    onFinished: (b, seconds) => finished.push([b.status?.phase ?? "", seconds]),
    requeue: (key) => {
      requeued.push(key);
      onRequeue();
    },
    now: () => clock.now,
  });
  const add = {
    build(b: ImageBuild): ImageBuild {
      api.seed("imagebuilds", b);
      const { namespace = "", name = "" } = b.metadata ?? {};
      return builds.put(api.get<ImageBuild>("imagebuilds", namespace, name) as ImageBuild);
    },
    job(j: V1Job): V1Job {
      api.seed("jobs", j);
      return jobs.put(j);
    },
  };
  const reconcile = (b: ImageBuild) => reconciler.reconcile(objectKey(b));
  return {
    api,
    builds,
    jobs,
    events,
    ensured,
    finished,
    add,
    reconcile,
    reconciler,
    clock,
    requeued,
    nextRequeue,
  };
}

const building = (
  o: { startedMinutesAgo?: number; heartbeatMinutesAgo?: number; timeoutSeconds?: number } = {},
) =>
  build({
    name: "web-g1-abcdef",
    spec: o.timeoutSeconds ? { build: { timeoutSeconds: o.timeoutSeconds } } : {},
    status: {
      phase: "Building",
      startTime: minutesAgo(o.startedMinutesAgo ?? 1),
      ...(o.heartbeatMinutesAgo !== undefined ? { heartbeatTime: minutesAgo(o.heartbeatMinutesAgo) } : {}),
    },
    metadata: { finalizers: [FINALIZER] },
  });

describe("ImageBuildReconciler", () => {
  it("creates the Job of an admitted build, after making sure the namespace's worker may run", async () => {
    const h = harness();
    const b = h.add.build(building());
    const result = await h.reconcile(b);
    assert.deepEqual(h.ensured, ["default"]);
    const [create, ...rest] = h.api.sent();
    assert.deepEqual(rest, []);
    assert.equal(create?.verb, "create");
    assert.equal(create?.resource, "jobs");
    const sent = bodyOf<V1Job>(create);
    assert.equal(sent.metadata?.name, b.metadata?.name, "the Job carries the build's name");
    assert.equal(sent.spec?.activeDeadlineSeconds, 3600);
    assert.equal(sent.metadata?.ownerReferences?.[0]?.uid, b.metadata?.uid);
    assert.ok((result?.requeueAfterMs ?? 0) > 0, "comes back for the timeout");
  });

  it("recreates the Job of a build whose worker ran only if a live read shows it still Building", async () => {
    const h = harness();
    const b = h.add.build(building({ heartbeatMinutesAgo: 0 }));
    // The apiserver has it Cancelled; the cache does not show that yet.
    h.api.seed("imagebuilds", { ...b, status: { ...b.status, phase: "Cancelled" } });
    await h.reconcile(b);
    assert.deepEqual(
      h.api.sent().filter((w) => w.resource === "jobs"),
      [],
      "no Job for a build that has ended",
    );
    h.api.seed("imagebuilds", b);
    await h.reconcile(b);
    assert.equal(h.api.sent().filter((w) => w.resource === "jobs" && w.verb === "create").length, 1);
  });

  it("never adopts a Job it does not control: a stranger's fails the build, an old build's is waited out", async () => {
    const h = harness();
    const b = h.add.build(building());
    h.add.job(job(b.metadata?.name ?? "", { ownerUid: null }));
    await h.reconcile(b);
    const [patch, ...rest] = h.api.sent();
    assert.deepEqual(rest, [], "no Job created, none deleted");
    const status = bodyOf<StatusPatch>(patch).status;
    assert.equal(status.phase, "Failed");
    assert.match(
      status.message ?? "",
      /Job web-g1-abcdef exists and is not this build's .*does not adopt it/,
    );
    assert.equal(status.conditions?.find((c) => c.type === "Succeeded")?.reason, "JobConflict");

    const h2 = harness();
    const b2 = h2.add.build(building());
    h2.add.job(job(b2.metadata?.name ?? "", { ownerUid: "uid-of-an-earlier-build" }));
    const result = await h2.reconcile(b2);
    assert.deepEqual(h2.api.sent(), [], "the garbage collector removes it; then the build gets its own");
    assert.ok((result?.requeueAfterMs ?? 0) > 0);
  });

  it("fails a build whose Job admission refuses (403), naming why, instead of retrying forever", async () => {
    const h = harness();
    const b = h.add.build(building());
    const refusal = "namespace default has opted out of golden builds (label golden.dev/builds=disabled)";
    h.api.failNext("create", apiError(403, "Forbidden", refusal));
    await h.reconcile(b);
    const status = bodyOf<StatusPatch>(h.api.sent("patchStatus")[0]).status;
    assert.equal(status.phase, "Failed");
    assert.match(status.message ?? "", /the build's Job was refused: .*opted out of golden builds/);
    assert.equal(h.events[0]?.reason, "JobRefused");
  });

  describe("the Job of an admission, created as the admission lands", () => {
    const jobCreates = (h: ReturnType<typeof harness>) =>
      h.api.sent().filter((w) => w.resource === "jobs" && w.verb === "create");
    /** A waiting build, told as being admitted, and the build as the admission writes it. */
    const admission = (h: ReturnType<typeof harness>) => {
      const waiting = h.add.build(build({ name: "web-g1-abcdef", phase: "Queued" }));
      const start = h.reconciler.admitting(waiting);
      const written = h.add.build({
        ...waiting,
        status: { phase: "Building", startTime: NOW.toISOString() },
      });
      return { waiting, written, start };
    };

    it("creates it at once, and a reconcile of the build meanwhile leaves it to that create", async () => {
      const h = harness();
      const { waiting, written, start } = admission(h);
      // The admission's event arrives before its write answers: the reconcile must not create too.
      assert.deepEqual(await h.reconcile(written), { requeueAfterMs: ADMISSION_JOB_GRACE_MS });
      assert.equal(jobCreates(h).length, 0);
      const requeued = h.nextRequeue();
      start.admitted(written);
      await requeued;
      assert.equal(jobCreates(h).length, 1);
      assert.equal(
        bodyOf<V1Job>(jobCreates(h)[0]).metadata?.ownerReferences?.[0]?.uid,
        waiting.metadata?.uid,
      );
      assert.deepEqual(h.requeued, [objectKey(waiting)], "the reconcile takes the build from there");
      assert.deepEqual(h.ensured, ["default"], "the namespace's worker may run");
      // The cache still shows no Job: the reconcile keeps waiting for its event.
      await h.reconcile(written);
      assert.equal(jobCreates(h).length, 1);
    });

    it("once the cache showed the Job, one deleted mid-build is recreated by the reconcile", async () => {
      const h = harness();
      const { written, start } = admission(h);
      const requeued = h.nextRequeue();
      start.admitted(written);
      await requeued;
      const created = bodyOf<V1Job>(jobCreates(h)[0]);
      h.jobs.put(created);
      await h.reconcile(written);
      h.jobs.remove(created);
      await h.api.batch.deleteNamespacedJob({ namespace: "default", name: created.metadata?.name ?? "" });
      await h.reconcile(written);
      assert.equal(jobCreates(h).length, 2);
    });

    it("leaves it to the reconcile when the admission did not land, or its create failed", async () => {
      const h = harness();
      const { written, start } = admission(h);
      await h.reconcile(written); // its event came, its write's answer did not
      assert.equal(jobCreates(h).length, 0);
      start.abandoned();
      assert.deepEqual(h.requeued, ["default/web-g1-abcdef"], "the reconcile need not wait out the grace");
      await h.reconcile(written);
      assert.equal(jobCreates(h).length, 1, "the reconcile created it");

      const h2 = harness();
      const second = admission(h2);
      h2.api.failNext("create", apiError(500, "InternalError", "etcd is unhappy"));
      const requeued = h2.nextRequeue();
      second.start.admitted(second.written);
      await requeued;
      assert.equal(jobCreates(h2).length, 1, "the create was sent, and failed");
      assert.equal(h2.api.get("jobs", "default", "web-g1-abcdef"), undefined);
      await h2.reconcile(second.written);
      assert.equal(jobCreates(h2).length, 2, "the reconcile sent it again");
      assert.ok(h2.api.get("jobs", "default", "web-g1-abcdef"));
    });

    it("creates it itself once the grace has passed (the create hung, or the Job's event was lost)", async () => {
      const h = harness();
      const { written } = admission(h);
      h.clock.now = new Date(NOW.getTime() + ADMISSION_JOB_GRACE_MS);
      const result = await h.reconcile(written);
      assert.equal(jobCreates(h).length, 1);
      assert.ok((result?.requeueAfterMs ?? 0) > ADMISSION_JOB_GRACE_MS, "comes back for the timeout");
    });

    it("a Job of its name already there (an earlier build's, not yet collected) is left to the reconcile", async () => {
      const h = harness();
      const { written, start } = admission(h);
      const earlier = job("web-g1-abcdef", { ownerUid: "uid-of-an-earlier-build" });
      h.api.seed("jobs", earlier);
      const requeued = h.nextRequeue();
      start.admitted(written);
      await requeued;
      h.jobs.put(earlier);
      assert.equal((await h.reconcile(written))?.requeueAfterMs, 5000, "the garbage collector's to remove");
      h.jobs.remove(earlier);
      await h.api.batch.deleteNamespacedJob({ namespace: "default", name: "web-g1-abcdef" });
      await h.reconcile(written);
      assert.equal(jobCreates(h).length, 2, "then the build's own, at once");
      assert.equal(
        bodyOf<V1Job>(jobCreates(h)[1]).metadata?.ownerReferences?.[0]?.uid,
        written.metadata?.uid,
      );
    });

    it("a Job the namespace refuses (403) fails the build, as the reconcile would", async () => {
      const h = harness();
      const { written, start } = admission(h);
      h.api.failNext(
        "create",
        apiError(403, "Forbidden", "namespace default has opted out of golden builds"),
      );
      const requeued = h.nextRequeue();
      start.admitted(written);
      await requeued;
      const status = bodyOf<StatusPatch>(h.api.sent("patchStatus")[0]).status;
      assert.equal(status.phase, "Failed");
      assert.equal(h.events[0]?.reason, "JobRefused");
    });
  });

  it("writes nothing for a build still waiting: those are the scheduler's", async () => {
    const h = harness();
    await h.reconcile(h.add.build(build({ phase: "Queued" })));
    await h.reconcile(h.add.build(build({ name: "new" })));
    assert.deepEqual(h.api.sent(), []);
  });

  it("cancels on the annotation: a guarded Cancelled status, the Job deleted, an Event", async () => {
    const h = harness();
    const b = h.add.build({
      ...building(),
      metadata: { ...building().metadata, annotations: { [ANNOTATIONS.cancel]: "true" } },
    });
    h.add.job(job(b.metadata?.name ?? ""));
    await h.reconcile(b);
    const [cancel, del, ...rest] = h.api.sent();
    assert.deepEqual(rest, []);
    assert.equal(cancel?.verb, "patchStatus");
    const patch = bodyOf<StatusPatch>(cancel);
    assert.equal(patch.metadata.resourceVersion, b.metadata?.resourceVersion);
    assert.equal(patch.status.phase, "Cancelled");
    assert.equal(patch.status.completionTime, NOW.toISOString());
    assert.deepEqual(
      patch.status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [["Succeeded", "False", "Cancelled"]],
    );
    assert.deepEqual([del?.verb, del?.resource, del?.name], ["delete", "jobs", b.metadata?.name]);
    assert.deepEqual(
      h.events.map((e) => e.reason),
      ["Cancelled"],
    );
  });

  it("fails a build past spec.build.timeoutSeconds plus the grace, and deletes its Job", async () => {
    const h = harness();
    const b = h.add.build(building({ startedMinutesAgo: 2, timeoutSeconds: 60 }));
    h.add.job(job(b.metadata?.name ?? ""));
    await h.reconcile(b);
    const [fail, del] = h.api.sent();
    const status = bodyOf<StatusPatch>(fail).status;
    assert.equal(status.phase, "Failed");
    assert.equal(status.conditions?.[0]?.reason, "TimedOut");
    assert.match(status.message ?? "", /timeoutSeconds \(60s\)/);
    assert.equal(del?.verb, "delete");
    assert.deepEqual(
      h.events.map((e) => [e.type, e.reason]),
      [["Warning", "TimedOut"]],
    );
  });

  it("fails a build whose worker is silent past workerLostAfter (WorkerLost)", async () => {
    const h = harness({ workerLostAfterMs: 120_000 });
    const b = h.add.build(building({ startedMinutesAgo: 10, heartbeatMinutesAgo: 5 }));
    h.add.job(job(b.metadata?.name ?? "", { ready: 1 }));
    await h.reconcile(b);
    const status = bodyOf<StatusPatch>(h.api.sent("patchStatus")[0]).status;
    assert.equal(status.conditions?.[0]?.reason, "WorkerLost");
    assert.match(status.message ?? "", /no heartbeat for 300s: the worker may be stuck/);
    assert.equal(h.api.sent("delete").length, 1);
  });

  it("leaves a build whose worker heartbeats alone, and comes back", async () => {
    const h = harness();
    const b = h.add.build(building({ startedMinutesAgo: 10, heartbeatMinutesAgo: 0 }));
    h.add.job(job(b.metadata?.name ?? "", { ready: 1 }));
    const result = await h.reconcile(b);
    assert.deepEqual(h.api.sent(), []);
    assert.ok((result?.requeueAfterMs ?? 0) > 0);
  });

  it("a failed Job fails the build (WorkerFailed) unless the worker reported first", async () => {
    const h = harness();
    const b = h.add.build(building());
    h.add.job(
      job(b.metadata?.name ?? "", {
        condition: { type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "pod failed" },
      }),
    );
    await h.reconcile(b);
    const status = bodyOf<StatusPatch>(h.api.sent("patchStatus")[0]).status;
    assert.equal(status.conditions?.[0]?.reason, "WorkerFailed");
    assert.match(status.message ?? "", /pod failed/);

    // The worker's result landed before the Job's failure reached the cache: it stands.
    const h2 = harness();
    const cached = h2.add.build(building());
    h2.api.seed("imagebuilds", { ...cached, status: { phase: "Succeeded" } });
    h2.add.job(job(cached.metadata?.name ?? "", { condition: { type: "Failed", status: "True" } }));
    await h2.reconcile(cached);
    assert.deepEqual(h2.api.sent(), []);
  });

  it("a failure the worker beat (409) is dropped without an Event", async () => {
    const h = harness();
    const b = h.add.build(building({ startedMinutesAgo: 2, timeoutSeconds: 60 }));
    h.api.failNext("patchStatus", RecordingApi.error(409, "Conflict", "the object has been modified"));
    await h.reconcile(b);
    assert.deepEqual(h.events, []);
  });

  it("gives a finished build its Succeeded condition once, and reports it finished once", async () => {
    const h = harness();
    const b = h.add.build(
      build({
        status: {
          phase: "Succeeded",
          message: "built",
          startTime: minutesAgo(2),
          completionTime: minutesAgo(0), // while this process ran
        },
      }),
    );
    await h.reconcile(b);
    const patch = bodyOf<StatusPatch>(h.api.sent("patchStatus")[0]);
    assert.deepEqual(
      patch.status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [["Succeeded", "True", "BuildSucceeded"]],
    );
    assert.deepEqual(Object.keys(patch.status), ["conditions"], "only the condition");
    assert.deepEqual(h.finished, [["Succeeded", 120]]);

    const withCondition = h.add.build(
      h.api.get<ImageBuild>("imagebuilds", "default", b.metadata?.name ?? "") as ImageBuild,
    );
    await h.reconcile(withCondition);
    assert.equal(h.api.sent("patchStatus").length, 1, "written once");
    assert.equal(h.finished.length, 1, "observed once");
  });

  it("stops a cancelled build's running Job", async () => {
    const h = harness();
    const b = h.add.build(
      build({
        status: {
          phase: "Cancelled",
          conditions: [
            {
              type: "Succeeded",
              status: "False",
              reason: "Cancelled",
              message: "x",
              lastTransitionTime: NOW.toISOString(),
            },
          ],
        },
      }),
    );
    h.add.job(job(b.metadata?.name ?? ""));
    await h.reconcile(b);
    assert.deepEqual(
      h.api.sent().map((w) => [w.verb, w.resource]),
      [["delete", "jobs"]],
    );
  });

  it("a deleted build: stops its worker, then releases the finalizer with a guarded patch", async () => {
    const h = harness();
    const b = h.add.build({
      ...building(),
      metadata: { ...building().metadata, deletionTimestamp: NOW, finalizers: [FINALIZER, "other"] },
    });
    h.add.job(job(b.metadata?.name ?? ""));
    await h.reconcile(b);
    const [del, release] = h.api.sent();
    assert.deepEqual([del?.verb, del?.resource], ["delete", "jobs"]);
    assert.deepEqual([release?.verb, release?.resource], ["patch", "imagebuilds"]);
    assert.deepEqual(bodyOf(release), {
      metadata: { finalizers: ["other"], resourceVersion: b.metadata?.resourceVersion },
    });
  });
});
