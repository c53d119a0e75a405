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

type InFlight = Map<string, () => { now: number; starts: Iterable<number> }>;

/** Metric constructors that register in one registry. */
function makers(registry: Registry) {
  const registers = [registry];
  return {
    counter: <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers }),
    gauge: <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Gauge<L>({ name, help, labelNames, registers }),
    histogram: <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers }),
    /** Per queue, a figure over the ages of the items being worked on, read at scrape time. */
    inFlightGauge: (name: string, help: string, inFlight: InFlight, reduce: (ages: number[]) => number) =>
      new Gauge<"name">({
        name,
        help,
        labelNames: ["name"],
        registers,
        collect() {
          for (const [queue, source] of inFlight) {
            const { now, starts } = source();
            this.set({ name: queue }, reduce([...starts].map((s) => Math.max(0, now - s))) / 1000);
          }
        },
      }),
  };
}
type Makers = ReturnType<typeof makers>;

function reconcileMetrics(m: Makers) {
  return {
    total: m.counter("controller_runtime_reconcile_total", "Total number of reconciliations per controller", [
      "controller",
      "result",
    ]),
    errors: m.counter(
      "controller_runtime_reconcile_errors_total",
      "Total number of reconciliation errors per controller",
      ["controller"],
    ),
    time: m.histogram(
      "controller_runtime_reconcile_time_seconds",
      "Length of time per reconciliation per controller",
      ["controller"],
      RECONCILE_BUCKETS,
    ),
    maxConcurrent: m.gauge(
      "controller_runtime_max_concurrent_reconciles",
      "Maximum number of concurrent reconciles per controller",
      ["controller"],
    ),
    activeWorkers: m.gauge(
      "controller_runtime_active_workers",
      "Number of currently used workers per controller",
      ["controller"],
    ),
  };
}

function queueMetrics(m: Makers, inFlight: InFlight) {
  return {
    depth: m.gauge("workqueue_depth", "Current depth of workqueue", ["name"]),
    adds: m.counter("workqueue_adds_total", "Total number of adds handled by workqueue", ["name"]),
    latency: m.histogram(
      "workqueue_queue_duration_seconds",
      "How long in seconds an item stays in workqueue before being requested",
      ["name"],
      QUEUE_BUCKETS,
    ),
    work: m.histogram(
      "workqueue_work_duration_seconds",
      "How long in seconds processing an item from workqueue takes",
      ["name"],
      QUEUE_BUCKETS,
    ),
    retries: m.counter("workqueue_retries_total", "Total number of retries handled by workqueue", ["name"]),
    unfinished: m.inFlightGauge(
      "workqueue_unfinished_work_seconds",
      "How many seconds of work has been done that is in progress and has not been observed by work_duration",
      inFlight,
      (ages) => ages.reduce((a, b) => a + b, 0),
    ),
    longest: m.inFlightGauge(
      "workqueue_longest_running_processor_seconds",
      "How many seconds has the longest running processor for workqueue been running",
      inFlight,
      (ages) => Math.max(0, ...ages),
    ),
  };
}

function restMetrics(m: Makers, prefix: string) {
  return {
    requests: m.counter(
      `${prefix}rest_client_requests_total`,
      "Number of HTTP requests to the Kubernetes API, partitioned by method and status code",
      ["method", "code"],
    ),
    latency: m.histogram(
      `${prefix}rest_client_request_duration_seconds`,
      "Kubernetes API request latency until response headers, by method",
      ["method"],
      REST_BUCKETS,
    ),
    rateLimiterWait: m.histogram(
      `${prefix}rest_client_rate_limiter_duration_seconds`,
      "Time requests waited on the client-side rate limiter",
      [],
      [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    ),
  };
}

function informerMetrics(m: Makers, prefix: string) {
  return {
    lists: m.counter(
      `${prefix}informer_lists_total`,
      "Full LISTs performed by an informer (initial sync and relists)",
      ["informer"],
    ),
    watches: m.counter(`${prefix}informer_watches_total`, "WATCH connections opened by an informer", [
      "informer",
    ]),
    errors: m.counter(`${prefix}informer_errors_total`, "List/watch failures an informer recovered from", [
      "informer",
    ]),
    objects: m.gauge(`${prefix}informer_objects`, "Objects in an informer cache", ["informer"]),
  };
}

/**
 * One Prometheus registry with controller-runtime/client-go metric names, so existing
 * dashboards work. Components take it optionally; add your own metrics via `registry`.
 */
export class Metrics {
  readonly registry: Registry;
  /** The API client's requests, latency and rate-limiter waits. */
  readonly rest: ReturnType<typeof restMetrics>;
  /** Informers' lists, watches, recovered errors and cache sizes, by informer name. */
  readonly informer: ReturnType<typeof informerMetrics>;
  readonly #reconcile: ReturnType<typeof reconcileMetrics>;
  readonly #queue: ReturnType<typeof queueMetrics>;
  readonly #leaderStatus: Gauge<"name">;
  readonly #inFlight: InFlight = new Map();

  constructor(opts: MetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const m = makers(this.registry);
    const prefix = opts.prefix ?? "";
    this.#reconcile = reconcileMetrics(m);
    this.#queue = queueMetrics(m, this.#inFlight);
    this.#leaderStatus = m.gauge(
      "leader_election_master_status",
      "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
      ["name"],
    );
    this.rest = restMetrics(m, prefix);
    this.informer = informerMetrics(m, prefix);
  }

  queue(name: string): QueueMetrics {
    const labels = { name };
    return {
      added: () => this.#queue.adds.inc(labels),
      depth: (n) => this.#queue.depth.set(labels, n),
      queuedFor: (s) => this.#queue.latency.observe(labels, s),
      worked: (s) => this.#queue.work.observe(labels, s),
      retried: () => this.#queue.retries.inc(labels),
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
      this.#reconcile.total.inc({ controller: name, result }, 0);
    }
    this.#reconcile.errors.inc(labels, 0);
    return {
      reconciled: (result, seconds) => {
        this.#reconcile.total.inc({ controller: name, result });
        if (result === "error") this.#reconcile.errors.inc(labels);
        this.#reconcile.time.observe(labels, seconds);
      },
      maxConcurrent: (n) => this.#reconcile.maxConcurrent.set(labels, n),
      activeWorkers: (delta) => this.#reconcile.activeWorkers.inc(labels, delta),
    };
  }

  setLeader(name: string, leading: boolean): void {
    this.#leaderStatus.set({ name }, leading ? 1 : 0);
  }

  restRequest(method: string, code: string, seconds: number): void {
    this.rest.requests.inc({ method, code });
    this.rest.latency.observe({ method }, seconds);
  }

  rateLimiterWaited(seconds: number): void {
    this.rest.rateLimiterWait.observe(seconds);
  }

  /** Text exposition for /metrics. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
