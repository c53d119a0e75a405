import { randomUUID } from "node:crypto";
import type { KubernetesObject } from "@kubernetes/client-node";
import { type Clock, realClock } from "./clock.js";
import { objectKey, ownerKey } from "./keys.js";
import { type Logger, nopLogger } from "./logger.js";
import type { ControllerMetrics, Metrics, ReconcileResultLabel } from "./metrics.js";
import type { RateLimiter } from "./ratelimit.js";
import { type AddOptions, type Result, WorkQueue, type WorkQueueOptions } from "./workqueue.js";

export interface ReconcileContext {
  /** Carries {controller, key, reconcileID}; add your own fields with child(). */
  logger: Logger;
  /** Aborts if the controller is stopped and the drain deadline passes. Pass it to API calls. */
  signal: AbortSignal;
  /** How many times this key has failed in a row (0 on the first attempt). */
  retries: number;
}

export type ReconcileFn = (key: string, ctx: ReconcileContext) => Promise<Result>;

export interface ControllerOptions {
  name: string;
  reconcile: ReconcileFn;
  /** Parallel reconciles (different keys); default 1 like controller-runtime. */
  concurrency?: number;
  rateLimiter?: RateLimiter;
  /** See WorkQueueOptions.priorityOf. */
  priorityOf?: (key: string) => number;
  /** See WorkQueueOptions.reserve. */
  reserve?: WorkQueueOptions["reserve"];
  /** See WorkQueueOptions.urgent. */
  urgent?: WorkQueueOptions["urgent"];
  metrics?: Metrics;
  logger?: Logger;
  clock?: Clock;
}

/**
 * Throw from reconcile for errors a retry cannot fix (e.g. an invalid spec): it is logged and
 * counted as an error, but the key is not requeued (controller-runtime's TerminalError).
 */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/** A named reconcile loop: a WorkQueue of keys feeding a reconcile function. */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #reconcile: ReconcileFn;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #metrics: ControllerMetrics | undefined;

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.#reconcile = opts.reconcile;
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.logger ?? nopLogger).child({ controller: opts.name });
    this.#metrics = opts.metrics?.controller(opts.name);
    this.queue = new WorkQueue({
      name: opts.name,
      concurrency: opts.concurrency ?? 1,
      rateLimiter: opts.rateLimiter,
      priorityOf: opts.priorityOf,
      reserve: opts.reserve,
      urgent: opts.urgent,
      clock: this.#clock,
      metrics: opts.metrics,
      logger: this.#log,
    });
  }

  get running(): boolean {
    return this.queue.started && !this.queue.shuttingDown;
  }

  /** Queues `key`; opts.priority overrides priorityOf for this add (see AddOptions). */
  enqueue(key: string, opts?: AddOptions): void {
    this.queue.add(key, opts);
  }

  enqueueAfter(key: string, ms: number, opts?: AddOptions): void {
    this.queue.addAfter(key, ms, opts);
  }

  /** Enqueues the object's own key ('namespace/name'). Usable directly as an informer handler. */
  enqueueObject = (obj: KubernetesObject): void => {
    this.queue.add(objectKey(obj));
  };

  /**
   * Enqueues the key of the object's controller owner if it is of `ownerKind` (and API group
   * `ownerGroup`, when given), e.g. a Job → its Image. Returns whether something was enqueued.
   */
  enqueueOwner(obj: KubernetesObject, ownerKind: string, ownerGroup?: string): boolean {
    const key = ownerKey(obj, ownerKind, ownerGroup);
    if (key === undefined) return false;
    this.queue.add(key);
    return true;
  }

  /** Starts the workers. Keys enqueued before this (e.g. by informers on a standby) are kept. */
  start(): void {
    this.#metrics?.maxConcurrent(this.queue.concurrency);
    this.queue.start((key, signal) => this.#reconcileOne(key, signal));
    this.#log.info("controller started", { concurrency: this.queue.concurrency, queued: this.queue.len() });
  }

  /** Stops taking keys and waits up to drainMs for in-flight reconciles; true if they all finished. */
  async stop({ drainMs = 30_000 }: { drainMs?: number } = {}): Promise<boolean> {
    const drained = await this.queue.shutdown({ drainMs });
    this.#log.info("controller stopped", { drained });
    return drained;
  }

  async #reconcileOne(key: string, signal: AbortSignal): Promise<Result> {
    const started = this.#clock.now();
    const retries = this.queue.numRequeues(key);
    const logger = this.#log.child({ key, reconcileID: randomUUID() });
    let label: ReconcileResultLabel = "success";
    this.#metrics?.activeWorkers(1);
    try {
      const result = await this.#reconcile(key, { logger, signal, retries });
      if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) label = "requeue_after";
      else if (result?.requeue) label = "requeue";
      return result;
    } catch (err) {
      label = "error";
      if (err instanceof TerminalError) {
        logger.error("reconcile failed permanently; not requeueing", { err });
        return undefined;
      }
      logger.error("reconcile failed; requeueing with backoff", { err, retries });
      throw err;
    } finally {
      this.#metrics?.activeWorkers(-1);
      this.#metrics?.reconciled(label, (this.#clock.now() - started) / 1000);
    }
  }
}
