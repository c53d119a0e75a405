// The BaseImage reconciler: notices a catalog entry's new spec.revision, keeps a short history in
// status, and opens one RebuildCampaign for the change. The campaign's name derives from the base
// and the revision, so a restart or a second pass finds the campaign it already created. The first
// revision seen (a catalog just installed) opens none: nothing was built on an older one by golden.
import type { GoldenClient } from "../api/client.js";
import {
  API_VERSION,
  type BaseImage,
  type BaseImageStatus,
  REBUILD_CAMPAIGN_KIND,
  type RebuildCampaign,
} from "../api/v1alpha1/index.js";
import { canonicalJson } from "../build/canonical.js";
import { ANNOTATIONS, campaignName, LABELS, MANAGED_BY } from "../build/names.js";
import { isAlreadyExists } from "../runtime/api-errors.js";
import type { Informer } from "../runtime/informer.js";
import type { Logger } from "../runtime/logger.js";
import type { EventSink } from "./events.js";
import { ownerReference } from "./owner.js";

export const HISTORY_LIMIT = 10;

export interface BaseImageReconcilerDeps {
  bases: Pick<Informer<BaseImage>, "get">;
  client: GoldenClient;
  events: EventSink;
  log: Logger;
  /** Whether this operator runs the campaigns of this BaseImage (--catalog-selector). */
  selected: (base: BaseImage) => boolean;
  now?: () => Date;
}

export class BaseImageReconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: BaseImageReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(name: string): Promise<void> {
    const base = this.deps.bases.get(name);
    if (!base || base.metadata?.deletionTimestamp || !this.deps.selected(base)) return;
    const revision = base.spec.revision;
    const seen = base.status?.revision;
    const now = this.now().toISOString();
    const status: BaseImageStatus = { ...base.status, observedGeneration: base.metadata?.generation ?? 0 };
    if (seen !== revision) {
      const history = base.status?.history ?? [];
      status.revision = revision;
      status.history = [
        { revision, observedTime: now },
        ...history.filter((h) => h.revision !== revision),
      ].slice(0, HISTORY_LIMIT);
      if (seen !== undefined) status.campaign = await this.openCampaign(base, seen, now);
    }
    if (canonicalJson(status) === canonicalJson(base.status ?? {})) return;
    await this.deps.client.baseImages.patchStatusIfCurrent(base, status);
  }

  private async openCampaign(base: BaseImage, previous: string, now: string): Promise<string> {
    const baseName = base.metadata?.name ?? "";
    const name = campaignName(baseName, base.spec.revision);
    const policy = base.spec.rebuild ?? {};
    const campaign: RebuildCampaign = {
      apiVersion: API_VERSION,
      kind: REBUILD_CAMPAIGN_KIND,
      metadata: {
        name,
        labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.baseImage]: baseName },
        annotations: { [ANNOTATIONS.openedAt]: now },
        ownerReferences: [{ ...ownerReference(base), controller: false, blockOwnerDeletion: false }],
      },
      spec: {
        baseImage: baseName,
        revision: base.spec.revision,
        previousRevision: previous,
        paused: (policy.approval ?? "Manual") === "Manual",
        maxInFlight: policy.maxInFlight ?? 10,
        maxFailures: policy.maxFailures ?? 3,
        priority: policy.priority ?? "Background",
      },
    };
    try {
      await this.deps.client.rebuildCampaigns.create(campaign);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      return name; // Opened by an earlier pass; its Event was recorded then.
    }
    this.deps.log.info("opened rebuild campaign", {
      base: baseName,
      campaign: name,
      revision: base.spec.revision,
    });
    this.deps.events.record(base, {
      type: "Normal",
      reason: "CampaignOpened",
      action: "OpenCampaign",
      note: `revision ${previous} -> ${base.spec.revision}: RebuildCampaign ${name}${campaign.spec.paused ? " awaits approval (spec.paused)" : " starts"}`,
    });
    return name;
  }
}
