// Wires golden's informers, reconcilers and scheduler into a runtime Manager. The entry point
// (src/cmd/operator.ts) only parses flags; tests and benchmarks can build the same operator.
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type V1Job,
  type V1Namespace,
} from "@kubernetes/client-node";
import { GoldenClient } from "../api/client.js";
import {
  API_VERSION,
  GROUP,
  IMAGE_BUILD_RESOURCE,
  IMAGE_RESOURCE,
  type Image,
  type ImageBuild,
} from "../api/v1alpha1/index.js";
import { EVENT_REPORTER, LABELS, MANAGED_BY, METRICS_PREFIX, OPERATOR_NAME } from "../build/names.js";
import { unlessNotFound } from "../runtime/api-errors.js";
import { Controller } from "../runtime/controller.js";
import { EventRecorder } from "../runtime/events.js";
import { Informer, stripManagedFields } from "../runtime/informer.js";
import { createThrottle, RestClient } from "../runtime/kube.js";
import type { Logger } from "../runtime/logger.js";
import { type LeaderElectionConfig, Manager } from "../runtime/manager.js";
import { Metrics } from "../runtime/metrics.js";
import { namespaceLimits } from "../scheduler/limits.js";
import { BuildScheduler, SCHEDULER_KEY } from "../scheduler/loop.js";
import { type PendingQueueSource, pendingQueue } from "../scheduler/pending.js";
import { type VisibilityConfig, visibilityRunnable } from "../visibility/setup.js";
import { BuildMetrics } from "./build-metrics.js";
import { slimImageBuild, slimJob } from "./cache-transforms.js";
import { requeueOnConflict } from "./conflicts.js";
import type { EventSink } from "./events.js";
import { BUILDS_BY_IMAGE_UID, ImageReconciler } from "./image-reconciler.js";
import { ImageBuildReconciler } from "./imagebuild-reconciler.js";
import type { WorkerConfig } from "./job-template.js";
import { WorkerAccess } from "./worker-access.js";

export interface OperatorConfig {
  /** Watch one namespace only; empty watches all. */
  namespace: string;
  maxConcurrentReconciles: number;
  qps: number;
  burst: number;
  healthPort: number;
  leaderElection?: Omit<LeaderElectionConfig, "client">;
  gracefulShutdownMs: number;
  maxConcurrentBuilds: number;
  maxBuildsPerNamespace: number;
  worker: WorkerConfig;
  identity: string;
  retryBaseMs?: number;
  /** Fail a running build after this long without a worker heartbeat; 0 disables. */
  workerLostAfterMs: number;
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
  const rest = new RestClient(kc, {
    throttle: createThrottle({ qps: cfg.qps, burst: cfg.burst }),
    metrics,
    userAgent: OPERATOR_NAME,
  });
  const golden = new GoldenClient(rest.api(CustomObjectsApi));
  const core = rest.api(CoreV1Api);
  // Events get a client and a QPS budget of their own, as controller-runtime's recorder does, so
  // telling users what happened never slows down making it happen.
  const eventsRest = new RestClient(kc, {
    throttle: createThrottle({ qps: cfg.qps, burst: cfg.burst }),
    metrics,
    userAgent: OPERATOR_NAME,
  });
  const recorder = new EventRecorder(eventsRest.api(EventsV1Api), {
    reportingController: EVENT_REPORTER,
    reportingInstance: cfg.identity,
    logger: log,
  });
  const events: EventSink = {
    record: (obj, event) =>
      recorder.record(
        {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata?.name ?? "",
          namespace: obj.metadata?.namespace,
          uid: obj.metadata?.uid,
          resourceVersion: obj.metadata?.resourceVersion,
        },
        event,
      ),
  };
  const scope = cfg.namespace ? `/namespaces/${cfg.namespace}` : "";
  const common = { client: rest, metrics, logger: log, transform: stripManagedFields } as const;

  const images = new Informer<Image>(kc, {
    ...common,
    name: "images",
    path: `/apis/${API_VERSION}${scope}/${IMAGE_RESOURCE.plural}`,
  });
  const builds = new Informer<ImageBuild>(kc, {
    ...common,
    name: "imagebuilds",
    path: `/apis/${API_VERSION}${scope}/${IMAGE_BUILD_RESOURCE.plural}`,
    transform: slimImageBuild,
    indexers: { [BUILDS_BY_IMAGE_UID]: (b) => [b.metadata?.labels?.[LABELS.imageUid] ?? ""] },
  });
  const jobs = new Informer<V1Job>(kc, {
    ...common,
    name: "jobs",
    path: `/apis/batch/v1${scope}/jobs`,
    transform: slimJob,
    labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`,
  });
  const namespaces = new Informer<V1Namespace>(kc, {
    ...common,
    name: "namespaces",
    path: "/api/v1/namespaces",
  });

  const batch = rest.api(BatchV1Api);
  const buildMetrics = new BuildMetrics(metrics.registry, images, builds);
  const imageReconciler = new ImageReconciler({
    images,
    builds,
    client: golden,
    events,
    log,
    retryBaseMs: cfg.retryBaseMs,
  });
  const buildReconciler = new ImageBuildReconciler({
    builds,
    jobs,
    client: golden,
    batch,
    workerAccess: new WorkerAccess(core, rest.api(RbacAuthorizationV1Api), cfg.worker.serviceAccount),
    worker: cfg.worker,
    events,
    log,
    workerLostAfterMs: cfg.workerLostAfterMs,
    onFinished: (build, seconds) => {
      if (seconds !== undefined)
        buildMetrics.duration.observe({ result: build.status?.phase ?? "Unknown" }, seconds);
    },
  });
  const scheduler = new BuildScheduler({
    builds,
    jobs,
    readJob: (namespace, name) => unlessNotFound(batch.readNamespacedJob({ namespace, name })),
    namespaces,
    client: golden,
    onAdmitted: (build, waited) =>
      buildMetrics.queueWait.observe({ namespace: build.metadata?.namespace ?? "" }, waited),
    maxConcurrentBuilds: cfg.maxConcurrentBuilds,
    maxBuildsPerNamespace: cfg.maxBuildsPerNamespace,
    log,
  });

  const opts = { concurrency: cfg.maxConcurrentReconciles, metrics, logger: log };
  const imageController = new Controller({
    ...opts,
    name: "image",
    reconcile: (key, ctx) => requeueOnConflict(() => imageReconciler.reconcile(key, ctx.logger)),
  });
  const buildController = new Controller({
    ...opts,
    name: "imagebuild",
    reconcile: (key) => requeueOnConflict(() => buildReconciler.reconcile(key)),
  });
  // One key, one worker: each pass sees the whole queue, and passes never overlap.
  const schedulerController = new Controller({
    name: "scheduler",
    concurrency: 1,
    metrics,
    logger: log,
    reconcile: () => scheduler.reconcile(),
  });

  images.on("add", (i) => imageController.enqueueObject(i));
  images.on("update", (i) => imageController.enqueueObject(i));
  images.on("delete", (i) => imageController.enqueueObject(i));
  // The scheduler hears every build and Job event but runs a pass only for those that can change
  // its decision: most events are progress and heartbeat writes of running builds, and their Jobs.
  const wakeScheduler = (mayChangeDecision: boolean) => {
    if (mayChangeDecision) schedulerController.enqueue(SCHEDULER_KEY);
  };
  const onBuild = (b: ImageBuild) => {
    imageController.enqueueOwner(b, "Image", GROUP);
    buildController.enqueueObject(b);
    wakeScheduler(scheduler.observeBuild(b));
  };
  const onJob = (j: V1Job) => {
    buildController.enqueueOwner(j, "ImageBuild", GROUP);
    wakeScheduler(scheduler.observeJob(j));
  };
  builds.on("add", onBuild);
  builds.on("update", onBuild);
  builds.on("delete", (b: ImageBuild) => {
    buildReconciler.forget(b);
    imageController.enqueueOwner(b, "Image", GROUP);
    buildController.enqueueObject(b);
    wakeScheduler(scheduler.forgetBuild(b));
  });
  jobs.on("add", onJob);
  jobs.on("update", onJob);
  jobs.on("delete", (j: V1Job) => {
    buildController.enqueueOwner(j, "ImageBuild", GROUP);
    wakeScheduler(scheduler.forgetJob(j));
  });
  // A namespace's limit annotation may have changed: its parked builds may go, or must wait.
  const onNamespace = (ns: V1Namespace) => wakeScheduler(scheduler.observeNamespace(ns));
  namespaces.on("add", onNamespace);
  namespaces.on("update", onNamespace);
  namespaces.on("delete", onNamespace);
  // The first pass rebuilds the scheduler's state from the caches and schedules the periodic
  // rebuilds, even in a cluster without a single build yet.
  schedulerController.enqueue(SCHEDULER_KEY);

  const manager = new Manager({
    logger: log,
    metrics,
    health: { port: cfg.healthPort },
    gracefulShutdownMs: cfg.gracefulShutdownMs,
    ...(cfg.leaderElection
      ? { leaderElection: { ...cfg.leaderElection, client: kc, userAgent: OPERATOR_NAME } }
      : {}),
  });
  for (const informer of [images, builds, jobs, namespaces]) manager.addInformer(informer);
  for (const controller of [imageController, buildController, schedulerController])
    manager.addController(controller);
  manager.addRunnable({
    name: "event-recorder",
    start: (signal) =>
      new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(recorder.close()))),
  });
  // Visibility: every replica serves the queue from its own caches (the runnable is not leader-only).
  const pending =
    cfg.pendingQueue ??
    pendingQueue({
      builds,
      jobs,
      namespaceLimit: namespaceLimits(namespaces, cfg.maxBuildsPerNamespace),
      namespaces,
      maxConcurrentBuilds: cfg.maxConcurrentBuilds,
    });
  if (cfg.visibility && cfg.visibility.port > 0)
    manager.addRunnable(visibilityRunnable(cfg.visibility, rest, pending, log));
  return { manager, metrics, pending };
}
