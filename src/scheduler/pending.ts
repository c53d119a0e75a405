// The live queue, computed on demand from the informer caches in exactly the scheduler policy's
// admission order. Served by the visibility API (src/visibility/); any replica can compute it,
// leader or standby, since it reads only the caches (never the leader's scheduler).
import type { V1Job, V1Namespace, V1Pod } from "@kubernetes/client-node";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { schedulingPriority } from "../build/defaults.js";
import { createdAtMs } from "../build/order.js";
import type { Informer } from "../runtime/informer.js";
import { objectKey } from "../runtime/keys.js";
import { type QueuedPlacement, schedule, startEstimator } from "./policy.js";
import { SchedulerState } from "./state.js";

/** One waiting build, as the visibility API reports it. */
export interface PendingEntry {
  namespace: string;
  /** The ImageBuild's name. */
  name: string;
  /** spec.imageName of the ImageBuild. */
  imageName: string;
  uid: string;
  priority: number;
  /**
   * When the build started waiting (its creationTimestamp, or the finer golden.dev/queued-at
   * annotation the policy orders by), RFC 3339.
   */
  waitingSince: string;
  /** 1-based place among every waiting build in the cluster, in admission order. */
  clusterPosition: number;
  /** 1-based place among the waiting builds of its namespace. */
  namespacePosition: number;
  blockedBy: "cluster" | "namespace";
  /** Plain words, e.g. "cluster limit 10 reached; 3 builds ahead". */
  reason: string;
  /** Estimated start, RFC 3339; absent until a build has finished to learn from. */
  estimatedStartTime?: string;
}

/**
 * A waiting build in a snapshot: what a list filters and pages on, and its entry, made on demand
 * so that a page of 500 out of 10 000 waiting builds makes 500 entries, not 10 000.
 */
export interface PendingRef {
  readonly namespace: string;
  readonly name: string;
  entry(): PendingEntry;
}

/** What the visibility API reads. Items are in admission order (clusterPosition 1..n). */
export interface PendingQueueSource {
  /** Computes the queue now; resourceVersion is the ImageBuild cache's last seen resourceVersion. */
  snapshot(): { resourceVersion: string; items: PendingRef[] };
  /** True once the caches it reads have synced. */
  ready(): boolean;
}

export interface PendingQueueOptions {
  builds: Pick<Informer<ImageBuild>, "list" | "hasSynced" | "resourceVersion">;
  jobs: Pick<Informer<V1Job>, "list" | "hasSynced">;
  pods?: Pick<Informer<V1Pod>, "list" | "hasSynced">;
  /** A namespace's limit; undefined when only the cluster limit applies (see limits.ts). */
  namespaceLimit: (namespace: string) => number | undefined;
  /** The cache namespaceLimit reads, if any: ready() waits for it too. */
  namespaces?: Pick<Informer<V1Namespace>, "hasSynced">;
  maxConcurrentBuilds: number;
  now?: () => Date;
}

/**
 * Each snapshot rebuilds the scheduler's state from the caches and runs the policy over it, so the
 * order is schedule()'s by construction: O(n log n) per call, none while nobody asks. Builds that
 * the policy would admit right now are not listed: they do not wait, the leader is admitting them.
 */
export class PendingQueueView implements PendingQueueSource {
  private readonly now: () => Date;

  constructor(private readonly opts: PendingQueueOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  ready(): boolean {
    const { builds, jobs, pods, namespaces } = this.opts;
    return (
      builds.hasSynced() &&
      jobs.hasSynced() &&
      (pods?.hasSynced() ?? true) &&
      (namespaces?.hasSynced() ?? true)
    );
  }

  snapshot(): { resourceVersion: string; items: PendingRef[] } {
    // Read the resourceVersion first: the items are then at least as new as it says.
    const resourceVersion = this.opts.builds.resourceVersion;
    const builds = this.opts.builds.list();
    const state = new SchedulerState();
    state.rebuild(builds, this.opts.jobs.list(), this.opts.pods?.list());
    const cluster = this.opts.maxConcurrentBuilds;
    const decision = schedule(
      state.waiting(),
      state.inFlight(),
      { cluster, namespace: this.opts.namespaceLimit },
      state.lastServed(),
    );

    const byKey = new Map(builds.map((b) => [objectKey(b), b]));
    const estimate = startEstimator(cluster, state.recentDurations(), this.now().getTime());
    const namespacePositions = new Map<string, number>();
    const items: PendingRef[] = [];
    for (const placement of decision.queued) {
      const build = byKey.get(placement.key);
      if (!build) continue;
      const namespace = build.metadata?.namespace ?? "";
      const namespacePosition = (namespacePositions.get(namespace) ?? 0) + 1;
      namespacePositions.set(namespace, namespacePosition);
      items.push(new QueuedBuild(namespace, build, placement, namespacePosition, estimate));
    }
    return { resourceVersion, items };
  }
}

/** One waiting build of a snapshot; its entry is computed when a page shows it. */
class QueuedBuild implements PendingRef {
  readonly name: string;

  constructor(
    readonly namespace: string,
    private readonly build: ImageBuild,
    private readonly placement: QueuedPlacement,
    private readonly namespacePosition: number,
    private readonly estimate: (ahead: number) => number | undefined,
  ) {
    this.name = build.metadata?.name ?? "";
  }

  entry(): PendingEntry {
    const { build, placement } = this;
    const eta = this.estimate(placement.ahead);
    return {
      namespace: this.namespace,
      name: this.name,
      imageName: build.spec.imageName,
      uid: build.metadata?.uid ?? "",
      priority: schedulingPriority(build),
      waitingSince: new Date(createdAtMs(build)).toISOString(),
      clusterPosition: placement.position,
      namespacePosition: this.namespacePosition,
      blockedBy: placement.blockedBy,
      reason: placement.reason,
      ...(eta !== undefined ? { estimatedStartTime: new Date(eta).toISOString() } : {}),
    };
  }
}

/** The pending queue of the operator's caches, for the visibility API. */
export function pendingQueue(opts: PendingQueueOptions): PendingQueueSource {
  return new PendingQueueView(opts);
}
