// The Image reconciler: makes sure each Image generation has a build, supersedes builds of older
// generations, retries failures per policy, and mirrors the newest build into the Image's status.
// Level-triggered and idempotent: builds have deterministic names, so a restart at any point
// re-derives the same decisions and never builds a generation twice. An Image carries no finalizer
// of golden's: its builds hold the artifacts, so they carry it (set at creation, at no extra write).
import type { GoldenClient } from "../api/client.js";
import {
  API_VERSION,
  type BuildTrigger,
  IMAGE_BUILD_KIND,
  type Image,
  type ImageBuild,
  type ImageStatus,
} from "../api/v1alpha1/index.js";
import { canonicalJson } from "../build/canonical.js";
import { attempt, historyLimits } from "../build/defaults.js";
import { ANNOTATIONS, buildName, FINALIZER, imageLabelValue, LABELS, MANAGED_BY } from "../build/names.js";
import { byCreation } from "../build/order.js";
import { isTerminal } from "../build/phase.js";
import { apiErrorMessage, isAlreadyExists, isInvalid } from "../runtime/api-errors.js";
import { TerminalError } from "../runtime/controller.js";
import type { Informer } from "../runtime/informer.js";
import type { Logger } from "../runtime/logger.js";
import type { Result } from "../runtime/workqueue.js";
import { checkSupported } from "./catalog.js";
import { isTooLarge } from "./conflicts.js";
import type { EventSink } from "./events.js";
import { type HandledTriggers, handledTriggers, rebuildHandled, slotHandled } from "./handled-triggers.js";
import { deriveImageStatus } from "./image-status.js";
import { ownerReference } from "./owner.js";
import { retryAt } from "./retry.js";
import { type ScheduleState, scheduleState, scheduleTriggerId } from "./schedule.js";

export const BUILDS_BY_IMAGE_UID = "image-uid";

export interface ImageReconcilerDeps {
  images: Pick<Informer<Image>, "get">;
  /** Indexed by BUILDS_BY_IMAGE_UID. */
  builds: Pick<Informer<ImageBuild>, "byIndex">;
  client: GoldenClient;
  events: EventSink;
  log: Logger;
  now?: () => Date;
  retryBaseMs?: number;
}

interface BuildRequest {
  attempt: number;
  trigger: BuildTrigger;
  triggerId?: string;
}

export class ImageReconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: ImageReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(key: string, logger: Logger = this.deps.log): Promise<Result> {
    const image = this.deps.images.get(key);
    if (!image) return; // Deleted: owner references garbage-collect its builds and Jobs.
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
    const builds = this.deps.builds.byIndex(BUILDS_BY_IMAGE_UID, uid).sort(byCreation);
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

    let problem = checkSupported(image.spec);
    let retryTime: Date | undefined;
    const wakeups: number[] = [];
    const now = this.now();
    const schedule = this.schedule(image, now);
    if (schedule && !schedule.ok) {
      problem = { reason: "InvalidSchedule", field: "spec.rebuild.schedule", message: schedule.message };
    }
    if (schedule?.ok) wakeups.push(schedule.next.getTime() - now.getTime());
    if (!problem) {
      const latest = builds.filter((b) => b.spec.imageGeneration === generation).at(-1);
      retryTime = latest ? retryAt(image, latest, this.deps.retryBaseMs) : undefined;
      const dueSlot = schedule?.ok ? schedule.due : undefined;
      const handled = handledTriggers(image.status, builds, rebuildToken(image));
      const request = this.nextBuild(image, builds, latest, retryTime, dueSlot, handled);
      if (request === "wait" && retryTime) {
        wakeups.push(retryTime.getTime() - now.getTime());
      } else if (request && request !== "wait") {
        try {
          const created = await this.createBuild(image, request);
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

    const status = deriveImageStatus({ image, builds, problem, retryAt: retryTime, now });
    if (schedule?.ok && schedule.due) status.lastScheduleTime = schedule.due.toISOString();
    Object.assign(status, handledTriggers(image.status, builds, rebuildToken(image)));
    if (await this.writeStatus(image, status, builds, problem?.reason)) {
      log.debug("status updated", {
        phase: status.phase,
        build: status.latestBuild,
        reason: problem?.reason,
      });
    }
    await this.pruneHistory(image, builds, status, log);
    return wakeups.length > 0 ? { requeueAfterMs: Math.max(0, Math.min(...wakeups)) } : undefined;
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
      };
    }
    if (dueSlot && isTerminal(latest) && !slotHandled(handled, dueSlot)) {
      const slotId = scheduleTriggerId(dueSlot);
      if (!builds.some((b) => b.metadata?.annotations?.[ANNOTATIONS.trigger] === slotId)) {
        return { attempt: 1, trigger: "Schedule", triggerId: slotId };
      }
    }
    return undefined;
  }

  private async createBuild(image: Image, request: BuildRequest): Promise<ImageBuild | undefined> {
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
      },
    };
    // No Event here: the Image's next phase Event names the build, its trigger and attempt.
    try {
      return await this.deps.client.imageBuilds.create(build);
    } catch (err) {
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
    problemReason?: string,
  ): Promise<boolean> {
    if (canonicalJson(image.status ?? {}) === canonicalJson(status)) return false;
    await this.deps.client.images.replaceStatus({ ...image, status });
    const before = image.status;
    const newBuild = status.latestBuild !== before?.latestBuild;
    const newProblem = problemReason !== undefined && before?.message !== status.message;
    if (before?.phase === status.phase && !newBuild && !newProblem) return true;
    // An Event for each outcome and problem, not for each transition: a build starting shows in
    // status (and on the ImageBuild), and an Event apiece would be a third of a build's writes.
    const reason = problemReason ?? OUTCOME_REASONS[status.phase ?? "Pending"];
    if (!reason) return true;
    const build = builds.find((b) => b.metadata?.name === status.latestBuild);
    const origin = build
      ? `ImageBuild ${status.latestBuild} (generation ${build.spec.imageGeneration}, ${build.spec.trigger}, attempt ${attempt(build)}): `
      : "";
    this.deps.events.record(image, {
      type: status.phase === "Failed" ? "Warning" : "Normal",
      reason,
      action: "Build",
      note: `${origin}${status.message ?? `Image is ${status.phase}`}`,
    });
    return true;
  }
}

const OUTCOME_REASONS: Record<string, string | undefined> = {
  Queued: "RetryPending",
  Succeeded: "BuildSucceeded",
  Failed: "BuildFailed",
};

function rebuildToken(image: Image): string | undefined {
  return image.metadata?.annotations?.[ANNOTATIONS.rebuild] || undefined;
}
