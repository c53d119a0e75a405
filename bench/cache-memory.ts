#!/usr/bin/env node
// Where the operator's memory goes with N finished Images cached (no cluster needed):
//   node dist/bench/cache-memory.js [sizes, default 1000,10000] [--snapshot]
// For each N a fresh child process imports what the operator imports, then fills the operator's
// own informers (src/cmd/operator/informers.ts: the same transforms, indexes and list code) from a
// fake apiserver serving N synthetic Images with their ImageBuilds, Jobs and pods
// (lib/synthetic.ts), one kind at a time, and reports the RSS and the live JS heap (after a full
// GC) after the import and after each kind. --snapshot also writes a heap snapshot of the largest
// N and prints its bytes by node type and by constructor. make bench runs it (the cache rows).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { KubeConfig } from "@kubernetes/client-node";
import { informers } from "../src/cmd/operator/informers.js";
import { RestClient } from "../src/runtime/kube.js";
import { nopLogger } from "../src/runtime/logger.js";
import { Metrics } from "../src/runtime/metrics.js";
import { linearFit, round } from "./lib/stats.js";
import { type BuildObjects, syntheticBuild } from "./lib/synthetic.js";

const KINDS = ["images", "builds", "jobs", "pods"] as const;
type Kind = (typeof KINDS)[number];

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
}

export interface CacheMemoryResult {
  runs: CacheFootprint[];
  /** Least-squares over the runs: MB per 1 000 Images (RSS), and RSS at 10 000 Images. */
  rssPerThousandMB?: number;
  rssAt10000MB?: number;
  /** Heap added by the cached objects (largest N; MB): by V8 node type, and by constructor. */
  heapByType?: { type: string; MB: number }[];
  heapByConstructor?: { name: string; count: number; MB: number }[];
}

const MB = 2 ** 20;
const gc = (globalThis as { gc?: (o?: object) => void }).gc;

/**
 * RSS and live heap after a full GC. A plain full GC keeps freed heap pages resident (V8 pools
 * them for reuse): rssPlainMB. A "last-resort" GC is a memory-reducing one that returns them to
 * the OS, as V8's memory reducer does in a process that has gone idle: rssMB.
 */
function sample() {
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

const WORKER = {
  image: "golden:dev",
  serviceAccount: "golden-worker",
  nodeSelector: { type: "kwok" },
  tolerations: [],
  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
  heartbeatSeconds: 10,
  timeoutGraceSeconds: 30,
};

/** A LIST-and-idle-WATCH apiserver for the four collections, generating pages on the fly. */
function fakeApiserver(n: number, enabled: Set<Kind>): http.Server {
  const namespace = "bench-cache";
  // Regenerated per request (deterministic), so the server keeps nothing alive.
  const objectsOf = (i: number): BuildObjects => syntheticBuild(namespace, i, WORKER);
  const kindOf = (p: string): Kind | "namespaces" | undefined =>
    p.endsWith("/imagebuilds")
      ? "builds"
      : p.endsWith("/images")
        ? "images"
        : p.endsWith("/jobs")
          ? "jobs"
          : p.endsWith("/pods")
            ? "pods"
            : p.endsWith("/namespaces")
              ? "namespaces"
              : undefined;
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const kind = kindOf(url.pathname);
    if (url.searchParams.get("watch") === "true") {
      res.writeHead(200, { "Content-Type": "application/json" });
      return; // An idle watch: nothing changes.
    }
    if (!kind) {
      res.writeHead(404).end();
      return;
    }
    const count = kind === "namespaces" ? 1 : enabled.has(kind) ? n : 0;
    const limit = Number(url.searchParams.get("limit") || count) || count;
    const from = Number(url.searchParams.get("continue") || 0);
    const to = Math.min(count, from + limit);
    const items: unknown[] = [];
    for (let i = from; i < to; i++) {
      if (kind === "namespaces")
        items.push({ metadata: { name: namespace, uid: "ns", resourceVersion: "1" } });
      else {
        const o = objectsOf(i);
        items.push(
          kind === "images" ? o.image : kind === "builds" ? o.build : kind === "jobs" ? o.job : o.pod,
        );
      }
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        metadata: { resourceVersion: "200000", ...(to < count ? { continue: String(to) } : {}) },
        items,
      }),
    );
  });
}

async function child(n: number, snapshot: string | undefined): Promise<void> {
  const baseline = sample();
  if (snapshot) v8.writeHeapSnapshot(`${snapshot}.base`);
  const enabled = new Set<Kind>();
  const server = fakeApiserver(n, enabled);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "fake" }],
    contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
    currentContext: "fake",
  });
  const metrics = new Metrics();
  const rest = new RestClient(kc, { qps: 0, metrics });
  const caches = informers(kc, { rest, metrics, log: nopLogger, namespaces: [] });
  await caches.namespaces.start();
  const after = {} as CacheFootprint["after"];
  const heapBytesPerObject = {} as CacheFootprint["heapBytesPerObject"];
  let prev = sample();
  for (const kind of KINDS) {
    enabled.add(kind);
    await caches[kind].start();
    if (caches[kind].list().length !== n)
      throw new Error(`${kind}: ${caches[kind].list().length} cached, not ${n}`);
    const s = sample();
    after[kind] = s;
    heapBytesPerObject[kind] = Math.round(((s.heapMB - prev.heapMB) * MB) / n);
    prev = s;
  }
  // Let V8's memory reducer run (it returns pooled pages to the OS once the process is idle), as it
  // does in an operator between bursts; the heap is measured after a full GC either way.
  const idleMs = Number(process.env.CACHE_MEMORY_IDLE_MS ?? 0);
  if (idleMs > 0) {
    await new Promise((r) => setTimeout(r, idleMs));
    after.pods = sample();
  }
  const last = after.pods;
  const result: CacheFootprint = {
    n,
    baseline,
    after,
    heapBytesPerObject,
    perImageKiB: {
      rss: round(((last.rssMB - baseline.rssMB) * 1024) / n, 1),
      rssPlain: round(((last.rssPlainMB - baseline.rssPlainMB) * 1024) / n, 1),
      heap: round(((last.heapMB - baseline.heapMB) * 1024) / n, 1),
    },
  };
  if (process.env.CACHE_MEMORY_DEBUG)
    for (const s of v8.getHeapSpaceStatistics())
      process.stderr.write(
        `${s.space_name} size ${round(s.space_size / MB, 1)} used ${round(s.space_used_size / MB, 1)}\n`,
      );
  if (snapshot) v8.writeHeapSnapshot(snapshot);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await Promise.all(Object.values(caches).map((c) => c.stop()));
  server.closeAllConnections();
  server.close();
  process.exit(0);
}

interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self sizes of a heap snapshot's nodes, by node type and by constructor (object nodes). */
export function summarizeSnapshot(file: string) {
  const snap = JSON.parse(fs.readFileSync(file, "utf8")) as HeapSnapshotJson;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const byType = new Map<string, number>();
  const byName = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType] as number] ?? "?";
    const size = snap.nodes[i + iSize] as number;
    byType.set(type, (byType.get(type) ?? 0) + size);
    const name = type === "object" ? (snap.strings[snap.nodes[i + iName] as number] ?? "?") : `(${type})`;
    const e = byName.get(name) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += size;
    byName.set(name, e);
  }
  return {
    heapByType: [...byType.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([type, bytes]) => ({ type, MB: round(bytes / MB, 2) })),
    heapByConstructor: [...byName.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, 40)
      .map(([name, e]) => ({ name, count: e.count, MB: round(e.bytes / MB, 2) })),
  };
}

/** Runs one child per size; `snapshot` heap-snapshots the largest. */
export function measureCacheMemory(sizes: number[], snapshot = false): CacheMemoryResult {
  const script = fileURLToPath(import.meta.url);
  const largest = Math.max(...sizes);
  const snapFile = path.join(os.tmpdir(), `golden-cache-${process.pid}.heapsnapshot`);
  const runChild = (n: number, snap?: string) => {
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", script, "--child", String(n), ...(snap ? [snap] : [])],
      {
        encoding: "utf8",
        maxBuffer: 1 << 20,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as CacheFootprint;
  };
  const runs = sizes.map((n) => runChild(n));
  // Writing a snapshot leaves its buffers resident: the snapshots come from a run of their own.
  if (snapshot) runChild(largest, snapFile);
  const fit = linearFit(runs.map((r) => [r.n, r.after.pods.rssMB]));
  const result: CacheMemoryResult = {
    runs,
    rssPerThousandMB: fit ? round(fit.slope * 1000, 1) : undefined,
    rssAt10000MB: fit ? round(fit.intercept + fit.slope * 10_000) : undefined,
  };
  if (snapshot && fs.existsSync(snapFile)) {
    // What the cached objects added: the full snapshot minus the one taken before any was cached.
    const base = summarizeSnapshot(`${snapFile}.base`);
    const full = summarizeSnapshot(snapFile);
    const minus = <T extends { MB: number }>(rows: T[], key: (t: T) => string, of: T[]) =>
      rows
        .map((t) => ({ ...t, MB: round(t.MB - (of.find((o) => key(o) === key(t))?.MB ?? 0), 2) }))
        .sort((x, y) => y.MB - x.MB);
    result.heapByType = minus(full.heapByType, (t) => t.type, base.heapByType);
    result.heapByConstructor = minus(full.heapByConstructor, (t) => t.name, base.heapByConstructor)
      .slice(0, 8)
      .map((c) => ({
        ...c,
        count: c.count - (base.heapByConstructor.find((o) => o.name === c.name)?.count ?? 0),
      }));
    fs.rmSync(snapFile);
    fs.rmSync(`${snapFile}.base`);
  }
  return result;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]);
if (isMain) {
  const args = process.argv.slice(2);
  if (args[0] === "--child") {
    await child(Number(args[1]), args[2]);
  } else {
    const sizes = (args.find((a) => !a.startsWith("--")) ?? "1000,10000").split(",").map(Number);
    const r = measureCacheMemory(sizes, args.includes("--snapshot"));
    // Not imported at the top: the report module loads the plot's libraries, which the child must not.
    const { cacheMemoryReport } = await import("./lib/report.js");
    process.stdout.write(`${cacheMemoryReport(r)}\n`);
    if (args.includes("--json")) process.stdout.write(`${JSON.stringify(r, null, 1)}\n`);
  }
}
