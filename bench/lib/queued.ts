// The queued scenario: the default configuration's case. A burst far larger than the scheduler's
// cap (--max-concurrent-builds), so nearly every build waits, as in a rebuild wave after a CVE.
// What it must show: builds complete at the rate the cap allows (cap ÷ build time), each build
// costs the same writes as without a queue, and the queue stays readable through the visibility
// API while thousands of builds wait.
import type { RestClient } from "../../src/runtime/kube.js";
import { type Percentiles, round, summarize } from "./stats.js";

export interface QueuedConfig {
  sizes: number[];
  /** --max-concurrent-builds for these runs. */
  cap: number;
  /** Mocked seconds per build step (5 steps per build). */
  stepSeconds: number;
  /** kube-controller-manager's client budget during the queued runs, "qps/burst". */
  jobControllerBudget: string;
}

/**
 * BENCH_QUEUED_N (default 1000,5000; "none" skips), BENCH_QUEUED_CAP (100),
 * BENCH_QUEUED_STEP_SECONDS (2: 10 s builds, long enough that the seconds of admission, Job and
 * pod creation around each build are not the headline), BENCH_QUEUED_KCM_BUDGET (300/500).
 */
export function queuedConfig(env: NodeJS.ProcessEnv): QueuedConfig {
  const raw = env.BENCH_QUEUED_N ?? "1000,5000";
  const sizes =
    raw === "none" || raw === ""
      ? []
      : raw
          .split(",")
          .map((s) => Number(s.trim()))
          .filter((v) => Number.isInteger(v) && v > 0);
  return {
    sizes,
    cap: Number(env.BENCH_QUEUED_CAP ?? 100),
    stepSeconds: Number(env.BENCH_QUEUED_STEP_SECONDS ?? 2),
    jobControllerBudget: env.BENCH_QUEUED_KCM_BUDGET ?? "300/500",
  };
}

export const PENDING_BUILDS_PATH = "/apis/visibility.golden.dev/v1alpha1/pendingbuilds";

interface PendingList {
  items?: unknown[];
  metadata?: { continue?: string };
}

export interface PendingListSample {
  /** Latency of each page request (ms), as `kubectl get pendingbuilds -A --chunk-size=N` makes them. */
  pageMs: Percentiles;
  /** Latency of a whole paged list (ms). */
  listMs: Percentiles;
  /** Waiting builds the lists returned, at most. */
  maxListed: number;
  lists: number;
  errors: string[];
}

/**
 * Lists the whole queue through the aggregator in pages of `chunk`, every `everyMs` while at least
 * `minWaiting` builds wait (the caller tells it how many do), timing each request.
 */
export class PendingListSampler {
  readonly #pages: number[] = [];
  readonly #lists: number[] = [];
  readonly #errors = new Set<string>();
  #maxListed = 0;
  #busy = false;
  #lastMs = 0;

  constructor(
    private readonly rest: RestClient,
    private readonly opts: { chunk: number; everyMs: number; minWaiting: number },
  ) {}

  /** Call every second with the number of builds waiting; lists at most every `everyMs`. */
  tick(waiting: number): void {
    const now = Date.now();
    if (this.#busy || waiting < this.opts.minWaiting || now - this.#lastMs < this.opts.everyMs) return;
    this.#busy = true;
    this.#lastMs = now;
    void this.listOnce().finally(() => {
      this.#busy = false;
    });
  }

  async listOnce(): Promise<void> {
    const started = performance.now();
    let listed = 0;
    let token: string | undefined;
    try {
      do {
        const t0 = performance.now();
        const page = await this.rest.requestJson<PendingList>({
          method: "GET",
          path: PENDING_BUILDS_PATH,
          query: { limit: this.opts.chunk, continue: token },
        });
        this.#pages.push(performance.now() - t0);
        listed += page.items?.length ?? 0;
        token = page.metadata?.continue || undefined;
      } while (token);
      this.#lists.push(performance.now() - started);
      this.#maxListed = Math.max(this.#maxListed, listed);
    } catch (err) {
      this.#errors.add(String(err).slice(0, 200));
    }
  }

  result(): PendingListSample {
    return {
      pageMs: summarize(this.#pages),
      listMs: summarize(this.#lists),
      maxListed: this.#maxListed,
      lists: this.#lists.length,
      errors: [...this.#errors],
    };
  }
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
  const target = round((0.95 * q.cap) / q.buildSeconds, 2);
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
      met: q.pending.pageMs.p99 <= 200,
    };
  return out;
}
