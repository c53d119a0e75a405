// Wires golden's informers, reconcilers and scheduler (and the visibility API) into a runtime
// Manager: the only place that knows every part. The entry point (src/cmd/operator.ts) parses
// flags into an OperatorConfig and runs what buildOperator returns.
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { GoldenClient } from "../../api/client.js";
import { METRICS_PREFIX, OPERATOR_NAME } from "../../build/names.js";
import { BuildMetrics } from "../../controllers/build-metrics.js";
import { createThrottle, RestClient } from "../../runtime/kube.js";
import type { Logger } from "../../runtime/logger.js";
import { type LeaderElectionConfig, Manager } from "../../runtime/manager.js";
import { Metrics } from "../../runtime/metrics.js";
import { namespaceLimits } from "../../scheduler/limits.js";
import { type PendingQueueSource, pendingQueue } from "../../scheduler/pending.js";
import {
  type RequestObserver,
  type VisibilityConfig,
  visibilityRunnable,
  visibilityServices,
} from "../../visibility/setup.js";
import { visibilityThreadRunnable } from "../../visibility/thread-host.js";
import { type ControllersConfig, controllers } from "./controllers.js";
import { eventRecorder } from "./events.js";
import { informers } from "./informers.js";
import { apiserverMetricsAuth } from "./metrics-auth.js";

export interface OperatorConfig extends ControllersConfig {
  /** Watch only these namespaces; empty watches all. */
  namespaces: string[];
  qps: number;
  burst: number;
  healthPort: number;
  /** /metrics only for callers whose token may get /metrics (TokenReview + SubjectAccessReview). */
  metricsAuth?: boolean;
  leaderElection?: Omit<LeaderElectionConfig, "client">;
  gracefulShutdownMs: number;
  identity: string;
  /** The visibility API server (visibility.golden.dev); absent or port 0: not served. */
  visibility?: VisibilityConfig;
  /** What the visibility API lists; default: the placeholder computed from the caches. */
  pendingQueue?: PendingQueueSource;
}

export interface Operator {
  manager: Manager;
  metrics: Metrics;
  /** The live build queue from this replica's caches, leader or not: the visibility API's source. */
  pending: PendingQueueSource;
}

export function buildOperator(
  kc: KubeConfig,
  cfg: OperatorConfig,
  log: Logger,
  metrics = new Metrics({ prefix: METRICS_PREFIX }),
): Operator {
  const client = () =>
    new RestClient(kc, {
      throttle: createThrottle({ qps: cfg.qps, burst: cfg.burst }),
      metrics,
      userAgent: OPERATOR_NAME,
    });
  const rest = client();
  const golden = new GoldenClient(rest.api(CustomObjectsApi));
  const events = eventRecorder(client(), cfg.identity, log);
  const caches = informers(kc, { rest, metrics, log, namespaces: cfg.namespaces });
  const buildMetrics = new BuildMetrics(metrics.registry, caches.images, caches.builds);

  const manager = new Manager({
    logger: log,
    metrics,
    health: { port: cfg.healthPort, ...(cfg.metricsAuth ? { metricsAuth: apiserverMetricsAuth(rest) } : {}) },
    gracefulShutdownMs: cfg.gracefulShutdownMs,
    ...(cfg.leaderElection
      ? { leaderElection: { ...cfg.leaderElection, client: kc, userAgent: OPERATOR_NAME } }
      : {}),
  });
  for (const informer of Object.values(caches)) manager.addInformer(informer);
  for (const controller of controllers(cfg, {
    rest,
    golden,
    caches,
    events: events.sink,
    metrics,
    buildMetrics,
    log,
  }))
    manager.addController(controller);
  manager.addRunnable(events.runnable);
  // Visibility: every replica serves the queue from its own caches (the runnable is not leader-only).
  const { builds, jobs, pods, namespaces } = caches;
  const pending =
    cfg.pendingQueue ??
    pendingQueue({
      builds,
      jobs,
      pods,
      namespaceLimit: namespaceLimits(namespaces, cfg.maxBuildsPerNamespace),
      namespaces,
      maxConcurrentBuilds: cfg.maxConcurrentBuilds,
    });
  if (cfg.visibility && cfg.visibility.port > 0) {
    const requestSeconds = new Histogram({
      name: `${METRICS_PREFIX}visibility_request_duration_seconds`,
      help: "Time golden's aggregated API took to answer a request, by verb and HTTP code (as apiserver_request_duration_seconds), and whether it came on a new connection (whose TLS handshake is not in this time)",
      labelNames: ["verb", "code", "connection"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 5],
      registers: [metrics.registry],
    });
    const connections = new Counter({
      name: `${METRICS_PREFIX}visibility_connections_total`,
      help: "TLS connections golden's aggregated API accepted (the aggregator keeps its connections open: more than a few means handshakes on the requests' path)",
      registers: [metrics.registry],
    });
    const onRequest: RequestObserver = (verb, code, seconds, newConnection) =>
      requestSeconds.observe(
        { verb, code: String(code), connection: newConnection ? "new" : "reused" },
        seconds,
      );
    const onConnection = () => connections.inc();
    const loopDelay = threadLoopDelayGauge(metrics.registry);
    // A client of its own: a SubjectAccessReview must not queue in the rate limiter behind a
    // burst's writes (each page of a user whose review is not cached waits on one).
    const services = visibilityServices(cfg.visibility, client(), log);
    const thread = cfg.visibility.thread;
    manager.addRunnable(
      // Its own thread, unless a caller brought its own source (tests): the thread reads mirrors of
      // these caches, not a source object.
      thread && !cfg.pendingQueue
        ? visibilityThreadRunnable({
            entry: thread.entry,
            cfg: cfg.visibility,
            services,
            caches: { builds, jobs, pods, namespaces },
            maxConcurrentBuilds: cfg.maxConcurrentBuilds,
            maxBuildsPerNamespace: cfg.maxBuildsPerNamespace,
            log,
            logLevel: thread.logLevel,
            loggerName: thread.loggerName,
            onRequest,
            onConnection,
            onLoopDelay: (seconds) => loopDelay.observe(seconds),
          })
        : visibilityRunnable(cfg.visibility, services, pending, log, onRequest, onConnection),
    );
  }
  return { manager, metrics, pending };
}

/**
 * The visibility thread's longest event-loop delay between two scrapes (the thread reports every
 * 2 s), as prom-client's nodejs_eventloop_lag_max_seconds is for the main thread. A request that
 * arrives while that loop is blocked waits before visibility_request_duration_seconds starts.
 */
export function threadLoopDelayGauge(registry: Registry): { observe(seconds: number): void } {
  let sinceScrape: number | undefined;
  let last = 0;
  new Gauge({
    name: `${METRICS_PREFIX}visibility_thread_event_loop_lag_max_seconds`,
    help: "The longest the visibility thread's event loop was blocked since the last scrape (reported every 2 s): requests arriving meanwhile waited before golden's own request time starts",
    registers: [registry],
    collect() {
      if (sinceScrape !== undefined) last = sinceScrape;
      sinceScrape = undefined;
      this.set(last);
    },
  });
  return { observe: (seconds) => (sinceScrape = Math.max(sinceScrape ?? 0, seconds)) };
}
