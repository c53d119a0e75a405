// What kept the visibility thread's event loop busy, per report interval: applying the caches'
// changes, computing the queue's snapshot, and garbage collection. A request that arrives meanwhile
// waits before golden's own request time starts, so this is where a slow page's missing time is.
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";

export type ThreadWork = "apply" | "snapshot" | "gc";

export interface WorkTotals {
  /** Longest single stretch, ms. */
  maxMs: number;
  /** All of it in the interval, ms. */
  totalMs: number;
}

export interface ThreadLoadReport {
  /** The event loop's longest delay in the interval, seconds. */
  loopDelayMaxSeconds: number;
  work: Record<ThreadWork, WorkTotals>;
}

export class ThreadLoad {
  readonly #delay = monitorEventLoopDelay({ resolution: 10 });
  #work = emptyWork();
  #gc: PerformanceObserver | undefined;

  start(): void {
    this.#delay.enable();
    this.#gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.#add("gc", entry.duration);
    });
    this.#gc.observe({ entryTypes: ["gc"] });
  }

  stop(): void {
    this.#delay.disable();
    this.#gc?.disconnect();
  }

  /** Runs `fn`, counting its time as `work`. */
  time<T>(work: Exclude<ThreadWork, "gc">, fn: () => T): T {
    const started = performance.now();
    try {
      return fn();
    } finally {
      this.#add(work, performance.now() - started);
    }
  }

  /** The interval's figures; the next interval starts now. */
  take(): ThreadLoadReport {
    // The histogram is in nanoseconds, and its max includes the 10 ms resolution's own wait.
    const loopDelayMaxSeconds = Math.max(0, this.#delay.max / 1e9 - 0.01);
    this.#delay.reset();
    const work = this.#work;
    this.#work = emptyWork();
    return { loopDelayMaxSeconds, work };
  }

  #add(work: ThreadWork, ms: number): void {
    const w = this.#work[work];
    w.maxMs = Math.max(w.maxMs, ms);
    w.totalMs += ms;
  }
}

function emptyWork(): Record<ThreadWork, WorkTotals> {
  return {
    apply: { maxMs: 0, totalMs: 0 },
    snapshot: { maxMs: 0, totalMs: 0 },
    gc: { maxMs: 0, totalMs: 0 },
  };
}
