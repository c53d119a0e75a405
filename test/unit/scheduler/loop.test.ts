import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job, V1Namespace, V1Pod } from "@kubernetes/client-node";
import type { GoldenClient } from "../../../src/api/client.js";
import type { ImageBuild } from "../../../src/api/v1alpha1/index.js";
import { nopLogger } from "../../../src/runtime/logger.js";
import {
  ANNOUNCED_BUILD_MS,
  ANNOUNCED_HOLD_MS,
  BuildScheduler,
  REBUILD_MS,
  UNCERTAIN_ADMISSION_MS,
  UNCONFIRMED_RECHECK_MS,
} from "../../../src/scheduler/loop.js";
import { FakeInformer } from "../../support/fake-informer.js";
import { build, job, pod, T0 } from "./fixtures.js";

interface Patch {
  key: string;
  status: Record<string, unknown>;
}

interface HarnessOptions {
  /**
   * Writes land in the build cache and their events are delivered, resourceVersion-guarded like
   * the apiserver's (a stale one is a 409). Otherwise writes are only recorded.
   */
  applyWrites?: boolean;
  /** Namespace → its golden.dev/max-concurrent-builds annotation. */
  namespaceLimits?: Map<string, string>;
  /** Builds deleted in the apiserver, whatever the cache shows: their writes are a 404. */
  deleted?: Set<string>;
  /** With applyWrites: writes land in the apiserver, and the cache does not show them (a lagging watch). */
  watchBehind?: boolean;
}

/** A scheduler over fake caches whose events the test delivers (or, to lose one, does not). */
function harness(capacity: number, opts: HarnessOptions = {}) {
  const builds = new FakeInformer<ImageBuild>();
  /** Builds the apiserver has and the cache does not show yet (applyWrites). */
  const uncached = new Map<string, ImageBuild>();
  const jobs = new FakeInformer<V1Job>();
  const pods = new FakeInformer<V1Pod>();
  const patches: Patch[] = [];
  const warnings: string[] = [];
  /** What a live read of a Job returns (the apiserver), apart from the cache. */
  const liveJobs = new Map<string, V1Job>();
  const livePods = new Map<string, V1Pod[]>();
  const jobReads: string[] = [];
  /** What startJob heard, in order: "told a/b1 (writes sent: 0)", "admitted a/b1 Building", "abandoned a/b1". */
  const jobStarts: string[] = [];
  /** Thrown by the next admission's write, after recording it. */
  let failNextAdmission: Error | undefined;
  /** While set, every write is recorded and then waits for it (the apiserver is slow). */
  let gate: Promise<void> | undefined;
  let wakes = 0;
  let nowMs = T0;
  const client = {
    imageBuilds: {
      // The guarded status write: 404 and 409 come back as undefined, as from the real client.
      patchStatusIfCurrent: async (build: ImageBuild, status: Record<string, unknown>) => {
        const key = `${build.metadata?.namespace}/${build.metadata?.name}`;
        const patch = { metadata: { resourceVersion: build.metadata?.resourceVersion }, status };
        patches.push({ key, status: patch.status });
        await gate;
        const failure = patch.status.phase === "Building" ? failNextAdmission : undefined;
        if (failure) {
          failNextAdmission = undefined;
          throw failure;
        }
        if (opts.deleted?.has(key)) return undefined; // 404
        const current = uncached.get(key) ?? builds.get(key);
        if (!opts.applyWrites || !current) return current ?? build;
        const rv = current.metadata?.resourceVersion;
        if (patch.metadata.resourceVersion !== rv) return undefined; // 409
        const updated: ImageBuild = {
          ...current,
          metadata: { ...current.metadata, resourceVersion: String(Number(rv) + 1) },
          status: { ...current.status, ...patch.status } as ImageBuild["status"],
        };
        if (uncached.has(key) || opts.watchBehind) {
          uncached.set(key, updated); // Its watch events are behind: the cache does not show it.
          return updated;
        }
        builds.put(updated);
        scheduler.observeBuild(updated);
        return updated;
      },
    },
  } as unknown as Pick<GoldenClient, "imageBuilds">;
  const scheduler = new BuildScheduler({
    builds,
    jobs,
    pods,
    readJob: async (namespace, name) => {
      jobReads.push(`${namespace}/${name}`);
      return liveJobs.get(`${namespace}/${name}`);
    },
    readPods: async (namespace, name) => livePods.get(`${namespace}/${name}`) ?? [],
    client,
    namespaces: {
      get: (name: string): V1Namespace | undefined => {
        const limit = opts.namespaceLimits?.get(name);
        return {
          metadata: { name, annotations: limit ? { "golden.dev/max-concurrent-builds": limit } : {} },
        };
      },
    },
    startJob: (b) => {
      const key = `${b.metadata?.namespace}/${b.metadata?.name}`;
      jobStarts.push(`told ${key} (writes sent: ${patches.filter((p) => p.key === key).length})`);
      return {
        admitted: (written) => jobStarts.push(`admitted ${key} ${written.status?.phase}`),
        abandoned: () => jobStarts.push(`abandoned ${key}`),
      };
    },
    maxConcurrentBuilds: capacity,
    maxBuildsPerNamespace: 0,
    log: { ...nopLogger, warn: (msg: string) => warnings.push(msg) },
    now: () => new Date(nowMs),
    wake: () => {
      wakes++;
    },
  });
  return {
    scheduler,
    /** One pass, and its writes settled (a pass does not wait for them itself). */
    pass: async () => {
      const result = await scheduler.reconcile();
      await scheduler.writesSettled();
      return result;
    },
    patches,
    jobStarts,
    warnings,
    liveJobs,
    livePods,
    jobReads,
    failNextAdmission: (err: Error) => {
      failNextAdmission = err;
    },
    /** Holds every write until the returned function is called. */
    holdWrites: (): (() => void) => {
      let release = () => {};
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return release;
    },
    wakes: () => wakes,
    advance: (ms: number) => {
      nowMs += ms;
    },
    /** A build written to the cache, its event delivered; returns whether it woke the scheduler. */
    putBuild: (b: ImageBuild) => scheduler.observeBuild(builds.put(b)),
    /** A build the apiserver created whose watch event has not arrived (applyWrites). */
    createUnseen: (b: ImageBuild) => {
      uncached.set(`${b.metadata?.namespace}/${b.metadata?.name}`, b);
      return b;
    },
    putJob: (j: V1Job) => scheduler.observeJob(jobs.put(j)),
    putPod: (p: V1Pod) => scheduler.observePod(pods.put(p)),
    deletePod: (p: V1Pod) => {
      pods.remove(p);
      return scheduler.forgetPod(p);
    },
    admitted: () => patches.filter((p) => p.status.phase === "Building").map((p) => p.key),
    /** Each Queued write: key, and its Scheduled condition's reason and message. */
    queued: () =>
      patches
        .filter((p) => p.status.phase === "Queued")
        .map((p) => {
          const conditions = p.status.conditions as Array<{ type: string; reason: string; message: string }>;
          const scheduled = conditions.find((c) => c.type === "Scheduled");
          return [p.key, scheduled?.reason, scheduled?.message];
        }),
    builds,
  };
}

describe("BuildScheduler", () => {
  it("decides the next event without waiting for its writes: a build arriving meanwhile is seen at once", async () => {
    const h = harness(2, { applyWrites: true });
    for (const [i, name] of ["campaign-1", "campaign-2", "campaign-3"].entries())
      h.putBuild(build("a", name, { created: i, priority: -10 }));
    const release = h.holdWrites();
    await h.scheduler.reconcile(); // returns with its writes still out
    assert.deepEqual(h.admitted(), ["a/campaign-1", "a/campaign-2"]);
    assert.deepEqual(
      h.queued().map(([key]) => key),
      ["a/campaign-3"],
    );
    // A user's build arrives, and a slot frees, while those writes are out.
    assert.equal(h.putBuild(build("a", "user", { created: 3 })), true);
    const ended = { phase: "Failed", started: 0, completed: 1, resourceVersion: "2" } as const;
    assert.equal(h.putBuild(build("a", "campaign-1", { created: 0, priority: -10, ...ended })), true);
    await h.scheduler.reconcile();
    assert.deepEqual(
      h.admitted(),
      ["a/campaign-1", "a/campaign-2", "a/user"],
      "the user's build, not campaign-3",
    );
    await h.scheduler.reconcile();
    assert.deepEqual(h.admitted().length, 3, "no slot is free: the admissions still out count");
    assert.deepEqual(
      h.queued().map(([key]) => key),
      ["a/campaign-3"],
      "a Queued write out is not made again",
    );
    release();
    await h.scheduler.writesSettled();
    assert.equal(h.wakes(), 1, "campaign-1's admission found it moved on: one more pass");
    await h.pass();
    assert.deepEqual(h.admitted().length, 3);
  });

  it("an admission refused because the build moved on asks for another pass, and the build waits again", async () => {
    const h = harness(1, { applyWrites: true });
    h.putBuild(build("a", "b1", { created: 0, phase: "Queued" }));
    const release = h.holdWrites();
    await h.scheduler.reconcile();
    // The build changed (a newer version, still waiting) before the admission's write landed.
    h.putBuild({
      ...build("a", "b1", { created: 0, phase: "Queued" }),
      metadata: { ...build("a", "b1", { created: 0 }).metadata, resourceVersion: "5" },
    });
    release();
    await h.scheduler.writesSettled();
    assert.equal(h.wakes(), 1);
    h.patches.length = 0;
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b1"], "admitted on its new version");
  });

  it("tells who starts Jobs of each admission before its write is sent, then whether it landed", async () => {
    const h = harness(3, { applyWrites: true, deleted: new Set(["a/gone"]) });
    h.putBuild(build("a", "b1", { created: 0 }));
    h.putBuild(build("a", "gone", { created: 1 }));
    h.putBuild(build("a", "b3", { created: 2 }));
    h.failNextAdmission(Object.assign(new Error("etcd timeout"), { code: 500 }));
    await assert.rejects(h.pass(), /etcd timeout/);
    assert.deepEqual(h.admitted(), ["a/b1", "a/gone", "a/b3"]);
    assert.deepEqual([...h.jobStarts].sort(), [
      "abandoned a/b1", // no answer it landed: the ImageBuild reconciler acts on its event, if any
      "abandoned a/gone", // 404
      "admitted a/b3 Building", // the build as written
      "told a/b1 (writes sent: 0)",
      "told a/b3 (writes sent: 0)",
      "told a/gone (writes sent: 0)",
    ]);
  });

  it("admits up to capacity, tells the rest why they wait, and counts its admissions at once", async () => {
    const h = harness(2);
    for (const [i, name] of ["b1", "b2", "b3"].entries())
      assert.equal(h.putBuild(build("a", name, { created: i })), true);
    const result = await h.pass();
    assert.deepEqual(h.admitted(), ["a/b1", "a/b2"]);
    assert.deepEqual(h.queued(), [["a/b3", "ClusterLimitReached", "cluster limit 2 reached"]]);
    assert.deepEqual(result, { requeueAfterMs: REBUILD_MS }, "no refresh of waiting builds to come back for");

    // The cache has not shown the admissions yet: they still hold their slots. Nor has it shown
    // a/b3 as Queued: that write is done all the same.
    h.patches.length = 0;
    await h.pass();
    assert.deepEqual(h.patches, []);
  });

  it("writes a waiting build twice, when it starts to wait and when admitted, however long the queue", async () => {
    const h = harness(2, { applyWrites: true });
    const total = 1000;
    for (let i = 0; i < total; i++) h.putBuild(build(i % 2 ? "a" : "b", `b${i}`, { created: i }));
    await h.pass();
    assert.equal(h.admitted().length, 2);
    assert.equal(h.queued().length, total - 2);
    // Admissions one at a time: a running build finishes, its Job too, and a pass runs.
    for (let done = 0; done < total; done++) {
      const running = h.builds.list().find((b) => b.status?.phase === "Building") as ImageBuild;
      const { namespace = "", name = "" } = running.metadata ?? {};
      h.putBuild({ ...running, status: { ...running.status, phase: "Succeeded" } });
      h.putJob(job(namespace, name, true));
      await h.pass();
    }
    const writes = new Map<string, string[]>();
    for (const p of h.patches) writes.set(p.key, [...(writes.get(p.key) ?? []), String(p.status.phase)]);
    assert.equal(writes.size, total);
    for (const [key, phases] of writes) {
      const expected = key === "b/b0" || key === "a/b1" ? ["Building"] : ["Queued", "Building"];
      assert.deepEqual(phases, expected, key);
    }
  });

  it("a namespace at its limit: its builds wait saying so, and go once its limit is raised", async () => {
    const namespaceLimits = new Map([["a", "1"]]);
    const h = harness(5, { namespaceLimits });
    h.putBuild(build("a", "b1", { created: 0 }));
    h.putBuild(build("a", "b2", { created: 1 }));
    h.putBuild(build("b", "b1", { created: 2 }));
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b1", "b/b1"]);
    assert.deepEqual(h.queued(), [["a/b2", "NamespaceLimitReached", "namespace limit 1 reached in a"]]);
    h.putBuild(build("a", "b1", { created: 0, phase: "Building", started: 0 }));
    h.putBuild(build("b", "b1", { created: 2, phase: "Building", started: 0 }));

    h.patches.length = 0;
    namespaceLimits.set("a", "2");
    assert.equal(h.scheduler.observeNamespace({ metadata: { name: "a" } }), true);
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b2"]);
  });

  it("a running build's heartbeat does not wake it; its finished Job does, and frees the slot", async () => {
    const h = harness(1);
    h.putBuild(build("a", "b1", { created: 0 }));
    h.putBuild(build("a", "b2", { created: 1 }));
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b1"]);
    assert.equal(
      h.putBuild(build("a", "b1", { created: 0, phase: "Building", started: 0 })),
      true,
      "the namespace was just served",
    );
    assert.equal(h.putJob(job("a", "b1")), false);
    const heartbeat = build("a", "b1", { created: 0, phase: "Building", started: 0 });
    heartbeat.status = { ...heartbeat.status, heartbeatTime: new Date(T0 + 5000).toISOString() };
    assert.equal(h.putBuild(heartbeat), false);
    assert.equal(h.putBuild({ ...heartbeat, status: { ...heartbeat.status, phase: "Succeeded" } }), false);

    h.patches.length = 0;
    assert.equal(h.putJob(job("a", "b1", true)), true);
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b2"]);
  });

  it("a build's pod that ends frees its slot before the Job controller marks the Job finished", async () => {
    const h = harness(1);
    h.putBuild(build("a", "b1", { created: 0 }));
    h.putBuild(build("a", "b2", { created: 1 }));
    await h.pass();
    h.putBuild(build("a", "b1", { created: 0, phase: "Building", started: 0 }));
    h.putJob(job("a", "b1"));
    assert.equal(h.putPod(pod("a", "b1", "Running")), false, "its pod runs: nothing changes");
    h.putBuild(build("a", "b1", { created: 0, phase: "Succeeded", started: 0, completed: 5 }));
    h.patches.length = 0;
    await h.pass();
    assert.deepEqual(h.admitted(), [], "the worker reported, but its pod still runs");

    assert.equal(h.putPod(pod("a", "b1", "Succeeded")), true, "the pod ended: the slot is free");
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b2"], "admitted while b1's Job is still unfinished");
  });

  it("a pod that still runs holds its slot with its build and Job gone; one deleted before it ended leaves it to the Job", async () => {
    const h = harness(1);
    h.putBuild(build("a", "b1", { created: 0, phase: "Building", started: 0 }));
    h.putBuild(build("a", "b2", { created: 1 }));
    h.putJob(job("a", "b1"));
    const orphan = pod("a", "b1", "Running");
    h.putPod(orphan);
    await h.pass(); // The first pass rebuilds from the caches; later ones do not.
    // The Job deleted with propagationPolicy=orphan, the build deleted: the pod runs on.
    h.scheduler.forgetJob(job("a", "b1"));
    h.scheduler.forgetBuild(build("a", "b1", { created: 0, phase: "Building", started: 0 }));
    await h.pass();
    assert.deepEqual(h.admitted(), [], "the orphaned pod holds the only slot");
    assert.equal(h.deletePod(orphan), true, "gone: the slot is free");
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b2"]);

    // b2's pod deleted while it ran: not an end; its unfinished Job keeps the slot.
    const h2 = harness(1);
    h2.putBuild(build("a", "c1", { created: 0, phase: "Failed", started: 0, completed: 2 }));
    h2.putBuild(build("a", "c2", { created: 1 }));
    h2.putJob(job("a", "c1"));
    const running = pod("a", "c1", "Running");
    h2.putPod(running);
    assert.equal(h2.deletePod(running), false, "its Job has not finished");
    await h2.pass();
    assert.deepEqual(h2.admitted(), []);
    assert.equal(h2.putJob(job("a", "c1", true)), true);
    await h2.pass();
    assert.deepEqual(h2.admitted(), ["a/c2"]);
  });

  it("an admission without an answer holds its slot until the cache shows it did not land", async () => {
    const h = harness(1);
    h.putBuild(build("a", "b1", { created: 0, phase: "Queued" }));
    h.putBuild(build("a", "b2", { created: 1, phase: "Queued" }));
    h.failNextAdmission(new TypeError("fetch failed")); // no HTTP status: it may have landed
    await assert.rejects(h.pass(), /fetch failed/);
    h.patches.length = 0;
    const result = await h.pass();
    assert.deepEqual(h.admitted(), [], "a/b1 may be running: no slot for a/b2");
    assert.ok((result?.requeueAfterMs ?? Infinity) <= UNCERTAIN_ADMISSION_MS, "it comes back at the expiry");
    // A newer version of a/b1, still Queued: the conditional admission can no longer land.
    h.putBuild({
      ...build("a", "b1", { created: 0, phase: "Queued" }),
      metadata: { ...build("a", "b1", { created: 0 }).metadata, resourceVersion: "2" },
    });
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b1"]);
  });

  it("an admission refused with a 4xx frees its slot at once", async () => {
    const h = harness(1);
    h.putBuild(build("a", "b1", { created: 0, phase: "Queued" }));
    h.failNextAdmission(Object.assign(new Error("invalid"), { code: 422 }));
    await assert.rejects(h.pass(), /invalid/);
    h.patches.length = 0;
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b1"]);
  });

  it("a build that ended while its Job never showed in the cache: reads the Job until it has finished", async () => {
    const h = harness(1);
    h.putBuild(build("a", "b1", { created: 0 }));
    h.putBuild(build("a", "b2", { created: 1 }));
    await h.pass();
    h.putBuild(build("a", "b1", { created: 0, phase: "Building", started: 0 }));
    // The Job watch lags (reconnecting): the build ends before its Job ever shows up.
    h.putBuild({
      ...build("a", "b1", { created: 0, phase: "Building", started: 0 }),
      status: { phase: "Succeeded", startTime: new Date(T0).toISOString() },
    });
    h.liveJobs.set("a/b1", job("a", "b1"));
    h.patches.length = 0;
    const result = await h.pass();
    assert.deepEqual(h.jobReads, ["a/b1"]);
    assert.deepEqual(h.admitted(), [], "its Job still runs");
    assert.deepEqual(result, { requeueAfterMs: UNCONFIRMED_RECHECK_MS });
    h.liveJobs.set("a/b1", job("a", "b1", true));
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b2"]);
    assert.deepEqual(h.jobReads, ["a/b1", "a/b1"], "settled: no more reads");
    await h.pass();
    assert.deepEqual(h.jobReads, ["a/b1", "a/b1"]);
  });

  it("a Job gone before the cache saw it, its pod still ending: the live read of pods keeps the slot", async () => {
    const h = harness(1);
    h.putBuild(build("a", "b1", { created: 0 }));
    h.putBuild(build("a", "b2", { created: 1 }));
    await h.pass();
    h.putBuild(build("a", "b1", { created: 0, phase: "Building", started: 0 }));
    // Cancelled, its Job deleted: neither ever reached the caches, but the pod still terminates.
    h.putBuild(build("a", "b1", { created: 0, phase: "Cancelled", started: 0, completed: 1 }));
    h.livePods.set("a/b1", [pod("a", "b1", "Running")]);
    h.patches.length = 0;
    await h.pass();
    assert.deepEqual(h.admitted(), [], "its pod still runs");
    assert.equal(h.putPod(pod("a", "b1", "Failed")), true, "the pod ended");
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/b2"]);
  });

  it("rebuilds from the caches every REBUILD_MS, which recovers an event it never got", async () => {
    const h = harness(1);
    await h.pass(); // the first pass rebuilds: nothing there yet
    assert.deepEqual(h.warnings, []);
    h.builds.put(build("a", "lost", { created: 0 })); // in the cache, but its event was lost

    h.advance(REBUILD_MS - 1);
    const result = await h.pass();
    assert.deepEqual(h.admitted(), [], "no event, no rebuild yet: it does not know the build");
    assert.deepEqual(result, { requeueAfterMs: 1 }, "it comes back for the rebuild by itself");

    h.advance(1);
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/lost"]);
    assert.equal(h.warnings.length, 1, "the drift is reported");
  });
  it("a build being created counts at once: no lower build starts ahead of it while its create is out", async () => {
    const h = harness(2, { applyWrites: true });
    h.putBuild(build("a", "campaign-1", { created: 0, priority: -10 }));
    h.putBuild(build("a", "campaign-2", { created: 0, priority: -10 }));
    // The Image controller is creating a user's build: no resourceVersion yet, nothing in the cache.
    const creating = h.scheduler.creating(build("u", "user", { created: 1, resourceVersion: null }));
    assert.equal(h.wakes(), 1, "it asks for a pass");
    await h.pass();
    assert.deepEqual(h.admitted(), [], "the campaign's builds wait for the user's create to answer");
    assert.deepEqual(
      h.queued().map(([key]) => key),
      ["a/campaign-1", "a/campaign-2"],
      "no Queued status is written on a build whose create has not answered",
    );

    // The create answers; the build cache still does not show it (its watch event is behind).
    creating.created(build("u", "user", { created: 1, resourceVersion: "7" }));
    assert.equal(h.wakes(), 2, "the answer asks for a pass");
    await h.pass();
    assert.deepEqual(
      h.admitted(),
      ["u/user", "a/campaign-1"],
      "admitted on the create's answer, before the cache shows it, and first",
    );

    // Its watch event arrives: the cache decides from then on, with no second admission.
    h.putBuild(build("u", "user", { created: 1, resourceVersion: "7" }));
    await h.pass();
    assert.deepEqual(h.admitted(), ["u/user", "a/campaign-1"]);
  });

  it("a build being created holds back only builds of lower priority: a burst's own are not slowed by its creates", async () => {
    const h = harness(3);
    h.putBuild(build("u", "user-2", { created: 2 }));
    h.putBuild(build("a", "campaign-1", { created: 0, priority: -10 }));
    h.scheduler.creating(build("u", "user-1", { created: 1, resourceVersion: null }));
    await h.pass();
    assert.deepEqual(h.admitted(), ["u/user-2"], "user-1 keeps its slot; campaign-1 waits for its answer");
  });

  it("an announced build that waited is admitted on the version its Queued write made, before the cache shows either", async () => {
    const h = harness(1, { applyWrites: true });
    h.putBuild(build("a", "campaign-1", { created: 0, priority: -10 }));
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/campaign-1"]);
    const user = build("u", "user", { created: 1, resourceVersion: "7" });
    h.scheduler
      .creating(build("u", "user", { created: 1, resourceVersion: null }))
      .created(h.createUnseen(user));
    await h.pass();
    assert.deepEqual(
      h.queued().map(([key]) => key),
      ["u/user"],
      "no slot free: it waits, written on the create's version",
    );
    // campaign-1 ends (its Job never seen: a live read finds none), and frees the slot.
    const ended = { phase: "Failed", started: 0, completed: 1, resourceVersion: "3" } as const;
    h.putBuild(build("a", "campaign-1", { created: 0, priority: -10, ...ended }));
    const wakes = h.wakes();
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/campaign-1", "u/user"]);
    assert.equal(h.wakes(), wakes, "the admission landed (a refused one asks for another pass)");
  });

  it("a build marked Queued is admitted on the version that write made, though the cache still shows the one before", async () => {
    const h = harness(1, { applyWrites: true, watchBehind: true });
    h.putBuild(build("a", "first", { created: 0 }));
    await h.pass();
    h.putBuild(build("u", "user", { created: 1 }));
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/first"]);
    assert.deepEqual(h.queued(), [["u/user", "ClusterLimitReached", "cluster limit 1 reached"]]);
    // The first build ends (its Job never seen: a live read finds none); the cache still shows
    // u/user as it was before its Queued write.
    h.putBuild(
      build("a", "first", { created: 0, phase: "Failed", started: 0, completed: 1, resourceVersion: "3" }),
    );
    const wakes = h.wakes();
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/first", "u/user"]);
    assert.equal(h.wakes(), wakes, "the admission landed: not refused as written on a stale version");
  });

  it("a build whose Queued write is out is admitted once that write answers, on its version; lower builds wait", async () => {
    const h = harness(2, { applyWrites: true, watchBehind: true });
    h.putBuild(build("a", "first", { created: 0 }));
    h.putBuild(build("a", "second", { created: 0 }));
    await h.pass();
    const release = h.holdWrites();
    h.putBuild(build("c", "campaign", { created: 0, priority: -10 }));
    h.putBuild(build("u", "user", { created: 1 }));
    await h.scheduler.reconcile(); // both wait; their Queued writes are out
    const ended = { phase: "Failed", started: 0, completed: 1, resourceVersion: "3" } as const;
    h.putBuild(build("a", "first", { created: 0, ...ended }));
    h.putBuild(build("a", "second", { created: 0, ...ended }));
    await h.scheduler.reconcile(); // two slots free while u/user's Queued write is out
    assert.deepEqual(h.admitted(), ["a/first", "a/second"], "neither goes on the version being replaced");
    release();
    await h.scheduler.writesSettled();
    assert.equal(h.wakes(), 2, "each Queued write's answer asks for the pass that waited on it");
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/first", "a/second", "u/user", "c/campaign"]);
    assert.equal(h.wakes(), 2, "both admissions landed: nothing refused");
  });

  it("a build whose create failed, or never showed in the cache, stops holding the slot it would win", async () => {
    const h = harness(1);
    h.putBuild(build("a", "campaign-1", { created: 0, priority: -10 }));
    h.scheduler.creating(build("u", "refused", { created: 1, resourceVersion: null })).failed();
    await h.pass();
    assert.deepEqual(h.admitted(), ["a/campaign-1"], "a failed create leaves nothing behind");

    // A create with no answer: the builds after it wait for ANNOUNCED_HOLD_MS, then go; its own
    // slot stays free for it until ANNOUNCED_BUILD_MS.
    const g = harness(2);
    g.putBuild(build("a", "campaign-1", { created: 0, priority: -10 }));
    g.putBuild(build("a", "campaign-2", { created: 0, priority: -10 }));
    g.scheduler.creating(build("u", "hung", { created: 1, resourceVersion: null }));
    let result = await g.pass();
    assert.deepEqual(g.admitted(), []);
    assert.deepEqual(result, { requeueAfterMs: ANNOUNCED_HOLD_MS }, "it comes back when the hold ends");
    g.advance(ANNOUNCED_HOLD_MS);
    result = await g.pass();
    assert.deepEqual(g.admitted(), ["a/campaign-1"], "one slot is still kept for the hung create");
    assert.deepEqual(result, { requeueAfterMs: ANNOUNCED_BUILD_MS - ANNOUNCED_HOLD_MS });
    g.advance(ANNOUNCED_BUILD_MS - ANNOUNCED_HOLD_MS);
    await g.pass();
    assert.deepEqual(g.admitted(), ["a/campaign-1", "a/campaign-2"]);

    // Created, then deleted before the cache ever showed it: its admission's 404 is not retried
    // pass after pass; it keeps its slot until the announcement ends.
    const d = harness(1, { deleted: new Set(["u/gone"]) });
    d.putBuild(build("a", "campaign-1", { created: 0, priority: -10 }));
    d.scheduler
      .creating(build("u", "gone", { created: 1, resourceVersion: null }))
      .created(build("u", "gone", { created: 1, resourceVersion: "7" }));
    await d.pass();
    assert.deepEqual(d.admitted(), ["u/gone"], "tried, and refused");
    await d.pass();
    assert.deepEqual(d.admitted(), ["u/gone"], "not tried again on the same stale object");
    d.advance(ANNOUNCED_BUILD_MS);
    await d.pass();
    assert.deepEqual(d.admitted(), ["u/gone", "a/campaign-1"], "the slot goes on when the announcement ends");
  });

  it("a build whose watch event came before its create's answer is the cache's: the answer changes nothing", async () => {
    const h = harness(1, { applyWrites: true });
    const creating = h.scheduler.creating(build("u", "user", { created: 1, resourceVersion: null }));
    h.putBuild(build("u", "user", { created: 1, resourceVersion: "7" }));
    await h.pass();
    assert.deepEqual(h.admitted(), ["u/user"]);
    creating.created(build("u", "user", { created: 1, resourceVersion: "7" }));
    creating.failed(); // even a confused caller cannot take the cache's build out of the queue
    await h.pass();
    assert.deepEqual(h.admitted(), ["u/user"], "admitted once");
  });
});
