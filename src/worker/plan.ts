// The mocked build's steps and artifacts: pure functions of the ImageBuild's spec snapshot.
import { createHash } from "node:crypto";
import type { Artifact, BuildInputs, ImageBase, ImageSpec } from "../api/v1alpha1/index.js";
import { canonicalJson } from "../build/canonical.js";
import { arch } from "../build/defaults.js";

export type Format = ImageSpec["formats"][number];

/** Named steps in build order; optional steps appear only when the spec asks for them. */
export function planSteps(spec: ImageSpec): string[] {
  const c = spec.customizations;
  return [
    "fetch-base",
    ...(c?.packages?.length ? ["install-packages"] : []),
    ...(c?.users?.length ? ["create-users"] : []),
    "configure",
    ...spec.formats.map((f) => `convert-${f}`),
    "publish",
  ];
}

/**
 * One artifact per format. Its digest hashes only what determines the image's content (base and
 * customizations) plus the format, so the same spec always yields the same digest, whatever the
 * Image's name, namespace or build settings.
 */
/** Where a build starts from beyond its spec: a layered Image's root base, and the resolved inputs. */
export interface BuildOrigin {
  rootBase?: ImageBase;
  inputs?: BuildInputs;
}

export function artifactFor(
  spec: ImageSpec,
  format: Format,
  repository: string,
  origin: BuildOrigin = {},
): Artifact {
  // arch defaults to amd64: writing it out or leaving it to the default is the same image.
  const root = origin.rootBase ?? spec.base;
  const base = { ...spec.base, arch: arch(spec, origin.rootBase) };
  // A new base revision or parent build is new content: it only enters the hash when known, so
  // builds without resolved inputs keep the digests they always had.
  const { baseRevision, parentBuild } = origin.inputs ?? {};
  const from = baseRevision || parentBuild ? { from: { baseRevision, parentBuild } } : {};
  const content = canonicalJson({ base, customizations: spec.customizations ?? {}, format, ...from });
  const hex = createHash("sha256").update(content).digest("hex");
  const name = spec.base.image ?? `${root.os}-${root.release}`;
  return {
    format,
    digest: `sha256:${hex}`,
    location: `${repository}/${name}-${arch(spec, origin.rootBase)}.${format}@sha256:${hex}`,
    sizeBytes: mockedSize(spec, format, hex),
  };
}

const BASE_SIZE_MIB: Record<Format, number> = {
  qcow2: 900,
  raw: 4096,
  vmdk: 950,
  vhd: 4100,
  ami: 1024,
  iso: 1200,
};

/** A plausible, deterministic size: base size plus a little per package and file. */
function mockedSize(spec: ImageSpec, format: Format, hex: string): number {
  const c = spec.customizations;
  const extraMiB = (c?.packages?.length ?? 0) * 12 + (c?.files?.length ?? 0);
  const jitter = Number.parseInt(hex.slice(0, 6), 16) % 1_048_576;
  return (BASE_SIZE_MIB[format] + extraMiB) * 1_048_576 + jitter;
}
