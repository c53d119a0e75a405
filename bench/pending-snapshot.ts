#!/usr/bin/env node
// The cost of one pending-queue snapshot and its first page of 500 (what the first request of
// `kubectl get pendingbuilds -A --chunk-size=500` computes), from caches holding N waiting builds:
// `node dist/bench/pending-snapshot.js [N] [namespaces]`. Both ways: rebuilt from the caches per
// snapshot (PendingQueueView, the operator's own thread), and from the state the visibility
// thread keeps current from the caches' changes (LivePendingQueue).
import { performance } from "node:perf_hooks";
import type { ImageBuild } from "../src/api/v1alpha1/index.js";
import { objectKey } from "../src/runtime/keys.js";
import { LivePendingQueue, type PendingQueueSource, PendingQueueView } from "../src/scheduler/pending.js";
import { waitingLoad } from "../test/support/pending-load.js";

const count = Number(process.argv[2] ?? 10_000);
const namespaces = Number(process.argv[3] ?? 20);
const caches = waitingLoad(count, namespaces);
const options = { jobs: caches.jobs, namespaceLimit: () => undefined, maxConcurrentBuilds: namespaces };

const rebuilt = new PendingQueueView({ builds: caches.builds, ...options });
const byKey = new Map<string, ImageBuild>(caches.builds.items.map((b) => [objectKey(b), b]));
const live = new LivePendingQueue({
  builds: { get: (key) => byKey.get(key), hasSynced: () => true, resourceVersion: "1" },
  ...options,
});
for (const job of caches.jobs.items) live.observeJob(job);
for (const build of caches.builds.items) live.observeBuild(build);

function measure(name: string, view: PendingQueueSource): void {
  const runs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const start = performance.now();
    const { items } = view.snapshot();
    // What a first page of `kubectl get pendingbuilds -A --chunk-size=500` costs: the snapshot and
    // the entries of its first 500.
    for (const ref of items.slice(0, 500)) ref.entry();
    runs.push(performance.now() - start);
    if (items.length !== count) throw new Error(`expected ${count} waiting builds, got ${items.length}`);
  }
  const warm = runs.slice(5).sort((a, b) => a - b);
  const ms = (q: number) => (warm[Math.floor(q * (warm.length - 1))] ?? 0).toFixed(1);
  console.log(
    `${name}: snapshot + first page of ${count} waiting builds in ${namespaces} namespaces: p50 ${ms(0.5)} ms, max ${ms(1)} ms (first ${runs[0]?.toFixed(1)} ms)`,
  );
}

measure("rebuilt per snapshot (PendingQueueView)", rebuilt);
measure("kept current (LivePendingQueue)", live);
