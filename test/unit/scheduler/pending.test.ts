import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageBuild } from "../../../src/api/v1alpha1/index.js";
import { PendingQueueView } from "../../../src/scheduler/pending.js";
import { FakeCaches, waitingLoad } from "../../support/pending-load.js";
import { build, job, T0 } from "./fixtures.js";

const NOW = new Date(T0 + 3_600_000);

function view(caches: FakeCaches, cluster: number, limits: Record<string, number> = {}): PendingQueueView {
  return new PendingQueueView({
    builds: caches.builds,
    jobs: caches.jobs,
    namespaceLimit: (ns) => limits[ns],
    maxConcurrentBuilds: cluster,
    now: () => NOW,
  });
}

/**
 * Two builds running (a since 10 s, c since 20 s), one finished in 60 s, five waiting. In the
 * policy's order: b/hi (priority), then a/w1 (a and c have one in flight each, as has b once b/hi
 * is ordered; a was served longest ago), c/w1, then b/w1 and a/w2.
 */
function scene(): FakeCaches {
  const builds: ImageBuild[] = [
    build("a", "run", { phase: "Building", started: 10 }),
    build("c", "run", { phase: "Building", started: 20 }),
    build("a", "old", { phase: "Succeeded", started: 0, completed: 60 }),
    build("a", "w1", { created: 1 }),
    build("a", "w2", { created: 2, phase: "Queued" }),
    build("b", "w1", { created: 3 }),
    build("c", "w1", { created: 4 }),
    build("b", "hi", { created: 9, priority: 5 }),
  ];
  return new FakeCaches(builds, [job("a", "run"), job("c", "run"), job("a", "old", true)]);
}

/** Every waiting build's entry, in the view's order. */
const entries = (v: PendingQueueView) => v.snapshot().items.map((ref) => ref.entry());

describe("PendingQueueView", () => {
  it("lists the waiting builds in the policy's order, with cluster and namespace positions", () => {
    const items = entries(view(scene(), 2, { c: 1 }));
    assert.deepEqual(
      items.map((e) => [`${e.namespace}/${e.name}`, e.clusterPosition, e.namespacePosition, e.blockedBy]),
      [
        ["b/hi", 1, 1, "cluster"],
        ["a/w1", 2, 1, "cluster"],
        ["c/w1", 3, 1, "namespace"],
        ["b/w1", 4, 2, "cluster"],
        ["a/w2", 5, 2, "cluster"],
      ],
    );
  });

  it("says why each waits, with an estimated start learnt from finished builds", () => {
    const items = entries(view(scene(), 2, { c: 1 }));
    const [first, , third] = items;
    assert.deepEqual(first, {
      namespace: "b",
      name: "hi",
      imageName: "img-hi",
      uid: "uid-b-hi",
      priority: 5,
      waitingSince: new Date(T0 + 9000).toISOString(),
      clusterPosition: 1,
      namespacePosition: 1,
      blockedBy: "cluster",
      reason: "cluster limit 2 reached; 0 builds ahead",
      estimatedStartTime: new Date(NOW.getTime() + 60_000).toISOString(),
    });
    assert.equal(third?.reason, "namespace limit 1 reached in c; 2 builds ahead");
    assert.equal(third?.estimatedStartTime, new Date(NOW.getTime() + 120_000).toISOString());

    const unlearnt = scene();
    unlearnt.builds.items = unlearnt.builds.items.filter((b) => b.metadata?.name !== "old");
    for (const entry of entries(view(unlearnt, 2))) assert.ok(!("estimatedStartTime" in entry));
  });

  it("estimates a later start for builds behind others of a namespace at its limit", () => {
    const caches = scene();
    caches.builds.items.push(build("c", "w2", { created: 5 }));
    // Room in the cluster; namespace c runs one build of its limit of 1, with two waiting.
    const items = entries(view(caches, 10, { c: 1 }));
    assert.deepEqual(
      items.map((e) => [`${e.namespace}/${e.name}`, e.blockedBy, e.estimatedStartTime]),
      [
        ["c/w1", "namespace", new Date(NOW.getTime() + 60_000).toISOString()],
        ["c/w2", "namespace", new Date(NOW.getTime() + 120_000).toISOString()],
      ],
    );
  });

  it("leaves out the builds the policy would admit now: they do not wait", () => {
    const items = entries(view(scene(), 3, { c: 1 }));
    assert.deepEqual(
      items.map((e) => [`${e.namespace}/${e.name}`, e.clusterPosition]),
      [
        ["a/w1", 1],
        ["c/w1", 2],
        ["b/w1", 3],
        ["a/w2", 4],
      ],
    );
  });

  it("reports the build cache's resourceVersion, and is ready once every cache it reads has synced", () => {
    const caches = scene();
    caches.builds.resourceVersion = "4242";
    let namespacesSynced = false;
    const v = new PendingQueueView({
      builds: caches.builds,
      jobs: caches.jobs,
      namespaceLimit: () => undefined,
      namespaces: { hasSynced: () => namespacesSynced },
      maxConcurrentBuilds: 2,
    });
    assert.equal(v.snapshot().resourceVersion, "4242");
    assert.equal(v.ready(), false);
    namespacesSynced = true;
    assert.equal(v.ready(), true);
    caches.jobs.synced = false;
    assert.equal(v.ready(), false);
    caches.jobs.synced = true;
    caches.builds.synced = false;
    assert.equal(v.ready(), false);
  });

  it("makes an entry only when asked: refs carry the namespace and name a list filters on", () => {
    const items = view(scene(), 2, { c: 1 }).snapshot().items;
    assert.deepEqual(
      items.map((r) => `${r.namespace}/${r.name}`),
      entries(view(scene(), 2, { c: 1 })).map((e) => `${e.namespace}/${e.name}`),
    );
    assert.ok(items.every((r) => !("clusterPosition" in r)));
  });

  it("numbers 10 000 waiting builds 1..n, and 1..k within each namespace", () => {
    const items = entries(view(waitingLoad(10_000, 20), 20));
    assert.equal(items.length, 10_000);
    assert.ok(items.every((e, i) => e.clusterPosition === i + 1));
    const seen = new Map<string, number>();
    for (const e of items) {
      const expected = (seen.get(e.namespace) ?? 0) + 1;
      assert.equal(e.namespacePosition, expected, `${e.namespace}/${e.name}`);
      seen.set(e.namespace, expected);
    }
    assert.equal(seen.size, 20);
    // The higher priority (every tenth build) all go first.
    assert.ok(items.slice(0, 1000).every((e) => e.priority === 5));
  });
});
