import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type ReconcileResultLabel = "success" | "error" | "requeue" | "requeue_after";

/** Metrics one WorkQueue reports, already bound to its name. */
export interface QueueMetrics {
  added(): void;
  depth(n: number): void;
  queuedFor(seconds: number): void;
  worked(seconds: number): void;
  retried(): void;
  /** Lets scrapes read in-flight work ages: start times (clock ms) of running items, and "now". */
  trackInFlight(source: () => { now: number; starts: Iterable<number> }): void;
  unregister(): void;
}

/** Metrics one Controller reports, already bound to its name. */
export interface ControllerMetrics {
  reconciled(result: ReconcileResultLabel, seconds: number): void;
  maxConcurrent(n: number): void;
  activeWorkers(delta: number): void;
}

export interface MetricsOptions {
  /**
   * Prepended to the names of the API client and informer metrics, e.g. "myoperator_"
   * (default none). controller-runtime's own names (controller_runtime_*, workqueue_*,
   * leader_election_*) are standard and never prefixed.
   */
  prefix?: string;
  /** Adds process_* and nodejs_* metrics (default true; tests turn it off). */
  defaultMetrics?: boolean;
  registry?: Registry;
}

// controller-runtime's reconcile_time_seconds buckets (pkg/internal/controller/metrics).
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15,
  20, 25, 30, 40, 50, 60,
];
// client-go workqueue: ExponentialBuckets(10e-9, 10, 12) → 1e-8 s … 1000 s.
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
const REST_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

/**
 * One Prometheus registry with controller-runtime/client-go metric names, so existing
 * dashboards work. Components take it optionally; add your own metrics via `registry`.
 */
export class Metrics {
  readonly registry: Registry;

  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly maxConcurrentReconciles: Gauge<"controller">;
  readonly activeWorkersGauge: Gauge<"controller">;

  readonly queueDepth: Gauge<"name">;
  readonly queueAdds: Counter<"name">;
  readonly queueLatency: Histogram<"name">;
  readonly workDuration: Histogram<"name">;
  readonly queueRetries: Counter<"name">;
  readonly unfinishedWork: Gauge<"name">;
  readonly longestRunning: Gauge<"name">;

  readonly leaderStatus: Gauge<"name">;

  readonly restRequests: Counter<"method" | "code">;
  readonly restLatency: Histogram<"method">;
  readonly restRateLimiterWait: Histogram;

  readonly informerLists: Counter<"informer">;
  readonly informerWatches: Counter<"informer">;
  readonly informerErrors: Counter<"informer">;
  readonly informerObjects: Gauge<"informer">;

  readonly #inFlight = new Map<string, () => { now: number; starts: Iterable<number> }>();

  constructor(opts: MetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    const prefix = opts.prefix ?? "";
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames: ["controller"],
      registers,
    });
    this.activeWorkersGauge = new Gauge({
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller",
      labelNames: ["controller"],
      registers,
    });

    this.queueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Current depth of workqueue",
      labelNames: ["name"],
      registers,
    });
    this.queueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue",
      labelNames: ["name"],
      registers,
    });
    this.queueLatency = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames: ["name"],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes",
      labelNames: ["name"],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.queueRetries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue",
      labelNames: ["name"],
      registers,
    });
    const inFlight = this.#inFlight;
    this.unfinishedWork = new Gauge({
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has been done that is in progress and has not been observed by work_duration",
      labelNames: ["name"],
      registers,
      collect() {
        for (const [name, source] of inFlight) {
          const { now, starts } = source();
          let total = 0;
          for (const s of starts) total += Math.max(0, now - s);
          this.set({ name }, total / 1000);
        }
      },
    });
    this.longestRunning = new Gauge({
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running",
      labelNames: ["name"],
      registers,
      collect() {
        for (const [name, source] of inFlight) {
          const { now, starts } = source();
          let longest = 0;
          for (const s of starts) longest = Math.max(longest, now - s);
          this.set({ name }, longest / 1000);
        }
      },
    });

    this.leaderStatus = new Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
      labelNames: ["name"],
      registers,
    });

    this.restRequests = new Counter({
      name: `${prefix}rest_client_requests_total`,
      help: "Number of HTTP requests to the Kubernetes API, partitioned by method and status code",
      labelNames: ["method", "code"],
      registers,
    });
    this.restLatency = new Histogram({
      name: `${prefix}rest_client_request_duration_seconds`,
      help: "Kubernetes API request latency until response headers, by method",
      labelNames: ["method"],
      buckets: REST_BUCKETS,
      registers,
    });
    this.restRateLimiterWait = new Histogram({
      name: `${prefix}rest_client_rate_limiter_duration_seconds`,
      help: "Time requests waited on the client-side rate limiter",
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    });

    this.informerLists = new Counter({
      name: `${prefix}informer_lists_total`,
      help: "Full LISTs performed by an informer (initial sync and relists)",
      labelNames: ["informer"],
      registers,
    });
    this.informerWatches = new Counter({
      name: `${prefix}informer_watches_total`,
      help: "WATCH connections opened by an informer",
      labelNames: ["informer"],
      registers,
    });
    this.informerErrors = new Counter({
      name: `${prefix}informer_errors_total`,
      help: "List/watch failures an informer recovered from",
      labelNames: ["informer"],
      registers,
    });
    this.informerObjects = new Gauge({
      name: `${prefix}informer_objects`,
      help: "Objects in an informer cache",
      labelNames: ["informer"],
      registers,
    });
  }

  queue(name: string): QueueMetrics {
    const labels = { name };
    return {
      added: () => this.queueAdds.inc(labels),
      depth: (n) => this.queueDepth.set(labels, n),
      queuedFor: (s) => this.queueLatency.observe(labels, s),
      worked: (s) => this.workDuration.observe(labels, s),
      retried: () => this.queueRetries.inc(labels),
      trackInFlight: (source) => {
        this.#inFlight.set(name, source);
      },
      unregister: () => {
        this.#inFlight.delete(name);
      },
    };
  }

  controller(name: string): ControllerMetrics {
    const labels = { controller: name };
    // controller-runtime pre-initialises every series so rate() works from the first error.
    for (const result of ["success", "error", "requeue", "requeue_after"] as const) {
      this.reconcileTotal.inc({ controller: name, result }, 0);
    }
    this.reconcileErrors.inc(labels, 0);
    return {
      reconciled: (result, seconds) => {
        this.reconcileTotal.inc({ controller: name, result });
        if (result === "error") this.reconcileErrors.inc(labels);
        this.reconcileTime.observe(labels, seconds);
      },
      maxConcurrent: (n) => this.maxConcurrentReconciles.set(labels, n),
      activeWorkers: (delta) => this.activeWorkersGauge.inc(labels, delta),
    };
  }

  setLeader(name: string, leading: boolean): void {
    this.leaderStatus.set({ name }, leading ? 1 : 0);
  }

  restRequest(method: string, code: string, seconds: number): void {
    this.restRequests.inc({ method, code });
    this.restLatency.observe({ method }, seconds);
  }

  rateLimiterWaited(seconds: number): void {
    this.restRateLimiterWait.observe(seconds);
  }

  /** Text exposition for /metrics. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
