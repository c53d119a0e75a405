// CONTRACT STUB (to be implemented by the scheduler work): the live queue, computed on demand from
// the informer caches in exactly the scheduler policy's admission order. Served by the visibility
// API (src/visibility/); any replica can compute it, leader or standby.

/** One waiting build, as the visibility API reports it. */
export interface PendingEntry {
  namespace: string;
  /** The ImageBuild's name. */
  name: string;
  /** spec.imageName of the ImageBuild. */
  imageName: string;
  uid: string;
  priority: number;
  /** When the build started waiting (its creationTimestamp), RFC 3339. */
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

/** What the visibility API reads. Entries are in admission order (clusterPosition 1..n). */
export interface PendingQueueSource {
  /** Computes the queue now; resourceVersion is the ImageBuild cache's last seen resourceVersion. */
  snapshot(): { resourceVersion: string; items: PendingEntry[] };
  /** True once the caches it reads have synced. */
  ready(): boolean;
}

// ---------------------------------------------------------------------------------------------
// PLACEHOLDER IMPLEMENTATION (visibility branch), to be replaced by the scheduler work's own
// PendingQueueSource when the branches merge. It recomputes the queue on each call from the
// informer caches alone: a fresh SchedulerState rebuilt from every build and Job (O(all builds)
// per call, where the real one reads the scheduler's incremental state), then the policy's
// schedule(). It knows nothing of the leader's in-flight admissions, so for a moment after an
// admission it may still list the build; a standby computes the same from the same watch.
// ---------------------------------------------------------------------------------------------
import type { V1Job, V1Namespace } from "@kubernetes/client-node";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import type { Informer } from "../runtime/informer.js";
import { NAMESPACE_LIMIT_ANNOTATION } from "./loop.js";
import { estimateStart, schedule } from "./policy.js";
import { SchedulerState } from "./state.js";

export interface CachedPendingQueueOptions {
  builds: Pick<Informer<ImageBuild>, "list" | "get" | "hasSynced" | "resourceVersion">;
  jobs: Pick<Informer<V1Job>, "list" | "hasSynced">;
  namespaces?: Pick<Informer<V1Namespace>, "get">;
  maxConcurrentBuilds: number;
  maxBuildsPerNamespace: number;
  now?: () => Date;
}

export class CachedPendingQueue implements PendingQueueSource {
  constructor(private readonly opts: CachedPendingQueueOptions) {}

  ready(): boolean {
    return this.opts.builds.hasSynced() && this.opts.jobs.hasSynced();
  }

  snapshot(): { resourceVersion: string; items: PendingEntry[] } {
    const { builds, jobs, namespaces, maxConcurrentBuilds, maxBuildsPerNamespace } = this.opts;
    const resourceVersion = builds.resourceVersion;
    const state = new SchedulerState();
    state.rebuild(builds.list(), jobs.list());
    const namespaceLimit = (ns: string) => {
      // As BuildScheduler's: the namespace annotation overrides the flag; 0 or junk means none.
      const annotated = namespaces?.get(ns)?.metadata?.annotations?.[NAMESPACE_LIMIT_ANNOTATION];
      const value = annotated !== undefined ? Number(annotated) : maxBuildsPerNamespace;
      return Number.isInteger(value) && value > 0 ? value : undefined;
    };
    const decision = schedule(
      state.waiting(),
      state.inFlight(),
      { cluster: maxConcurrentBuilds, namespace: namespaceLimit },
      state.lastServed(),
    );
    const nowMs = (this.opts.now?.() ?? new Date()).getTime();
    const durations = state.recentDurations();
    const perNamespace = new Map<string, number>();
    const items: PendingEntry[] = [];
    for (const placement of decision.queued) {
      const build = builds.get(placement.key);
      if (!build) continue;
      const namespace = build.metadata?.namespace ?? "";
      const namespacePosition = (perNamespace.get(namespace) ?? 0) + 1;
      perNamespace.set(namespace, namespacePosition);
      const eta = estimateStart(placement.ahead, maxConcurrentBuilds, durations, nowMs);
      items.push({
        namespace,
        name: build.metadata?.name ?? "",
        imageName: build.spec.imageName,
        uid: build.metadata?.uid ?? "",
        priority: build.spec.image.build?.priority ?? 0,
        waitingSince: new Date(build.metadata?.creationTimestamp ?? 0).toISOString(),
        clusterPosition: placement.position,
        namespacePosition,
        blockedBy: placement.blockedBy,
        reason: placement.reason,
        ...(eta !== undefined ? { estimatedStartTime: new Date(eta).toISOString() } : {}),
      });
    }
    return { resourceVersion, items };
  }
}
