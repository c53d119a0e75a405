// golden's four controllers on the runtime: the Image, ImageBuild and version reconcilers and the
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
import {
  GROUP,
  IMAGE_BUILD_KIND,
  IMAGE_KIND,
  type Image,
  type ImageBuild,
  type ImageVersion,
} from "../../api/v1alpha1/index.js";
import type { BuildMetrics } from "../../controllers/build-metrics.js";
import { requeueOnConflict } from "../../controllers/conflicts.js";
import type { EventSink } from "../../controllers/events.js";
import { BUILDS_BY_IMAGE_UID, ImageReconciler } from "../../controllers/image-reconciler.js";
import { ImageBuildReconciler } from "../../controllers/imagebuild-reconciler.js";
import type { WorkerConfig } from "../../controllers/job-template.js";
import { VERSIONS_BY_PARENT, VersionReconciler } from "../../controllers/version-reconciler.js";
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
  const { images, builds, versions, jobs, pods, namespaces } = d.caches;
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
  const versionReconciler = new VersionReconciler({
    images,
    builds,
    buildsByImageIndex: BUILDS_BY_IMAGE_UID,
    versions,
    client: d.golden,
    events: d.events,
    log,
    distributionRetryBaseMs: cfg.retryBaseMs,
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
    workerServiceAccount: cfg.worker.serviceAccount,
    log,
  });

  const opts = { concurrency: cfg.maxConcurrentReconciles, metrics, logger: log };
  const imageController = new Controller({
    ...opts,
    name: "image",
    reconcile: (key, ctx) => requeueOnConflict(() => imageReconciler.reconcile(key, ctx.logger)),
  });
  const versionController = new Controller({
    ...opts,
    name: "imageversion",
    reconcile: (key, ctx) => requeueOnConflict(() => versionReconciler.reconcile(key, ctx.logger)),
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

  const onImage = (i: Image) => {
    imageController.enqueueObject(i);
    versionController.enqueueObject(i);
  };
  images.on("add", onImage);
  images.on("update", onImage);
  images.on("delete", onImage);
  // A version's Image decides its status and channels; Images built on it check their parent.
  const onVersion = (v: ImageVersion) => {
    versionController.enqueueOwner(v, IMAGE_KIND, GROUP);
    const key = `${v.metadata?.namespace}/${v.spec.imageName}/${v.spec.version}`;
    for (const child of versions.byIndex(VERSIONS_BY_PARENT, key))
      versionController.enqueueOwner(child, IMAGE_KIND, GROUP);
  };
  versions.on("add", onVersion);
  versions.on("update", onVersion);
  versions.on("delete", onVersion);
  // The scheduler hears every build and Job event but runs a pass only for those that can change
  // its decision: most events are progress and heartbeat writes of running builds, and their Jobs.
  const wakeScheduler = (mayChangeDecision: boolean) => {
    if (mayChangeDecision) schedulerController.enqueue(SCHEDULER_KEY);
  };
  const onBuild = (b: ImageBuild) => {
    imageController.enqueueOwner(b, IMAGE_KIND, GROUP);
    if (b.status?.phase === "Succeeded") versionController.enqueueOwner(b, IMAGE_KIND, GROUP);
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
  return [imageController, versionController, buildController, schedulerController];
}
