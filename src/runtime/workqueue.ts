import PQueue from "p-queue";
import { type Clock, realClock, type TimerHandle } from "./clock.js";
import { type Logger, nopLogger } from "./logger.js";
import type { Metrics, QueueMetrics } from "./metrics.js";
import { defaultControllerRateLimiter, type RateLimiter } from "./ratelimit.js";

/**
 * What a handler returns: nothing (done), `requeueAfterMs` (come back later, e.g. to poll),
 * or `requeue: true` (retry with per-key backoff without counting it as an error).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: lets handlers that return nothing (Promise<void>) type-check.
export type Result = { requeueAfterMs?: number; requeue?: boolean } | undefined | void;

/** Processes one key. `signal` aborts when shutdown's drain deadline passes. */
export type Handler = (key: string, signal: AbortSignal) => Promise<Result>;

export interface WorkQueueOptions {
  name: string;
  /** Max keys processed at once (default 1, like controller-runtime's MaxConcurrentReconciles). */
  concurrency?: number;
  rateLimiter?: RateLimiter;
  /**
   * A key's priority when it is queued (default 0): waiting keys of a higher priority are
   * processed first, keys of one priority in the order they came. For background work that must
   * not delay the rest, e.g. a mass rebuild's keys below a user's. An add may also name its own
   * priority (AddOptions), which takes the place of this one for that add.
   */
  priorityOf?: (key: string) => number;
  /**
   * Workers kept free for keys of priority `forPriority` or above: keys below it (background
   * work) run on at most concurrency − workers at once (at least one), so a burst of background
   * keys never makes a more urgent key wait for one of them to finish. Default none.
   */
  reserve?: { workers: number; forPriority: number };
  /**
   * Keys of priority `fromPriority` or above go ahead of all others, but run on at most `workers`
   * at once (at least one): work that must not wait behind a burst (a finished build to record
   * while a thousand new objects wait for their first pass) and must not starve that burst either
   * when it comes as fast (strict priority would). Default none.
   */
  urgent?: { fromPriority: number; workers: number };
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
}

/** Per-add options. */
export interface AddOptions {
  /**
   * This add's priority (default: priorityOf(key), else 0), e.g. a low one for a fan-out that
   * refreshes many keys at once. A key waits once, at the highest priority it was added with:
   * an add of higher priority moves a waiting key up; one of lower priority leaves it where it is.
   */
  priority?: number;
}

/**
 * A keyed work queue with client-go semantics on top of p-queue (which only bounds concurrency):
 * - a key waits in the queue at most once (adds while waiting are deduplicated);
 * - a key is never processed by two workers at once: an add while it is processing marks it
 *   dirty, and it is queued again (at the back of its priority) when the current run finishes;
 * - delayed adds keep the earliest deadline; failures back off per key via the RateLimiter.
 */
export class WorkQueue {
  readonly name: string;
  readonly concurrency: number;
  readonly #pq: PQueue;
  readonly #limiter: RateLimiter;
  readonly #priorityOf: ((key: string) => number) | undefined;
  /** Background keys (below reserve.forPriority), if a reserve is set. */
  readonly #background: CappedBand | undefined;
  /** Urgent keys (urgent.fromPriority and above), if set. */
  readonly #urgent: CappedBand | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: QueueMetrics | undefined;

  /**
   * Keys that need processing (queued in #pq, or to be re-queued when their current run ends)
   * → the highest priority they were added with since.
   */
  readonly #dirty = new Map<string, number>();
  /** Keys with a task waiting in #pq → time they were queued. */
  readonly #queuedAt = new Map<string, number>();
  /** Keys being processed → start time. */
  readonly #processing = new Map<string, number>();
  /** Delayed adds → deadline, timer and priority. */
  readonly #waiting = new Map<string, { at: number; timer: TimerHandle; priority: number | undefined }>();

  #handler: Handler | undefined;
  #shuttingDown = false;
  readonly #drainAbort = new AbortController();
  #idleWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
    this.#clock = opts.clock ?? realClock;
    this.#limiter = opts.rateLimiter ?? defaultControllerRateLimiter(this.#clock);
    this.#priorityOf = opts.priorityOf;
    const reserved = Math.max(0, Math.floor(opts.reserve?.workers ?? 0));
    const below = opts.reserve?.forPriority ?? 0;
    this.#background =
      reserved > 0 ? new CappedBand((p) => p < below, Math.max(1, this.concurrency - reserved)) : undefined;
    const urgent = opts.urgent;
    this.#urgent = urgent
      ? new CappedBand((p) => p >= urgent.fromPriority, Math.max(1, Math.floor(urgent.workers)))
      : undefined;
    this.#log = (opts.logger ?? nopLogger).child({ workqueue: opts.name });
    this.#metrics = opts.metrics?.queue(opts.name);
    this.#metrics?.trackInFlight(() => ({ now: this.#clock.now(), starts: this.#processing.values() }));
    // Tasks wait until start(): keys added before the handler exists are kept, not lost.
    this.#pq = new PQueue({ concurrency: this.concurrency, autoStart: false });
  }

  /**
   * Queues `key` now. If it is already waiting, only its priority may rise (to opts.priority);
   * no-op after shutdown.
   */
  add(key: string, opts: AddOptions = {}): void {
    if (this.#shuttingDown) return;
    const priority = opts.priority ?? this.#priorityOf?.(key) ?? 0;
    const dirty = this.#dirty.get(key);
    if (dirty !== undefined) {
      if (priority > dirty) this.#raise(key, priority);
      return;
    }
    this.#metrics?.added();
    this.#dirty.set(key, priority);
    if (this.#processing.has(key)) return; // re-queued by #finish
    this.#enqueue(key);
  }

  /**
   * Queues `key` after `ms`; if it is already scheduled, the earlier deadline wins (and the
   * higher of the two priorities).
   */
  addAfter(key: string, ms: number, opts: AddOptions = {}): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key, opts);
      return;
    }
    const at = this.#clock.now() + ms;
    const existing = this.#waiting.get(key);
    let priority = opts.priority;
    if (existing) {
      if (existing.priority !== undefined && (priority === undefined || existing.priority > priority))
        priority = existing.priority;
      if (existing.at <= at) {
        existing.priority = priority;
        return;
      }
      this.#clock.clearTimeout(existing.timer);
    }
    const timer = this.#clock.setTimeout(() => {
      const entry = this.#waiting.get(key);
      this.#waiting.delete(key);
      this.add(key, { priority: entry?.priority });
    }, ms);
    this.#waiting.set(key, { at, timer, priority });
  }

  /** Queues `key` after its rate limiter's delay (per-key backoff on failures). */
  addRateLimited(key: string, opts: AddOptions = {}): void {
    if (this.#shuttingDown) return;
    this.#metrics?.retried();
    this.addAfter(key, this.#limiter.when(key), opts);
  }

  /** Clears `key`'s failure history (its backoff starts over). */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.retries(key);
  }

  /** Keys waiting to be processed (not counting in-flight or delayed ones). */
  len(): number {
    return this.#queuedAt.size;
  }

  /** Keys being processed right now. */
  inFlight(): number {
    return this.#processing.size;
  }

  /** Keys scheduled by addAfter/addRateLimited that are not due yet. */
  delayed(): number {
    return this.#waiting.size;
  }

  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  get started(): boolean {
    return this.#handler !== undefined;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Starts workers. On throw the key is retried with backoff; on success its backoff is
   * forgotten and, if asked, it is re-added after `requeueAfterMs`.
   */
  start(handler: Handler): void {
    if (this.#handler) throw new Error(`workqueue ${this.name}: already started`);
    if (this.#shuttingDown) throw new Error(`workqueue ${this.name}: already shut down`);
    this.#handler = handler;
    this.#pq.start();
  }

  /**
   * Stops taking work: drops waiting and delayed keys, ignores further adds, and waits for
   * in-flight keys to finish. After `drainMs` the handlers' signal is aborted and this resolves
   * false; it resolves true once nothing is in flight.
   */
  async shutdown({ drainMs = 30_000 }: { drainMs?: number } = {}): Promise<boolean> {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      this.#pq.pause();
      this.#pq.clear();
      this.#background?.clear();
      this.#urgent?.clear();
      this.#dirty.clear();
      this.#queuedAt.clear();
      for (const { timer } of this.#waiting.values()) this.#clock.clearTimeout(timer);
      this.#waiting.clear();
      this.#metrics?.depth(0);
    }
    if (this.#processing.size === 0) {
      this.#metrics?.unregister();
      return true;
    }
    let timer: TimerHandle | undefined;
    const drained = await new Promise<boolean>((resolve) => {
      this.#idleWaiters.push(() => resolve(true));
      timer = this.#clock.setTimeout(() => resolve(false), drainMs);
    });
    if (timer) this.#clock.clearTimeout(timer);
    if (!drained) {
      this.#log.warn("in-flight work did not finish within the drain timeout", {
        inFlight: [...this.#processing.keys()],
        drainMs,
      });
      this.#drainAbort.abort(new Error(`workqueue ${this.name} shut down`));
    }
    this.#metrics?.unregister();
    return drained;
  }

  #enqueue(key: string): void {
    this.#queuedAt.set(key, this.#clock.now());
    this.#metrics?.depth(this.#queuedAt.size);
    this.#place(key, this.#dirty.get(key) ?? 0);
  }

  /** Into #pq, or parked in its band until the band has room there. */
  #place(key: string, priority: number): void {
    const band = this.#bandOf(priority);
    if (!band) {
      this.#submit(key, priority);
      return;
    }
    band.park(key, priority);
    this.#admitParked(band);
  }

  #bandOf(priority: number): CappedBand | undefined {
    if (this.#urgent?.holds(priority)) return this.#urgent;
    if (this.#background?.holds(priority)) return this.#background;
    return undefined;
  }

  #submit(key: string, priority: number): void {
    // #process never rejects; the catch covers p-queue's AbortError for tasks dropped by clear().
    this.#pq.add(() => this.#process(key), { priority, id: taskId(key) }).catch(() => {});
  }

  /** Moves a band's parked keys into #pq while it has room there. */
  #admitParked(band: CappedBand): void {
    for (let next = band.unpark(); next; next = band.unpark()) this.#submit(next.key, next.priority);
  }

  /** A dirty key is wanted sooner: re-queued at `priority` now if it waits, or when its run ends. */
  #raise(key: string, priority: number): void {
    this.#dirty.set(key, priority);
    if (!this.#queuedAt.has(key)) return;
    const wasParked = [this.#urgent, this.#background].some((band) => band?.unparkKey(key) === true);
    if (wasParked) {
      this.#place(key, priority);
      return;
    }
    // In #pq: it moves up there, into its new band if it has room (else it keeps its place).
    const from = [this.#urgent, this.#background].find((band) => band?.inPq.has(key));
    const to = this.#bandOf(priority);
    if (to !== from) {
      if (to && !to.hasRoom()) return;
      to?.inPq.add(key);
      if (from) {
        from.inPq.delete(key);
        this.#admitParked(from);
      }
    }
    try {
      this.#pq.setPriority(taskId(key), priority);
    } catch {
      // Already dequeued (its run is starting): nothing left to move.
    }
  }

  async #process(key: string): Promise<void> {
    const now = this.#clock.now();
    const queuedAt = this.#queuedAt.get(key) ?? now;
    this.#queuedAt.delete(key);
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    this.#metrics?.depth(this.#queuedAt.size);
    this.#metrics?.queuedFor((now - queuedAt) / 1000);

    let result: Result;
    let failed = false;
    try {
      // biome-ignore lint/style/noNonNullAssertion: tasks only run after start() set the handler.
      result = await this.#handler!(key, this.#drainAbort.signal);
    } catch (err) {
      failed = true;
      this.#log.debug("handler failed; retrying with backoff", { key, err });
    }

    try {
      if (failed) {
        this.addRateLimited(key);
      } else {
        this.forget(key);
        if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
          this.addAfter(key, result.requeueAfterMs);
        } else if (result?.requeue) {
          this.addRateLimited(key);
        }
      }
    } finally {
      this.#finish(key);
    }
  }

  #finish(key: string): void {
    const started = this.#processing.get(key);
    this.#processing.delete(key);
    if (started !== undefined) this.#metrics?.worked((this.#clock.now() - started) / 1000);
    for (const band of [this.#urgent, this.#background])
      if (band?.inPq.delete(key) && !this.#shuttingDown) this.#admitParked(band);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#enqueue(key);
    if (this.#processing.size === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

/**
 * A band of priorities whose keys hold at most `slots` places in #pq (waiting or running) at once;
 * the rest wait parked here, by priority (highest first), then in order.
 */
class CappedBand {
  /** The band's keys in #pq, waiting or running. */
  readonly inPq = new Set<string>();
  #parked: { key: string; priority: number }[] = [];

  constructor(
    readonly holds: (priority: number) => boolean,
    readonly slots: number,
  ) {}

  hasRoom(): boolean {
    return this.inPq.size < this.slots;
  }

  /** Parks a key after every parked key of its priority or a higher one. */
  park(key: string, priority: number): void {
    let i = this.#parked.length;
    while (i > 0 && (this.#parked[i - 1]?.priority ?? 0) < priority) i--;
    this.#parked.splice(i, 0, { key, priority });
  }

  /** The next parked key, now counted in #pq, if there is room for it. */
  unpark(): { key: string; priority: number } | undefined {
    if (!this.hasRoom()) return undefined;
    const next = this.#parked.shift();
    if (next) this.inPq.add(next.key);
    return next;
  }

  /** Takes `key` out of the parked keys; false when it is not parked here. */
  unparkKey(key: string): boolean {
    const i = this.#parked.findIndex((p) => p.key === key);
    if (i < 0) return false;
    this.#parked.splice(i, 1);
    return true;
  }

  clear(): void {
    this.inPq.clear();
    this.#parked = [];
  }
}

/** p-queue's task id of a key; never a bare number, which p-queue uses for its own ids. */
function taskId(key: string): string {
  return `key:${key}`;
}
