// What a version is made of: the inputs a successful build resolved, and the one number-relevant
// digest of the Image's own customizations.
import { createHash } from "node:crypto";
import type { ImageBuild, ImageSpec, OperatingSystem, VersionInputs } from "../api/v1alpha1/index.js";
import { canonicalJson } from "../build/canonical.js";
import { inputsOf } from "../build/inputs.js";

export function sha256(text: string): string {
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

/**
 * The base revision a build used, as it recorded it when created (the BaseImage's spec.revision,
 * or its parent build's). A build made before the catalog recorded none: a stand-in, the same for
 * every build of one release, "<os>-<release>-unversioned".
 */
export function baseRevisionOf(build: ImageBuild): string {
  const recorded = inputsOf(build).baseRevision;
  if (recorded) return recorded;
  const { os, release } = build.spec.rootBase ?? build.spec.image.base;
  return `${os}-${release}-unversioned`;
}

/** sha256 of what the Image itself adds: customizations and formats (build settings excluded). */
export function customizationDigest(spec: ImageSpec): string {
  return sha256(
    canonicalJson({ customizations: spec.customizations ?? {}, formats: [...spec.formats].sort() }),
  );
}

/** The inputs of the version a build becomes. parentVersion: the parent's version number, if layered. */
export function versionInputs(build: ImageBuild, parentVersion?: string): VersionInputs {
  const spec = build.spec.image;
  const recorded = inputsOf(build);
  // A layered Image's build records its root's catalog base (spec.rootBase) at creation.
  const base = build.spec.rootBase ?? spec.base;
  const inputs: VersionInputs = {
    os: base.os as OperatingSystem,
    release: base.release ?? "",
    arch: base.arch ?? "amd64",
    baseRevision: baseRevisionOf(build),
    customizationDigest: customizationDigest(spec),
  };
  if (recorded.baseImage) inputs.baseImage = recorded.baseImage;
  if (recorded.parentImage) inputs.parentImage = recorded.parentImage;
  if (parentVersion) inputs.parentVersion = parentVersion;
  return inputs;
}
