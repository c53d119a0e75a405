// Deterministic names and labels linking Image ↔ ImageBuild ↔ Job ↔ Pod.
import { createHash } from "node:crypto";
import { GROUP } from "../api/v1alpha1/index.js";

/** Label values (and so names derived from an Image's) fit in 63 characters. */
export const MAX_NAME = 63;
/**
 * A build's Job carries the build's name. Pods get `<job>-<5 random>`, and the apiserver cuts a
 * generateName base past 58 characters; at 57 the pod name always starts with the full build
 * name, which the worker admission policy relies on to tie a pod to its own build.
 */
export const MAX_BUILD_NAME = 57;

export const LABELS = {
  managedBy: "app.kubernetes.io/managed-by",
  component: "app.kubernetes.io/component",
  image: `${GROUP}/image`,
  imageUid: `${GROUP}/image-uid`,
  build: `${GROUP}/build`,
  generation: `${GROUP}/generation`,
  /** On an ImageBuild a RebuildCampaign started, and on a campaign: the campaign's name. */
  campaign: `${GROUP}/campaign`,
  /** On a RebuildCampaign: its BaseImage. */
  baseImage: `${GROUP}/base-image`,
} as const;

export const ANNOTATIONS = {
  imageName: `${GROUP}/image-name`,
  /** Set by users (`kubectl annotate image/x golden.dev/rebuild=$(date +%s)`) to request a rebuild. */
  rebuild: `${GROUP}/rebuild`,
  /** Set by users on an ImageBuild (`kubectl annotate ib/x golden.dev/cancel=true`) to cancel it. */
  cancel: `${GROUP}/cancel`,
  /** On an ImageBuild: when it was requested, to the millisecond (creationTimestamp has seconds). */
  queuedAt: `${GROUP}/queued-at`,
  /** On an ImageBuild: the rebuild token or schedule slot that triggered it. */
  trigger: `${GROUP}/trigger-id`,
  /** On an Image: the RebuildCampaign that asked for its rebuild (set by the campaign). */
  campaign: `${GROUP}/campaign`,
  /** On a RebuildCampaign: when it was opened, to the millisecond (orders campaigns of one base). */
  openedAt: `${GROUP}/opened-at`,
} as const;

export const MANAGED_BY = "golden";
export const FINALIZER = `${GROUP}/artifacts`;

function shortHash(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 6);
}

/** Lower-case DNS-label-safe prefix of at most `max` characters that never ends in a separator. */
function labelPrefix(name: string, max: number): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, max)
    .replace(/-+$/, "");
}

export interface BuildIdentity {
  imageName: string;
  imageUid: string;
  generation: number;
  attempt: number;
  /** Distinguishes builds of one generation and attempt: a rebuild token or a schedule slot. */
  triggerId?: string;
}

/**
 * `<image>-g<generation>-<hash>`: readable, unique per (image uid, generation, attempt, trigger),
 * and at most 57 characters even for a 253-character Image name.
 */
export function buildName(id: BuildIdentity): string {
  const hash = shortHash(id.imageUid, String(id.generation), String(id.attempt), id.triggerId ?? "");
  const suffix = `-g${id.generation}-${hash}`;
  const prefix = labelPrefix(id.imageName, MAX_BUILD_NAME - suffix.length);
  return `${prefix || "image"}${suffix}`;
}

/** `<base image>-<hash of the revision>`: one campaign per revision change, whoever creates it first. */
export function campaignName(baseImage: string, revision: string): string {
  const suffix = `-${shortHash(baseImage, revision)}`;
  return `${labelPrefix(baseImage, 253 - suffix.length) || "base"}${suffix}`;
}

/** A label value naming the Image: the name itself when it fits, else a prefix plus a hash. */
export function imageLabelValue(imageName: string): string {
  if (imageName.length <= MAX_NAME && /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(imageName)) return imageName;
  const hash = shortHash(imageName);
  return `${labelPrefix(imageName, MAX_NAME - hash.length - 1)}-${hash}`;
}

/** How the operator names itself to the API: its User-Agent and its Events' reporting controller. */
export const OPERATOR_NAME = "golden-operator";
/**
 * The worker's User-Agent: the apiserver names an update's field manager after it, so the build's
 * managedFields say which status fields the worker wrote (not "kubernetes-client-javascript").
 */
export const WORKER_NAME = "golden-worker";
export const EVENT_REPORTER = `${GROUP}/operator`;
/** Prefix of the runtime's API client and informer metrics, e.g. golden_rest_client_requests_total. */
export const METRICS_PREFIX = "golden_";
