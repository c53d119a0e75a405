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
