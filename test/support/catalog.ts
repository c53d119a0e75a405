// The catalog golden ships (config/catalog: its BaseImages, not its admission policy), for tests, and a
// lookup over any set of BaseImages shaped like the operator's indexed informer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { BaseImage } from "../../src/api/v1alpha1/index.js";
import { type CatalogLookup, catalogKeys } from "../../src/controllers/catalog.js";
import { repoRoot } from "./repo-root.js";

export function shippedCatalog(): BaseImage[] {
  const dir = join(repoRoot(), "config", "catalog");
  const kustomization = parseAllDocuments(
    readFileSync(join(dir, "kustomization.yaml"), "utf8"),
  )[0]?.toJS() as {
    resources: string[];
  };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), "utf8"), { version: "1.1" })
      .map((d) => d.toJS() as BaseImage | null)
      .filter((d): d is BaseImage => d?.kind === "BaseImage"),
  );
}

export function lookupOf(bases: BaseImage[]): CatalogLookup {
  const index = new Map<string, BaseImage[]>();
  for (const base of bases)
    for (const key of catalogKeys(base)) index.set(key, [...(index.get(key) ?? []), base]);
  return (key) => [...(index.get(key) ?? [])];
}

/** A BaseImage for tests: `<os>-<release>-<arch>` at `revision`. */
export function baseImage(
  os: BaseImage["spec"]["os"],
  release: string,
  revision: string,
  extra: Partial<BaseImage["spec"]> = {},
): BaseImage {
  const arch = extra.arch ?? "amd64";
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "BaseImage",
    metadata: {
      name: `${os}-${release}-${arch}`.toLowerCase(),
      uid: `uid-${os}-${release}-${arch}`,
      generation: 1,
    },
    spec: { os, release, arch, revision, ...extra },
  };
}
