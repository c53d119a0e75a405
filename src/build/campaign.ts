// RebuildCampaign planning: the preview (which Images, in which order), the next wave, the
// counts, and which campaign of a base is current. Pure: the reconciler feeds it the caches.
import type { CampaignTarget, Image, RebuildCampaign } from "../api/v1alpha1/index.js";
import { ANNOTATIONS } from "./names.js";

/** An Image the campaign may touch, with what the preview needs to know of it. */
export interface Candidate {
  image: Image;
  /** Its catalog base is the campaign's BaseImage (false for layered Images). */
  onBase: boolean;
  /** The base revision of its newest success (status.baseRevision); undefined when never built. */
  revision?: string;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;
const imageKey = (i: Image) => key(i.metadata?.namespace ?? "", i.metadata?.name ?? "");
export const targetKey = (t: CampaignTarget) => key(t.namespace, t.name);

function optedOut(image: Image): boolean {
  return image.spec.rebuild?.onBaseUpdate === "Never";
}

/**
 * The preview: the Images on the base not yet built on `revision` (an Image never built is left
 * out: its first build takes the new revision anyway), then the Images layered on them, level by
 * level. Parents come before their children; within a level, by namespace and name. Opted-out
 * Images are listed as Skipped, and so are the Images below them (their parent does not move).
 */
export function planTargets(candidates: Candidate[], revision: string): CampaignTarget[] {
  const children = new Map<string, Image[]>();
  for (const { image } of candidates) {
    const parent = image.spec.base.image;
    if (!parent) continue;
    const k = key(image.metadata?.namespace ?? "", parent);
    children.set(k, [...(children.get(k) ?? []), image]);
  }
  let level = candidates
    .filter((c) => c.onBase && c.revision !== undefined && c.revision !== revision)
    .map((c) => ({ image: c.image, parent: undefined as CampaignTarget | undefined, revision: c.revision }));
  const targets: CampaignTarget[] = [];
  const seen = new Set<string>();
  for (let depth = 0; level.length > 0; depth++) {
    level.sort((a, b) => compareKeys(imageKey(a.image), imageKey(b.image)));
    const next: typeof level = [];
    for (const { image, parent, revision: current } of level) {
      const k = imageKey(image);
      if (seen.has(k)) continue; // A cycle the Images' own status reports; list each Image once.
      seen.add(k);
      const target: CampaignTarget = {
        namespace: image.metadata?.namespace ?? "",
        name: image.metadata?.name ?? "",
        depth,
        state: "Pending",
      };
      if (parent) target.parent = parent.name;
      if (current) target.currentRevision = current;
      if (optedOut(image)) {
        target.state = "Skipped";
        target.reason = "OptedOut: spec.rebuild.onBaseUpdate is Never";
      } else if (parent?.state === "Skipped") {
        target.state = "Skipped";
        target.reason = `ParentSkipped: parent ${parent.name} is not rebuilt`;
      }
      targets.push(target);
      for (const child of children.get(k) ?? [])
        next.push({ image: child, parent: target, revision: undefined });
    }
    level = next;
  }
  return targets;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface WaveLimits {
  maxInFlight: number;
  maxFailures: number;
}

export interface Wave {
  /** Indexes of targets to start now, in order. */
  start: number[];
  /** Targets that can no longer run: their parent failed or was skipped. */
  skip: { index: number; reason: string }[];
  /** maxFailures reached: nothing more starts. */
  halted: boolean;
}

/**
 * The next wave: Pending targets whose parent (when it is a target too) has been rebuilt, in
 * preview order, as long as fewer than maxInFlight of the campaign's builds are unfinished.
 * `parentReady` tells whether a Succeeded parent's new build is what its children would build on
 * (its Image's status names it), so a child never starts on the old parent.
 */
export function nextWave(
  targets: readonly CampaignTarget[],
  limits: WaveLimits,
  parentReady: (parent: CampaignTarget) => boolean = () => true,
): Wave {
  const counts = countTargets(targets);
  const wave: Wave = { start: [], skip: [], halted: counts.failed >= limits.maxFailures };
  const byKey = new Map(targets.map((t) => [targetKey(t), t]));
  let inFlight = counts.inFlight;
  // A parent skipped in this pass skips its children in the same pass: they come later in order.
  const skipped = new Set<string>();
  for (const [index, target] of targets.entries()) {
    if (target.state !== "Pending") continue;
    const parent = target.parent ? byKey.get(key(target.namespace, target.parent)) : undefined;
    if (
      parent &&
      (parent.state === "Failed" || parent.state === "Skipped" || skipped.has(targetKey(parent)))
    ) {
      wave.skip.push({ index, reason: `ParentNotRebuilt: parent ${parent.name} was not rebuilt` });
      skipped.add(targetKey(target));
      continue;
    }
    if (wave.halted || inFlight >= limits.maxInFlight) continue;
    if (parent && (parent.state !== "Succeeded" || !parentReady(parent))) continue;
    wave.start.push(index);
    inFlight++;
  }
  return wave;
}

export interface TargetCounts {
  total: number;
  namespaces: number;
  pending: number;
  inFlight: number;
  succeeded: number;
  failed: number;
  skipped: number;
}

export function countTargets(targets: readonly CampaignTarget[]): TargetCounts {
  const counts: TargetCounts = {
    total: targets.length,
    namespaces: new Set(targets.map((t) => t.namespace)).size,
    pending: 0,
    inFlight: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
  };
  for (const t of targets) {
    if (t.state === "Pending") counts.pending++;
    else if (t.state === "InFlight") counts.inFlight++;
    else if (t.state === "Succeeded") counts.succeeded++;
    else if (t.state === "Failed") counts.failed++;
    else counts.skipped++;
  }
  return counts;
}

/**
 * The campaign of the same BaseImage that supersedes `campaign`: the newest one (by creation,
 * then name), when that is not `campaign` itself. One revision change at a time is rolled out.
 */
export function supersededBy(
  campaign: RebuildCampaign,
  all: readonly RebuildCampaign[],
): RebuildCampaign | undefined {
  const newest = all
    .filter((c) => c.spec.baseImage === campaign.spec.baseImage && !c.metadata?.deletionTimestamp)
    .reduce<RebuildCampaign | undefined>((a, c) => (!a || newer(c, a) ? c : a), undefined);
  return newest && newest.metadata?.name !== campaign.metadata?.name ? newest : undefined;
}

/** When the campaign was opened: the millisecond annotation, else the (whole-second) creationTimestamp. */
export function openedAtMs(c: RebuildCampaign): number {
  const t = c.metadata?.annotations?.[ANNOTATIONS.openedAt] ?? c.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

function newer(a: RebuildCampaign, b: RebuildCampaign): boolean {
  const d = openedAtMs(a) - openedAtMs(b);
  return d !== 0 ? d > 0 : compareKeys(a.metadata?.name ?? "", b.metadata?.name ?? "") > 0;
}

/** A campaign that has finished one way or another: it starts nothing more. */
export function isFinished(campaign: RebuildCampaign): boolean {
  const phase = campaign.status?.phase;
  return phase === "Completed" || phase === "Halted" || phase === "Superseded";
}
