#!/usr/bin/env node
// Where the operator's memory goes with N finished Images cached (no cluster needed):
//   node dist/bench/cache-memory.js [sizes, default 1000,10000] [--snapshot] [--unbundled]
//     [--node-flags="--max-semi-space-size=1 ..."] [--no-env] [--json]
// For each N this process serves N synthetic Images with their ImageBuilds, Jobs and pods
// (lib/synthetic.ts) from a fake apiserver, and a fresh child process (cache-memory-child.ts, as
// `make build` bundles it: dist/bundle/cache-memory-child.mjs, the operator's modules bundled
// as the image runs them; --unbundled runs tsc's output instead) loads what the operator loads and
// fills the operator's own informers (src/cmd/operator/informers.ts: the same transforms,
// indexes and list code) from it, one kind at a time. The child runs with the operator's Node
// flags and environment (OPERATOR_NODE_FLAGS, OPERATOR_ENV; --node-flags and --no-env override
// them) and reports the RSS and the live JS heap (after a full GC) after
// the import and after each kind; the apiserver's own memory stays out of it. --snapshot also
// writes heap snapshots of the largest N and prints the bytes the cached objects added, by node
// type and by constructor. make bench runs it (the cache rows).
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CacheFootprint, Kind } from "./lib/cache-footprint.js";
import { linearFit, round } from "./lib/stats.js";
import { syntheticBuild } from "./lib/synthetic.js";

export type { CacheFootprint, Sample } from "./lib/cache-footprint.js";

/**
 * The Node flags and environment the operator runs with: its Deployment's (config/manager/
 * manager.yaml; hack/operator-bg.sh sets the same, and a unit test keeps them equal).
 * --expose-gc is the bench's own, to sample after a full GC.
 */
export const OPERATOR_NODE_FLAGS = ["--max-old-space-size=384", "--max-semi-space-size=2"];
export const OPERATOR_ENV: Record<string, string> = {
  MALLOC_MMAP_THRESHOLD_: "131072",
  MALLOC_TRIM_THRESHOLD_: "131072",
};

export interface CacheMemoryResult {
  runs: CacheFootprint[];
  /** Least-squares over the runs: MB per 1 000 Images (RSS), and RSS at 10 000 Images. */
  rssPerThousandMB?: number;
  rssAt10000MB?: number;
  /** Heap added by the cached objects (largest N; MB): by V8 node type, and by constructor. */
  heapByType?: { type: string; MB: number }[];
  heapByConstructor?: { name: string; count: number; MB: number }[];
  /** What the child ran: the bundle (as the image runs the operator) or tsc's output; its Node flags and environment. */
  child?: { bundled: boolean; nodeFlags: string[]; env?: Record<string, string> };
}

const MB = 2 ** 20;

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
export function fakeApiserver(n: number): http.Server {
  const namespace = "bench-cache";
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
    const count = kind === "namespaces" ? 1 : n;
    const limit = Number(url.searchParams.get("limit") || count) || count;
    const from = Number(url.searchParams.get("continue") || 0);
    const to = Math.min(count, from + limit);
    const items: unknown[] = [];
    for (let i = from; i < to; i++) {
      if (kind === "namespaces")
        items.push({ metadata: { name: namespace, uid: "ns", resourceVersion: "1" } });
      else {
        // Regenerated per request (deterministic), so the server keeps nothing alive.
        const o = syntheticBuild(namespace, i, WORKER);
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

/** Runs one child against a fake apiserver of n Images; resolves with its footprint. */
async function runChild(
  n: number,
  child: { script: string; nodeFlags: string[]; env: Record<string, string> },
  snapshot?: string,
): Promise<CacheFootprint> {
  const server = fakeApiserver(n);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  try {
    const proc = spawn(
      process.execPath,
      [
        ...child.nodeFlags,
        "--expose-gc",
        child.script,
        String(port),
        String(n),
        ...(snapshot ? [snapshot] : []),
      ],
      { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_OPTIONS: "", ...child.env } },
    );
    let out = "";
    proc.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const code = await new Promise<number | null>((r) => proc.on("close", r));
    if (code !== 0) throw new Error(`cache-memory child for N=${n} exited ${code}`);
    return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as CacheFootprint;
  } finally {
    server.closeAllConnections();
    server.close();
  }
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

/**
 * Runs one child per size; `snapshot` heap-snapshots the largest. `bundled` (the default) runs
 * the child as hack/bundle.mjs bundles it, as the image runs the operator.
 */
export async function measureCacheMemory(
  sizes: number[],
  snapshot = false,
  opts: { bundled?: boolean; nodeFlags?: string[]; env?: Record<string, string> } = {},
): Promise<CacheMemoryResult> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = opts.bundled ?? true;
  const script = bundled
    ? path.join(here, "..", "bundle", "cache-memory-child.mjs")
    : path.join(here, "cache-memory-child.js");
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run make build`);
  const child = { script, nodeFlags: opts.nodeFlags ?? OPERATOR_NODE_FLAGS, env: opts.env ?? OPERATOR_ENV };
  const largest = Math.max(...sizes);
  const snapFile = path.join(os.tmpdir(), `golden-cache-${process.pid}.heapsnapshot`);
  const runs: CacheFootprint[] = [];
  for (const n of sizes) runs.push(await runChild(n, child));
  // Writing a snapshot leaves its buffers resident: the snapshots come from a run of their own.
  if (snapshot) await runChild(largest, child, snapFile);
  const fit = linearFit(runs.map((r) => [r.n, r.after.pods.rssMB]));
  const result: CacheMemoryResult = {
    runs,
    rssPerThousandMB: fit ? round(fit.slope * 1000, 1) : undefined,
    rssAt10000MB: fit ? round(fit.intercept + fit.slope * 10_000) : undefined,
    child: { bundled, nodeFlags: child.nodeFlags, env: child.env },
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
  const sizes = (args.find((a) => !a.startsWith("--")) ?? "1000,10000").split(",").map(Number);
  const flags = args.find((a) => a.startsWith("--node-flags="));
  const r = await measureCacheMemory(sizes, args.includes("--snapshot"), {
    bundled: !args.includes("--unbundled"),
    nodeFlags: flags ? flags.slice("--node-flags=".length).split(" ").filter(Boolean) : undefined,
    env: args.includes("--no-env") ? {} : undefined,
  });
  const { cacheMemoryReport } = await import("./lib/report.js");
  process.stdout.write(`${cacheMemoryReport(r)}\n`);
  if (args.includes("--json")) process.stdout.write(`${JSON.stringify(r, null, 1)}\n`);
}
