// Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time: the hot paths.
import fs from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotFunction {
  fn: string;
  where: string;
  selfMs: number;
  selfPct: number;
  /** Self plus callees, without double counting recursion. */
  totalMs: number;
  totalPct: number;
}

export interface ProfileSummary {
  file: string;
  durationMs: number;
  /** Samples not idle (program, GC and JS). */
  busyMs: number;
  gcMs: number;
  /** By self time, all code. */
  top: HotFunction[];
  /** golden's own functions (dist/src/) by inclusive time. */
  ownTop: { fn: string; where: string; totalMs: number; totalPct: number }[];
}

export function summarizeProfile(file: string, topN = 15, repoRoot = process.cwd()): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample weights: each sample is worth the time delta that follows it.
  const selfUs = new Map<number, number>();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    const dt = deltas[i + 1] ?? deltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const label = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^file:\/\//, "");
    const rel = url.startsWith(repoRoot)
      ? path.relative(repoRoot, url)
      : url.replace(/^.*node_modules\//, "node_modules/");
    return {
      fn: n.callFrame.functionName || "(anonymous)",
      where: rel ? `${rel}:${n.callFrame.lineNumber + 1}` : "",
    };
  };
  const self = new Map<string, HotFunction>();
  const total = new Map<string, number>();
  let busy = 0;
  let gc = 0;
  let all = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    all += us;
    const { fn, where } = label(node);
    if (fn === "(idle)") continue;
    busy += us;
    if (fn === "(garbage collector)") gc += us;
    const key = `${fn}@${where}`;
    const h = self.get(key) ?? { fn, where, selfMs: 0, selfPct: 0, totalMs: 0, totalPct: 0 };
    h.selfMs += us / 1000;
    self.set(key, h);
    // Inclusive time: every distinct frame on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n) break;
      const l = label(n);
      const k = `${l.fn}@${l.where}`;
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us / 1000);
    }
  }
  const busyMs = busy / 1000;
  const top = [...self.entries()]
    .map(([k, h]) => ({
      ...h,
      selfMs: Math.round(h.selfMs),
      selfPct: Math.round((1000 * h.selfMs) / Math.max(busyMs, 1)) / 10,
      totalMs: Math.round(total.get(k) ?? 0),
      totalPct: Math.round((1000 * (total.get(k) ?? 0)) / Math.max(busyMs, 1)) / 10,
    }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, topN);
  const ownTop = [...total.entries()]
    .filter(([k]) => k.includes("dist/src/"))
    .map(([k, ms]) => {
      const at = k.lastIndexOf("@");
      return {
        fn: k.slice(0, at),
        where: k.slice(at + 1),
        totalMs: Math.round(ms),
        totalPct: Math.round((1000 * ms) / Math.max(busyMs, 1)) / 10,
      };
    })
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, topN);
  return {
    file,
    durationMs: Math.round(all / 1000),
    busyMs: Math.round(busyMs),
    gcMs: Math.round(gc / 1000),
    top,
    ownTop,
  };
}
