// What `make bench` prints (the tables) and draws (the plot), from the runs' results: the same
// for a fresh run and for BENCH_REPLOT of an earlier one.
import path from "node:path";
import { DEFAULT_BURST, DEFAULT_QPS } from "../../src/runtime/kube.js";
import type { CacheMemoryResult } from "../cache-memory.js";
import { type Panel, writeChart } from "./chart.js";
import { BY_RESOURCE, imageWritesPerBuild, type RunForN } from "./results.js";
import type { Percentiles } from "./stats.js";

export function fmtP(p: { p50: number; p95: number; p99: number }, unit: "ms" | "s" = "ms"): string {
  const f = (v: number) => (unit === "s" ? (v / 1000).toFixed(2) : String(Math.round(v)));
  return `${f(p.p50)} / ${f(p.p95)} / ${f(p.p99)}`;
}

export function table(header: string[], rows: (string | number | undefined)[][]): string {
  const cells = [
    header,
    ...rows.map((r) =>
      r.map((c) => (c === undefined || (typeof c === "number" && Number.isNaN(c)) ? "–" : String(c))),
    ),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(cells[0] as string[]),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...cells.slice(1).map(line),
  ].join("\n");
}

export function report(runs: RunForN[], meta: { qps: number; burst: number }): string {
  const out: string[] = [];
  out.push(
    `golden-operator client budget: ${meta.qps} qps / ${meta.burst} burst (defaults ${DEFAULT_QPS} / ${DEFAULT_BURST})`,
  );
  out.push("");
  out.push("Latency (ms, p50 / p95 / p99)");
  out.push(
    table(
      [
        "N",
        "Image→ImageBuild",
        "Image→admitted",
        "admitted→Job",
        "Image→Job",
        "Job→Pod (KCM)",
        "result→Image done",
        "E2E − build time",
        "ok / failed",
      ],
      runs.map((r) => [
        r.n,
        fmtP(r.golden.latencyMs.imageToBuild),
        fmtP(r.golden.latencyMs.imageToAdmitted),
        fmtP(r.golden.latencyMs.admittedToJob),
        fmtP(r.golden.latencyMs.imageToJob),
        fmtP(r.golden.latencyMs.jobToPod),
        fmtP(r.golden.latencyMs.resultToImageDone),
        fmtP(r.golden.latencyMs.e2eMinusBuild),
        `${r.golden.succeeded} / ${r.golden.failed + r.golden.incomplete}`,
      ]),
    ),
  );
  out.push("");
  out.push("Throughput (sustained: 10th→90th percentile event, per second)");
  out.push(
    table(
      [
        "N",
        "golden admitted/s",
        "golden Jobs/s",
        "golden done/s",
        "Job controller Pods/s",
        "bare client Jobs/s",
        "ref N",
        "golden ÷ Job ctrl",
        "golden ÷ bare",
        "budget limit Jobs/s",
        "golden ÷ budget limit",
        "wall s",
      ],
      runs.map((r) => [
        r.n,
        r.golden.throughput.admitted.sustained,
        r.golden.throughput.jobs.sustained,
        r.golden.throughput.done.sustained,
        r.jobController?.throughput.pods.sustained,
        r.bareClient?.throughput.jobs.sustained,
        r.jobController?.n ?? r.bareClient?.n,
        r.ratios.jobsVsJobController,
        r.ratios.jobsVsBareClient,
        r.ratios.budgetLimitJobsPerSecond,
        r.ratios.jobsVsBudgetLimit,
        r.golden.wallSeconds,
      ]),
    ),
  );
  out.push("");
  out.push("API requests per build (operator's own counters; by resource from apiserver_request_total)");
  out.push(
    table(
      [
        "N",
        "reads",
        "writes",
        "writes − Job",
        "writes − Job − Events",
        "images",
        "imagebuilds",
        "imageversions",
        "events",
        "409s",
        "all components r / w",
      ],
      runs.map((r) => [
        r.n,
        r.requestsPerBuild.operator.reads,
        r.requestsPerBuild.operator.writes,
        r.requestsPerBuild.operator.writesExceptJob,
        r.requestsPerBuild.operator.writesExceptJobAndEvents,
        imageWritesPerBuild(r.requestsPerBuild.byResource),
        r.requestsPerBuild.byResource[BY_RESOURCE.imageBuilds],
        // Older results counted these in "other".
        r.requestsPerBuild.byResource[BY_RESOURCE.imageVersions] ?? "–",
        r.requestsPerBuild.byResource[BY_RESOURCE.events],
        r.operator.delta.conflicts,
        `${r.requestsPerBuild.apiserverAllComponents.reads} / ${r.requestsPerBuild.apiserverAllComponents.writes}`,
      ]),
    ),
  );
  out.push("");
  out.push("Operator footprint");
  out.push(
    table(
      [
        "N",
        "RSS idle MB",
        "RSS peak MB",
        "heap used MB peak / end",
        "CPU s",
        "CPU % of a core",
        "req/s",
        "throttle wait mean / p99 ms",
        "Images deleted/s",
        "teardown s",
      ],
      runs.map((r) => [
        r.n,
        r.operator.idleRssMB,
        r.operator.peakRssMB,
        `${r.operator.peakHeapUsedMB} / ${r.operator.heapUsedMB}`,
        r.operator.cpuSeconds,
        Math.round(r.operator.cpuUtilization * 100),
        r.operator.requestRatePerSecond,
        `${r.operator.delta.throttle.meanWaitMs} / ${r.operator.delta.throttle.p99Ms ?? "–"}`,
        r.imagesDeleted?.perSecond,
        r.teardownSeconds,
      ]),
    ),
  );
  out.push("");
  out.push("Bottleneck");
  for (const r of runs) out.push(`- N=${r.n}: ${r.bottleneck}`);
  const cpu = runs.map(cpuLine).filter((line) => line !== "");
  if (cpu.length > 0) out.push("", "Who used the CPU during the burst (share of all cores)", ...cpu);
  return out.join("\n");
}

/** One run's CPU by process, largest first: who the apiserver shared the cores with. */
export function cpuLine(r: RunForN): string {
  const c = r.cpuByProcess;
  if (!c) return "";
  const pct = (v: number) => `${Math.round(v * 100)} %`;
  // CPU time per build: what each build cost that process, whatever the machine's speed.
  const perBuild = (share: number) =>
    `${Math.round((share * c.cores * c.seconds * 1000) / r.golden.n)} ms/build`;
  const parts = Object.entries(c.share)
    .sort((a, b) => b[1] - a[1])
    .map(([name, share]) => `${name} ${pct(share)} (${perBuild(share)})`);
  if (c.otherShare !== undefined) parts.push(`other ${pct(c.otherShare)}`);
  if (c.idleShare !== undefined) parts.push(`idle ${pct(c.idleShare)}`);
  const line = `- N=${r.n} (${r.scenario}, ${c.cores} cores, ${Math.round(c.seconds)} s): ${parts.join(", ")}`;
  const p = r.apiserverProfile;
  if (!p) return line;
  if (!p.parts) return `${line}\n  kube-apiserver profile ${p.file}: ${p.error ?? "not summarized"}`;
  const shares = Object.entries(p.parts)
    .map(([part, share]) => `${part} ${(share * 100).toFixed(1)} %`)
    .join("; ");
  return `${line}\n  kube-apiserver's CPU over ${p.seconds} s (${p.sampledCpuSeconds ?? "?"} CPU-s sampled), inclusive and overlapping: ${shares}`;
}

/**
 * How long each build held its slot on average (cap ÷ builds done per second), and what of that was
 * not the build itself: admission, Job and pod creation, the pod's end reaching the scheduler.
 */
function slotSeconds(r: RunForN): string {
  const done = r.golden.throughput.finished.steady;
  if (!r.cap || !Number.isFinite(done) || done <= 0) return "–";
  const held = r.cap / done;
  return `${held.toFixed(2)} s (${r.golden.mockedBuildSeconds} + ${(held - r.golden.mockedBuildSeconds).toFixed(2)})`;
}

/** The queued scenario against its targets: met or not, figure beside target. */
/** The steady ladder: one row per rate, golden's Image → Job beside the Job controller's Job → Pod. */
export function steadyReport(runs: RunForN[]): string {
  const rows = runs.flatMap((r) =>
    (r.golden.steady ?? []).map((p) => [
      p.rate,
      p.seconds,
      p.images,
      p.arrivalRate,
      `${Math.round(p.imageToJob.p50)} / ${Math.round(p.imageToJob.p99)}`,
      `${Math.round(p.jobToPod.p50)} / ${Math.round(p.jobToPod.p99)}`,
      p.backlogAtEnd,
      p.sustained ? "yes" : "no",
    ]),
  );
  return [
    "Steady arrivals (a ladder of rates, free capacity; kept up = at the phase's end < 2 s of arrivals wait for a Job and Image→Job p99 ≤ 5 s)",
    table(
      [
        "Images/s",
        "s",
        "Images",
        "arrived/s",
        "Image→Job p50 / p99 ms",
        "Job→Pod (KCM) p50 / p99 ms",
        "waiting at end",
        "kept up",
      ],
      rows,
    ),
  ].join("\n");
}

/** Where the slow pages were: while the burst was submitted or after, first page of a list or later. */
function pendingSplit(r: RunForN): string {
  const p = r.pendingList;
  if (!p?.pageMsWhile || !p.pageMsByOrder) return "";
  const p99 = (x: { count: number; p99: number }) => (x.count > 0 ? `${x.p99}` : "–");
  return ` (p99 while submitting ${p99(p.pageMsWhile.submitting)}, after ${p99(p.pageMsWhile.submitted)}; first pages ${p99(p.pageMsByOrder.first)}, later ${p99(p.pageMsByOrder.later)})`;
}

/** A target's verdict after its figure: " ✓", " ✗", or nothing when it was not judged. */
const mark = (met: boolean | undefined) => (met === undefined ? "" : met ? " ✓" : " ✗");

export function queuedReport(runs: RunForN[]): string {
  const rows = runs.map((r) => {
    const t = r.queuedTargets;
    return [
      r.n,
      `${r.cap} / ${r.golden.mockedBuildSeconds} s`,
      t ? `${t.completionRate.value} (≥ ${t.completionRate.target})${mark(t.completionRate.met)}` : "–",
      slotSeconds(r),
      t
        ? `${t.writesPerBuild.value} (uncontended ${t.writesPerBuild.uncontended ?? "–"})${mark(t.writesPerBuild.met)}`
        : "–",
      t?.pendingListP99Ms
        ? `${t.pendingListP99Ms.value} ms, ${t.pendingListP99Ms.waiting} waiting${mark(t.pendingListP99Ms.met)}${pendingSplit(r)}`
        : (r.pendingList?.errors[0] ?? "not measured"),
      r.operator.delta.visibilityListMs
        ? `${r.operator.delta.visibilityListMs.p99} ms (${r.operator.delta.visibilityListMs.connections} TLS connections for ${Object.entries(
            r.operator.delta.visibilityListMs.requestsByVerb,
          )
            .map(
              ([verb, n]) =>
                `${n} ${verb}, ${r.operator?.delta.visibilityListMs?.newConnectionRequestsByVerb[verb] ?? 0} on a new one`,
            )
            .join("; ")})`
        : "–",
      r.operator.eventLoopLagMaxMs
        ? `${r.operator.eventLoopLagMaxMs.p50} / ${r.operator.eventLoopLagMaxMs.max} ms`
        : "–",
      fmtP(r.golden.latencyMs.imageToAdmitted, "s"),
      `${Math.round(r.operator.cpuUtilization * 100)} %`,
      `${r.operator.idleRssMB} / ${r.operator.peakRssMB}`,
      `${r.golden.succeeded} / ${r.golden.failed + r.golden.incomplete}`,
    ];
  });
  return [
    "Queued: a burst most of which waits for the cap (targets: builds finished/s ≥ 0.95 × cap ÷ build time; writes per build − Job within 1 of the uncontended run; pendingbuilds page p99 ≤ 200 ms)",
    table(
      [
        "N",
        "cap / build",
        "builds finished/s (slope)",
        "slot held (build + overhead)",
        "writes/build − Job",
        "pendingbuilds p99 (500/page)",
        "of which golden p99",
        "operator loop blocked p50 / max",
        "Image→admitted p50/p95/p99",
        "CPU",
        "RSS idle / peak MB",
        "ok / failed",
      ],
      rows,
    ),
    ...runs.map(pageBreakdown).filter((line) => line !== ""),
    ...runs.map(cpuLine).filter((line) => line !== ""),
  ].join("\n");
}

/** What a freed slot waits for besides the build: golden's admission → Job, then the Job controller's Job → Pod. */
function handOffLine(r: RunForN): string {
  const { admittedToJob, jobToPod } = r.golden.latencyMs;
  return `  N=${r.n}: admitted → Job p50 / p99 ${Math.round(admittedToJob.p50)} / ${Math.round(admittedToJob.p99)} ms (golden), Job → Pod ${Math.round(jobToPod.p50)} / ${Math.round(jobToPod.p99)} ms (Job controller)`;
}

/** The queue at the default cap, held N deep, against its targets. */
export function queueAtDefaultCapReport(runs: RunForN[]): string {
  const pct = (x: Percentiles) => (x.count > 0 ? `${x.p50} / ${x.p99} ms (${x.count})` : "–");
  const rows = runs.map((r) => {
    const t = r.queueAtDefaultCapTargets;
    const p = r.pendingList;
    return [
      r.n,
      `${r.cap} / ${r.golden.mockedBuildSeconds} s`,
      t
        ? `${t.completionRate.value} (≥ ${t.completionRate.target})${mark(t.completionRate.met)}; whole run ${t.completionRate.wholeRun}`
        : "–",
      t?.pendingListP99Ms
        ? `${t.pendingListP99Ms.value} ms, ${t.pendingListP99Ms.waiting} waiting, ${t.pendingListP99Ms.pages} pages${mark(t.pendingListP99Ms.met)}`
        : (p?.errors[0] ?? "not measured"),
      p ? pct(p.pageMsWhile.submitting) : "–",
      p ? pct(p.probeMsWhile.submitted.apiserverDiscovery) : "–",
      r.operator.delta.visibilityListMs ? `${r.operator.delta.visibilityListMs.p99} ms` : "–",
      `${Math.round(r.operator.cpuUtilization * 100)} %`,
      `${r.operator.idleRssMB} / ${r.operator.peakRssMB}`,
      `${r.golden.succeeded} / ${r.golden.incomplete}`,
    ];
  });
  return [
    "Queue at the default cap: a burst held N deep, not drained (targets, once all N are in: builds finished/s ≥ 0.95 × cap ÷ build time; pendingbuilds page p99 ≤ 200 ms)",
    table(
      [
        "N",
        "cap / build",
        "builds finished/s (slope), all N in",
        "pendingbuilds p99 (500/page), all N in",
        "while created: p50 / p99 (pages)",
        "apiserver's own discovery p50 / p99, all N in",
        "of which golden p99",
        "CPU",
        "RSS idle / peak MB",
        "Images done / not done",
      ],
      rows,
    ),
    ...runs.map(handOffLine),
    ...runs.map(cpuLine).filter((line) => line !== ""),
  ].join("\n");
}

/**
 * Where a kubectl page's time goes, from one run: the page; a request of the same kubectl that
 * costs its server nothing, to the kube-apiserver alone and through the aggregator to golden; and
 * golden's visibility thread blocked (a request arriving then waits before golden's own time).
 */
function pageBreakdown(r: RunForN): string {
  const p = r.pendingList;
  if (!p || p.pageMs.count === 0) return "";
  const pct = (x: { count: number; p50: number; p99: number }) =>
    x.count > 0 ? `${x.p50} / ${x.p99} ms` : "–";
  const lag = r.operator.visibilityThreadLagMaxMs;
  const line = (
    what: string,
    page: { count: number; p50: number; p99: number },
    probes: { apiserverDiscovery: Percentiles; goldenDiscovery: Percentiles },
  ) =>
    `  N=${r.n}, ${what}, p50 / p99: kubectl's pendingbuilds page ${pct(page)}; the apiserver's own discovery ${pct(probes.apiserverDiscovery)}; golden's discovery through the aggregator ${pct(probes.goldenDiscovery)}`;
  const lines = [
    line("all lists", p.pageMs, p.probeMs),
    line("lists while the burst was created", p.pageMsWhile.submitting, p.probeMsWhile.submitting),
    line("lists after", p.pageMsWhile.submitted, p.probeMsWhile.submitted),
  ];
  lines.push(
    `  N=${r.n}, visibility thread's event loop blocked, per 2 s: ${lag && lag.count > 0 ? `p50 ${lag.p50}, max ${lag.max} ms` : "–"}`,
  );
  return lines.join("\n");
}

/** The plot of the burst runs: latency, memory and throughput against N; writes latest.svg and latest.png. */
export function plot(
  runs: RunForN[],
  subtitle: string,
  outDir: string,
): Promise<{ svg: string; png: string }> {
  const xs = runs.map((r) => r.n);
  const pts = (f: (r: RunForN) => number | undefined): [number, number][] =>
    runs.map((r) => [r.n, f(r) ?? Number.NaN]);
  const panels: Panel[] = [
    {
      title: "Latency percentiles",
      yLabel: "milliseconds (log)",
      logY: true,
      series: [
        { name: "Image→Job p50", color: "#1f77b4", points: pts((r) => r.golden.latencyMs.imageToJob.p50) },
        { name: "Image→Job p95", color: "#4a9fe0", points: pts((r) => r.golden.latencyMs.imageToJob.p95) },
        { name: "Image→Job p99", color: "#0b3d6b", points: pts((r) => r.golden.latencyMs.imageToJob.p99) },
        {
          name: "E2E−build p50",
          color: "#d62728",
          dashed: true,
          points: pts((r) => r.golden.latencyMs.e2eMinusBuild.p50),
        },
        {
          name: "E2E−build p95",
          color: "#f0787a",
          dashed: true,
          points: pts((r) => r.golden.latencyMs.e2eMinusBuild.p95),
        },
        {
          name: "E2E−build p99",
          color: "#7a1010",
          dashed: true,
          points: pts((r) => r.golden.latencyMs.e2eMinusBuild.p99),
        },
      ],
    },
    {
      title: "Operator memory",
      yLabel: "RSS (MiB)",
      series: [
        { name: "RSS peak", color: "#2ca02c", points: pts((r) => r.operator.peakRssMB) },
        {
          name: "RSS idle (start)",
          color: "#98df8a",
          dashed: true,
          points: pts((r) => r.operator.idleRssMB),
        },
        { name: "JS heap used (peak)", color: "#9467bd", points: pts((r) => r.operator.peakHeapUsedMB) },
      ],
    },
    {
      title: "Throughput (sustained)",
      yLabel: "per second (log)",
      logY: true,
      series: [
        { name: "golden Jobs/s", color: "#1f77b4", points: pts((r) => r.golden.throughput.jobs.sustained) },
        {
          name: "golden done/s",
          color: "#17becf",
          dashed: true,
          points: pts((r) => r.golden.throughput.done.sustained),
        },
        {
          name: "Job controller Pods/s",
          color: "#ff7f0e",
          points: pts((r) => r.jobController?.throughput.pods.sustained),
        },
        {
          name: "bare client Jobs/s",
          color: "#7f7f7f",
          dashed: true,
          points: pts((r) => r.bareClient?.throughput.jobs.sustained),
        },
      ],
    },
  ];
  return writeChart(
    { svg: path.join(outDir, "latest.svg"), png: path.join(outDir, "latest.png") },
    "golden benchmark: bursts of N Images on a local control plane",
    subtitle,
    xs,
    panels,
  );
}

/** The plot's subtitle: where and how the run was made. */
export function subtitleOf(o: {
  machine: { nproc: number; memoryGiB: number; node: string };
  kubernetes: string;
  golden: { commit: string; dirty: boolean };
  workerMode: string;
  buildSeconds: number | undefined;
  qps: number;
  burst: number;
}): string {
  const m = o.machine;
  return `${m.nproc} CPUs, ${m.memoryGiB} GiB, Node ${m.node}, Kubernetes ${o.kubernetes}, golden ${o.golden.commit}${o.golden.dirty ? "+dirty" : ""}, ${o.workerMode} workers, build ${o.buildSeconds}s, client ${o.qps}/${o.burst}`;
}

/** bench/cache-memory.ts: the caches' footprint at each N, its slope, and where the heap goes. */
export function cacheMemoryReport(r: CacheMemoryResult): string {
  const lines = [
    `Cache footprint (no cluster: the operator's informers holding N finished Images with their builds, Jobs and pods; RSS after a memory-reducing GC, [after a plain GC]${r.child ? `; ${r.child.bundled ? "bundled" : "unbundled"}, ${[...Object.entries(r.child.env ?? {}).map(([k, v]) => `${k}=${v}`), "node", ...r.child.nodeFlags].join(" ")}` : ""})`,
    table(
      [
        "N",
        "RSS import → cached MB",
        "JS heap import → cached MB",
        "heap B per Image / build / Job / pod",
        "per Image (+ build, Job, pod): RSS / heap KiB",
        "caching CPU s",
      ],
      r.runs.map((f) => {
        const b = f.heapBytesPerObject;
        return [
          f.n,
          `${f.baseline.rssMB} → ${f.after.pods.rssMB} [${f.baseline.rssPlainMB} → ${f.after.pods.rssPlainMB}]`,
          `${f.baseline.heapMB} → ${f.after.pods.heapMB}`,
          `${b.images} / ${b.builds} / ${b.jobs} / ${b.pods}`,
          `${f.perImageKiB.rss} [${f.perImageKiB.rssPlain}] / ${f.perImageKiB.heap}`,
          f.cacheCpuSeconds ?? "",
        ];
      }),
    ),
  ];
  if (r.rssPerThousandMB !== undefined)
    lines.push(
      `RSS slope ${r.rssPerThousandMB} MB per 1 000 Images; at 10 000: ${r.rssAt10000MB} MB (target ≤ 150 MB: ${(r.rssAt10000MB ?? Number.POSITIVE_INFINITY) <= 150 ? "met" : "not met"}; ≤ 15 KiB per Image: ${(r.rssPerThousandMB ?? Number.POSITIVE_INFINITY) * 1024 <= 15 * 1000 ? "met" : "not met"})`,
    );
  if (r.heapByType)
    lines.push(`Heap by node type: ${r.heapByType.map((t) => `${t.type} ${t.MB} MB`).join(", ")}`);
  if (r.heapByConstructor)
    lines.push(
      `Heap by constructor: ${r.heapByConstructor.map((c) => `${c.name} ${c.MB} MB (${c.count})`).join(", ")}`,
    );
  return lines.join("\n");
}
