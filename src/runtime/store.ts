import type { KubernetesObject } from "@kubernetes/client-node";
import { objectKey } from "./keys.js";

/** Maps an object to the index values it is filed under, e.g. its owner's name. */
export type IndexFunc<T> = (obj: T) => string[];

export interface RelistDiff<T> {
  added: T[];
  updated: { obj: T; old: T }[];
  deleted: T[];
  /** The new cache contents (unchanged objects keep their cached instance). */
  next: Map<string, T>;
}

/**
 * Compares the cache with a fresh LIST: new keys are adds, keys with another resourceVersion
 * are updates, keys missing from the list are deletes (the watch missed them while away).
 */
export function diffRelist<T extends KubernetesObject>(
  current: ReadonlyMap<string, T>,
  listed: readonly T[],
  keyOf: (obj: T) => string = objectKey,
): RelistDiff<T> {
  const next = new Map<string, T>();
  const added: T[] = [];
  const updated: { obj: T; old: T }[] = [];
  for (const obj of listed) {
    const key = keyOf(obj);
    const old = current.get(key);
    if (!old) {
      added.push(obj);
      next.set(key, obj);
    } else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
      updated.push({ obj, old });
      next.set(key, obj);
    } else {
      next.set(key, old);
    }
  }
  const deleted: T[] = [];
  for (const [key, old] of current) {
    if (!next.has(key)) deleted.push(old);
  }
  return { added, updated, deleted, next };
}

/** The keys filed under one index value: one key alone, or a Set of two or more. */
type IndexEntry = string | Set<string>;

/** Object cache keyed by objectKey() with secondary indexes (client-go Indexer). */
export class Store<T extends KubernetesObject> {
  #items = new Map<string, T>();
  readonly #indexers: Record<string, IndexFunc<T>>;
  /**
   * index name → index value → the one key filed under it, or a Set of keys. Most values file one
   * object (a build under its Image's uid): a Set of one would cost ~150 bytes each.
   */
  readonly #indices = new Map<string, Map<string, IndexEntry>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.#indexers = indexers;
    for (const name of Object.keys(indexers)) this.#indices.set(name, new Map());
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** A read-only view, for diffing. */
  entries(): ReadonlyMap<string, T> {
    return this.#items;
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.#indices.get(indexName);
    if (!index) throw new Error(`no index named ${indexName}`);
    const out: T[] = [];
    const entry = index.get(value);
    for (const key of entry === undefined ? [] : typeof entry === "string" ? [entry] : entry) {
      const obj = this.#items.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    if (old) this.#unindex(key, old);
    this.#index(key, obj);
    return old;
  }

  /** Removes by key; returns the removed object. */
  remove(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#items.delete(key);
    this.#unindex(key, old);
    return old;
  }

  /** Swaps in a fresh LIST result and reports what changed. */
  replace(listed: readonly T[]): RelistDiff<T> {
    const diff = diffRelist(this.#items, listed);
    this.#items = diff.next;
    for (const index of this.#indices.values()) index.clear();
    for (const [key, obj] of this.#items) this.#index(key, obj);
    return diff;
  }

  #index(key: string, obj: T): void {
    this.#eachIndexValue(obj, (index, value) => {
      const entry = index.get(value);
      if (entry === undefined) index.set(value, key);
      else if (typeof entry !== "string") entry.add(key);
      else if (entry !== key) index.set(value, new Set([entry, key]));
    });
  }

  #unindex(key: string, obj: T): void {
    this.#eachIndexValue(obj, (index, value) => {
      const entry = index.get(value);
      if (entry === undefined) return;
      if (typeof entry === "string") {
        if (entry === key) index.delete(value);
        return;
      }
      entry.delete(key);
      const [first, second] = entry;
      if (first === undefined) index.delete(value);
      else if (second === undefined) index.set(value, first);
    });
  }

  /** Calls `fn` with each index and each value the object has in it. */
  #eachIndexValue(obj: T, fn: (index: Map<string, IndexEntry>, value: string) => void): void {
    for (const [name, indexer] of Object.entries(this.#indexers)) {
      const index = this.#indices.get(name);
      if (!index) continue;
      for (const value of safeIndex(indexer, obj)) fn(index, value);
    }
  }
}

/** A throwing indexer must not corrupt the cache; the object is just not indexed. */
function safeIndex<T>(fn: IndexFunc<T>, obj: T): string[] {
  try {
    return fn(obj) ?? [];
  } catch {
    return [];
  }
}
