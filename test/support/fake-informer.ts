// An informer's cache without the watch: the test puts objects in and takes them out, and the
// code under test reads them (get, list, byIndex), as sample-controller's tests fill a lister's
// indexer instead of running an informer.
import type { KubernetesObject } from "@kubernetes/client-node";
import { objectKey } from "../../src/runtime/keys.js";

export class FakeInformer<T extends KubernetesObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers: Record<string, (obj: T) => string[]>;

  constructor(indexers: Record<string, (obj: T) => string[]> = {}) {
    this.#indexers = indexers;
  }

  /** Adds or replaces each object; returns the last. */
  put(...objs: T[]): T {
    for (const obj of objs) this.#items.set(objectKey(obj), obj);
    return objs.at(-1) as T;
  }

  remove(obj: T): void {
    this.#items.delete(objectKey(obj));
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
    return true;
  }
}
