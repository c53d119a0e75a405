// The placeholder PendingQueueSource (src/scheduler/pending.ts), until the scheduler work's own
// replaces it: the queue recomputed from the caches in the policy's order.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job, V1Namespace } from "@kubernetes/client-node";
import type { ImageBuild, ImageBuildPhase } from "../../../src/api/v1alpha1/index.js";
import { NAMESPACE_LIMIT_ANNOTATION } from "../../../src/scheduler/loop.js";
import { CachedPendingQueue } from "../../../src/scheduler/pending.js";

const T0 = Date.parse("2026-12-01T00:00:00Z");

function build(
  namespace: string,
  name: string,
  created: number,
  phase: ImageBuildPhase,
  priority = 0,
): ImageBuild {
  return {
    metadata: { name, namespace, uid: `uid-${name}`, creationTimestamp: new Date(T0 + created * 1000) },
    spec: {
      imageName: `img-${name}`,
      imageGeneration: 1,
      trigger: "Created",
      image: { base: { os: "debian", release: "12" }, formats: ["raw"], build: { priority } },
    },
    status: {
      phase,
      ...(phase === "Building" ? { startTime: new Date(T0 + created * 1000).toISOString() } : {}),
    },
  };
}

function queue(builds: ImageBuild[], opts: { perNamespace?: number; namespaces?: V1Namespace[] } = {}) {
  const byKey = new Map(builds.map((b) => [`${b.metadata?.namespace}/${b.metadata?.name}`, b]));
  return new CachedPendingQueue({
    builds: { list: () => builds, get: (k) => byKey.get(k), hasSynced: () => true, resourceVersion: "42" },
    jobs: { list: (): V1Job[] => [], hasSynced: () => true },
    namespaces: { get: (name) => opts.namespaces?.find((n) => n.metadata?.name === name) },
    maxConcurrentBuilds: 1,
    maxBuildsPerNamespace: opts.perNamespace ?? 0,
    now: () => new Date(T0 + 60_000),
  });
}

describe("CachedPendingQueue (placeholder)", () => {
  it("lists the waiting builds in the policy's admission order, with both positions", () => {
    const q = queue([
      build("a", "running", 0, "Building"),
      build("a", "a1", 1, "Queued"),
      build("b", "b1", 2, "Queued"),
      build("a", "a2", 3, "Pending"),
      build("b", "done", 0, "Succeeded"),
    ]);
    const { resourceVersion, items } = q.snapshot();
    assert.equal(resourceVersion, "42");
    // Fair share: b has nothing in flight, so b1 goes before a's older a1.
    assert.deepEqual(
      items.map((e) => [e.namespace, e.name, e.clusterPosition, e.namespacePosition]),
      [
        ["b", "b1", 1, 1],
        ["a", "a1", 2, 1],
        ["a", "a2", 3, 2],
      ],
    );
    assert.deepEqual(items[1], {
      namespace: "a",
      name: "a1",
      imageName: "img-a1",
      uid: "uid-a1",
      priority: 0,
      waitingSince: "2026-12-01T00:00:01.000Z",
      clusterPosition: 2,
      namespacePosition: 1,
      blockedBy: "cluster",
      reason: "cluster limit 1 reached; 1 build ahead",
    });
  });

  it("names a namespace limit, from the annotation over the flag", () => {
    const annotated: V1Namespace = {
      metadata: { name: "a", annotations: { [NAMESPACE_LIMIT_ANNOTATION]: "1" } },
    };
    const q = queue([build("a", "running", 0, "Building"), build("a", "a1", 1, "Queued")], {
      perNamespace: 5,
      namespaces: [annotated],
    });
    const [only] = q.snapshot().items;
    assert.equal(only?.blockedBy, "namespace");
    assert.match(only?.reason ?? "", /^namespace limit 1 reached in a/);
  });
});
