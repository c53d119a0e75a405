// Resolves an Image's catalog base (spec.base os/release/arch) to a BaseImage. The catalog is a set
// of cluster-scoped objects (config/catalog ships golden's), not a table in the code: releases come
// and go without a new operator or API version. The apiserver cannot look objects up at admission,
// so a missing, retired or deprecated base is reported in the Image's status (and Events).
import type { BaseImage, ImageBase } from "../api/v1alpha1/index.js";
import { DEFAULT_ARCH } from "../build/defaults.js";

export interface SpecProblem {
  reason: string;
  field: string;
  message: string;
}

/** BaseImages indexed by CATALOG_INDEX. */
export type CatalogLookup = (key: string) => BaseImage[];

export const CATALOG_INDEX = "os-arch-release";

/** The index key of (os, arch, release): exact names, as the apiserver compares them. */
export function catalogKey(os: string, arch: string, release: string): string {
  return `${os}/${arch}/${release}`;
}

/** Every key a BaseImage answers to: its release and each alias. */
export function catalogKeys(base: BaseImage): string[] {
  const { os, arch, release, aliases = [] } = base.spec;
  return [release, ...aliases].map((r) => catalogKey(os, arch, r));
}

export type CatalogResolution =
  | { base: BaseImage; deprecated?: string; problem?: undefined }
  | { problem: SpecProblem; base?: undefined };

/** The BaseImage an Image's catalog base names, or why golden will not build on it. */
export function resolveCatalogBase(base: ImageBase, lookup: CatalogLookup, now: Date): CatalogResolution {
  const os = base.os ?? "";
  const release = base.release ?? "";
  const arch = base.arch ?? DEFAULT_ARCH;
  const found = firstByName(lookup(catalogKey(os, arch, release)));
  if (!found) {
    return {
      problem: {
        reason: "UnsupportedRelease",
        field: "spec.base.release",
        message: `spec.base.release: ${os} ${release} (${arch}) is not in golden's catalog; kubectl get baseimages lists the bases golden builds on`,
      },
    };
  }
  const name = found.metadata?.name ?? "";
  const eol = found.spec.endOfLife;
  if (eol && pastEndOfLife(eol, now)) {
    return {
      problem: {
        reason: "BaseEndOfLife",
        field: "spec.base.release",
        message: `spec.base.release: ${os} ${release} (${arch}) reached its end of life on ${eol} (BaseImage ${name}); golden no longer builds on it`,
      },
    };
  }
  if (found.spec.deprecated) return { base: found, deprecated: deprecationNote(found, release) };
  return { base: found };
}

/** The note on a deprecated BaseImage, as an Image names it by `release` (its release or an alias). */
export function deprecationNote(base: BaseImage, release: string): string {
  const { os, arch, endOfLife } = base.spec;
  const until = endOfLife ? `; end of life on ${endOfLife}` : "";
  return `BaseImage ${base.metadata?.name ?? ""} (${os} ${release}, ${arch}) is deprecated${until}`;
}

/** The BaseImage an index key resolves to when several answer it: the first by name. */
export function firstByName(bases: BaseImage[]): BaseImage | undefined {
  return [...bases].sort(byName)[0];
}

/** The last day of support is still supported: past it means from the next day on (UTC). */
export function pastEndOfLife(endOfLife: string, now: Date): boolean {
  return now.toISOString().slice(0, 10) > endOfLife;
}

function byName(a: BaseImage, b: BaseImage): number {
  const x = a.metadata?.name ?? "";
  const y = b.metadata?.name ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * --catalog-selector: which BaseImages (and their campaigns) this operator rolls out. Equality
 * terms only (`key=value`, `key==value`, `key!=value`, or a bare `key` that must exist),
 * comma-separated; empty selects all.
 */
export function catalogSelector(selector: string): (base: BaseImage) => boolean {
  const terms = selector
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean)
    .map((term) => {
      const m = /^([A-Za-z0-9._/-]+)\s*(?:(!=|==|=)\s*([A-Za-z0-9._-]*))?$/.exec(term);
      if (!m)
        throw new Error(
          `--catalog-selector: cannot parse ${JSON.stringify(term)} (want key=value, key!=value or key)`,
        );
      return { key: m[1] as string, op: m[2], value: m[3] ?? "" };
    });
  return (base) => {
    const labels = base.metadata?.labels ?? {};
    return terms.every(({ key, op, value }) =>
      op === undefined ? key in labels : op === "!=" ? labels[key] !== value : labels[key] === value,
    );
  };
}
