// The Image reconciler: makes sure each Image generation has a build, supersedes builds of older
// generations, retries failures per policy, and mirrors the newest build, the newest version and
// the channels into the Image's status. It is the one writer of that status (the version
// reconciler creates the versions and never writes the Image), so the two never conflict.
// Level-triggered and idempotent: builds have deterministic names, so a restart at any point
// re-derives the same decisions and never builds a generation twice. An Image carries no finalizer
// of golden's: its builds hold the artifacts, so they carry it (set at creation, at no extra write).
import type { GoldenClient } from "../api/client.js";
import {
  API_VERSION,
  type BuildInputs,
  type BuildTrigger,
  IMAGE_BUILD_KIND,
  type Image,
  type ImageBase,
  type ImageBuild,
  type ImageStatus,
  type ImageVersion,
  type RebuildCampaign,
} from "../api/v1alpha1/index.js";
import { isFinished } from "../build/campaign.js";
import { canonicalJson } from "../build/canonical.js";
import { attempt, DEFAULT_ARCH, historyLimits } from "../build/defaults.js";
import { inputsOf } from "../build/inputs.js";
import { ancestry } from "../build/lineage.js";
import { ANNOTATIONS, buildName, FINALIZER, imageLabelValue, LABELS, MANAGED_BY } from "../build/names.js";
import { byCreation } from "../build/order.js";
import { isTerminal } from "../build/phase.js";
import { apiErrorMessage, isAlreadyExists, isInvalid } from "../runtime/api-errors.js";
import { TerminalError } from "../runtime/controller.js";
import type { Informer } from "../runtime/informer.js";
import { makeKey, objectKey } from "../runtime/keys.js";
import type { Logger } from "../runtime/logger.js";
import type { Result } from "../runtime/workqueue.js";
import type { CreatingBuild } from "../scheduler/loop.js";
import { chooseParentBuild } from "../versions/revocation.js";
import { type CatalogLookup, resolveCatalogBase, type SpecProblem } from "./catalog.js";
import { isTooLarge } from "./conflicts.js";
import type { EventSink } from "./events.js";
import { type HandledTriggers, handledTriggers, rebuildHandled, slotHandled } from "./handled-triggers.js";
import { deriveImageStatus, type UpToDate } from "./image-status.js";
import { versionsView } from "./image-versions.js";
import { ownerReference } from "./owner.js";
import { retryAt } from "./retry.js";
import { type ScheduleState, scheduleState, scheduleTriggerId } from "./schedule.js";

export const BUILDS_BY_IMAGE_UID = "image-uid";

/**
 * How long a new success waits for its ImageVersion before the Image records it without one (the
 * version follows in a later write). The version reconciler makes it within a round trip or two;
 * waiting for it lets the success and its version be one status write and one Event.
 */
export const VERSION_WAIT_MS = 30_000;

/**
 * How long a build this reconciler created stands in for it in the build cache. The cache has it
 * within a watch round trip; one that never shows there (created and deleted before its events
 * reached us, or a relist that missed both) stops counting after this.
 */
export const CREATED_BUILD_GRACE_MS = 30_000;

/** The campaign that asked this Image to rebuild (its annotation), while it may still start builds. */
export function runningCampaignOf(
  image: Image,
  campaigns: Pick<Informer<RebuildCampaign>, "get">,
): RebuildCampaign | undefined {
  const name = image.metadata?.annotations?.[ANNOTATIONS.campaign];
  const campaign = name ? campaigns.get(name) : undefined;
  if (!campaign || campaign.metadata?.deletionTimestamp || isFinished(campaign)) return undefined;
  return campaign;
}

/**
 * Where an Image's reconcile waits in the Image (and ImageVersion) controllers' queues, highest
 * first: a user's build that ended, or its new version, to be recorded on the Image; users' other
 * work; then a running campaign's Images; last the refresh of every Image a catalog change (a
 * BaseImage's revision, deprecation, end of life) asks for, a thousand at once that only rewrite a
 * condition. So neither kind of mass work delays a user's Image (and the scheduler then admits the
 * user's build ahead of the campaign's too).
 *
 * Outcomes go first because a burst of new Images, each waiting for the pass that creates its
 * build, hid the builds already done: behind 5 000 of them an Image showed its build's result 29 s
 * after it (p50), now 0.9 s. But they run on at most half the workers (OUTCOME_WORKERS_SHARE): at
 * a steady 20 Images/s outcomes are as much work as new Images, and strict priority made Image →
 * Job 2.6 times as slow (p50 8.5 → 22.4 s); the share leaves that row within its run-to-run spread.
 */
export const IMAGE_QUEUE_PRIORITY = { outcome: 1, user: 0, campaign: -1, catalogRefresh: -2 } as const;

/** The share of the Image and ImageVersion controllers' workers outcomes may take at once. */
export const OUTCOME_WORKERS_SHARE = 0.5;

/**
 * An Image's priority in the queue (IMAGE_QUEUE_PRIORITY) from what it is now: a running
 * campaign's, unless that campaign's spec.priority is Normal (then it competes as users' do).
 */
export function imageQueuePriority(
  image: Image | undefined,
  campaigns: Pick<Informer<RebuildCampaign>, "get">,
): number {
  const campaign = image && runningCampaignOf(image, campaigns);
  return campaign && (campaign.spec.priority ?? "Background") === "Background"
    ? IMAGE_QUEUE_PRIORITY.campaign
    : IMAGE_QUEUE_PRIORITY.user;
}

/**
 * An Image's priority when one of its builds ended or a version of it came or changed: ahead of
 * users' other work, unless the Image is a background campaign's (its outcomes stay behind users').
 */
export function imageOutcomePriority(
  image: Image | undefined,
  campaigns: Pick<Informer<RebuildCampaign>, "get">,
): number {
  const priority = imageQueuePriority(image, campaigns);
  return priority === IMAGE_QUEUE_PRIORITY.user ? IMAGE_QUEUE_PRIORITY.outcome : priority;
}

/** Images indexed by `<namespace>/<spec.base.image>`: the children of a parent Image. */
export const IMAGES_BY_PARENT = "parent";

export function parentIndexKeys(image: Image): string[] {
  const parent = image.spec?.base?.image;
  return parent ? [`${image.metadata?.namespace ?? ""}/${parent}`] : [];
}

export interface ImageReconcilerDeps {
  images: Pick<Informer<Image>, "get">;
  /** Indexed by BUILDS_BY_IMAGE_UID. */
  builds: Pick<Informer<ImageBuild>, "byIndex">;
  /** The Image's versions by its uid (VERSIONS_BY_IMAGE_UID of version-reconciler.ts). */
  versions: Pick<Informer<ImageVersion>, "byIndex">;
  versionsByImageIndex: string;
  client: GoldenClient;
  events: EventSink;
  log: Logger;
  /** BaseImages by catalog key (catalog.ts). */
  catalog: CatalogLookup;
  /** RebuildCampaigns by name: an Image rebuilds for one only while it runs. */
  campaigns: Pick<Informer<RebuildCampaign>, "get">;
  /**
   * Tells the scheduler of each build as it is being created (BuildScheduler.creating), so it
   * counts in the queue before its watch event arrives.
   */
  announceBuild?: (build: ImageBuild) => CreatingBuild;
  now?: () => Date;
  retryBaseMs?: number;
}

interface BuildRequest {
  attempt: number;
  trigger: BuildTrigger;
  triggerId?: string;
  campaign?: string;
  background?: boolean;
}

/** What an Image builds on now, resolved from the catalog or its parent. */
interface Origin {
  problem?: SpecProblem;
  /** A layered Image whose parent has never succeeded: nothing to build on yet. */
  waiting?: string;
  inputs?: BuildInputs;
  rootBase?: ImageBase;
  deprecated?: string;
  upToDate?: UpToDate;
}

export class ImageReconciler {
  private readonly now: () => Date;
  /**
   * Per Image key, the resourceVersion this reconciler last wrote its status over. While the cache
   * still shows that version, our own write has not reached it yet: a pass now would decide on a
   * stale Image and its replace could only fail with a 409. The write's update event brings the
   * key back once the cache has it.
   */
  private readonly wroteOver = new Map<string, string>();
  /**
   * Per Image key, the build this reconciler created last, until the build cache has it. The
   * Image's update event (its status naming the build) can come before the build's add event: a
   * pass then would create the build again (409) and write a status without it.
   */
  private readonly createdBuilds = new Map<string, { build: ImageBuild; sinceMs: number }>();

  constructor(private readonly deps: ImageReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(key: string, logger: Logger = this.deps.log): Promise<Result> {
    const image = this.deps.images.get(key);
    if (!image) {
      this.wroteOver.delete(key);
      this.createdBuilds.delete(key);
      return; // Deleted: owner references garbage-collect its builds and Jobs.
    }
    const stale = this.wroteOver.get(key);
    if (stale !== undefined && stale === image.metadata?.resourceVersion) return;
    this.wroteOver.delete(key);
    const log = logger.child({ image: image.metadata?.name, generation: image.metadata?.generation });
    try {
      return await this.reconcileImage(image, log);
    } catch (err) {
      if (!isTooLarge(err)) throw err;
      // Near etcd's size limit the Image cannot even take a status: say so in an
      // Event (a small object of its own) and stop retrying what cannot succeed.
      this.deps.events.record(image, {
        type: "Warning",
        reason: "ObjectTooLarge",
        action: "Reconcile",
        note: `the Image is too large to store its status and builds (${apiErrorMessage(err)}); shrink spec.customizations`,
      });
      throw new TerminalError(`Image too large to reconcile: ${apiErrorMessage(err)}`);
    }
  }

  private async reconcileImage(image: Image, log: Logger): Promise<Result> {
    // Being deleted: owner references let the garbage collector delete the builds, and each
    // build's finalizer unpublishes its artifacts.
    if (image.metadata?.deletionTimestamp) return;

    const uid = image.metadata?.uid ?? "";
    const generation = image.metadata?.generation ?? 0;
    const builds = this.withCreatedBuild(image, this.deps.builds.byIndex(BUILDS_BY_IMAGE_UID, uid)).sort(
      byCreation,
    );
    for (const build of builds) {
      if (build.spec.imageGeneration < generation && !isTerminal(build)) {
        await this.cancel(
          image,
          build,
          "Superseded",
          `Image spec changed: generation ${generation} supersedes this build`,
        );
      }
    }

    const now = this.now();
    const origin = this.resolveOrigin(image, builds, now);
    let problem = origin.problem;
    let retryTime: Date | undefined;
    const wakeups: number[] = [];
    const schedule = this.schedule(image, now);
    if (!problem && schedule && !schedule.ok) {
      problem = { reason: "InvalidSchedule", field: "spec.rebuild.schedule", message: schedule.message };
    }
    if (schedule?.ok) wakeups.push(schedule.next.getTime() - now.getTime());
    if (!problem && !origin.waiting) {
      const latest = builds.filter((b) => b.spec.imageGeneration === generation).at(-1);
      retryTime = latest ? retryAt(image, latest, this.deps.retryBaseMs) : undefined;
      const dueSlot = schedule?.ok ? schedule.due : undefined;
      const handled = handledTriggers(image.status, builds, rebuildToken(image));
      const request = this.nextBuild(image, builds, latest, retryTime, dueSlot, handled);
      if (request === "wait" && retryTime) {
        wakeups.push(retryTime.getTime() - now.getTime());
      } else if (request && request !== "wait") {
        try {
          const created = await this.createBuild(image, request, origin);
          if (created) {
            builds.push(created);
            log.info("created build", {
              build: created.metadata?.name,
              trigger: request.trigger,
              attempt: request.attempt,
            });
          }
        } catch (err) {
          // The apiserver refused the build (e.g. a limit the Image's schema does not share):
          // retrying cannot help, so say why in status instead of crash-looping.
          if (!isInvalid(err)) throw err;
          problem = {
            reason: "BuildRejected",
            field: "spec",
            message: `ImageBuild refused: ${apiErrorMessage(err)}`,
          };
        }
        retryTime = undefined;
      }
    }

    const status = deriveImageStatus({
      image,
      builds,
      problem,
      retryAt: retryTime,
      now,
      waiting: origin.waiting,
      upToDate: origin.upToDate,
      deprecated: origin.deprecated,
    });
    if (origin.deprecated && !image.status?.conditions?.some((c) => c.type === "BaseDeprecated")) {
      this.deps.events.record(image, {
        type: "Warning",
        reason: "BaseDeprecated",
        action: "ResolveBase",
        note: origin.deprecated,
      });
    }
    if (schedule?.ok && schedule.due) status.lastScheduleTime = schedule.due.toISOString();
    Object.assign(status, handledTriggers(image.status, builds, rebuildToken(image)));
    const versions = this.deps.versions.byIndex(this.deps.versionsByImageIndex, uid);
    const view = versionsView(image, versions, now);
    if (view.latestVersion) status.latestVersion = view.latestVersion;
    else delete status.latestVersion;
    if (view.channels.length > 0) status.channels = view.channels;
    else delete status.channels;
    if (view.wakeAfterMs !== undefined) wakeups.push(view.wakeAfterMs);
    // A new success waits (briefly) for its version rather than being written twice: the version
    // reconciler creates the ImageVersion, its informer event brings the Image back here, and that
    // pass writes both. Waiting, not creating the version here, keeps one reconciler per kind
    // (numbering needs every version of the Image and a layered build waits for its parent's) and
    // keeps this pass a function of the caches: a restart mid-wait decides the same.
    const versionDue = awaitingVersion(image, status, builds, versions, now);
    if (versionDue !== undefined) {
      wakeups.push(versionDue);
    } else if (await this.writeStatus(image, status, builds, versions, problem?.reason)) {
      log.debug("status updated", {
        phase: status.phase,
        build: status.latestBuild,
        reason: problem?.reason,
      });
      for (const e of view.events) {
        log.info("channel", { note: e.note });
        this.deps.events.record(image, { type: e.type, reason: e.reason, action: "Channel", note: e.note });
      }
    }
    await this.pruneHistory(image, builds, status, log);
    return wakeups.length > 0 ? { requeueAfterMs: Math.max(0, Math.min(...wakeups)) } : undefined;
  }

  /** The Image's cached builds, and the build it created last if the cache has not caught up. */
  private withCreatedBuild(image: Image, cached: ImageBuild[]): ImageBuild[] {
    const key = objectKey(image);
    const created = this.createdBuilds.get(key);
    if (!created) return cached;
    const name = created.build.metadata?.name;
    // Labelled with its Image's uid, as the build cache indexes it: not this Image's if recreated.
    const pending =
      created.build.metadata?.labels?.[LABELS.imageUid] === image.metadata?.uid &&
      this.now().getTime() - created.sinceMs < CREATED_BUILD_GRACE_MS &&
      !cached.some((b) => b.metadata?.name === name);
    if (pending) return [...cached, created.build];
    this.createdBuilds.delete(key);
    return cached;
  }

  /** A build left the cache: if it is the one created last, the cache has had it; stop standing in. */
  forgetBuild(build: ImageBuild): void {
    const key = makeKey(build.metadata?.namespace, build.spec.imageName);
    if (this.createdBuilds.get(key)?.build.metadata?.uid === build.metadata?.uid)
      this.createdBuilds.delete(key);
  }

  private schedule(image: Image, now: Date): ScheduleState | undefined {
    const rebuild = image.spec.rebuild;
    if (!rebuild?.schedule || rebuild.suspend) return undefined;
    const created = new Date(image.metadata?.creationTimestamp ?? now);
    return scheduleState(rebuild.schedule, now, created);
  }

  /**
   * spec.historyLimits: keep the newest N successful and M failed (or cancelled) builds; their
   * Jobs and pods go with them. The latest and the last successful build are always kept.
   */
  private async pruneHistory(
    image: Image,
    builds: ImageBuild[],
    status: ImageStatus,
    log: Logger,
  ): Promise<void> {
    const keep = new Set([status.latestBuild, status.lastSuccessfulBuild]);
    const newestFirst = [...builds].filter(isTerminal).reverse();
    const succeeded = newestFirst.filter((b) => b.status?.phase === "Succeeded");
    const failed = newestFirst.filter((b) => b.status?.phase !== "Succeeded");
    const limits = historyLimits(image.spec);
    const excess = [...succeeded.slice(limits.successful), ...failed.slice(limits.failed)];
    for (const build of excess) {
      const name = build.metadata?.name ?? "";
      if (keep.has(name) || build.metadata?.deletionTimestamp) continue; // Kept, or already going.
      await this.deps.client.imageBuilds.delete(build.metadata?.namespace ?? "", name, {
        propagationPolicy: "Background",
        preconditionsUid: build.metadata?.uid,
      });
      log.info("pruned build", { build: name });
    }
  }

  /** The build this Image needs now, "wait" for a retry that is not due yet, or undefined. */
  private nextBuild(
    image: Image,
    builds: ImageBuild[],
    latest: ImageBuild | undefined,
    retryTime: Date | undefined,
    dueSlot: Date | undefined,
    handled: HandledTriggers,
  ): BuildRequest | "wait" | undefined {
    if (!latest) return { attempt: 1, trigger: builds.length === 0 ? "Created" : "SpecChanged" };
    const token = rebuildToken(image);
    const rebuildId = token ? `rebuild:${token}` : undefined;
    if (
      token &&
      rebuildId &&
      !rebuildHandled(handled, token) &&
      !builds.some((b) => b.metadata?.annotations?.[ANNOTATIONS.trigger] === rebuildId)
    ) {
      // One build at a time per Image: a rebuild asked for mid-build starts once that one ends.
      return isTerminal(latest) ? { attempt: 1, trigger: "Rebuild", triggerId: rebuildId } : undefined;
    }
    if (retryTime) {
      if (retryTime.getTime() > this.now().getTime()) return "wait";
      return {
        attempt: attempt(latest) + 1,
        trigger: "Retry",
        triggerId: latest.metadata?.annotations?.[ANNOTATIONS.trigger],
        campaign: latest.spec.campaign,
        background: latest.spec.background,
      };
    }
    if (dueSlot && isTerminal(latest) && !slotHandled(handled, dueSlot)) {
      const slotId = scheduleTriggerId(dueSlot);
      if (!builds.some((b) => b.metadata?.annotations?.[ANNOTATIONS.trigger] === slotId)) {
        return { attempt: 1, trigger: "Schedule", triggerId: slotId };
      }
    }
    const campaign = this.runningCampaign(image);
    if (campaign && isTerminal(latest)) {
      const campaignId = `campaign:${campaign.metadata?.name}`;
      if (!builds.some((b) => b.metadata?.annotations?.[ANNOTATIONS.trigger] === campaignId)) {
        return {
          attempt: 1,
          trigger: "BaseUpdate",
          triggerId: campaignId,
          campaign: campaign.metadata?.name,
          background: (campaign.spec.priority ?? "Background") === "Background",
        };
      }
    }
    return undefined;
  }

  /** The campaign that asked this Image to rebuild (its annotation), while it may still start builds. */
  private runningCampaign(image: Image): RebuildCampaign | undefined {
    return runningCampaignOf(image, this.deps.campaigns);
  }

  /**
   * The base of the Image's next build and whether its newest success is up to date: the catalog
   * entry its os/release/arch name, or for a layered Image its parent's newest success (the parent
   * must exist, not close a cycle, and have succeeded once).
   */
  private resolveOrigin(image: Image, builds: ImageBuild[], now: Date): Origin {
    const lastSuccess = builds.filter((b) => b.status?.phase === "Succeeded").at(-1);
    const built = lastSuccess ? inputsOf(lastSuccess) : undefined;
    const parentName = image.spec.base.image;
    if (!parentName) {
      const resolved = resolveCatalogBase(image.spec.base, this.deps.catalog, now);
      if (resolved.problem) return { problem: resolved.problem };
      const baseImage = resolved.base.metadata?.name ?? "";
      const revision = resolved.base.spec.revision;
      return {
        inputs: { baseImage, baseRevision: revision },
        deprecated: resolved.deprecated,
        upToDate: !lastSuccess
          ? undefined
          : built?.baseImage === baseImage && built.baseRevision === revision
            ? {
                ok: true,
                reason: "BaseCurrent",
                message: `built on BaseImage ${baseImage} revision ${revision}`,
              }
            : {
                ok: false,
                reason: "BaseUpdated",
                message: `built on ${built?.baseImage ?? "an unrecorded base"} revision ${built?.baseRevision ?? "unknown"}; the catalog's BaseImage ${baseImage} is at revision ${revision}`,
              },
      };
    }
    const namespace = image.metadata?.namespace ?? "";
    const lineage = ancestry(image, (name) => this.deps.images.get(`${namespace}/${name}`));
    if (lineage.problem === "Cycle") {
      return {
        problem: {
          reason: "BaseCycle",
          field: "spec.base.image",
          message: `spec.base.image: the Images build on each other in a cycle: ${lineage.path.join(" -> ")}`,
        },
      };
    }
    if (lineage.problem !== undefined) {
      return {
        problem: {
          reason: "ParentNotFound",
          field: "spec.base.image",
          message:
            lineage.path.length > 1
              ? `spec.base.image: Image ${lineage.missing} (an ancestor: ${lineage.path.join(" -> ")} -> ${lineage.missing}) does not exist in namespace ${namespace}`
              : `spec.base.image: parent Image ${lineage.missing} does not exist in namespace ${namespace}`,
        },
      };
    }
    const root = lineage.root.spec.base;
    const rootBase: ImageBase = { os: root.os, release: root.release, arch: root.arch ?? DEFAULT_ARCH };
    const parent = lineage.parents[0] as Image;
    const newestSuccess = parent.status?.lastSuccessfulBuild;
    if (!newestSuccess)
      return { waiting: `waiting for parent Image ${parentName}'s first successful build`, rootBase };
    // A revoked parent version is not built on again (README, "Revocation"): the parent's newest
    // version still usable stands in for it, or the Image waits for a new one.
    const parentVersions = this.deps.versions.byIndex(
      this.deps.versionsByImageIndex,
      parent.metadata?.uid ?? "",
    );
    const choice = chooseParentBuild(newestSuccess, parentVersions, now);
    if (choice.revoked) {
      const waiting = `waiting for a usable version of parent Image ${parentName}: its newest, ${choice.revoked.spec.version}, is revoked, and so is every version before it`;
      return {
        waiting,
        rootBase,
        upToDate: lastSuccess ? { ok: false, reason: "ParentRevoked", message: waiting } : undefined,
      };
    }
    const parentBuild = choice.build;
    const onNewest = parentBuild === newestSuccess;
    const inputs: BuildInputs = { parentImage: parentName, parentBuild };
    const base = onNewest ? parent.status : choice.version?.spec.inputs;
    if (base?.baseImage) inputs.baseImage = base.baseImage;
    if (base?.baseRevision) inputs.baseRevision = base.baseRevision;
    return {
      inputs,
      rootBase,
      upToDate: !lastSuccess
        ? undefined
        : built?.parentBuild === parentBuild
          ? {
              ok: true,
              reason: "ParentCurrent",
              message: `built on parent ${parentName}'s build ${parentBuild}`,
            }
          : {
              ok: false,
              reason: onNewest ? "ParentRebuilt" : "ParentRevoked",
              message: `built on parent ${parentName}'s build ${built?.parentBuild ?? "(unrecorded)"}; its ${onNewest ? "newest success" : "newest usable build"} is ${parentBuild}`,
            },
    };
  }

  private async createBuild(
    image: Image,
    request: BuildRequest,
    origin: Origin,
  ): Promise<ImageBuild | undefined> {
    const meta = image.metadata ?? {};
    const name = buildName({
      imageName: meta.name ?? "",
      imageUid: meta.uid ?? "",
      generation: meta.generation ?? 0,
      attempt: request.attempt,
      triggerId: request.triggerId,
    });
    const build: ImageBuild = {
      apiVersion: API_VERSION,
      kind: IMAGE_BUILD_KIND,
      metadata: {
        name,
        namespace: meta.namespace,
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.image]: imageLabelValue(meta.name ?? ""),
          [LABELS.imageUid]: meta.uid ?? "",
          [LABELS.generation]: String(meta.generation ?? 0),
          ...(request.campaign ? { [LABELS.campaign]: request.campaign } : {}),
        },
        annotations: {
          [ANNOTATIONS.imageName]: meta.name ?? "",
          [ANNOTATIONS.queuedAt]: this.now().toISOString(),
          ...(request.triggerId ? { [ANNOTATIONS.trigger]: request.triggerId } : {}),
        },
        ownerReferences: [ownerReference(image)],
        finalizers: [FINALIZER],
      },
      spec: {
        imageName: meta.name ?? "",
        imageGeneration: meta.generation ?? 0,
        attempt: request.attempt,
        trigger: request.trigger,
        image: image.spec,
        ...(image.spec.base.image && origin.rootBase ? { rootBase: origin.rootBase } : {}),
        ...(origin.inputs ? { inputs: origin.inputs } : {}),
        ...(request.campaign ? { campaign: request.campaign } : {}),
        ...(request.background ? { background: true } : {}),
      },
    };
    // No Event here: the Image's outcome Event names the build, its trigger and attempt.
    const announced = this.deps.announceBuild?.(build);
    try {
      const created = await this.deps.client.imageBuilds.create(build);
      announced?.created(created);
      this.createdBuilds.set(objectKey(image), { build: created, sinceMs: this.now().getTime() });
      return created;
    } catch (err) {
      announced?.failed();
      if (isAlreadyExists(err)) return undefined; // Created before a restart or by a previous pass.
      throw err;
    }
  }

  private async cancel(image: Image, build: ImageBuild, reason: string, message: string): Promise<void> {
    const written = await this.deps.client.imageBuilds.patchStatusIfCurrent(build, {
      phase: "Cancelled",
      message,
      completionTime: this.now().toISOString(),
    });
    if (!written) return; // Gone, or moved on: the build's next event brings the Image back here.
    this.deps.events.record(image, {
      type: "Normal",
      reason,
      action: "CancelBuild",
      note: `Cancelled ImageBuild ${build.metadata?.name}: ${message}`,
    });
  }

  private async writeStatus(
    image: Image,
    status: ImageStatus,
    builds: ImageBuild[],
    versions: ImageVersion[],
    problemReason?: string,
  ): Promise<boolean> {
    if (canonicalJson(image.status ?? {}) === canonicalJson(status)) return false;
    await this.deps.client.images.replaceStatus({ ...image, status });
    if (image.metadata?.resourceVersion) this.wroteOver.set(objectKey(image), image.metadata.resourceVersion);
    const before = image.status;
    const newVersion =
      status.latestVersion !== before?.latestVersion
        ? versions.find((v) => v.spec.version === status.latestVersion)
        : undefined;
    const newBuild = status.latestBuild !== before?.latestBuild;
    const newProblem = problemReason !== undefined && before?.message !== status.message;
    const reason =
      before?.phase === status.phase && !newBuild && !newProblem
        ? undefined
        : (problemReason ?? OUTCOME_REASONS[status.phase ?? "Pending"]);
    if (!reason) {
      // A version that came after its build's success was recorded (VERSION_WAIT_MS passed).
      if (newVersion) this.deps.events.record(image, versionEvent(newVersion));
      return true;
    }
    // An Event for each outcome and problem, not for each transition: a build starting shows in
    // status (and on the ImageBuild), and an Event apiece would be a third of a build's writes. A
    // success names its version too: one Event for the build and the version it became.
    const build = builds.find((b) => b.metadata?.name === status.latestBuild);
    const origin = build
      ? `ImageBuild ${status.latestBuild} (generation ${build.spec.imageGeneration}, ${build.spec.trigger}, attempt ${attempt(build)}): `
      : "";
    const version =
      status.phase === "Succeeded" && newVersion?.spec.build === status.latestBuild ? newVersion : undefined;
    this.deps.events.record(image, {
      type: status.phase === "Failed" ? "Warning" : "Normal",
      reason,
      action: "Build",
      note: `${origin}${status.message ?? `Image is ${status.phase}`}${version ? `; ${versionNote(version)}` : ""}`,
    });
    if (newVersion && newVersion !== version) this.deps.events.record(image, versionEvent(newVersion));
    return true;
  }
}

const OUTCOME_REASONS: Record<string, string | undefined> = {
  Queued: "RetryPending",
  Succeeded: "BuildSucceeded",
  Failed: "BuildFailed",
};

function versionNote(v: ImageVersion): string {
  return `ImageVersion ${v.metadata?.name}: ${v.spec.version} (${v.spec.bump.toLowerCase()})`;
}

function versionEvent(v: ImageVersion) {
  return {
    type: "Normal" as const,
    reason: "VersionCreated",
    action: "Version",
    note: `${versionNote(v)} from ImageBuild ${v.spec.build}`,
  };
}

/**
 * Whether the status must wait for the version of a success it records for the first time: ms
 * until it stops waiting, or undefined to write now (no new success, its version is there, or
 * VERSION_WAIT_MS has passed since the build finished).
 */
export function awaitingVersion(
  image: Image,
  status: ImageStatus,
  builds: ImageBuild[],
  versions: ImageVersion[],
  now: Date,
): number | undefined {
  const name = status.lastSuccessfulBuild;
  if (!name || name === image.status?.lastSuccessfulBuild) return undefined;
  if (versions.some((v) => v.spec.build === name)) return undefined;
  const build = builds.find((b) => b.metadata?.name === name);
  const finished = Date.parse(build?.status?.completionTime ?? "");
  if (Number.isNaN(finished)) return undefined;
  // Bounded by VERSION_WAIT_MS too: completionTime comes from the worker's clock.
  const left = Math.min(finished + VERSION_WAIT_MS - now.getTime(), VERSION_WAIT_MS);
  return left > 0 ? left : undefined;
}

function rebuildToken(image: Image): string | undefined {
  return image.metadata?.annotations?.[ANNOTATIONS.rebuild] || undefined;
}
