// What bench/cache-memory.ts and its child (bench/cache-memory-child.ts) exchange: the kinds in
// the order they are cached, and the figures the child reports.
import { round } from "./stats.js";

export const KINDS = ["images", "builds", "jobs", "pods"] as const;
export type Kind = (typeof KINDS)[number];

/** MB: RSS after a memory-reducing GC, RSS after a plain full GC, live JS heap. */
export interface Sample {
  rssMB: number;
  rssPlainMB: number;
  heapMB: number;
}

export interface CacheFootprint {
  n: number;
  /** After importing the operator's modules, before any object: RSS and live heap, MB. */
  baseline: Sample;
  /** After each kind is cached (cumulative), MB. */
  after: Record<Kind, Sample>;
  /** Live heap per cached object of each kind, bytes. */
  heapBytesPerObject: Record<Kind, number>;
  /** RSS (after a memory-reducing GC, and after a plain one) and heap per Image with its build, Job and pod, KiB. */
  perImageKiB: { rss: number; rssPlain: number; heap: number };
  /** CPU seconds (user + system) the child spent listing and caching the four kinds, samples' GCs excluded. */
  cacheCpuSeconds?: number;
}

export const MB = 2 ** 20;

/**
 * RSS and live heap after a full GC (the child runs with --expose-gc). A plain full GC keeps
 * freed heap pages resident (V8 pools them for reuse): rssPlainMB. A "last-resort" GC is a
 * memory-reducing one that returns them to the OS, as V8's memory reducer does in a process that
 * has gone idle: rssMB.
 */
export function sample(): Sample {
  const gc = (globalThis as { gc?: (o?: object) => void }).gc;
  gc?.();
  const plain = process.memoryUsage().rss;
  gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
  const m = process.memoryUsage();
  if (process.env.CACHE_MEMORY_DEBUG)
    process.stderr.write(
      `${JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v / MB, 1)])))}\n`,
    );
  return { rssMB: round(m.rss / MB, 1), rssPlainMB: round(plain / MB, 1), heapMB: round(m.heapUsed / MB, 1) };
}
