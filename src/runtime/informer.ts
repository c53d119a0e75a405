import { ApiException, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { isGone } from "./api-errors.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { type Clock, realClock, sleep, type TimerHandle } from "./clock.js";
import { objectKey } from "./keys.js";
import { RestClient } from "./kube.js";
import { type Logger, nopLogger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { type IndexFunc, Store } from "./store.js";

export type AddHandler<T> = (obj: T) => void | Promise<void>;
export type UpdateHandler<T> = (obj: T, old: T) => void | Promise<void>;
export type DeleteHandler<T> = (obj: T) => void | Promise<void>;

export interface InformerOptions<T extends KubernetesObject> {
  /** Collection path, e.g. '/apis/batch/v1/jobs' or '/api/v1/namespaces/ns/configmaps'. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-emit `update(obj, obj)` for every cached object this often (0/undefined = never). */
  resyncMs?: number;
  /** Server-side watch timeout; each watch uses a random value in [t, 2t) like client-go. Default 300. */
  watchTimeoutSeconds?: number;
  /** LIST page size (default 500). */
  pageSize?: number;
  /** Applied to every object before it is cached, e.g. stripManagedFields. */
  transform?: (obj: T) => T;
  indexers?: Record<string, IndexFunc<T>>;
  logger?: Logger;
  /** For logs and metrics; defaults to the path. */
  name?: string;
  /** Shared RestClient (throttle, metrics, connection reuse). Default: an unthrottled one. */
  client?: RestClient;
  metrics?: Metrics;
  /** Reconnect backoff, default 200 ms → 30 s with jitter, reset after a healthy list/watch. */
  backoff?: BackoffOptions;
  /** How long to wait for watch response headers (default 30 s). */
  connectTimeoutMs?: number;
  clock?: Clock;
}

interface WatchEvent {
  type?: string;
  object?: KubernetesObject & { code?: number; reason?: string; message?: string };
}

interface ListPage {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubernetesObject[];
}

const INACTIVITY_MARGIN_MS = 30_000;
/** A watch that ends sooner than this with no events counts as a failure (avoids hot loops). */
const MIN_HEALTHY_WATCH_MS = 1_000;

/**
 * A reflector + indexed cache for one collection, built on raw list/watch so failure handling is
 * ours: LIST (all pages) then WATCH from the list's resourceVersion with bookmarks; 410 Gone
 * relists and diffs the cache; any other failure reconnects from the last resourceVersion with
 * jittered backoff. It never gives up until stop(). Handler exceptions are caught and logged.
 */
export class Informer<T extends KubernetesObject> {
  readonly name: string;
  readonly #opts: InformerOptions<T>;
  readonly #client: RestClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #store: Store<T>;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();

  readonly #onAdd: AddHandler<T>[] = [];
  readonly #onUpdate: UpdateHandler<T>[] = [];
  readonly #onDelete: DeleteHandler<T>[] = [];

  #resourceVersion = "";
  #synced = false;
  #syncWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  #running: Promise<void> | undefined;
  #resyncTimer: TimerHandle | undefined;
  #lastListAt = Number.NEGATIVE_INFINITY;
  /** Callers of relist() waiting for the next fresh list. */
  #relistWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  /** Aborts the current watch connection, so a requested relist does not wait for it to end. */
  #watchAbort: AbortController | undefined;

  constructor(kc: KubeConfig, opts: InformerOptions<T>) {
    this.#opts = opts;
    this.name = opts.name ?? opts.path;
    this.#clock = opts.clock ?? realClock;
    this.#metrics = opts.metrics;
    this.#client = opts.client ?? new RestClient(kc, { qps: 0, metrics: opts.metrics, clock: this.#clock });
    this.#log = (opts.logger ?? nopLogger).child({ informer: this.name });
    this.#store = new Store(opts.indexers);
    this.#backoff = new Backoff({ initialMs: 200, maxMs: 30_000, ...opts.backoff });
  }

  /**
   * Registers a handler; returns a function that unregisters it. Handlers should be cheap
   * (enqueue keys). An 'add' handler registered after sync is replayed the cached objects.
   */
  on(event: "add", fn: AddHandler<T>): () => void;
  on(event: "update", fn: UpdateHandler<T>): () => void;
  on(event: "delete", fn: DeleteHandler<T>): () => void;
  on(event: "add" | "update" | "delete", fn: AddHandler<T> | UpdateHandler<T>): () => void {
    const list: unknown[] =
      event === "add" ? this.#onAdd : event === "update" ? this.#onUpdate : this.#onDelete;
    list.push(fn);
    if (event === "add" && this.#synced) {
      for (const obj of this.#store.list()) this.#call("add", fn as AddHandler<T>, obj);
    }
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /**
   * Starts list+watch in the background. Resolves once the initial list is in the cache, or
   * when stop() is called first; never rejects. Use waitForSync(signal) to bound the wait.
   */
  start(): Promise<void> {
    if (!this.#running) {
      if (this.#stop.signal.aborted) throw new Error(`informer ${this.name}: stopped`);
      this.#running = this.#run();
    }
    return this.waitForSync().catch(() => {});
  }

  /** Stops for good: aborts the in-flight list/watch, no reconnects. Resolves when the loop exited. */
  async stop(): Promise<void> {
    if (!this.#stop.signal.aborted) {
      this.#stop.abort();
      if (this.#resyncTimer) this.#clock.clearTimeout(this.#resyncTimer);
      this.#rejectSyncWaiters(new Error(`informer ${this.name}: stopped before sync`));
      for (const w of this.#relistWaiters.splice(0)) w.reject(new Error(`informer ${this.name}: stopped`));
    }
    await this.#running;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /**
   * Replaces the cache with a fresh LIST and watches on from there; resolves once that list is in
   * the cache and its events handled. For a new leader: a cache that was reconnecting (apiserver
   * or etcd restart) can lag behind what the previous leader wrote, and decisions need the present.
   */
  relist(): Promise<void> {
    if (this.#stop.signal.aborted) return Promise.reject(new Error(`informer ${this.name}: stopped`));
    const waiter = Promise.withResolvers<void>();
    this.#relistWaiters.push({ resolve: waiter.resolve, reject: waiter.reject });
    this.#watchAbort?.abort();
    return waiter.promise;
  }

  /** Resolves when synced; rejects if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (this.#stop.signal.aborted)
      return Promise.reject(new Error(`informer ${this.name}: stopped before sync`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (err: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== waiter);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(waiter);
    });
  }

  /** By key: 'namespace/name', or 'name' for cluster-scoped objects. */
  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): T[] {
    return this.#store.list();
  }

  keys(): string[] {
    return this.#store.keys();
  }

  byIndex(indexName: string, value: string): T[] {
    return this.#store.byIndex(indexName, value);
  }

  /** Last resourceVersion seen (list, event or bookmark). */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  async #run(): Promise<void> {
    const stopped = this.#stop.signal;
    let needList = true;
    while (!stopped.aborted) {
      try {
        if (this.#relistWaiters.length > 0) needList = true;
        if (needList) {
          // Relisting right after a list means something is off (e.g. 410 loops): slow down.
          if (this.#clock.now() - this.#lastListAt < MIN_HEALTHY_WATCH_MS) {
            await sleep(this.#clock, this.#backoff.next(), stopped);
            if (stopped.aborted) break;
          }
          const waiters = this.#relistWaiters.splice(0);
          try {
            await this.#listAndReplace();
          } catch (err) {
            this.#relistWaiters.unshift(...waiters); // Still owed a fresh list: the retry's.
            throw err;
          }
          needList = false;
          for (const w of waiters) w.resolve();
        }
        const started = this.#clock.now();
        const outcome = await this.#watch();
        if (this.#relistWaiters.length > 0) continue; // relist() ended the watch.
        if (outcome === "gone") {
          this.#log.info("watch resourceVersion expired (410); relisting", {
            resourceVersion: this.#resourceVersion,
          });
          needList = true;
          continue;
        }
        if (outcome.events > 0 || this.#clock.now() - started >= MIN_HEALTHY_WATCH_MS) {
          this.#backoff.reset();
        } else {
          await sleep(this.#clock, this.#backoff.next(), stopped);
        }
      } catch (err) {
        if (stopped.aborted) break;
        if (!needList && this.#relistWaiters.length > 0) continue; // relist() ended the watch.
        if (isGone(err)) {
          this.#log.info("resourceVersion expired (410); relisting", {
            resourceVersion: this.#resourceVersion,
          });
          needList = true;
          continue;
        }
        this.#metrics?.informer.errors.inc({ informer: this.name });
        const delayMs = this.#backoff.next();
        this.#log.warn(needList ? "list failed; retrying" : "watch failed; reconnecting", { err, delayMs });
        await sleep(this.#clock, delayMs, stopped);
      }
    }
  }

  async #listAndReplace(): Promise<void> {
    this.#lastListAt = this.#clock.now();
    this.#metrics?.informer.lists.inc({ informer: this.name });
    const { items, resourceVersion } = await this.#list();
    const diff = this.#store.replace(items);
    this.#resourceVersion = resourceVersion;
    this.#backoff.reset();
    this.#metrics?.informer.objects.set({ informer: this.name }, this.#store.size);
    this.#log.debug("listed", {
      resourceVersion,
      items: items.length,
      added: diff.added.length,
      updated: diff.updated.length,
      deleted: diff.deleted.length,
    });
    // Emit after the cache holds the whole list, so handlers see a consistent cache.
    for (const obj of diff.added) this.#emitAdd(obj);
    for (const { obj, old } of diff.updated) this.#emitUpdate(obj, old);
    for (const obj of diff.deleted) this.#emitDelete(obj);
    if (!this.#synced) {
      this.#synced = true;
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const w of waiters) w.resolve();
      this.#scheduleResync();
    }
  }

  async #list(): Promise<{ items: T[]; resourceVersion: string }> {
    const pageSize = this.#opts.pageSize ?? 500;
    try {
      return await this.#listPages(pageSize);
    } catch (err) {
      // An expired continue token (410 mid-pagination): fall back to one unpaginated list.
      if (!isGone(err) || this.#stop.signal.aborted) throw err;
      this.#log.info("list continue token expired; listing without pagination");
      return await this.#listPages(0);
    }
  }

  async #listPages(limit: number): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let resourceVersion = "";
    let cont: string | undefined;
    do {
      const page = await this.#client.requestJson<ListPage>({
        method: "GET",
        path: this.#opts.path,
        query: {
          labelSelector: this.#opts.labelSelector,
          fieldSelector: this.#opts.fieldSelector,
          limit: limit > 0 ? limit : undefined,
          continue: cont,
        },
        signal: this.#stop.signal,
        timeoutMs: 60_000,
        metricMethod: "LIST",
      });
      // List items lack apiVersion/kind (watch events have them); fill them in for consistency.
      const kind = page.kind?.endsWith("List") ? page.kind.slice(0, -4) : undefined;
      for (const raw of page.items ?? []) {
        if (!raw.kind && kind) raw.kind = kind;
        if (!raw.apiVersion && page.apiVersion) raw.apiVersion = page.apiVersion;
        items.push(this.#transform(raw as T));
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont && !this.#stop.signal.aborted);
    return { items, resourceVersion };
  }

  /** One watch connection. Returns 'gone' on 410, else how many events it delivered. Throws on failure. */
  async #watch(): Promise<"gone" | { events: number }> {
    const base = this.#opts.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(base * (1 + Math.random()));
    // A live watch carries events or bookmarks, and the server closes it after timeoutSeconds;
    // silence past that means a dead connection.
    const inactivityMs = timeoutSeconds * 1000 + INACTIVITY_MARGIN_MS;
    const abort = new AbortController();
    this.#watchAbort = abort;
    if (this.#relistWaiters.length > 0) abort.abort(); // Asked for between the list and now.
    const onStop = () => abort.abort();
    this.#stop.signal.addEventListener("abort", onStop, { once: true });
    let timer: TimerHandle | undefined;
    let timedOut = false;
    const arm = (ms: number) => {
      if (timer) this.#clock.clearTimeout(timer);
      timer = this.#clock.setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, ms);
    };

    let events = 0;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      arm(this.#opts.connectTimeoutMs ?? 30_000);
      const res = await this.#client.request({
        method: "GET",
        path: this.#opts.path,
        query: {
          watch: "true",
          allowWatchBookmarks: "true",
          resourceVersion: this.#resourceVersion,
          timeoutSeconds,
          labelSelector: this.#opts.labelSelector,
          fieldSelector: this.#opts.fieldSelector,
        },
        signal: abort.signal,
        timeoutMs: 0,
        metricMethod: "WATCH",
      });
      if (res.httpStatusCode !== 200) {
        const body = await res.body.text().catch(() => "");
        throw new ApiException(
          res.httpStatusCode,
          `watch ${this.#opts.path}: HTTP ${res.httpStatusCode}`,
          body,
          res.headers,
        );
      }
      this.#metrics?.informer.watches.inc({ informer: this.name });
      const stream = res.body.stream();
      if (!stream) throw new Error(`watch ${this.#opts.path}: response has no body`);
      reader = stream.getReader();
      arm(inactivityMs);
      const decoder = new TextDecoder();
      let buffered = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm(inactivityMs);
        buffered += decoder.decode(value, { stream: true });
        let start = 0;
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n", start)) {
          const line = buffered.slice(start, nl);
          start = nl + 1;
          if (!line.trim()) continue;
          if (this.#onWatchLine(line) === "gone") return "gone";
          events++;
        }
        buffered = buffered.slice(start);
      }
      return { events };
    } catch (err) {
      if (timedOut && !this.#stop.signal.aborted) {
        throw new Error(`watch ${this.#opts.path}: no response or data within the timeout`, { cause: err });
      }
      throw err;
    } finally {
      if (timer) this.#clock.clearTimeout(timer);
      if (this.#watchAbort === abort) this.#watchAbort = undefined;
      this.#stop.signal.removeEventListener("abort", onStop);
      reader?.cancel().catch(() => {});
      abort.abort(); // releases the connection if we returned early
    }
  }

  /** Applies one watch event to the cache. Returns 'gone' for a 410 ERROR event; throws on other ERRORs. */
  #onWatchLine(line: string): "gone" | undefined {
    let event: WatchEvent;
    try {
      event = JSON.parse(line) as WatchEvent;
    } catch {
      this.#log.warn("ignoring unparseable watch line", { line: line.slice(0, 200) });
      return undefined;
    }
    const obj = event.object;
    if (!obj) return undefined;
    switch (event.type) {
      case "ADDED":
      case "MODIFIED": {
        const fresh = this.#transform(obj as T);
        const old = this.#store.upsert(fresh);
        this.#noteResourceVersion(obj);
        if (old) this.#emitUpdate(fresh, old);
        else this.#emitAdd(fresh);
        break;
      }
      case "DELETED": {
        // The event carries the final state; emit it even if the key was unknown to us.
        const gone = this.#transform(obj as T);
        this.#store.remove(objectKey(gone));
        this.#noteResourceVersion(obj);
        this.#emitDelete(gone);
        break;
      }
      case "BOOKMARK":
        this.#noteResourceVersion(obj);
        break;
      case "ERROR":
        if (obj.code === 410) return "gone";
        throw new ApiException(
          obj.code ?? 500,
          `watch error: ${obj.reason ?? ""} ${obj.message ?? ""}`,
          line,
          {},
        );
      default:
        this.#log.warn("ignoring unknown watch event type", { type: event.type });
    }
    this.#metrics?.informer.objects.set({ informer: this.name }, this.#store.size);
    return undefined;
  }

  #noteResourceVersion(obj: KubernetesObject): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.#resourceVersion = rv;
  }

  #transform(obj: T): T {
    const fn = this.#opts.transform;
    if (!fn) return obj;
    try {
      return fn(obj);
    } catch (err) {
      this.#log.error("transform failed; caching the object as-is", { err });
      return obj;
    }
  }

  #scheduleResync(): void {
    const period = this.#opts.resyncMs ?? 0;
    if (!(period > 0) || this.#stop.signal.aborted) return;
    this.#resyncTimer = this.#clock.setTimeout(() => {
      for (const obj of this.#store.list()) this.#emitUpdate(obj, obj);
      this.#scheduleResync();
    }, period);
  }

  #rejectSyncWaiters(err: Error): void {
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const w of waiters) w.reject(err);
  }

  #emitAdd(obj: T): void {
    for (const fn of [...this.#onAdd]) this.#call("add", fn, obj);
  }

  #emitUpdate(obj: T, old: T): void {
    for (const fn of [...this.#onUpdate]) this.#call("update", fn, obj, old);
  }

  #emitDelete(obj: T): void {
    for (const fn of [...this.#onDelete]) this.#call("delete", fn, obj);
  }

  #call(event: string, fn: (obj: T, old: T) => void | Promise<void>, obj: T, old?: T): void {
    const report = (err: unknown) =>
      this.#log.error("event handler failed", { event, key: safeKey(obj), err });
    try {
      const r = fn(obj, old ?? obj);
      if (r && typeof (r as Promise<void>).then === "function") (r as Promise<void>).catch(report);
    } catch (err) {
      report(err);
    }
  }
}

function safeKey(obj: KubernetesObject): string | undefined {
  try {
    return objectKey(obj);
  } catch {
    return undefined;
  }
}

/** A transform that drops metadata.managedFields (often the bulk of an object) before caching. */
export function stripManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields) obj.metadata.managedFields = undefined;
  return obj;
}
