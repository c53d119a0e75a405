// The visibility API's own thread: the HTTPS server and the pending-queue view, over mirrors of the
// informer caches (mirror.ts). Its event loop does nothing else, so a page of the queue waits on no
// reconcile of the main thread; and the view keeps the scheduler's state current from the mirrors'
// changes, so ordering the queue does not rebuild it from every cached object each time. What
// needs the apiserver (certificate, front-proxy CA, SubjectAccessReviews, the APIService's
// caBundle) is a call to the main thread (rpc.ts); the authorizer's cache lives here, so a cached
// decision costs no call.
import { createLogger, type LogLevel } from "../runtime/logger.js";
import { namespaceLimits } from "../scheduler/limits.js";
import { LivePendingQueue } from "../scheduler/pending.js";
import type { RequestHeaderConfig } from "./authn.js";
import { DelegatingAuthorizer, type Review } from "./authz.js";
import { type CacheBatch, MirroredCaches } from "./mirror.js";
import type { PaginationOptions } from "./pagination.js";
import { type MessagePortLike, RpcEndpoint } from "./rpc.js";
import { VisibilityServer } from "./server.js";
import type { ServingCertificate } from "./serving-cert.js";
import { ThreadLoad } from "./thread-load.js";
import { WarmSnapshot } from "./warm-snapshot.js";

/** What the thread is started with (workerData). */
export interface VisibilityThreadData {
  port: number;
  bindAddress: string;
  maxConcurrentBuilds: number;
  maxBuildsPerNamespace: number;
  /** Whether the main thread keeps the APIService's caBundle (publishCertificate). */
  publishesCertificate: boolean;
  logLevel: LogLevel;
  loggerName: string;
  pagination?: PaginationOptions;
}

/** Messages from the thread to the main thread that are not calls. */
export type ThreadEvent =
  | { request: { verb: string; code: number; seconds: number; newConnection: boolean } }
  | { connection: true }
  /** The longest the thread's event loop was blocked in the last LOOP_DELAY_REPORT_MS. */
  | { loopDelay: { maxSeconds: number } };

/**
 * How often the thread reports its event loop's longest delay. A request that arrives while the
 * loop is blocked waits before golden's own time (visibility_request_duration_seconds) starts, so
 * the delay is what that histogram cannot show.
 */
export const LOOP_DELAY_REPORT_MS = 2_000;

/** Methods the main thread serves the thread. */
export interface MainThreadMethods {
  certificate(): Promise<ServingCertificate>;
  requestHeaderConfig(): Promise<RequestHeaderConfig | undefined>;
  review(spec: unknown): Promise<Review>;
  publishCertificate(cert: ServingCertificate): Promise<void>;
}

/** A report interval whose event loop was blocked this long is logged with what blocked it. */
const BLOCKED_LOG_SECONDS = 0.2;

export function runVisibilityThread(port: MessagePortLike, data: VisibilityThreadData): void {
  const caches = new MirroredCaches();
  const load = new ThreadLoad();
  let changesApplied = 0;
  const log = createLogger({ level: data.logLevel, name: data.loggerName }).child({ thread: "visibility" });
  const methods = {
    start: async () => {
      const address = await server.start();
      return { address: address.address, port: address.port };
    },
    stop: async () => {
      queue.stop();
      clearInterval(reports);
      load.stop();
      await server.stop();
    },
  };
  const view = new LivePendingQueue({
    builds: caches.builds,
    jobs: caches.jobs,
    pods: caches.pods,
    namespaces: caches.namespaces,
    namespaceLimit: namespaceLimits(caches.namespaces, data.maxBuildsPerNamespace),
    maxConcurrentBuilds: data.maxConcurrentBuilds,
  });
  caches.observe(view);
  const queue = new WarmSnapshot(
    { ready: () => view.ready(), snapshot: () => load.time("snapshot", () => view.snapshot()) },
    // A page shows the queue as of at most 1 s ago while the caches change; kubectl polling every
    // few seconds keeps it warm, and nobody listing for a minute stops the background work.
    { maxAgeMs: 1_000, refreshMs: 500, readersWithinMs: 60_000 },
  );
  const main = new RpcEndpoint(port, methods, (m) => {
    if (typeof m !== "object" || m === null || !("caches" in m)) return;
    const batch = (m as { caches: CacheBatch }).caches;
    changesApplied += batch.changes.length;
    if (load.time("apply", () => caches.apply(batch))) queue.changed();
  });
  const call = <K extends keyof MainThreadMethods>(method: K, ...args: Parameters<MainThreadMethods[K]>) =>
    main.call<Awaited<ReturnType<MainThreadMethods[K]>>>(method, ...args);
  const server = new VisibilityServer({
    port: data.port,
    bindAddress: data.bindAddress,
    source: queue,
    certificates: { current: () => call("certificate") },
    requestHeaderConfig: () => call("requestHeaderConfig"),
    authorizer: new DelegatingAuthorizer({ review: (spec) => call("review", spec) }),
    ...(data.publishesCertificate ? { onCertificate: (cert) => call("publishCertificate", cert) } : {}),
    onRequest: (verb, code, seconds, newConnection) =>
      port.postMessage({ request: { verb, code, seconds, newConnection } } satisfies ThreadEvent),
    onConnection: () => port.postMessage({ connection: true } satisfies ThreadEvent),
    log,
    ...(data.pagination ? { pagination: data.pagination } : {}),
  });
  load.start();
  const reports = setInterval(() => {
    const { loopDelayMaxSeconds, work } = load.take();
    const changes = changesApplied;
    changesApplied = 0;
    port.postMessage({ loopDelay: { maxSeconds: loopDelayMaxSeconds } } satisfies ThreadEvent);
    if (loopDelayMaxSeconds < BLOCKED_LOG_SECONDS) return;
    const ms = (n: number) => Math.round(n);
    log.info("visibility thread blocked", {
      maxMs: ms(loopDelayMaxSeconds * 1000),
      intervalMs: LOOP_DELAY_REPORT_MS,
      // Applying them is "apply"; receiving them (copying each message in) is not counted there.
      cacheChanges: changes,
      ...Object.fromEntries(
        Object.entries(work).map(([what, w]) => [what, { maxMs: ms(w.maxMs), totalMs: ms(w.totalMs) }]),
      ),
    });
  }, LOOP_DELAY_REPORT_MS);
  reports.unref();
}
