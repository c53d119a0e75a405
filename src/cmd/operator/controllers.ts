// golden's three controllers on the runtime: the Image and ImageBuild reconcilers and the
// scheduler, and the informer events that wake each of them.
import {
  BatchV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  type V1Job,
  type V1Namespace,
  type V1Pod,
} from "@kubernetes/client-node";
import type { GoldenClient } from "../../api/client.js";
import { GROUP, IMAGE_BUILD_KIND, IMAGE_KIND, type ImageBuild } from "../../api/v1alpha1/index.js";
import type { BuildMetrics } from "../../controllers/build-metrics.js";
import { requeueOnConflict } from "../../controllers/conflicts.js";
import type { EventSink } from "../../controllers/events.js";
import { ImageReconciler } from "../../controllers/image-reconciler.js";
import { ImageBuildReconciler } from "../../controllers/imagebuild-reconciler.js";
import type { WorkerConfig } from "../../controllers/job-template.js";
import { WorkerAccess } from "../../controllers/worker-access.js";
import { unlessNotFound } from "../../runtime/api-errors.js";
import { Controller } from "../../runtime/controller.js";
import type { RestClient } from "../../runtime/kube.js";
import type { Logger } from "../../runtime/logger.js";
import type { Metrics } from "../../runtime/metrics.js";
import { BuildScheduler, SCHEDULER_KEY } from "../../scheduler/loop.js";
import type { Informers } from "./informers.js";

export interface ControllersConfig {
  maxConcurrentReconciles: number;
  maxConcurrentBuilds: number;
  maxBuildsPerNamespace: number;
  worker: WorkerConfig;
  retryBaseMs?: number;
  /** Fail a running build after this long without a worker heartbeat; 0 disables. */
  workerLostAfterMs: number;
}

export interface ControllersDeps {
  rest: RestClient;
  golden: GoldenClient;
  caches: Informers;
  events: EventSink;
  metrics: Metrics;
  buildMetrics: BuildMetrics;
  log: Logger;
}

export function controllers(cfg: ControllersConfig, d: ControllersDeps): Controller[] {
  const { images, builds, jobs, pods, namespaces } = d.caches;
  const { metrics, log } = d;
  const batch = d.rest.api(BatchV1Api);
  const imageReconciler = new ImageReconciler({
    images,
    builds,
    client: d.golden,
    events: d.events,
    log,
    retryBaseMs: cfg.retryBaseMs,
  });
  const buildReconciler = new ImageBuildReconciler({
    builds,
    jobs,
    client: d.golden,
    batch,
    workerAccess: new WorkerAccess(
      d.rest.api(CoreV1Api),
      d.rest.api(RbacAuthorizationV1Api),
      cfg.worker.serviceAccount,
    ),
    worker: cfg.worker,
    events: d.events,
    log,
    workerLostAfterMs: cfg.workerLostAfterMs,
    onFinished: (build, seconds) => {
      if (seconds !== undefined)
        d.buildMetrics.duration.observe({ result: build.status?.phase ?? "Unknown" }, seconds);
    },
  });
  const scheduler = new BuildScheduler({
    builds,
    jobs,
    pods,
    readJob: (namespace, name) => unlessNotFound(batch.readNamespacedJob({ namespace, name })),
    namespaces,
    client: d.golden,
    onAdmitted: (build, waited) =>
      d.buildMetrics.queueWait.observe({ namespace: build.metadata?.namespace ?? "" }, waited),
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
    imageController.enqueueOwner(b, IMAGE_KIND, GROUP);
    buildController.enqueueObject(b);
    wakeScheduler(scheduler.observeBuild(b));
  };
  const onJob = (j: V1Job) => {
    buildController.enqueueOwner(j, IMAGE_BUILD_KIND, GROUP);
    wakeScheduler(scheduler.observeJob(j));
  };
  builds.on("add", onBuild);
  builds.on("update", onBuild);
  builds.on("delete", (b: ImageBuild) => {
    buildReconciler.forget(b);
    imageController.enqueueOwner(b, IMAGE_KIND, GROUP);
    buildController.enqueueObject(b);
    wakeScheduler(scheduler.forgetBuild(b));
  });
  jobs.on("add", onJob);
  jobs.on("update", onJob);
  jobs.on("delete", (j: V1Job) => {
    buildController.enqueueOwner(j, IMAGE_BUILD_KIND, GROUP);
    wakeScheduler(scheduler.forgetJob(j));
  });
  // A build pod that ends frees its slot (its Job's own finish comes a second or more later).
  pods.on("add", (p: V1Pod) => wakeScheduler(scheduler.observePod(p)));
  pods.on("update", (p: V1Pod) => wakeScheduler(scheduler.observePod(p)));
  pods.on("delete", (p: V1Pod) => wakeScheduler(scheduler.forgetPod(p)));
  // A namespace's limit annotation may have changed: its parked builds may go, or must wait.
  const onNamespace = (ns: V1Namespace) => wakeScheduler(scheduler.observeNamespace(ns));
  namespaces.on("add", onNamespace);
  namespaces.on("update", onNamespace);
  namespaces.on("delete", onNamespace);
  // The first pass rebuilds the scheduler's state from the caches and schedules the periodic
  // rebuilds, even in a cluster without a single build yet.
  schedulerController.enqueue(SCHEDULER_KEY);
  return [imageController, buildController, schedulerController];
}
