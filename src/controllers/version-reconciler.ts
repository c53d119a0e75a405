// The version reconciler, one pass per Image: every succeeded ImageBuild becomes an ImageVersion
// (numbered, with its manifest and its changelog against the newest version before it, all in the
// one create), and each version's status gets what happens to it later: revocation and
// parent-revocation conditions and its distribution state. It never writes the Image's status: the
// Image reconciler is that status's one writer (latestVersion and channels included, see
// image-versions.ts), so the two never conflict. Level-triggered and idempotent: a version is
// found again by its build, and its name is derived from its number.

import type { GoldenClient } from "../api/client.js";
import { type ConditionInput, findCondition, setCondition } from "../api/conditions.js";
import {
  API_VERSION,
  type Condition,
  IMAGE_VERSION_KIND,
  type Image,
  type ImageBuild,
  type ImageVersion,
  type ImageVersionStatus,
} from "../api/v1alpha1/index.js";
import { canonicalJson } from "../build/canonical.js";
import { inputsOf } from "../build/inputs.js";
import { ANNOTATIONS, imageLabelValue, LABELS, MANAGED_BY } from "../build/names.js";
import { isAlreadyExists } from "../runtime/api-errors.js";
import type { Informer } from "../runtime/informer.js";
import type { Logger } from "../runtime/logger.js";
import type { Result } from "../runtime/workqueue.js";
import { changelog } from "../versions/changelog.js";
import { distribute } from "../versions/distribution.js";
import { versionInputs } from "../versions/inputs.js";
import { contentManifest } from "../versions/manifest.js";
import { VERSION_LABELS, versionName } from "../versions/names.js";
import { nextVersion } from "../versions/numbering.js";
import { isRevoked } from "../versions/revocation.js";
import { compareVersions } from "../versions/semver.js";
import type { EventSink } from "./events.js";
import { ownerReference } from "./owner.js";

export const VERSIONS_BY_IMAGE_UID = "image-uid";
/** `<namespace>/<parentImage>/<parentVersion>`: the versions built on a parent version. */
export const VERSIONS_BY_PARENT = "parent";
/** `<namespace>/<build>`: the version a build became. */
export const VERSIONS_BY_BUILD = "build";

export const versionIndexers = {
  [VERSIONS_BY_IMAGE_UID]: (v: ImageVersion) => [v.metadata?.labels?.[LABELS.imageUid] ?? ""],
  [VERSIONS_BY_PARENT]: (v: ImageVersion) =>
    v.spec.inputs.parentImage && v.spec.inputs.parentVersion
      ? [`${v.metadata?.namespace}/${v.spec.inputs.parentImage}/${v.spec.inputs.parentVersion}`]
      : [],
  [VERSIONS_BY_BUILD]: (v: ImageVersion) => [`${v.metadata?.namespace}/${v.spec.build}`],
};

/** How long to wait before looking again for a parent version or a version the cache lags on. */
const RECHECK_MS = 1_000;
/** How long a layered build's version waits for its parent's version to appear. */
const PARENT_GRACE_MS = 120_000;

export interface VersionReconcilerDeps {
  images: Pick<Informer<Image>, "get">;
  /** Indexed by the builds' Image uid (BUILDS_BY_IMAGE_UID). */
  builds: Pick<Informer<ImageBuild>, "byIndex">;
  buildsByImageIndex: string;
  /** Indexed by versionIndexers. */
  versions: Pick<Informer<ImageVersion>, "byIndex" | "get">;
  client: GoldenClient;
  events: EventSink;
  log: Logger;
  now?: () => Date;
  /** First delay before a failed distribution target is tried again; doubles per attempt. */
  distributionRetryBaseMs?: number;
}

export class VersionReconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: VersionReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(key: string, logger: Logger = this.deps.log): Promise<Result> {
    const image = this.deps.images.get(key);
    if (!image || image.metadata?.deletionTimestamp) return; // Versions go with it (owner references).
    const log = logger.child({ image: image.metadata?.name });
    const now = this.now();
    const uid = image.metadata?.uid ?? "";
    const versions = this.deps.versions.byIndex(VERSIONS_BY_IMAGE_UID, uid);
    const wakeups: number[] = [];

    // 1. Every succeeded build becomes a version, in the order the builds finished.
    const succeeded = this.deps.builds
      .byIndex(this.deps.buildsByImageIndex, uid)
      .filter((b) => b.status?.phase === "Succeeded" && !b.metadata?.deletionTimestamp)
      .sort(
        (a, b) =>
          finishedAt(a) - finishedAt(b) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""),
      );
    for (const build of succeeded) {
      if (versions.some((v) => v.spec.build === build.metadata?.name)) continue;
      const created = await this.createVersion(image, build, versions, log);
      if (created === "wait") {
        wakeups.push(RECHECK_MS);
        break;
      }
      versions.push(created);
    }

    // 2. Each version's status: revocation, parent revocation, distribution.
    const byNumber = [...versions].sort((a, b) => compareVersions(a.spec.version, b.spec.version));
    let rebuildFor: ImageVersion | undefined;
    for (const [i, version] of byNumber.entries()) {
      const parent = this.parentOf(version);
      const parentRevoked = parent !== undefined && isRevoked(parent, now);
      if (parentRevoked && i === byNumber.length - 1) rebuildFor = version;
      const at = version.revocation?.at ? Date.parse(version.revocation.at) - now.getTime() : 0;
      if (version.revocation && at > 0) wakeups.push(at);
      const wake = await this.writeVersionStatus(image, version, parent, parentRevoked, now);
      if (wake !== undefined) wakeups.push(wake);
    }
    if (rebuildFor) await this.rebuildOnParentRevoked(image, rebuildFor, log);
    return wakeups.length > 0 ? { requeueAfterMs: Math.max(0, Math.min(...wakeups)) } : undefined;
  }

  private parentOf(version: ImageVersion): ImageVersion | undefined {
    const { parentImage, parentVersion } = version.spec.inputs;
    if (!parentImage || !parentVersion) return undefined;
    return this.deps.versions.get(
      `${version.metadata?.namespace}/${versionName(parentImage, parentVersion)}`,
    );
  }

  /** The new version, or "wait" when its parent version or the cache is not there yet. */
  private async createVersion(
    image: Image,
    cached: ImageBuild,
    versions: ImageVersion[],
    log: Logger,
  ): Promise<ImageVersion | "wait"> {
    const namespace = image.metadata?.namespace ?? "";
    const imageName = image.metadata?.name ?? "";
    // The cache keeps no customizations (cache-transforms.ts): the manifest needs the whole spec.
    const build = await this.deps.client.imageBuilds.get(namespace, cached.metadata?.name ?? "");
    if (!build) return "wait";
    let parent: ImageVersion | undefined;
    const recorded = inputsOf(build);
    if (recorded.parentImage && (recorded.parentBuild || recorded.parentVersion)) {
      parent = recorded.parentVersion
        ? this.deps.versions.get(`${namespace}/${versionName(recorded.parentImage, recorded.parentVersion)}`)
        : this.deps.versions.byIndex(VERSIONS_BY_BUILD, `${namespace}/${recorded.parentBuild}`)[0];
      // The parent's version is made by the parent's own pass: wait for it, but not forever (its
      // build may have been pruned, or its Image deleted): then the version records no parent.
      if (!parent && this.now().getTime() - finishedAt(build) < PARENT_GRACE_MS) return "wait";
      if (!parent)
        this.deps.events.record(image, {
          type: "Warning",
          reason: "ParentVersionUnknown",
          action: "Version",
          note: `ImageBuild ${build.metadata?.name} was built on ${recorded.parentImage} (${recorded.parentVersion ?? recorded.parentBuild}), which has no ImageVersion: versioned without its parent's content`,
        });
    }
    const inputs = versionInputs(build, parent?.spec.version);
    const previous = [...versions].sort((a, b) => compareVersions(a.spec.version, b.spec.version)).at(-1);
    const { version, bump } = nextVersion(
      previous && { version: previous.spec.version, inputs: previous.spec.inputs },
      inputs,
    );
    const manifest = contentManifest(inputs, build.spec.image, parent?.spec.manifest);
    // Known now and never changing: recorded in the spec at creation, no status write after it.
    const content = { inputs, manifest };
    const body: ImageVersion = {
      apiVersion: API_VERSION,
      kind: IMAGE_VERSION_KIND,
      metadata: {
        name: versionName(imageName, version),
        namespace,
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.image]: imageLabelValue(imageName),
          [LABELS.imageUid]: image.metadata?.uid ?? "",
          [LABELS.build]: build.metadata?.name ?? "",
          [VERSION_LABELS.version]: version,
        },
        ownerReferences: [ownerReference(image)],
      },
      spec: {
        imageName,
        version,
        bump,
        build: build.metadata?.name ?? "",
        imageGeneration: build.spec.imageGeneration,
        inputs,
        manifest,
        ...(build.status?.artifacts?.length ? { artifacts: build.status.artifacts } : {}),
        ...(image.spec.distribution?.targets?.length ? { targets: image.spec.distribution.targets } : {}),
        ...(previous ? { previousVersion: previous.spec.version } : {}),
        changelog: changelog(previous?.spec, content),
      },
    };
    let created: ImageVersion;
    try {
      created = await this.deps.client.imageVersions.create(body);
    } catch (err) {
      // Made by an earlier pass the cache does not show yet: look again once it does.
      if (isAlreadyExists(err)) return "wait";
      throw err;
    }
    if (parent && recorded?.parentVersion !== parent.spec.version)
      await this.deps.client.imageBuilds.patchStatus(namespace, build.metadata?.name ?? "", {
        status: { inputs: { parentVersion: parent.spec.version } },
      });
    // No Event here: the Image reconciler's BuildSucceeded Event names the build and this version.
    log.info("created version", { version, bump, build: build.metadata?.name });
    return created;
  }

  /**
   * Writes the version's status when it changed; returns when to look again (a distribution
   * retry). A condition appears once there is something to say (a revocation, a revoked parent,
   * targets), so that a new version with none of these needs no status write at all.
   */
  private async writeVersionStatus(
    image: Image,
    version: ImageVersion,
    parent: ImageVersion | undefined,
    parentRevoked: boolean,
    now: Date,
  ): Promise<number | undefined> {
    const old = version.status ?? {};
    const status: ImageVersionStatus = { ...old };
    const revoked = isRevoked(version, now);
    let conditions: Condition[] | undefined = old.conditions;
    const reason = version.revocation?.reason ?? "";
    const revocation: ConditionInput | undefined = revoked
      ? { type: "Revoked", status: "True", reason: "Revoked", message: reason }
      : version.revocation
        ? {
            type: "Revoked",
            status: "False",
            reason: "Scheduled",
            message: `revoked at ${version.revocation.at}: ${reason}`,
          }
        : undefined;
    if (revocation) conditions = setCondition(conditions, revocation, now);
    // A parent version that is gone (its Image deleted) leaves the condition as it was.
    if (parent && (parentRevoked || findCondition(conditions, "ParentRevoked")))
      conditions = setCondition(
        conditions,
        parentRevoked
          ? {
              type: "ParentRevoked",
              status: "True",
              reason: "ParentRevoked",
              message: `built on ${parent?.spec.imageName} ${parent?.spec.version}, revoked: ${parent?.revocation?.reason ?? ""}`,
            }
          : { type: "ParentRevoked", status: "False", reason: "ParentGood", message: "" },
        now,
      );
    const targets = version.spec.targets ?? [];
    const dist = distribute({
      imageName: version.spec.imageName,
      version: version.spec.version,
      targets,
      previous: old.distribution ?? [],
      revoked,
      now,
      retryBaseMs: this.deps.distributionRetryBaseMs ?? 10_000,
    });
    if (targets.length > 0) {
      status.distribution = dist.targets;
      const published = dist.targets.filter((t) => t.phase === "Published").length;
      conditions = setCondition(
        conditions,
        published === targets.length
          ? {
              type: "Distributed",
              status: "True",
              reason: "Published",
              message: `published to ${published} of ${targets.length} targets`,
            }
          : {
              type: "Distributed",
              status: "False",
              reason: revoked ? "Revoked" : "Publishing",
              message: `published to ${published} of ${targets.length} targets`,
            },
        now,
      );
    }
    if (conditions) status.conditions = conditions;
    if (canonicalJson(old) === canonicalJson(status)) return dist.wakeAfterMs;
    const written = await this.deps.client.imageVersions.patchStatusIfCurrent(version, status);
    if (!written) return RECHECK_MS; // Moved on meanwhile: its next event brings us back.
    const becameRevoked = revoked && findCondition(old.conditions, "Revoked")?.status !== "True";
    if (becameRevoked) {
      const note = `${version.spec.version} revoked: ${reason}`;
      for (const obj of [image, version])
        this.deps.events.record(obj, { type: "Warning", reason: "VersionRevoked", action: "Revoke", note });
    }
    if (parentRevoked && findCondition(old.conditions, "ParentRevoked")?.status !== "True")
      this.deps.events.record(version, {
        type: "Warning",
        reason: "ParentRevoked",
        action: "Revoke",
        note: findCondition(conditions, "ParentRevoked")?.message ?? "",
      });
    for (const c of dist.changes)
      this.deps.events.record(version, {
        type: c.phase === "Retrying" ? "Warning" : "Normal",
        reason: `Target${c.phase}`,
        action: "Distribute",
        note: `${c.target}: ${c.message}`,
      });
    return dist.wakeAfterMs;
  }

  /** spec.versioning.onParentRevoked Rebuild (the default): one rebuild per revoked parent version. */
  private async rebuildOnParentRevoked(image: Image, newest: ImageVersion, log: Logger): Promise<void> {
    if (image.spec.versioning?.onParentRevoked === "Mark") return;
    const { parentImage, parentVersion } = newest.spec.inputs;
    const token = `parent-revoked:${parentImage}:${parentVersion}`;
    if (image.metadata?.annotations?.[ANNOTATIONS.rebuild] === token) return;
    await this.deps.client.images.patch(image.metadata?.namespace ?? "", image.metadata?.name ?? "", {
      metadata: { annotations: { [ANNOTATIONS.rebuild]: token } },
    });
    log.info("rebuild requested: parent version revoked", { parentImage, parentVersion });
    this.deps.events.record(image, {
      type: "Normal",
      reason: "RebuildOnParentRevoked",
      action: "Rebuild",
      note: `${newest.spec.version} was built on ${parentImage} ${parentVersion}, which is revoked: rebuilding`,
    });
  }
}

function finishedAt(b: ImageBuild): number {
  return Date.parse(b.status?.completionTime ?? b.metadata?.creationTimestamp?.toString() ?? "") || 0;
}
