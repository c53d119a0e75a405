// The child of bench/cache-memory.ts: node cache-memory-child.mjs PORT N [SNAPSHOT]
// It loads what the operator loads (hack/bundle.mjs bundles it alike: exporting buildOperator
// keeps every module the operator reaches in the bundle), fills the operator's own informers from
// the parent's fake apiserver on PORT, one kind at a time, and prints its CacheFootprint as JSON.
import v8 from "node:v8";
import { KubeConfig } from "@kubernetes/client-node";
import { informers } from "../src/cmd/operator/informers.js";
import { RestClient } from "../src/runtime/kube.js";
import { nopLogger } from "../src/runtime/logger.js";
import { Metrics } from "../src/runtime/metrics.js";
import { type CacheFootprint, KINDS, MB, sample } from "./lib/cache-footprint.js";
import { round } from "./lib/stats.js";

export { buildOperator } from "../src/cmd/operator/wiring.js";

async function main(port: number, n: number, snapshot: string | undefined): Promise<void> {
  const baseline = sample();
  if (snapshot) v8.writeHeapSnapshot(`${snapshot}.base`);
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
  let cpuMicros = 0;
  for (const kind of KINDS) {
    const cpu = process.cpuUsage();
    await caches[kind].start();
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
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
    cacheCpuSeconds: round(cpuMicros / 1e6, 2),
  };
  if (process.env.CACHE_MEMORY_DEBUG)
    for (const s of v8.getHeapSpaceStatistics())
      process.stderr.write(
        `${s.space_name} size ${round(s.space_size / MB, 1)} used ${round(s.space_used_size / MB, 1)}\n`,
      );
  if (snapshot) v8.writeHeapSnapshot(snapshot);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await Promise.all(Object.values(caches).map((c) => c.stop()));
  process.exit(0);
}

const [port, n, snapshot] = process.argv.slice(2);
if (!(Number(port) > 0 && Number(n) > 0)) {
  process.stderr.write("usage: cache-memory-child PORT N [SNAPSHOT] (bench/cache-memory.ts runs it)\n");
  process.exit(2);
}
await main(Number(port), Number(n), snapshot);
