// The queued scenario: the default configuration's case. A burst far larger than the scheduler's
// cap (--max-concurrent-builds), so nearly every build waits, as in a rebuild wave after a CVE.
// What it must show: builds complete at the rate the cap allows (cap ÷ build time), each build
// costs the same writes as without a queue, and the queue stays readable through the visibility
// API while thousands of builds wait.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { burstSizes } from "./sizes.js";
import { type Percentiles, round, summarize } from "./stats.js";

const execFileAsync = promisify(execFile);

export interface QueuedConfig {
  sizes: number[];
  /** --max-concurrent-builds for these runs. */
  cap: number;
  /** Mocked seconds per build step (5 steps per build). */
  stepSeconds: number;
  /** kube-controller-manager's client budget during the queued runs, "qps/burst". */
  jobControllerBudget: string;
  /**
   * The same burst against the operator's default cap (no --max-concurrent-builds flag), listed
   * for `holdSeconds` once every Image is in and then stopped: the queue as a user of the default
   * configuration reads it, thousands deep, without a cap of 100 keeping both cores busy.
   */
  atDefaultCap: { sizes: number[]; holdSeconds: number };
}

/**
 * BENCH_QUEUED_N (default 1000,5000; "none" skips), BENCH_QUEUED_CAP (100),
 * BENCH_QUEUED_STEP_SECONDS (2: 10 s builds, long enough that the seconds of admission, Job and
 * pod creation around each build are not the headline), BENCH_QUEUED_KCM_BUDGET (300/500).
 */
export function queuedConfig(env: NodeJS.ProcessEnv): QueuedConfig {
  return {
    sizes: burstSizes(env.BENCH_QUEUED_N ?? "1000,5000"),
    cap: Number(env.BENCH_QUEUED_CAP ?? 100),
    stepSeconds: Number(env.BENCH_QUEUED_STEP_SECONDS ?? 2),
    jobControllerBudget: env.BENCH_QUEUED_KCM_BUDGET ?? "300/500",
    // BENCH_QUEUE_AT_DEFAULT_CAP_N (5000; none skips), BENCH_QUEUE_AT_DEFAULT_CAP_SECONDS (120).
    atDefaultCap: {
      sizes: burstSizes(env.BENCH_QUEUE_AT_DEFAULT_CAP_N ?? "5000"),
      holdSeconds: Number(env.BENCH_QUEUE_AT_DEFAULT_CAP_SECONDS ?? 120),
    },
  };
}

export const PENDING_BUILDS_PATH = "/apis/visibility.golden.dev/v1alpha1/pendingbuilds";
/** The probes of PendingListSample.probeMs. */
const PROBE_PATHS = {
  apiserverDiscovery: "/apis/golden.dev/v1alpha1",
  goldenDiscovery: "/apis/visibility.golden.dev/v1alpha1",
} as const;

export interface PendingListSample {
  /** Latency of each page request (ms), as `kubectl get pendingbuilds -A --chunk-size=N` logs it. */
  pageMs: Percentiles;
  /**
   * The same pages by when their list began: while the burst's Images were still being created
   * (the harness's creates and their builds' first writes load the apiserver too), or after.
   */
  pageMsWhile: { submitting: Percentiles; submitted: Percentiles };
  /** Each list's first page (kubectl's new connection to the apiserver) and the pages after it. */
  pageMsByOrder: { first: Percentiles; later: Percentiles };
  /**
   * Right after each list, the same kubectl asks for a discovery document that costs its server
   * nothing: the kube-apiserver's own (/apis/golden.dev/v1alpha1, served from memory) and golden's
   * through the aggregator (/apis/visibility.golden.dev/v1alpha1). Both are a kubectl process's
   * first request, like a list's first page. What they take under the same load is the part of a
   * page that is neither golden's work nor its size: the apiserver's, and the aggregator's proxying
   * with golden's thread answering.
   */
  probeMs: { apiserverDiscovery: Percentiles; goldenDiscovery: Percentiles };
  /** The same probes by when their list began, as pageMsWhile. */
  probeMsWhile: Record<
    "submitting" | "submitted",
    { apiserverDiscovery: Percentiles; goldenDiscovery: Percentiles }
  >;
  /** Latency of a whole paged list (ms): the sum of its pages, without kubectl's own start. */
  listMs: Percentiles;
  /** Waiting builds the lists returned, at most. */
  maxListed: number;
  lists: number;
  errors: string[];
}

/**
 * The page requests of one `kubectl get … -v=6` run, from its log: each pendingbuilds request's
 * latency in ms. kubectl logs either `GET https://…/pendingbuilds?limit=500 200 OK in 35 milliseconds`
 * or, in newer releases, `"Response" verb="GET" url="https://…/pendingbuilds?limit=500" status="200 OK" milliseconds=35`.
 */
export function pageLatencies(log: string, path = PENDING_BUILDS_PATH): number[] {
  const out: number[] = [];
  // The path whole: followed by the query, a quote or the end of the URL, never a longer path.
  const url = new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=[?"\\s]|$)`);
  for (const line of log.split("\n")) {
    if (!url.test(line)) continue;
    const ms = /milliseconds=(\d+)/.exec(line) ?? / in (\d+) milliseconds/.exec(line);
    if (ms && /\b200 OK\b/.test(line)) out.push(Number(ms[1]));
  }
  return out;
}

/**
 * Lists the whole queue through the aggregator with kubectl itself, `kubectl get pendingbuilds -A
 * --chunk-size=N`, every `everyMs` while at least `minWaiting` builds wait (the caller tells it how
 * many do), and takes each page's latency from kubectl's request log. A separate process, as a
 * user's kubectl is: timing the requests in the harness would add the harness's own event loop,
 * busy with thousands of watch events, to every page.
 */
export class PendingListSampler {
  readonly #pages: number[] = [];
  readonly #pagesWhile = { submitting: [] as number[], submitted: [] as number[] };
  readonly #pagesByOrder = { first: [] as number[], later: [] as number[] };
  readonly #lists: number[] = [];
  readonly #probes = {
    submitting: { apiserverDiscovery: [] as number[], goldenDiscovery: [] as number[] },
    submitted: { apiserverDiscovery: [] as number[], goldenDiscovery: [] as number[] },
  };
  readonly #errors = new Set<string>();
  #maxListed = 0;
  #busy = false;
  #lastMs = 0;

  constructor(
    private readonly opts: {
      kubeconfig: string;
      chunk: number;
      everyMs: number;
      minWaiting: number;
      kubectl?: string;
    },
  ) {}

  /**
   * Call every second with the number of builds waiting, and whether the burst is still being
   * submitted; lists at most every `everyMs`.
   */
  tick(waiting: number, submitting = false): void {
    const now = Date.now();
    if (this.#busy || waiting < this.opts.minWaiting || now - this.#lastMs < this.opts.everyMs) return;
    this.#busy = true;
    this.#lastMs = now;
    void this.listOnce(submitting ? "submitting" : "submitted").finally(() => {
      this.#busy = false;
    });
  }

  async listOnce(phase: "submitting" | "submitted" = "submitted"): Promise<void> {
    try {
      const { stdout, stderr } = await execFileAsync(
        this.opts.kubectl ?? "kubectl",
        [
          "--kubeconfig",
          this.opts.kubeconfig,
          "get",
          "pendingbuilds.visibility.golden.dev",
          "--all-namespaces",
          `--chunk-size=${this.opts.chunk}`,
          "--no-headers",
          "-v=6",
        ],
        { maxBuffer: 256 * 2 ** 20, timeout: 120_000 },
      );
      const pages = pageLatencies(stderr);
      if (pages.length === 0)
        throw new Error(`no pendingbuilds request in kubectl's log: ${stderr.slice(-300)}`);
      this.#pages.push(...pages);
      this.#pagesWhile[phase].push(...pages);
      this.#pagesByOrder.first.push(pages[0] ?? 0);
      this.#pagesByOrder.later.push(...pages.slice(1));
      this.#lists.push(pages.reduce((a, b) => a + b, 0));
      const listed = stdout.split("\n").filter((l) => l.trim() !== "").length;
      this.#maxListed = Math.max(this.#maxListed, listed);
      for (const [probe, path] of Object.entries(PROBE_PATHS) as [ProbeName, string][])
        this.#probes[phase][probe].push(...(await this.probe(path)));
    } catch (err) {
      this.#errors.add(String(err).slice(0, 300));
    }
  }

  /** One `kubectl get --raw PATH` in a process of its own: its request's latency from the log. */
  private async probe(path: string): Promise<number[]> {
    const { stderr } = await execFileAsync(
      this.opts.kubectl ?? "kubectl",
      ["--kubeconfig", this.opts.kubeconfig, "get", "--raw", path, "-v=6"],
      { maxBuffer: 16 * 2 ** 20, timeout: 60_000 },
    );
    const ms = pageLatencies(stderr, path);
    if (ms.length === 0) throw new Error(`no ${path} request in kubectl's log: ${stderr.slice(-300)}`);
    return ms;
  }

  result(): PendingListSample {
    const { submitting, submitted } = this.#probes;
    return {
      pageMs: summarize(this.#pages),
      pageMsWhile: {
        submitting: summarize(this.#pagesWhile.submitting),
        submitted: summarize(this.#pagesWhile.submitted),
      },
      pageMsByOrder: {
        first: summarize(this.#pagesByOrder.first),
        later: summarize(this.#pagesByOrder.later),
      },
      probeMs: summarizeProbes(submitting, submitted),
      probeMsWhile: { submitting: summarizeProbes(submitting), submitted: summarizeProbes(submitted) },
      listMs: summarize(this.#lists),
      maxListed: this.#maxListed,
      lists: this.#lists.length,
      errors: [...this.#errors],
    };
  }
}

type ProbeName = keyof typeof PROBE_PATHS;

/** Each probe's percentiles over the latencies of these phases together. */
function summarizeProbes(...phases: Record<ProbeName, number[]>[]): Record<ProbeName, Percentiles> {
  const of = (probe: ProbeName) => summarize(phases.flatMap((p) => p[probe]));
  return { apiserverDiscovery: of("apiserverDiscovery"), goldenDiscovery: of("goldenDiscovery") };
}

/** The page target: kubectl's pendingbuilds page p99, 500 builds a page. */
const PAGE_P99_TARGET_MS = 200;

/** Builds finished per second a cap allows, less 5 %: 0.95 × cap ÷ build time. */
function completionTarget(cap: number, buildSeconds: number): number {
  return round((0.95 * cap) / buildSeconds, 2);
}

export interface QueuedTargets {
  completionRate: { value: number; target: number; met: boolean };
  writesPerBuild: { value: number; uncontended?: number; met?: boolean };
  pendingListP99Ms?: { value: number; waiting: number; met: boolean };
}

/** The targets for one queued run. */
export function judgeQueued(q: {
  cap: number;
  buildSeconds: number;
  doneRate: number;
  writesPerBuild: number;
  uncontendedWritesPerBuild?: number;
  pending?: PendingListSample;
}): QueuedTargets {
  const target = completionTarget(q.cap, q.buildSeconds);
  const out: QueuedTargets = {
    completionRate: { value: q.doneRate, target, met: q.doneRate >= target },
    writesPerBuild: {
      value: q.writesPerBuild,
      uncontended: q.uncontendedWritesPerBuild,
      met:
        q.uncontendedWritesPerBuild === undefined
          ? undefined
          : q.writesPerBuild <= q.uncontendedWritesPerBuild + 1,
    },
  };
  if (q.pending && q.pending.lists > 0)
    out.pendingListP99Ms = {
      value: q.pending.pageMs.p99,
      waiting: q.pending.maxListed,
      met: q.pending.pageMs.p99 <= PAGE_P99_TARGET_MS,
    };
  return out;
}

export interface QueueAtDefaultCapTargets {
  /** Builds finished per second once all N were in (the whole run's rate beside it). */
  completionRate: { value: number; wholeRun: number; target: number; met: boolean };
  /** Pages of the lists that began once every Image was in: the queue N deep. */
  pendingListP99Ms?: { value: number; waiting: number; pages: number; met: boolean };
}

/**
 * The queue at the default cap, held N deep: with N waiting, that is once all N Images were in,
 * builds finish at the rate the cap allows and kubectl's pages take ≤ 200 ms at p99. The run's
 * first part, while the harness creates the N Images as fast as the apiserver takes them, is
 * reported beside (the whole run's rate, the pages of lists begun then), not judged.
 */
export function judgeQueueAtDefaultCap(q: {
  cap: number;
  buildSeconds: number;
  /** Builds finished per second once all N were in, and over the whole run. */
  doneRate: number;
  wholeRunDoneRate: number;
  pending?: PendingListSample;
}): QueueAtDefaultCapTargets {
  const target = completionTarget(q.cap, q.buildSeconds);
  const out: QueueAtDefaultCapTargets = {
    completionRate: { value: q.doneRate, wholeRun: q.wholeRunDoneRate, target, met: q.doneRate >= target },
  };
  const held = q.pending?.pageMsWhile.submitted;
  if (q.pending && held && held.count > 0)
    out.pendingListP99Ms = {
      value: held.p99,
      waiting: q.pending.maxListed,
      pages: held.count,
      met: held.p99 <= PAGE_P99_TARGET_MS,
    };
  return out;
}
