// golden's controllers on the runtime: the Image, ImageBuild and version reconcilers, the
// scheduler, and (--campaigns) the BaseImage and RebuildCampaign reconcilers, and the informer
// events that wake each of them.
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
  type BaseImage,
  GROUP,
  IMAGE_BUILD_KIND,
  IMAGE_KIND,
  type Image,
  type ImageBuild,
  type ImageVersion,
  type RebuildCampaign,
} from "../../api/v1alpha1/index.js";
import { ANNOTATIONS, LABELS } from "../../build/names.js";
import { isTerminal } from "../../build/phase.js";
import { BaseImageReconciler } from "../../controllers/baseimage-reconciler.js";
import type { BuildMetrics } from "../../controllers/build-metrics.js";
import { CampaignReconciler } from "../../controllers/campaign-reconciler.js";
import { CATALOG_INDEX, catalogSelector } from "../../controllers/catalog.js";
import { CatalogWarningsReconciler, type ConfigMapRef } from "../../controllers/catalog-warnings.js";
import { requeueOnConflict } from "../../controllers/conflicts.js";
import type { EventSink } from "../../controllers/events.js";
import {
  BUILDS_BY_IMAGE_UID,
  IMAGE_QUEUE_PRIORITY,
  IMAGES_BY_PARENT,
  ImageReconciler,
  imageOutcomePriority,
  imageQueuePriority,
  OUTCOME_WORKERS_SHARE,
} from "../../controllers/image-reconciler.js";
import { ImageBuildReconciler } from "../../controllers/imagebuild-reconciler.js";
import type { WorkerConfig } from "../../controllers/job-template.js";
import {
  VERSIONS_BY_IMAGE_UID,
  VERSIONS_BY_PARENT,
  VersionReconciler,
} from "../../controllers/version-reconciler.js";
import { WorkerAccess } from "../../controllers/worker-access.js";
import { unlessNotFound } from "../../runtime/api-errors.js";
import { Controller } from "../../runtime/controller.js";
import { objectKey, ownerKey } from "../../runtime/keys.js";
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
  /** Run the catalog's controllers: BaseImage revisions open RebuildCampaigns, which rebuild Images. */
  campaigns: boolean;
  /** Label selector of the BaseImages whose campaigns this operator runs; empty: all. */
  catalogSelector: string;
  /** The ConfigMap the deprecated-base warning policy reads (with the catalog's controllers). */
  catalogWarnings?: ConfigMapRef;
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
  const { images, builds, versions, jobs, pods, namespaces, baseImages, campaigns } = d.caches;
  const { metrics, log } = d;
  const batch = d.rest.api(BatchV1Api);
  const core = d.rest.api(CoreV1Api);
  const catalog = (key: string) => baseImages.byIndex(CATALOG_INDEX, key);
  const imageReconciler = new ImageReconciler({
    images,
    builds,
    versions,
    versionsByImageIndex: VERSIONS_BY_IMAGE_UID,
    client: d.golden,
    events: d.events,
    log,
    catalog,
    campaigns,
    // The scheduler is made below; a build is only ever created once the controllers run.
    announceBuild: (build) => scheduler.creating(build),
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
    requeue: (key) => buildController.enqueue(key),
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
    readPods: async (namespace, name) =>
      (await core.listNamespacedPod({ namespace, labelSelector: `${LABELS.build}=${name}` })).items,
    namespaces,
    client: d.golden,
    startJob: (build) => buildReconciler.admitting(build),
    onAdmitted: (build, waited) =>
      d.buildMetrics.queueWait.observe({ namespace: build.metadata?.namespace ?? "" }, waited),
    maxConcurrentBuilds: cfg.maxConcurrentBuilds,
    maxBuildsPerNamespace: cfg.maxBuildsPerNamespace,
    workerServiceAccount: cfg.worker.serviceAccount,
    log,
    wake: () => schedulerController.enqueue(SCHEDULER_KEY),
  });

  const opts = { concurrency: cfg.maxConcurrentReconciles, metrics, logger: log };
  // A campaign's Images (and their versions and builds) wait behind users' (IMAGE_QUEUE_PRIORITY),
  // and one worker of the Image and ImageBuild controllers is kept for users' work: a user's Image
  // or build never waits for a campaign's reconcile to end.
  const imagePriority = (key: string) => imageQueuePriority(images.get(key), campaigns);
  const reserve = { workers: 1, forPriority: IMAGE_QUEUE_PRIORITY.user };
  // Outcomes go ahead of users' other work, on at most a share of the workers (IMAGE_QUEUE_PRIORITY).
  const urgent = {
    fromPriority: IMAGE_QUEUE_PRIORITY.outcome,
    workers: Math.max(1, Math.floor(cfg.maxConcurrentReconciles * OUTCOME_WORKERS_SHARE)),
  };
  const imageController = new Controller({
    ...opts,
    name: "image",
    priorityOf: imagePriority,
    reserve,
    urgent,
    reconcile: (key, ctx) => requeueOnConflict(() => imageReconciler.reconcile(key, ctx.logger)),
  });
  const versionController = new Controller({
    ...opts,
    name: "imageversion",
    priorityOf: imagePriority,
    urgent,
    reconcile: (key, ctx) => requeueOnConflict(() => versionReconciler.reconcile(key, ctx.logger)),
  });
  const buildController = new Controller({
    ...opts,
    name: "imagebuild",
    // A user's admitted build gets its Job before the campaign's builds get theirs.
    priorityOf: (key) =>
      builds.get(key)?.spec.background ? IMAGE_QUEUE_PRIORITY.campaign : IMAGE_QUEUE_PRIORITY.user,
    reserve,
    reconcile: (key) => requeueOnConflict(() => buildReconciler.reconcile(key)),
  });
  // One key, one worker: each pass sees the whole queue, and passes never overlap.
  const campaignControllers = cfg.campaigns ? campaignControllersFor(cfg, d, catalog) : undefined;
  const campaignController = campaignControllers?.[1];
  const schedulerController = new Controller({
    name: "scheduler",
    concurrency: 1,
    metrics,
    logger: log,
    reconcile: () => scheduler.reconcile(),
  });

  // A build that ended and a version that came are recorded on their Image ahead of users' other
  // work (IMAGE_QUEUE_PRIORITY.outcome): a burst of new Images must not hide finished builds.
  const enqueueOutcome = (child: ImageBuild | ImageVersion, controller: Controller) => {
    const key = ownerKey(child, IMAGE_KIND, GROUP);
    if (key !== undefined)
      controller.enqueue(key, { priority: imageOutcomePriority(images.get(key), campaigns) });
  };

  // An Image's children (spec.base.image) follow its status: a new success makes them out of date.
  const onImage = (i: Image) => {
    imageController.enqueueObject(i);
    versionController.enqueueObject(i);
    const key = `${i.metadata?.namespace ?? ""}/${i.metadata?.name ?? ""}`;
    for (const child of images.byIndex(IMAGES_BY_PARENT, key)) imageController.enqueueObject(child);
  };
  images.on("add", onImage);
  images.on("update", onImage);
  images.on("delete", onImage);
  // A catalog change (revision, deprecation, end of life) may change any Image's status: rare, so
  // every Image is looked at again rather than indexing Images by base, behind all other work (a
  // thousand status refreshes must not delay a user's new Image). The initial list of either cache
  // needs nothing: every Image is reconciled once the caches have synced anyway.
  const onBaseImage = () => {
    if (!images.hasSynced() || !baseImages.hasSynced()) return;
    for (const i of images.list())
      imageController.enqueue(objectKey(i), { priority: IMAGE_QUEUE_PRIORITY.catalogRefresh });
  };
  baseImages.on("add", onBaseImage);
  baseImages.on("update", (b: BaseImage, old: BaseImage) => {
    if (b.metadata?.generation !== old.metadata?.generation) onBaseImage();
  });
  baseImages.on("delete", onBaseImage);
  // A campaign that stops (finished, deleted) must not start a build an Image has not created yet.
  // Its Images stay behind users' work even once it has stopped: there may be a thousand.
  const onCampaignForImages = (c: RebuildCampaign) => {
    for (const i of images.list())
      if (i.metadata?.annotations?.[ANNOTATIONS.campaign] === c.metadata?.name)
        imageController.enqueue(objectKey(i), { priority: IMAGE_QUEUE_PRIORITY.campaign });
  };
  campaigns.on("add", onCampaignForImages);
  campaigns.on("update", (c: RebuildCampaign, old: RebuildCampaign) => {
    if (c.status?.phase !== old.status?.phase) onCampaignForImages(c);
  });
  campaigns.on("delete", onCampaignForImages);
  // A version's Image records it (latestVersion, channels: the Image reconciler) and decides its
  // status (the version reconciler); versions built on it check their parent.
  const onVersion = (v: ImageVersion) => {
    enqueueOutcome(v, imageController);
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
    if (b.spec.campaign) campaignController?.enqueueAfter(b.spec.campaign, CAMPAIGN_COALESCE_MS);
    if (isTerminal(b)) enqueueOutcome(b, imageController);
    else imageController.enqueueOwner(b, IMAGE_KIND, GROUP);
    if (b.status?.phase === "Succeeded") enqueueOutcome(b, versionController);
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
    imageReconciler.forgetBuild(b);
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
  if (campaignController) {
    images.on("update", (i: Image) => {
      const name = i.metadata?.annotations?.[ANNOTATIONS.campaign];
      if (name) campaignController.enqueueAfter(name, CAMPAIGN_COALESCE_MS);
    });
  }
  return [
    imageController,
    versionController,
    buildController,
    schedulerController,
    ...(campaignControllers ?? []),
  ];
}

/**
 * A campaign's builds and Images change many times a second in a large wave; each pass over the
 * campaign reads every target and may rewrite its status (all targets). Their events coalesce
 * into one pass per this interval; the campaign's own changes (approval) act at once.
 */
const CAMPAIGN_COALESCE_MS = 500;

/**
 * The BaseImage and RebuildCampaign controllers (--campaigns), and the keeper of the deprecated-base
 * warnings (--catalog-warnings-configmap).
 */
function campaignControllersFor(
  cfg: ControllersConfig,
  d: ControllersDeps,
  catalog: (key: string) => BaseImage[],
): [Controller, Controller, ...Controller[]] {
  const { images, builds, baseImages, campaigns } = d.caches;
  const selected = catalogSelector(cfg.catalogSelector);
  const opts = { concurrency: cfg.maxConcurrentReconciles, metrics: d.metrics, logger: d.log };
  const baseReconciler = new BaseImageReconciler({
    bases: baseImages,
    client: d.golden,
    events: d.events,
    log: d.log,
    selected,
  });
  const campaignReconciler = new CampaignReconciler({
    campaigns,
    bases: baseImages,
    images,
    builds,
    catalog,
    client: d.golden,
    events: d.events,
    log: d.log,
    selected,
  });
  const baseController = new Controller({
    ...opts,
    name: "baseimage",
    reconcile: (key) => requeueOnConflict(() => baseReconciler.reconcile(key)),
  });
  // One campaign at a time per key is the controller's guarantee; a few campaigns run side by side.
  const campaignController = new Controller({
    ...opts,
    name: "rebuildcampaign",
    reconcile: (key) => requeueOnConflict(() => campaignReconciler.reconcile(key)),
  });
  baseImages.on("add", (b: BaseImage) => baseController.enqueueObject(b));
  baseImages.on("update", (b: BaseImage) => baseController.enqueueObject(b));
  // A new campaign may supersede another of its base: every campaign looks again (they are few).
  campaigns.on("add", () => {
    for (const c of campaigns.list()) campaignController.enqueueObject(c);
  });
  campaigns.on("update", (c: RebuildCampaign) => campaignController.enqueueObject(c));
  campaigns.on("delete", () => {
    for (const c of campaigns.list()) campaignController.enqueueObject(c);
  });
  const warnings = cfg.catalogWarnings && catalogWarningsController(cfg.catalogWarnings, d, catalog);
  return [baseController, campaignController, ...(warnings ? [warnings] : [])];
}

/** One key, the whole catalog: any BaseImage's change may change what the ConfigMap holds. */
function catalogWarningsController(
  ref: ConfigMapRef,
  d: ControllersDeps,
  catalog: (key: string) => BaseImage[],
): Controller {
  const { baseImages } = d.caches;
  const reconciler = new CatalogWarningsReconciler({
    bases: baseImages,
    catalog,
    configMaps: d.rest.api(CoreV1Api),
    ref,
    log: d.log,
  });
  const controller = new Controller({
    name: "catalogwarnings",
    metrics: d.metrics,
    logger: d.log,
    reconcile: () => requeueOnConflict(() => reconciler.reconcile()),
  });
  const key = `${ref.namespace}/${ref.name}`;
  baseImages.on("add", () => controller.enqueue(key));
  // A spec change (deprecated, aliases) or a deletion starting; not the revision history in status.
  baseImages.on("update", (b: BaseImage, old: BaseImage) => {
    if (
      b.metadata?.generation !== old.metadata?.generation ||
      b.metadata?.deletionTimestamp !== old.metadata?.deletionTimestamp
    )
      controller.enqueue(key);
  });
  baseImages.on("delete", () => controller.enqueue(key));
  // A catalog with no BaseImage at all still has its (empty) warnings to keep.
  controller.enqueue(key);
  return controller;
}
