// The informer caches the pending-queue view reads, mirrored into the visibility API's thread
// (thread.ts). The main thread's CacheFeed posts every change of the ImageBuild, Job, pod and
// Namespace caches, batched per turn of its event loop; the thread's MirroredCaches apply them in
// order and answer list/get/hasSynced/resourceVersion as the informers would, telling an observer
// (the thread's LivePendingQueue) each change as it lands. Why a copy: under a
// burst the operator's main thread is busy with reconciles, and a page of the queue must not wait
// behind them.
import type { KubernetesObject, V1Job, V1Namespace, V1Pod } from "@kubernetes/client-node";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import type { Informer } from "../runtime/informer.js";
import { objectKey } from "../runtime/keys.js";

export const MIRRORED_CACHES = ["builds", "jobs", "pods", "namespaces"] as const;
export type MirroredCacheName = (typeof MIRRORED_CACHES)[number];

export type CacheChange =
  | { cache: MirroredCacheName; op: "set"; key: string; obj: KubernetesObject }
  | { cache: MirroredCacheName; op: "delete"; key: string }
  | { cache: MirroredCacheName; op: "synced" };

/** One turn's changes, in the order the informers made them. */
export interface CacheBatch {
  changes: CacheChange[];
  /** The ImageBuild informer's resourceVersion after these changes (the list's resourceVersion). */
  buildsResourceVersion: string;
}

export type FeedInformer = Pick<Informer<KubernetesObject>, "on" | "waitForSync" | "resourceVersion">;

/**
 * Posts the informers' changes (the main thread's side). Subscribing replays what a synced
 * informer already holds as adds, so the mirror starts complete; "synced" follows each informer's
 * initial list. Changes of one turn go out as one message.
 */
export class CacheFeed {
  #pending: CacheChange[] = [];
  #flushScheduled = false;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(
    private readonly informers: Record<MirroredCacheName, FeedInformer>,
    private readonly post: (batch: CacheBatch) => void,
    /** What of each object goes across, per cache (all of it where none is given). */
    private readonly project: Partial<
      Record<MirroredCacheName, (obj: KubernetesObject) => KubernetesObject>
    > = {},
  ) {}

  start(): void {
    for (const cache of MIRRORED_CACHES) {
      const informer = this.informers[cache];
      const project = this.project[cache] ?? ((obj: KubernetesObject) => obj);
      const set = (obj: KubernetesObject) =>
        this.#push({ cache, op: "set", key: objectKey(obj), obj: project(obj) });
      this.#unsubscribe.push(
        informer.on("add", set),
        informer.on("update", set),
        informer.on("delete", (obj) => this.#push({ cache, op: "delete", key: objectKey(obj) })),
      );
      informer.waitForSync().then(
        () => this.#push({ cache, op: "synced" }),
        () => undefined, // stopped before it synced: the thread keeps answering 503
      );
    }
  }

  stop(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#pending = [];
  }

  #push(change: CacheChange): void {
    this.#pending.push(change);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#pending.length === 0) return;
    const changes = this.#pending;
    this.#pending = [];
    this.post({ changes, buildsResourceVersion: this.informers.builds.resourceVersion });
  }
}

/** One informer cache, as the thread sees it (the thread's side). */
export class MirroredCache<T extends KubernetesObject> {
  readonly #items = new Map<string, T>();
  #synced = false;
  resourceVersion = "";

  apply(change: CacheChange): void {
    if (change.op === "set") this.#items.set(change.key, change.obj as T);
    else if (change.op === "delete") this.#items.delete(change.key);
    else this.#synced = true;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  get size(): number {
    return this.#items.size;
  }

  hasSynced(): boolean {
    return this.#synced;
  }
}

/** Who keeps a state of its own from the mirrors' changes (LivePendingQueue); true: the queue moved. */
export interface MirrorObserver {
  observeBuild(build: ImageBuild): boolean;
  forgetBuild(key: string): boolean;
  observeJob(job: V1Job): boolean;
  forgetJob(key: string): boolean;
  observePod(pod: V1Pod): boolean;
  forgetPod(pod: V1Pod): boolean;
}

/** The four mirrors, fed by CacheBatches. */
export class MirroredCaches {
  readonly builds = new MirroredCache<ImageBuild>();
  readonly jobs = new MirroredCache<V1Job>();
  readonly pods = new MirroredCache<V1Pod>();
  readonly namespaces = new MirroredCache<V1Namespace>();
  #observer: MirrorObserver | undefined;

  /** Tells `observer` each change from now on, after the mirror has it. */
  observe(observer: MirrorObserver): void {
    this.#observer = observer;
  }

  /** Applies the batch; true when the observer said a change moved the queue (or none listens). */
  apply(batch: CacheBatch): boolean {
    const observer = this.#observer;
    let moved = observer === undefined;
    for (const change of batch.changes) {
      // A deleted pod is forgotten by its labels: take it before the mirror lets go of it.
      const gone = change.op === "delete" && change.cache === "pods" ? this.pods.get(change.key) : undefined;
      this[change.cache].apply(change);
      if (observer && notify(observer, change, gone)) moved = true;
    }
    this.builds.resourceVersion = batch.buildsResourceVersion;
    return moved;
  }
}

function notify(observer: MirrorObserver, change: CacheChange, gonePod: V1Pod | undefined): boolean {
  if (change.op === "synced") return true;
  switch (change.cache) {
    case "builds":
      return change.op === "set"
        ? observer.observeBuild(change.obj as ImageBuild)
        : observer.forgetBuild(change.key);
    case "jobs":
      return change.op === "set" ? observer.observeJob(change.obj as V1Job) : observer.forgetJob(change.key);
    case "pods":
      if (change.op === "set") return observer.observePod(change.obj as V1Pod);
      return gonePod !== undefined && observer.forgetPod(gonePod);
    case "namespaces":
      return true; // A namespace's limit is read when the queue is ordered.
  }
}
