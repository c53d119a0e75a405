// `make bench`'s configuration: every BENCH_* variable the harness reads, typed and documented in
// one place (hack/bench.sh reads a few more for the cluster it starts: BENCH_KEEP_CLUSTER,
// BENCH_ALLOW_DEFAULT_CLUSTER, BENCH_POD_COMPLETE_DELAY_MS). bench/README.md lists them all.

import path from "node:path";
import type { WorkerConfig } from "../src/controllers/job-template.js";
import { DEFAULT_BURST, DEFAULT_QPS } from "../src/runtime/kube.js";
import { type CampaignConfig, campaignConfig } from "./lib/campaign.js";
import type { SteadyOptions, WorkerMode } from "./lib/golden.js";
import { type QueuedConfig, queuedConfig } from "./lib/queued.js";
import { burstSizes } from "./lib/sizes.js";

export interface BenchConfig {
  /** KUBECONFIG: the benchmark cluster (hack/bench.sh brings up a dedicated one). */
  kubeconfig: string;
  /** BENCH_N: burst sizes, default 100,1000,5000. */
  sizes: number[];
  /** BENCH_STEP_SECONDS: mocked seconds per build step (the bench Image has 5), default 1. */
  stepSeconds: number;
  /** BENCH_WORKER: result (only the worker's final write, default) or steps (src/worker's runBuild). */
  workerMode: WorkerMode;
  /** BENCH_REFERENCES: jobs,bare (default), a subset, or none. */
  references: Set<string>;
  /** BENCH_REF_MAX_N: cap on the references' N (their rates are flat in N), default 1000; 0 = none. */
  refMaxN: number;
  /** BENCH_OPERATOR_JS: the operator's entry point, default dist/bundle/operator.mjs (what the image runs). */
  operatorScript: string;
  /** BENCH_OPERATOR_ARGS: extra operator flags, e.g. "--kube-api-qps 100 --kube-api-burst 200". */
  extraOperatorArgs: string[];
  /** BENCH_OPERATOR_NODE_ARGS: extra node flags for the operator, e.g. "--max-old-space-size=128". */
  nodeArgs: string[];
  /** BENCH_CPU_PROF=1: run the operator with --cpu-prof and summarize its hot functions. */
  cpuProf: boolean;
  /** BENCH_OUT: results directory, default bench/results. */
  outDir: string;
  /** BENCH_LABEL: suffix of the results file name (e.g. baseline, patched). */
  label: string;
  /** BENCH_TIMEOUT_SECONDS: per scenario, default 300 + 0.6·N. */
  timeoutMs: (n: number) => number;
  /** BENCH_SUBMIT_CONCURRENCY: Images the harness creates at once, default 32. */
  submitConcurrency: number;
  /** BENCH_NODES: fake (KWOK) nodes the bench's pods are placed on, default 4. */
  nodes: number;
  /** BENCH_KEEP_NODES=1: leave the fake nodes in place at the end. */
  keepNodes: boolean;
  /** BENCH_DISPOSABLE_CLUSTER=1 (set by hack/bench.sh): the cluster goes away after the run. */
  disposableCluster: boolean;
  /** GOLDEN_CLUSTER_DIR (set by hack/bench.sh): its pids/ name the components whose CPU is measured. */
  clusterDir?: string;
  /**
   * BENCH_APISERVER_PROFILE_SECONDS: a CPU profile of the kube-apiserver this long, from 20 s into
   * each run (default 0: none). hack/bench.sh turns on the apiserver's --profiling for a cluster it
   * starts and sets BENCH_APISERVER_BINARY, which `go tool pprof` reads the profile against.
   */
  apiserverProfileSeconds: number;
  apiserverBinary?: string;
  /** BENCH_REPLOT: a results JSON; only print its tables and redraw the plot (no cluster). */
  replot?: string;
  /**
   * The queued scenario: BENCH_QUEUED_N (burst sizes, default 1000,5000; none skips it),
   * BENCH_QUEUED_CAP (its --max-concurrent-builds, 100), BENCH_QUEUED_STEP_SECONDS (2) and
   * BENCH_QUEUED_KCM_BUDGET (kube-controller-manager's qps/burst during those runs, 300/500);
   * the queue at the operator's default cap: BENCH_QUEUE_AT_DEFAULT_CAP_N (5000; none skips it)
   * and BENCH_QUEUE_AT_DEFAULT_CAP_SECONDS (120, how long it is listed once every Image is in).
   */
  queued: QueuedConfig;
  /**
   * The campaign scenario: BENCH_CAMPAIGN_N (Images rebuilt, default 1000; "none" skips),
   * BENCH_CAMPAIGN_USERS (50), BENCH_CAMPAIGN_USER_INTERVAL_MS (500), BENCH_CAMPAIGN_MAX_IN_FLIGHT
   * (100), BENCH_CAMPAIGN_CAP (--max-concurrent-builds, 50).
   */
  campaign: CampaignConfig;
  /**
   * The steady scenario: BENCH_STEADY_RATES (Images/s, a ladder run one rate after the other and
   * stopped at the first the operator does not keep up with; default 20,30,40,50; none skips it),
   * BENCH_STEADY_SECONDS (per rate, default 120: the "a few minutes", long enough that the
   * operator's first seconds and one garbage collection do not make the row).
   */
  steady?: SteadyOptions;
  /** BENCH_CACHE_MEMORY: Image counts of the cache-footprint measurement (default 1000,10000; none skips). */
  cacheMemorySizes: number[];
  /** The operator's client budget, from --kube-api-qps/--kube-api-burst in BENCH_OPERATOR_ARGS. */
  qps: number;
  burst: number;
  /** The burst scenario's operator flags: no cap on builds, no WorkerLost, pods on the fake nodes. */
  operatorArgs: string[];
  /** The worker config golden's Jobs get with those flags (for the reference Jobs' pod template). */
  worker: WorkerConfig;
}

const words = (s: string | undefined) => (s ?? "").split(/\s+/).filter(Boolean);
const yes = (s: string | undefined) => ["1", "true", "yes"].includes(s ?? "");

/** `args` without `--name value`. */
export function withoutFlag(args: string[], name: string): string[] {
  return args.filter((_, i, a) => a[i] !== `--${name}` && a[i - 1] !== `--${name}`);
}

export function flagValue(args: string[], name: string): string | undefined {
  const i = args.lastIndexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const numbers = (s: string) =>
  s
    .split(",")
    .map((v) => Number(v.trim()))
    .filter((v) => Number.isFinite(v) && v > 0);

/**
 * A rate is kept up with when, at the end of its phase, fewer than 2 s of arrivals still wait for
 * their Job and the phase's Image → Job p99 is at most 5 s (latency is bounded, not growing).
 */
function steadyConfig(env: NodeJS.ProcessEnv): SteadyOptions | undefined {
  const rates = numbers(env.BENCH_STEADY_RATES ?? "20,30,40,50");
  const seconds = Number(env.BENCH_STEADY_SECONDS ?? 120);
  if (rates.length === 0 || !(seconds > 0)) return undefined;
  return { phases: rates.map((rate) => ({ rate, seconds })), maxBacklogSeconds: 2, maxP99Ms: 5000 };
}

export function benchConfig(env: NodeJS.ProcessEnv, repo: string): BenchConfig {
  const extraOperatorArgs = words(env.BENCH_OPERATOR_ARGS);
  const maxConcurrentBuilds = flagValue(extraOperatorArgs, "max-concurrent-builds") ?? "100000";
  return {
    kubeconfig: env.KUBECONFIG ?? "",
    sizes: burstSizes(env.BENCH_N ?? "100,1000,5000"),
    stepSeconds: Number(env.BENCH_STEP_SECONDS ?? 1),
    workerMode: (env.BENCH_WORKER ?? "result") as WorkerMode,
    references: new Set(
      (env.BENCH_REFERENCES ?? "jobs,bare")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s && s !== "none"),
    ),
    refMaxN: Number(env.BENCH_REF_MAX_N ?? 1000),
    operatorScript: path.resolve(repo, env.BENCH_OPERATOR_JS ?? "dist/bundle/operator.mjs"),
    extraOperatorArgs,
    nodeArgs: words(env.BENCH_OPERATOR_NODE_ARGS),
    cpuProf: yes(env.BENCH_CPU_PROF),
    outDir: path.resolve(repo, env.BENCH_OUT ?? "bench/results"),
    label: env.BENCH_LABEL ?? "",
    timeoutMs: (n) => Number(env.BENCH_TIMEOUT_SECONDS ?? 300 + 0.6 * n) * 1000,
    submitConcurrency: Number(env.BENCH_SUBMIT_CONCURRENCY ?? 32),
    nodes: Number(env.BENCH_NODES ?? 4),
    keepNodes: env.BENCH_KEEP_NODES === "1",
    disposableCluster: env.BENCH_DISPOSABLE_CLUSTER === "1",
    clusterDir: env.GOLDEN_CLUSTER_DIR || undefined,
    apiserverProfileSeconds: Number(env.BENCH_APISERVER_PROFILE_SECONDS ?? 0) || 0,
    apiserverBinary: env.BENCH_APISERVER_BINARY || undefined,
    replot: env.BENCH_REPLOT || undefined,
    queued: queuedConfig(env),
    campaign: campaignConfig(env),
    steady: steadyConfig(env),
    cacheMemorySizes: numbers(env.BENCH_CACHE_MEMORY ?? "1000,10000"),
    qps: Number(flagValue(extraOperatorArgs, "kube-api-qps") ?? DEFAULT_QPS),
    burst: Number(flagValue(extraOperatorArgs, "kube-api-burst") ?? DEFAULT_BURST),
    operatorArgs: [
      "--worker-node-selector",
      "type=kwok",
      "--max-concurrent-builds",
      maxConcurrentBuilds,
      "--worker-lost-after",
      "0",
      ...withoutFlag(extraOperatorArgs, "max-concurrent-builds"),
    ],
    worker: {
      image: "golden:dev",
      serviceAccount: "golden-worker",
      nodeSelector: { type: "kwok" },
      tolerations: [],
      resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
      heartbeatSeconds: 10,
      timeoutGraceSeconds: 30,
    },
  };
}
