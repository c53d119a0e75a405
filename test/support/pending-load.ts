// A cluster's worth of waiting builds in fake informer caches, for the pending-queue view's
// tests and its cost measurement (bench/pending-snapshot.ts).
import type { V1Job } from "@kubernetes/client-node";
import type { ImageBuild } from "../../src/api/v1alpha1/index.js";
import type { PendingQueueOptions } from "../../src/scheduler/pending.js";

export const LOAD_T0 = Date.parse("2025-03-01T00:00:00.000Z");

/** Caches as the view reads them; resourceVersion and hasSynced are the test's to set. */
export class FakeCaches {
  readonly builds: PendingQueueOptions["builds"] & {
    items: ImageBuild[];
    synced: boolean;
    resourceVersion: string;
  };
  readonly jobs: PendingQueueOptions["jobs"] & { items: V1Job[]; synced: boolean };

  constructor(builds: ImageBuild[] = [], jobs: V1Job[] = []) {
    this.builds = {
      items: builds,
      synced: true,
      resourceVersion: "1",
      list() {
        return this.items;
      },
      hasSynced() {
        return this.synced;
      },
    };
    this.jobs = {
      items: jobs,
      synced: true,
      list() {
        return this.items;
      },
      hasSynced() {
        return this.synced;
      },
    };
  }
}

/**
 * `count` builds waiting in `namespaces` namespaces, one created per second, every tenth with a
 * higher priority, plus one build running in each namespace: the cluster is full.
 */
export function waitingLoad(count: number, namespaces: number): FakeCaches {
  const builds: ImageBuild[] = [];
  const jobs: V1Job[] = [];
  const make = (namespace: string, name: string, createdMs: number, priority: number): ImageBuild => ({
    metadata: {
      namespace,
      name,
      uid: `uid-${namespace}-${name}`,
      resourceVersion: "1",
      creationTimestamp: new Date(createdMs),
    },
    spec: {
      imageName: name,
      imageGeneration: 1,
      trigger: "Created",
      image: { base: { os: "debian", release: "12" }, formats: ["raw"], build: { priority } },
    },
    status: { phase: "Queued" },
  });
  for (let n = 0; n < namespaces; n++) {
    const running = make(`ns-${n}`, "running", LOAD_T0, 0);
    running.status = { phase: "Building", startTime: new Date(LOAD_T0 + n * 1000).toISOString() };
    builds.push(running);
    jobs.push({ metadata: { namespace: `ns-${n}`, name: "running" } });
  }
  for (let i = 0; i < count; i++)
    builds.push(make(`ns-${i % namespaces}`, `b${i}`, LOAD_T0 + (i + 1) * 1000, i % 10 === 0 ? 5 : 0));
  return new FakeCaches(builds, jobs);
}
