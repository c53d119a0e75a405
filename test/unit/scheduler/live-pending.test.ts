import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import type { ImageBuild, ImageBuildPhase } from "../../../src/api/v1alpha1/index.js";
import { objectKey } from "../../../src/runtime/keys.js";
import {
  LivePendingQueue,
  type PendingEntry,
  PendingQueueView,
  queueFieldsOf,
} from "../../../src/scheduler/pending.js";
import { type CacheChange, MIRRORED_CACHES, MirroredCaches } from "../../../src/visibility/mirror.js";
import { job as fixtureJob } from "../../support/fixtures.js";
import { build, job, lcg, pick, pod, T0 } from "./fixtures.js";

const NOW = new Date(T0 + 3_600_000);
const LIMITS: Record<string, number> = { b: 1 };
const options = {
  namespaceLimit: (ns: string) => LIMITS[ns],
  maxConcurrentBuilds: 3,
  now: () => NOW,
};

/** Mirrors fed change by change, with a live queue observing them and a rebuilt view beside it. */
function harness(project: (change: CacheChange) => CacheChange = (c) => c, synced = true) {
  const caches = new MirroredCaches();
  const live = new LivePendingQueue({
    builds: caches.builds,
    jobs: caches.jobs,
    pods: caches.pods,
    ...options,
  });
  caches.observe(live);
  const rebuilt = new PendingQueueView({
    builds: caches.builds,
    jobs: caches.jobs,
    pods: caches.pods,
    ...options,
  });
  let rv = 0;
  const apply = (...changes: CacheChange[]) =>
    caches.apply({ changes: changes.map(project), buildsResourceVersion: String(++rv) });
  if (synced) apply(...MIRRORED_CACHES.map((cache): CacheChange => ({ cache, op: "synced" })));
  return { caches, live, rebuilt, apply };
}

const set = (cache: CacheChange["cache"], obj: KubernetesObject): CacheChange => ({
  cache,
  op: "set",
  key: objectKey(obj),
  obj,
});

// The live queue keeps the durations of builds deleted since (as the scheduler does), a rebuild
// only those still cached: estimated starts may differ, the order and its reasons may not.
const withoutEta = (entries: PendingEntry[]) => entries.map(({ estimatedStartTime: _eta, ...e }) => e);
const entries = (q: { snapshot(): { items: { entry(): PendingEntry }[] } }) =>
  q.snapshot().items.map((ref) => ref.entry());

/**
 * A pod seen ended frees its Job's slot, and the live queue remembers that after the pod is gone; a
 * rebuild, no longer seeing it, counts the Job until it finishes (the scheduler's own rebuild
 * reports that as drift). Pods go with their Job once it has finished, and a pod deleted before it
 * ended is counted the same by both: the history deletes no ended pod of an unfinished Job.
 */
function podMayGo(caches: MirroredCaches, namespace: string, name: string): boolean {
  const phase = caches.pods.get(`${namespace}/${name}-x7k2p`)?.status?.phase;
  const jobConditions = caches.jobs.get(`${namespace}/${name}`)?.status?.conditions;
  const jobFinished =
    caches.jobs.get(`${namespace}/${name}`) === undefined || (jobConditions?.length ?? 0) > 0;
  return !ended(phase) || jobFinished;
}

const ended = (phase: string | undefined) => phase === "Succeeded" || phase === "Failed";

describe("LivePendingQueue", () => {
  it("lists what a rebuild from the same caches lists, after every change of a random history", () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const rand = lcg(seed);
      const { caches, live, rebuilt, apply: applyFull } = harness();
      // The same history with builds as the thread's mirror holds them (queueFieldsOf).
      const slim = harness((c) =>
        c.cache === "builds" && c.op === "set" ? { ...c, obj: queueFieldsOf(c.obj as ImageBuild) } : c,
      );
      const apply = (...changes: CacheChange[]) => {
        slim.apply(...changes);
        return applyFull(...changes);
      };
      const jobUids = new Map<string, string>();
      let jobsCreated = 0;
      const namespaces = ["a", "b", "c"];
      const names = Array.from({ length: 8 }, (_, i) => `b${i}`);
      const phases: (ImageBuildPhase | undefined)[] = [
        undefined,
        "Queued",
        "Building",
        "Succeeded",
        "Failed",
        "Cancelled",
      ];
      for (let step = 0; step < 400; step++) {
        const ns = pick(namespaces, rand);
        const name = pick(names, rand);
        const roll = rand();
        if (roll < 0.4) {
          const phase = pick(phases, rand);
          const started = phase && phase !== "Queued" ? Math.floor(rand() * 100) : undefined;
          const b = build(ns, name, {
            created: Math.floor(rand() * 50),
            priority: rand() < 0.2 ? 5 : 0,
            ...(phase ? { phase } : {}),
            ...(started !== undefined ? { started } : {}),
            ...(phase === "Succeeded" && started !== undefined ? { completed: started + 30 } : {}),
          });
          if (rand() < 0.05) b.metadata = { ...b.metadata, deletionTimestamp: new Date(T0) };
          apply(set("builds", b));
        } else if (roll < 0.5) {
          apply({ cache: "builds", op: "delete", key: `${ns}/${name}` });
        } else if (roll < 0.7) {
          // An update keeps the Job's uid; a Job created again after one went is another Job.
          const key = `${ns}/${name}`;
          const uid = caches.jobs.get(key)?.metadata?.uid ?? `uid-job-${key}-${++jobsCreated}`;
          jobUids.set(key, uid);
          const finished = rand() < 0.4;
          apply(
            set(
              "jobs",
              fixtureJob(name, {
                namespace: ns,
                uid,
                ...(finished ? { condition: { type: "Complete", status: "True" } } : {}),
              }),
            ),
          );
        } else if (roll < 0.75) {
          apply({ cache: "jobs", op: "delete", key: `${ns}/${name}` });
        } else if (roll < 0.95) {
          // A pod's phase only moves forward: an ended pod stays ended.
          const phase = pick(["Pending", "Running", "Succeeded", "Failed"], rand);
          const now = caches.pods.get(`${ns}/${name}-x7k2p`)?.status?.phase;
          const p: V1Pod = pod(
            ns,
            name,
            ended(now) ? (now as string) : phase,
            jobUids.get(`${ns}/${name}`) ?? null,
          );
          apply(set("pods", p));
        } else if (podMayGo(caches, ns, name)) {
          apply({ cache: "pods", op: "delete", key: `${ns}/${name}-x7k2p` });
        }
        assert.deepEqual(entries(slim.live), entries(live), `seed ${seed}, step ${step}: builds as mirrored`);
        assert.deepEqual(
          withoutEta(entries(live)),
          withoutEta(entries(rebuilt)),
          `seed ${seed}, step ${step}: ${caches.builds.size} builds, ${caches.jobs.size} Jobs, ${caches.pods.size} pods`,
        );
      }
    }
  });

  it("says whether a change can move the queue, so an unrelated one recomputes nothing", () => {
    const { apply } = harness();
    assert.equal(apply(set("builds", build("a", "w1", { created: 1 }))), true, "a build starts to wait");
    assert.equal(apply(set("jobs", job("a", "other", true))), false, "a finished Job of no build");
    assert.equal(
      apply(set("namespaces", { metadata: { name: "a" } })),
      true,
      "a namespace's limit may change",
    );
  });

  it("reports the mirror's resourceVersion and its readiness", () => {
    const { caches, live } = harness((c) => c, false);
    assert.equal(live.ready(), false);
    caches.apply({
      changes: MIRRORED_CACHES.map((cache): CacheChange => ({ cache, op: "synced" })),
      buildsResourceVersion: "42",
    });
    assert.equal(live.ready(), true);
    assert.equal(live.snapshot().resourceVersion, "42");
  });
});
