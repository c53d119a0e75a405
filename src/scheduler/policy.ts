// The build scheduling policy: which waiting builds start now and where the rest stand.
// Pure: no I/O, no clock. The pending-queue view (pending.ts) runs it over the caches; the loop
// admits in the same order incrementally (lanes.ts), which tests check against schedule().
//
// Order: higher priority first; within a priority, the namespace with the fewest builds in
// flight goes next, and among those the one served least recently (fair share: 500 builds in one
// namespace cannot starve one in another, even when each build finishes before the next starts);
// within a namespace, first come first served.

import { IndexedHeap } from "./heap.js";

export interface WaitingBuild {
  key: string;
  namespace: string;
  priority: number;
  /** Creation time in ms; earlier builds go first among equals. */
  createdAt: number;
}

/** Builds holding a slot (admitted, until their Job has finished), counted rather than listed. */
export interface InFlight {
  /** Across the cluster: the sum of byNamespace. */
  total: number;
  /** Namespaces without builds in flight may be missing. */
  byNamespace: ReadonlyMap<string, number>;
}

export interface Limits {
  /** Builds running at once across the cluster. */
  cluster: number;
  /** Builds running at once in one namespace; undefined means only the cluster limit applies. */
  namespace: (namespace: string) => number | undefined;
}

export interface QueuedPlacement {
  key: string;
  /** 1-based place among all waiting builds, in the order they would start. */
  position: number;
  /** Builds that start before this one. */
  ahead: number;
  blockedBy: "cluster" | "namespace";
  /** Plain words for a condition message, e.g. "namespace limit 2 reached; 3 builds ahead". */
  reason: string;
}

export interface Decision {
  admit: string[];
  queued: QueuedPlacement[];
}

/** Within a namespace: higher priority first, then first come first served. */
export function byArrival(a: WaitingBuild, b: WaitingBuild): number {
  return b.priority - a.priority || byCreation(a, b);
}

function byCreation(a: WaitingBuild, b: WaitingBuild): number {
  return a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** What fair share weighs for a namespace while builds are being ordered. */
export interface FairShare {
  /** Builds in flight, plus those already ordered. */
  usage(namespace: string): number;
  /** When it was last served (ms; later serves compare greater); -Infinity when never. */
  served(namespace: string): number;
}

/** Between the heads of two namespaces' lanes: which build is ordered next. */
export function compareCandidates(a: WaitingBuild, b: WaitingBuild, share: FairShare): number {
  return (
    b.priority - a.priority ||
    share.usage(a.namespace) - share.usage(b.namespace) ||
    // Two namespaces never served give NaN, which is falsy: the tie falls through, as it should.
    share.served(a.namespace) - share.served(b.namespace) ||
    byCreation(a, b)
  );
}

/** Why a build waits, in words that stay true while the queue moves. */
export function waitReason(blockedBy: "cluster" | "namespace", limit: number, namespace: string): string {
  return blockedBy === "namespace"
    ? `namespace limit ${limit} reached in ${namespace}`
    : `cluster limit ${limit} reached`;
}

/** A namespace's waiting builds in arrival order, and the first not ordered yet. */
interface Lane {
  builds: WaitingBuild[];
  next: number;
}

function headOf(lane: Lane): WaitingBuild {
  return lane.builds[lane.next] as WaitingBuild;
}

/**
 * `lastServed` maps a namespace to when it last had a build admitted (ms); namespaces missing
 * from it count as never served.
 */
export function schedule(
  waiting: WaitingBuild[],
  running: InFlight,
  limits: Limits,
  lastServed: ReadonlyMap<string, number> = new Map(),
): Decision {
  const inFlight = new Map(running.byNamespace);
  let clusterFree = Math.max(0, limits.cluster - running.total);

  const lanes = new Map<string, Lane>();
  for (const w of waiting) {
    const lane = lanes.get(w.namespace) ?? { builds: [], next: 0 };
    lane.builds.push(w);
    lanes.set(w.namespace, lane);
  }
  for (const lane of lanes.values()) lane.builds.sort(byArrival);

  const admit: string[] = [];
  const queued: QueuedPlacement[] = [];
  // Usage counts both running and already-ordered builds, so fair share holds along the queue.
  const usage = new Map(inFlight);
  // Ordering a build serves its namespace, after everyone served before this decision.
  const served = new Map(lastServed);
  let serveTick = Math.max(0, ...served.values());
  const share: FairShare = {
    usage: (ns) => usage.get(ns) ?? 0,
    served: (ns) => served.get(ns) ?? Number.NEGATIVE_INFINITY,
  };
  // The lanes by their heads: ordering a build changes only its own lane's key, so re-placing that
  // lane keeps the heap exact, and ordering n builds costs O(n log namespaces).
  const byHead = new IndexedHeap<Lane>((a, b) => compareCandidates(headOf(a), headOf(b), share) < 0);
  for (const lane of lanes.values()) byHead.push(lane);

  for (let lane = byHead.peek(); lane; lane = byHead.peek()) {
    const next = headOf(lane);
    lane.next++;
    usage.set(next.namespace, (usage.get(next.namespace) ?? 0) + 1);
    served.set(next.namespace, ++serveTick);
    if (lane.next < lane.builds.length) byHead.update(lane);
    else byHead.remove(lane);

    const nsLimit = limits.namespace(next.namespace);
    const nsRunning = inFlight.get(next.namespace) ?? 0;
    const nsFull = nsLimit !== undefined && nsRunning >= nsLimit;
    if (clusterFree > 0 && !nsFull) {
      admit.push(next.key);
      clusterFree--;
      inFlight.set(next.namespace, nsRunning + 1);
      continue;
    }
    const ahead = queued.length;
    const aheadText = `${ahead} build${ahead === 1 ? "" : "s"} ahead`;
    const blockedBy = nsFull ? "namespace" : "cluster";
    const limit = nsFull ? nsLimit : limits.cluster;
    queued.push({
      key: next.key,
      position: ahead + 1,
      ahead,
      blockedBy,
      reason: `${waitReason(blockedBy, limit, next.namespace)}; ${aheadText}`,
    });
  }
  return { admit, queued };
}

/** What holds a waiting build back besides the cluster: its namespace's limit and its place there. */
export interface NamespaceBound {
  /** Builds of its namespace that start before it. */
  ahead: number;
  /** The namespace's limit; undefined when only the cluster limit applies. */
  limit: number | undefined;
}

/**
 * When a waiting build should start: every `capacity` builds ahead of it take one typical build
 * duration (the median of recent ones), and so does every namespace limit's worth of builds ahead
 * of it in its namespace; the later of the two. Undefined until a build has finished to learn from.
 */
export function estimateStart(
  ahead: number,
  capacity: number,
  recentDurationsMs: number[],
  nowMs: number,
  namespace?: NamespaceBound,
): number | undefined {
  return startEstimator(capacity, recentDurationsMs, nowMs)(ahead, namespace);
}

/** estimateStart for many builds of one queue: the median is taken once, not per build. */
export function startEstimator(
  capacity: number,
  recentDurationsMs: number[],
  nowMs: number,
): (ahead: number, namespace?: NamespaceBound) => number | undefined {
  if (recentDurationsMs.length === 0 || capacity <= 0) return () => undefined;
  const sorted = [...recentDurationsMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return (ahead, namespace) => {
    const clusterWaves = Math.floor(ahead / capacity);
    const limit = namespace?.limit;
    const namespaceWaves =
      namespace && limit !== undefined && limit > 0 ? Math.floor(namespace.ahead / limit) : 0;
    return nowMs + (Math.max(clusterWaves, namespaceWaves) + 1) * median;
  };
}
