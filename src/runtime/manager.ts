import type { KubeConfig } from "@kubernetes/client-node";
import type { Controller } from "./controller.js";
import { type Check, type HealthServer, runCheck, startHealthServer } from "./health.js";
import { LeaderElector, type LeaderElectorOptions, type LeaseClient } from "./leader-election.js";
import { type Logger, nopLogger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { MetricsAuth } from "./metrics-auth.js";

/** Anything with a lifecycle the manager should run, e.g. a GC loop or a webhook server. */
export interface Runnable {
  name: string;
  /** Runs until `signal` aborts. A throw/rejection before that stops the manager with an error. */
  start(signal: AbortSignal): void | Promise<void>;
  /** Only run on the elected leader (default false: run on every replica once caches synced). */
  needLeaderElection?: boolean;
}

/** What the manager needs from an informer (Informer<T> satisfies it for any T). */
export interface ManagedInformer {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** A fresh LIST into the cache; a new leader waits for it before its controllers start. */
  relist?(): Promise<void>;
}

/** The Lease and its timings; the manager supplies the clock, logger and metrics. */
export interface LeaderElectionConfig extends Omit<LeaderElectorOptions, "clock" | "logger" | "metrics"> {
  client: KubeConfig | LeaseClient;
}

export interface ManagerOptions {
  logger?: Logger;
  metrics?: Metrics;
  /** Serves /healthz, /readyz, /metrics. Default port 8081; false disables. */
  health?: { port: number; host?: string; metricsAuth?: MetricsAuth } | false;
  /** Omit to run without leader election (every replica reconciles). */
  leaderElection?: LeaderElectionConfig;
  /** Drain budget for in-flight reconciles and runnables on shutdown (default 30 s). */
  gracefulShutdownMs?: number;
  /** How long start() waits for all informers' initial list (default 2 min). */
  cacheSyncTimeoutMs?: number;
  /** Install SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
  /** Called with 1 when the lease is lost or on a second signal (default process.exit). */
  exit?: (code: number) => void;
}

export class LeaderElectionLostError extends Error {
  constructor() {
    super("leader election lost");
    this.name = "LeaderElectionLostError";
  }
}

/**
 * Owns the process lifecycle like controller-runtime's manager: caches warm on every replica,
 * controllers and leader-only runnables run only while holding the lease, and shutdown drains,
 * releases the lease, stops informers and closes the health server.
 */
export class Manager {
  readonly #log: Logger;
  readonly #opts: ManagerOptions;
  readonly #informers: ManagedInformer[] = [];
  readonly #controllers: Controller[] = [];
  readonly #runnables: Runnable[] = [];
  readonly #healthChecks: { name: string; check: Check }[] = [];
  readonly #readyChecks: { name: string; check: Check }[] = [];
  readonly #exit: (code: number) => void;

  #started = false;
  #synced = false;
  #leaderWorkStarted = false;
  #elector: LeaderElector | undefined;
  #electorDone: Promise<void> | undefined;
  #health: HealthServer | undefined;
  readonly #stopRequested = new AbortController();
  readonly #runnablesAbort = new AbortController();
  #runnableTasks: Promise<void>[] = [];
  #fatal: Error | undefined;
  #shutdown: Promise<void> | undefined;
  readonly #finished = Promise.withResolvers<void>();
  #removeSignalHandlers: (() => void) | undefined;

  constructor(opts: ManagerOptions = {}) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nopLogger).child({ component: "manager" });
    this.#exit = opts.exit ?? ((code) => process.exit(code));
  }

  addInformer(inf: ManagedInformer): void {
    this.#assertNotStarted();
    this.#informers.push(inf);
  }

  addController(ctrl: Controller): void {
    this.#assertNotStarted();
    this.#controllers.push(ctrl);
  }

  addRunnable(r: Runnable): void {
    this.#assertNotStarted();
    this.#runnables.push(r);
  }

  addHealthzCheck(name: string, check: Check): void {
    this.#healthChecks.push({ name, check });
  }

  addReadyzCheck(name: string, check: Check): void {
    this.#readyChecks.push({ name, check });
  }

  /** Caches synced, not stopping, and (when leading) controllers running. */
  isReady(): boolean {
    if (!this.#synced || this.#stopRequested.signal.aborted || this.#fatal) return false;
    if (this.#elector?.isLeader() && !this.#leaderWorkStarted) return false;
    return true;
  }

  /** Port the health server listens on (once started; useful with port 0). */
  get healthPort(): number | undefined {
    return this.#health?.port;
  }

  isLeader(): boolean {
    return this.#opts.leaderElection ? (this.#elector?.isLeader() ?? false) : this.#leaderWorkStarted;
  }

  /**
   * Runs until stop() or SIGTERM/SIGINT, then shuts down gracefully and resolves (exit 0).
   * Rejects, after cleaning up, if startup fails (health port, cache sync timeout), a runnable
   * fails, or the lease is lost (then `exit(1)` has already been called).
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error("manager already started");
    this.#started = true;
    if (this.#opts.handleSignals ?? true) this.#installSignalHandlers();
    try {
      await this.#startHealth();
      await this.#startInformers();
      if (this.#stopRequested.signal.aborted) return;
      this.#synced = true;
      this.#log.info("caches synced", { informers: this.#informers.map((i) => i.name) });
      for (const r of this.#runnables) if (!r.needLeaderElection) this.#startRunnable(r);
      if (this.#opts.leaderElection) this.#campaign(this.#opts.leaderElection);
      else this.#startLeaderWork();
      await waitAborted(this.#stopRequested.signal);
    } catch (err) {
      this.#fatal ??= err instanceof Error ? err : new Error(String(err));
    } finally {
      await this.#shutdownOnce();
      this.#finished.resolve();
    }
    if (this.#fatal) throw this.#fatal;
  }

  /** Requests a graceful shutdown; resolves when it is complete. */
  async stop(): Promise<void> {
    this.#stopRequested.abort();
    if (this.#started) await this.#finished.promise;
  }

  async #startHealth(): Promise<void> {
    const cfg = this.#opts.health === undefined ? { port: 8081 } : this.#opts.health;
    if (cfg === false) return;
    this.#health = await startHealthServer({
      port: cfg.port,
      host: cfg.host,
      metricsRegistry: this.#opts.metrics?.registry,
      ...(cfg.metricsAuth ? { metricsAuth: cfg.metricsAuth } : {}),
      logger: this.#log,
      checks: {
        healthz: () => this.#aggregate(this.#healthChecks, this.#fatal ? this.#fatal.message : undefined),
        readyz: () => this.#aggregate(this.#readyChecks, this.isReady() ? undefined : this.#notReadyReason()),
      },
    });
  }

  async #aggregate(
    checks: { name: string; check: Check }[],
    builtInFailure: string | undefined,
  ): Promise<{ ok: boolean; reason?: string }> {
    if (builtInFailure) return { ok: false, reason: builtInFailure };
    for (const { name, check } of checks) {
      const r = await runCheck(check, 5_000);
      if (!r.ok) return { ok: false, reason: `${name}: ${r.reason ?? "failed"}` };
    }
    return { ok: true };
  }

  #notReadyReason(): string {
    if (this.#fatal) return this.#fatal.message;
    if (this.#stopRequested.signal.aborted) return "shutting down";
    if (!this.#synced) {
      const pending = this.#informers.filter((i) => !i.hasSynced()).map((i) => i.name);
      return `caches not synced: ${pending.join(", ")}`;
    }
    return "leader: controllers not started";
  }

  async #startInformers(): Promise<void> {
    for (const inf of this.#informers) void inf.start();
    const timeoutMs = this.#opts.cacheSyncTimeoutMs ?? 120_000;
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#stopRequested.signal]);
    try {
      await Promise.all(this.#informers.map((i) => i.waitForSync(signal)));
    } catch (err) {
      if (this.#stopRequested.signal.aborted) return;
      const pending = this.#informers.filter((i) => !i.hasSynced()).map((i) => i.name);
      throw new Error(`timed out after ${timeoutMs} ms waiting for caches to sync: ${pending.join(", ")}`, {
        cause: err,
      });
    }
  }

  #campaign(cfg: LeaderElectionConfig): void {
    const { client, ...options } = cfg;
    const elector = new LeaderElector(client, { ...options, logger: this.#log, metrics: this.#opts.metrics });
    this.#elector = elector;
    this.#electorDone = elector.run({
      onStartedLeading: () => void this.#relistThenLead(),
      onStoppedLeading: ({ reason }) => {
        if (reason === "lost") this.#onLeaseLost();
      },
    });
  }

  /**
   * A standby's caches can lag behind what the previous leader wrote (a watch reconnecting after
   * an apiserver or etcd restart, with backoff), and a scheduler deciding from such a cache would
   * admit builds into slots that are taken. So a new leader starts from a fresh list.
   */
  async #relistThenLead(): Promise<void> {
    const startedMs = Date.now();
    try {
      await Promise.all(this.#informers.map((i) => i.relist?.()));
    } catch (err) {
      if (!this.#stopRequested.signal.aborted) this.#log.warn("relist for leadership failed", { err });
      return; // Stopping: an informer stopped mid-relist.
    }
    if (!this.#elector?.isLeader()) return; // Lost the lease meanwhile.
    this.#log.info("caches relisted for leadership", { ms: Date.now() - startedMs });
    this.#startLeaderWork();
  }

  #startLeaderWork(): void {
    if (this.#stopRequested.signal.aborted || this.#fatal || this.#leaderWorkStarted) return;
    for (const c of this.#controllers) c.start();
    for (const r of this.#runnables) if (r.needLeaderElection) this.#startRunnable(r);
    this.#leaderWorkStarted = true;
    this.#log.info("leader work started", { controllers: this.#controllers.map((c) => c.name) });
  }

  /**
   * Like controller-runtime: a replica that lost its lease must not reconcile another moment,
   * so abort work and exit non-zero; the Deployment restarts it as a standby.
   */
  #onLeaseLost(): void {
    this.#fatal = new LeaderElectionLostError();
    this.#log.error("leader election lost; stopping work and exiting");
    this.#runnablesAbort.abort(this.#fatal);
    for (const c of this.#controllers) void c.stop({ drainMs: 0 });
    this.#exit(1);
    this.#stopRequested.abort();
  }

  #startRunnable(r: Runnable): void {
    const task = (async () => {
      try {
        await r.start(this.#runnablesAbort.signal);
      } catch (err) {
        if (this.#runnablesAbort.signal.aborted) return;
        this.#log.error("runnable failed; stopping the manager", { runnable: r.name, err });
        this.#fatal ??= new Error(`runnable ${r.name} failed`, { cause: err });
        this.#stopRequested.abort();
      }
    })();
    this.#runnableTasks.push(task);
  }

  #shutdownOnce(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    // After a lost lease nothing may keep running: no drain budget (controller-runtime does the same).
    const lost = this.#fatal instanceof LeaderElectionLostError;
    const budgetMs = lost ? 0 : (this.#opts.gracefulShutdownMs ?? 30_000);
    const deadline = Date.now() + budgetMs;
    const remaining = () => Math.max(0, deadline - Date.now());
    this.#log.info("shutting down", { gracefulShutdownMs: budgetMs });

    // 1. Stop taking work and drain in-flight reconciles, still holding the lease meanwhile.
    this.#runnablesAbort.abort();
    const drains = this.#controllers
      .filter((c) => c.queue.started)
      .map((c) => c.stop({ drainMs: remaining() }));
    const runnablesDone = Promise.allSettled(this.#runnableTasks);
    const drained = await raceTimeout(Promise.all([Promise.all(drains), runnablesDone]), remaining());
    if (!drained) this.#log.warn("graceful shutdown timeout passed with work still in flight");

    // 2. Hand the lease over right away instead of letting it expire.
    if (this.#elector) {
      await raceTimeout(this.#elector.release(), 5_000);
      await raceTimeout(this.#electorDone ?? Promise.resolve(), 1_000);
    }

    // 3. Caches, then probes.
    await raceTimeout(Promise.allSettled(this.#informers.map((i) => i.stop())), 5_000);
    await this.#health?.close();
    this.#removeSignalHandlers?.();
    this.#log.info("shutdown complete");
  }

  #installSignalHandlers(): void {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        this.#log.info("received signal; shutting down gracefully", { signal: sig });
        this.#stopRequested.abort();
      } else {
        this.#log.warn("received second signal; exiting immediately", { signal: sig });
        this.#exit(1);
      }
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    this.#removeSignalHandlers = () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    };
  }

  #assertNotStarted(): void {
    if (this.#started) throw new Error("manager already started; add components before start()");
  }
}

function waitAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Resolves true if `p` settled within `ms`, false otherwise. */
async function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
