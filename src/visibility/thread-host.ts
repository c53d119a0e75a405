// The main thread's side of the visibility API's thread (thread.ts): starts it, feeds it the
// informer caches' changes (mirror.ts), answers its calls for what needs the apiserver, counts its
// requests into the operator's metrics, and starts it again if it dies. A Manager runnable on every
// replica, like the in-thread server it replaces (setup.ts).
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import type { Logger, LogLevel } from "../runtime/logger.js";
import type { Runnable } from "../runtime/manager.js";
import { queueFieldsOf } from "../scheduler/pending.js";
import { CacheFeed, type FeedInformer, type MirroredCacheName } from "./mirror.js";
import { RpcEndpoint } from "./rpc.js";
import {
  aborted,
  type RequestObserver,
  restartingRunnable,
  type VisibilityConfig,
  type VisibilityServices,
} from "./setup.js";
import type { MainThreadMethods, ThreadEvent, VisibilityThreadData } from "./thread.js";

export interface VisibilityThreadOptions {
  /** The thread's entry module (src/cmd/visibility-thread.ts, bundled or not). */
  entry: URL;
  cfg: VisibilityConfig;
  services: VisibilityServices;
  caches: Record<MirroredCacheName, FeedInformer>;
  maxConcurrentBuilds: number;
  maxBuildsPerNamespace: number;
  log: Logger;
  logLevel: LogLevel;
  loggerName: string;
  onRequest?: RequestObserver;
  onConnection?: () => void;
  /** The thread's longest event-loop delay over its last report interval (LOOP_DELAY_REPORT_MS). */
  onLoopDelay?: (maxSeconds: number) => void;
}

/** How long a stopping thread gets to close its server before it is terminated. */
const STOP_TIMEOUT_MS = 5_000;

export function visibilityThreadRunnable(opts: VisibilityThreadOptions): Runnable {
  return restartingRunnable(opts.log, (signal) => runThreadOnce(opts, signal));
}

/** Runs one thread until `signal` aborts (then stops it) or it fails; says whether it served. */
async function runThreadOnce(
  opts: VisibilityThreadOptions,
  signal: AbortSignal,
): Promise<{ served: boolean; err?: unknown }> {
  const data: VisibilityThreadData = {
    port: opts.cfg.port,
    bindAddress: opts.cfg.bindAddress,
    maxConcurrentBuilds: opts.maxConcurrentBuilds,
    maxBuildsPerNamespace: opts.maxBuildsPerNamespace,
    publishesCertificate: opts.services.onCertificate !== undefined,
    logLevel: opts.logLevel,
    loggerName: opts.loggerName,
  };
  const worker = new Worker(opts.entry, { workerData: data });
  const { services } = opts;
  const methods: MainThreadMethods = {
    certificate: () => services.certificates.current(),
    requestHeaderConfig: () => services.requestHeaderConfig(),
    review: (spec) => services.review(spec as Parameters<VisibilityServices["review"]>[0]),
    publishCertificate: async (cert) => services.onCertificate?.(cert),
  };
  const thread = new RpcEndpoint(worker, { ...methods }, (m) => {
    const event = m as ThreadEvent;
    if ("request" in event) {
      const r = event.request;
      opts.onRequest?.(r.verb, r.code, r.seconds, r.newConnection);
    } else if ("connection" in event) opts.onConnection?.();
    else if ("loopDelay" in event) opts.onLoopDelay?.(event.loopDelay.maxSeconds);
  });
  // Builds go across as what the queue reads of them: a fraction of each to copy and to hold.
  const feed = new CacheFeed(opts.caches, (batch) => worker.postMessage({ caches: batch }), {
    builds: (obj) => queueFieldsOf(obj as ImageBuild),
  });
  const ended = new Promise<Error>((resolve) => {
    worker.once("error", (err) => resolve(err));
    worker.once("exit", (code) => resolve(new Error(`the visibility thread exited with code ${code}`)));
  });
  void ended.then((err) => thread.rejectAll(err));
  const stopping = aborted(signal);
  feed.start();
  let served = false;
  try {
    const started = await Promise.race([
      thread.call("start").then(() => "started" as const),
      ended.then((err) => Promise.reject(err)),
      // Shutting down while it starts (its certificate can wait on an apiserver that is away).
      stopping.then(() => "aborted" as const),
    ]);
    if (started === "aborted") return { served };
    served = true;
    const outcome = await Promise.race([stopping, ended]);
    if (outcome) return { served, err: outcome };
    await Promise.race([
      thread.call("stop").catch(() => undefined),
      sleep(STOP_TIMEOUT_MS, undefined, { ref: false }),
    ]);
    return { served };
  } catch (err) {
    return { served, err };
  } finally {
    feed.stop();
    await worker.terminate();
  }
}
