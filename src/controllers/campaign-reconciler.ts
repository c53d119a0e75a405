// The RebuildCampaign reconciler: writes the preview (which Images, in which order) before any
// build starts, then, once unpaused, asks Images to rebuild in waves of at most spec.maxInFlight,
// parents before children, until every target is done or spec.maxFailures builds have failed.
// It asks by annotating the Image (golden.dev/campaign); the Image reconciler creates the build,
// marked as the campaign's (spec.campaign) and scheduled in the background. Level-triggered: each
// pass re-reads the targets' builds, so a restart or a lost status write only repeats idempotent steps.
import type { GoldenClient } from "../api/client.js";
import { findCondition } from "../api/conditions.js";
import type {
  BaseImage,
  CampaignPhase,
  CampaignTarget,
  Image,
  ImageBuild,
  RebuildCampaign,
  RebuildCampaignStatus,
} from "../api/v1alpha1/index.js";
import {
  type Candidate,
  countTargets,
  isFinished,
  nextWave,
  planTargets,
  supersededBy,
} from "../build/campaign.js";
import { canonicalJson } from "../build/canonical.js";
import { ANNOTATIONS } from "../build/names.js";
import { byCreation } from "../build/order.js";
import { apiErrorMessage, isNotFound } from "../runtime/api-errors.js";
import type { Informer } from "../runtime/informer.js";
import type { Logger } from "../runtime/logger.js";
import type { Result } from "../runtime/workqueue.js";
import { type CatalogLookup, resolveCatalogBase } from "./catalog.js";
import type { EventSink } from "./events.js";
import { BUILDS_BY_IMAGE_UID } from "./image-reconciler.js";

/** A running campaign looks again this often even without events (a safety net, not the driver). */
const RESYNC_MS = 60_000;

export interface CampaignReconcilerDeps {
  campaigns: Pick<Informer<RebuildCampaign>, "get" | "list">;
  bases: Pick<Informer<BaseImage>, "get">;
  images: Pick<Informer<Image>, "get" | "list">;
  /** Indexed by BUILDS_BY_IMAGE_UID. */
  builds: Pick<Informer<ImageBuild>, "byIndex">;
  catalog: CatalogLookup;
  client: GoldenClient;
  events: EventSink;
  log: Logger;
  /** Whether this operator runs campaigns of this BaseImage (--catalog-selector). */
  selected: (base: BaseImage) => boolean;
  now?: () => Date;
}

export class CampaignReconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: CampaignReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(name: string): Promise<Result> {
    const campaign = this.deps.campaigns.get(name);
    if (!campaign || campaign.metadata?.deletionTimestamp || isFinished(campaign)) return;
    const base = this.deps.bases.get(campaign.spec.baseImage);
    if (base && !this.deps.selected(base)) return;
    const log = this.deps.log.child({ campaign: name });

    const newer = supersededBy(campaign, this.deps.campaigns.list());
    if (newer) return this.supersede(campaign, newer, log);
    if (!campaign.status?.targets) return this.preview(campaign, log);

    const targets = campaign.status.targets.map((t) => this.observe(name, { ...t }));
    const paused = campaign.spec.paused === true;
    let started = false;
    let halted = false;
    if (!paused) {
      const wave = nextWave(
        targets,
        { maxInFlight: campaign.spec.maxInFlight ?? 10, maxFailures: campaign.spec.maxFailures ?? 3 },
        (parent) => this.image(parent)?.status?.lastSuccessfulBuild === parent.build,
      );
      halted = wave.halted;
      for (const { index, reason } of wave.skip)
        Object.assign(targets[index] as CampaignTarget, { state: "Skipped", reason });
      for (const index of wave.start) {
        await this.start(campaign, targets[index] as CampaignTarget);
        started = true;
      }
    }
    return this.writeProgress(campaign, targets, { paused, halted, started }, log);
  }

  /** The blast radius, written before anything runs: every Image to rebuild, in order. */
  private async preview(campaign: RebuildCampaign, log: Logger): Promise<Result> {
    const now = this.now();
    const candidates: Candidate[] = this.deps.images
      .list()
      .filter((image) => !image.metadata?.deletionTimestamp)
      .map((image) => ({
        image,
        onBase:
          !image.spec.base.image &&
          resolveCatalogBase(image.spec.base, this.deps.catalog, now).base?.metadata?.name ===
            campaign.spec.baseImage,
        revision: image.status?.lastSuccessfulBuild ? (image.status.baseRevision ?? "") : undefined,
      }));
    const targets = planTargets(candidates, campaign.spec.revision);
    const counts = countTargets(targets);
    const phase: CampaignPhase = campaign.spec.paused ? "AwaitingApproval" : "Running";
    const message = `${counts.total - counts.skipped} Images in ${counts.namespaces} namespaces to rebuild on ${campaign.spec.baseImage} revision ${campaign.spec.revision} (${counts.skipped} skipped)${campaign.spec.paused ? "; unpause to approve" : ""}`;
    const status: RebuildCampaignStatus = {
      phase,
      observedGeneration: campaign.metadata?.generation ?? 0,
      ...counts,
      message,
      targets,
    };
    if (!(await this.deps.client.rebuildCampaigns.patchStatusIfCurrent(campaign, status))) return;
    log.info("campaign previewed", { ...counts });
    this.deps.events.record(campaign, {
      type: "Normal",
      reason: "Previewed",
      action: "Preview",
      note: message,
    });
    return;
  }

  /** A target's state from its Image and the campaign's build of it. */
  private observe(campaign: string, target: CampaignTarget): CampaignTarget {
    if (target.state !== "InFlight" && target.state !== "Pending") return target;
    const image = this.image(target);
    if (!image || image.metadata?.deletionTimestamp) {
      return { ...target, state: "Skipped", reason: "ImageDeleted: the Image was deleted" };
    }
    if (target.state === "Pending") return target;
    const build = this.deps.builds
      .byIndex(BUILDS_BY_IMAGE_UID, image.metadata?.uid ?? "")
      .filter((b) => b.spec.campaign === campaign)
      .sort(byCreation)
      .at(-1);
    if (!build) {
      // The Image cannot build at all now (its base left the catalog, its parent is gone...): its
      // controller creates no build, so the campaign counts a failure rather than wait forever.
      const ready = findCondition(image.status?.conditions, "Ready");
      if (image.status?.phase === "Failed" && ready && UNBUILDABLE.has(ready.reason))
        return { ...target, state: "Failed", reason: `${ready.reason}: ${ready.message}` };
      return target;
    }
    const next: CampaignTarget = { ...target, build: build.metadata?.name ?? "" };
    switch (build.status?.phase) {
      case "Succeeded":
        return { ...next, state: "Succeeded", reason: undefined };
      case "Failed": {
        // The Image's own retry policy gets its turn before the campaign counts a failure.
        if (findCondition(image.status?.conditions, "Ready")?.reason === "RetryPending") return next;
        return {
          ...next,
          state: "Failed",
          reason: `BuildFailed: ${build.status.message ?? "the build failed"}`,
        };
      }
      case "Cancelled":
        return {
          ...next,
          state: "Skipped",
          reason: `BuildCancelled: ${build.status.message ?? "cancelled"}`,
        };
      default:
        return next;
    }
  }

  private image(target: CampaignTarget): Image | undefined {
    return this.deps.images.get(`${target.namespace}/${target.name}`);
  }

  /** Asks the Image to rebuild for this campaign, unless it already stands on the revision. */
  private async start(campaign: RebuildCampaign, target: CampaignTarget): Promise<void> {
    const image = this.image(target);
    const name = campaign.metadata?.name ?? "";
    if (
      image &&
      target.depth === 0 &&
      image.status?.baseImage === campaign.spec.baseImage &&
      image.status.baseRevision === campaign.spec.revision
    ) {
      Object.assign(target, { state: "Succeeded", reason: "AlreadyUpToDate: built on the revision already" });
      return;
    }
    try {
      await this.deps.client.images.patch(target.namespace, target.name, {
        metadata: { annotations: { [ANNOTATIONS.campaign]: name } },
      });
      target.state = "InFlight";
    } catch (err) {
      if (!isNotFound(err)) throw err;
      Object.assign(target, { state: "Skipped", reason: `ImageDeleted: ${apiErrorMessage(err)}` });
    }
  }

  private async writeProgress(
    campaign: RebuildCampaign,
    targets: CampaignTarget[],
    pass: { paused: boolean; halted: boolean; started: boolean },
    log: Logger,
  ): Promise<Result> {
    const before = campaign.status ?? {};
    const counts = countTargets(targets);
    const now = this.now().toISOString();
    let phase: CampaignPhase;
    let message: string;
    if (pass.halted && counts.inFlight === 0) {
      phase = "Halted";
      message = `halted: ${counts.failed} builds failed (spec.maxFailures ${campaign.spec.maxFailures ?? 3}); ${counts.pending} Images not rebuilt`;
    } else if (counts.pending === 0 && counts.inFlight === 0) {
      phase = "Completed";
      message = `${counts.succeeded} rebuilt, ${counts.failed} failed, ${counts.skipped} skipped`;
    } else if (pass.paused) {
      phase = before.startTime ? "Paused" : "AwaitingApproval";
      message = `${counts.pending} Images wait; unpause to ${before.startTime ? "resume" : "approve"} (spec.paused)`;
    } else {
      phase = "Running";
      message = `${counts.succeeded} of ${counts.total} rebuilt, ${counts.inFlight} in flight, ${counts.failed} failed${pass.halted ? "; halting (spec.maxFailures reached), waiting for builds in flight" : ""}`;
    }
    const status: RebuildCampaignStatus = {
      ...before,
      ...counts,
      phase,
      message,
      targets,
      observedGeneration: campaign.metadata?.generation ?? 0,
    };
    if (pass.started && !status.startTime) status.startTime = now;
    const finished = phase === "Completed" || phase === "Halted";
    if (finished && !status.completionTime) status.completionTime = now;
    if (canonicalJson(status) !== canonicalJson(before)) {
      if (!(await this.deps.client.rebuildCampaigns.patchStatusIfCurrent(campaign, status))) return;
      if (phase !== before.phase) {
        log.info("campaign phase", { phase, ...counts });
        this.deps.events.record(campaign, {
          type: phase === "Halted" ? "Warning" : "Normal",
          reason: PHASE_REASONS[phase],
          action: "Rebuild",
          note: message,
        });
      }
    }
    return finished || pass.paused ? undefined : { requeueAfterMs: RESYNC_MS };
  }

  private async supersede(campaign: RebuildCampaign, newer: RebuildCampaign, log: Logger): Promise<Result> {
    const newerName = newer.metadata?.name ?? "";
    const pending = (campaign.status?.targets ?? []).filter((t) => t.state === "Pending").length;
    const message = `superseded by RebuildCampaign ${newerName} (revision ${newer.spec.revision}); it takes over the ${pending} Images not started here`;
    const status: RebuildCampaignStatus = {
      ...campaign.status,
      phase: "Superseded",
      supersededBy: newerName,
      completionTime: this.now().toISOString(),
      message,
    };
    if (!(await this.deps.client.rebuildCampaigns.patchStatusIfCurrent(campaign, status))) return;
    log.info("campaign superseded", { by: newerName });
    this.deps.events.record(campaign, {
      type: "Normal",
      reason: "Superseded",
      action: "Rebuild",
      note: message,
    });
    return;
  }
}

/** Ready reasons of an Image its controller will not build (image-reconciler.ts). */
const UNBUILDABLE = new Set([
  "UnsupportedRelease",
  "BaseEndOfLife",
  "ParentNotFound",
  "BaseCycle",
  "BuildRejected",
  "InvalidSchedule",
]);

const PHASE_REASONS: Record<CampaignPhase, string> = {
  AwaitingApproval: "AwaitingApproval",
  Paused: "Paused",
  Running: "Running",
  Completed: "Completed",
  Halted: "Halted",
  Superseded: "Superseded",
};
