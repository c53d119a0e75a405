// The live queue, computed on demand from the informer caches in exactly the scheduler policy's
// admission order. Served by the visibility API (src/visibility/); any replica can compute it,
// leader or standby, since it reads only the caches (never the leader's scheduler).
import type { V1Job, V1Namespace, V1Pod } from "@kubernetes/client-node";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { schedulingPriority } from "../build/defaults.js";
import { ANNOTATIONS } from "../build/names.js";
import { createdAtMs } from "../build/order.js";
import type { Informer } from "../runtime/informer.js";
import { objectKey } from "../runtime/keys.js";
import { type NamespaceBound, type QueuedPlacement, schedule, startEstimator } from "./policy.js";
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
    return cachesSynced(this.opts);
  }

  snapshot(): { resourceVersion: string; items: PendingRef[] } {
    // Read the resourceVersion first: the items are then at least as new as it says.
    const resourceVersion = this.opts.builds.resourceVersion;
    const builds = this.opts.builds.list();
    const state = new SchedulerState();
    state.rebuild(builds, this.opts.jobs.list(), this.opts.pods?.list());
    const byKey = new Map(builds.map((b) => [objectKey(b), b]));
    return queueOf(state, resourceVersion, (key) => byKey.get(key), this.opts, this.now());
  }
}

export interface LivePendingQueueOptions extends Omit<PendingQueueOptions, "builds"> {
  builds: Pick<Informer<ImageBuild>, "get" | "hasSynced" | "resourceVersion">;
}

/**
 * The same queue, from a SchedulerState kept current by the caches' changes (observe and forget,
 * as the scheduler loop keeps its own) instead of rebuilt from every object in the caches per
 * snapshot: a snapshot then costs the policy's ordering of the waiting builds only. For a reader
 * whose caches change under it in one place, as the visibility thread's mirrors do.
 */
export class LivePendingQueue implements PendingQueueSource {
  private readonly now: () => Date;
  // No live reads here: the caches' word stands, as in a rebuild (see confirmEndings).
  private readonly state = new SchedulerState({ confirmEndings: false });

  constructor(private readonly opts: LivePendingQueueOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  ready(): boolean {
    return cachesSynced(this.opts);
  }

  /** Each returns true when the change can move the queue. */
  observeBuild(build: ImageBuild): boolean {
    return this.state.observeBuild(build);
  }

  forgetBuild(key: string): boolean {
    return this.state.forgetBuild(key);
  }

  observeJob(job: V1Job): boolean {
    return this.state.observeJob(job);
  }

  forgetJob(key: string): boolean {
    return this.state.forgetJob(key);
  }

  observePod(pod: V1Pod): boolean {
    return this.state.observePod(pod);
  }

  forgetPod(pod: V1Pod): boolean {
    return this.state.forgetPod(pod);
  }

  snapshot(): { resourceVersion: string; items: PendingRef[] } {
    const { builds } = this.opts;
    return queueOf(this.state, builds.resourceVersion, (key) => builds.get(key), this.opts, this.now());
  }
}

/**
 * What the pending queue reads of an ImageBuild: its key and identity, when it was requested, its
 * priority, and its phase and times (SchedulerState.observeBuild, PendingEntry). The visibility
 * thread's mirror holds builds as this (mirror.ts), a fraction of the cached object: copying each
 * change into the thread, and holding thousands of builds there, cost that much less.
 */
export function queueFieldsOf(build: ImageBuild): ImageBuild {
  const m = build.metadata ?? {};
  const queuedAt = m.annotations?.[ANNOTATIONS.queuedAt];
  const { image, background } = build.spec;
  const priority = image.build?.priority;
  const s = build.status;
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(queuedAt !== undefined ? { annotations: { [ANNOTATIONS.queuedAt]: queuedAt } } : {}),
    },
    spec: {
      imageName: build.spec.imageName,
      imageGeneration: build.spec.imageGeneration,
      trigger: build.spec.trigger,
      image: {
        base: image.base,
        formats: image.formats,
        ...(priority !== undefined ? { build: { priority } } : {}),
      },
      ...(background !== undefined ? { background } : {}),
    },
    ...(s
      ? {
          status: {
            ...(s.phase !== undefined ? { phase: s.phase } : {}),
            ...(s.startTime !== undefined ? { startTime: s.startTime } : {}),
            ...(s.completionTime !== undefined ? { completionTime: s.completionTime } : {}),
          },
        }
      : {}),
  };
}

/** Whether every cache the queue reads has synced. */
function cachesSynced(
  opts: Pick<PendingQueueOptions, "jobs" | "pods" | "namespaces"> & {
    builds: { hasSynced(): boolean };
  },
): boolean {
  const { builds, jobs, pods, namespaces } = opts;
  return (
    builds.hasSynced() && jobs.hasSynced() && (pods?.hasSynced() ?? true) && (namespaces?.hasSynced() ?? true)
  );
}

/** The policy's order over a state's waiting builds, as a snapshot's items. */
function queueOf(
  state: SchedulerState,
  resourceVersion: string,
  buildOf: (key: string) => ImageBuild | undefined,
  opts: Pick<PendingQueueOptions, "maxConcurrentBuilds" | "namespaceLimit">,
  now: Date,
): { resourceVersion: string; items: PendingRef[] } {
  const cluster = opts.maxConcurrentBuilds;
  const decision = schedule(
    state.waiting(),
    state.inFlight(),
    { cluster, namespace: opts.namespaceLimit },
    state.lastServed(),
  );
  const estimate = startEstimator(cluster, state.recentDurations(), now.getTime());
  const namespacePositions = new Map<string, number>();
  const items: PendingRef[] = [];
  for (const placement of decision.queued) {
    const build = buildOf(placement.key);
    if (!build) continue;
    const namespace = build.metadata?.namespace ?? "";
    const namespacePosition = (namespacePositions.get(namespace) ?? 0) + 1;
    namespacePositions.set(namespace, namespacePosition);
    const limit = opts.namespaceLimit(namespace);
    items.push(new QueuedBuild(namespace, build, placement, namespacePosition, limit, estimate));
  }
  return { resourceVersion, items };
}

/** One waiting build of a snapshot; its entry is computed when a page shows it. */
class QueuedBuild implements PendingRef {
  readonly name: string;

  constructor(
    readonly namespace: string,
    private readonly build: ImageBuild,
    private readonly placement: QueuedPlacement,
    private readonly namespacePosition: number,
    private readonly namespaceLimit: number | undefined,
    private readonly estimate: (ahead: number, namespace?: NamespaceBound) => number | undefined,
  ) {
    this.name = build.metadata?.name ?? "";
  }

  entry(): PendingEntry {
    const { build, placement } = this;
    const eta = this.estimate(placement.ahead, {
      ahead: this.namespacePosition - 1,
      limit: this.namespaceLimit,
    });
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
