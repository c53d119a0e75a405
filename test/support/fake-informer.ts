// An informer's cache without the watch: the test puts objects in and takes them out, and the
// code under test reads them (get, list, byIndex), as sample-controller's tests fill a lister's
// indexer instead of running an informer. Handlers registered with on() hear each put and remove
// once the informer has synced; one made with { synced: false } holds what is put until sync(),
// which hands it to the add handlers as an initial list would.
import type { KubernetesObject } from "@kubernetes/client-node";
import { objectKey } from "../../src/runtime/keys.js";

type Handler<T> = (obj: T, old: T) => void;

export class FakeInformer<T extends KubernetesObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers: Record<string, (obj: T) => string[]>;
  readonly #handlers = { add: [] as Handler<T>[], update: [] as Handler<T>[], delete: [] as Handler<T>[] };
  readonly #synced = Promise.withResolvers<void>();
  #isSynced: boolean;
  resourceVersion = "1";

  constructor(indexers: Record<string, (obj: T) => string[]> = {}, opts: { synced?: boolean } = {}) {
    this.#indexers = indexers;
    this.#isSynced = opts.synced ?? true;
    if (this.#isSynced) this.#synced.resolve();
  }

  /** Adds or replaces each object; returns the last. */
  put(...objs: T[]): T {
    for (const obj of objs) {
      const old = this.#items.get(objectKey(obj));
      this.#items.set(objectKey(obj), obj);
      if (this.#isSynced) this.#emit(old ? "update" : "add", obj, old ?? obj);
    }
    return objs.at(-1) as T;
  }

  remove(obj: T): void {
    this.#items.delete(objectKey(obj));
    if (this.#isSynced) this.#emit("delete", obj, obj);
  }

  /** The initial list: every object put so far goes to the add handlers, then it is synced. */
  sync(): void {
    if (this.#isSynced) return;
    this.#isSynced = true;
    for (const obj of this.#items.values()) this.#emit("add", obj, obj);
    this.#synced.resolve();
  }

  /** As Informer.on: an add handler registered after sync is replayed the cached objects. */
  on(event: "add" | "update" | "delete", fn: Handler<T>): () => void {
    this.#handlers[event].push(fn);
    if (event === "add" && this.#isSynced) for (const obj of this.#items.values()) fn(obj, obj);
    return () => {
      this.#handlers[event] = this.#handlers[event].filter((f) => f !== fn);
    };
  }

  waitForSync(): Promise<void> {
    return this.#synced.promise;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.#indexers[indexName];
    if (!index) throw new Error(`no index ${indexName}`);
    return this.list().filter((obj) => index(obj).includes(value));
  }

  hasSynced(): boolean {
    return this.#isSynced;
  }

  #emit(event: "add" | "update" | "delete", obj: T, old: T): void {
    for (const fn of [...this.#handlers[event]]) fn(obj, old);
  }
}
