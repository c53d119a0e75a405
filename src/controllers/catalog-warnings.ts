// The admission warning about deprecated bases (config/catalog/base_warning_policy.yaml) reads one
// ConfigMap, which this reconciler keeps: a key per (os, arch, release or alias) whose BaseImage is
// deprecated, its note as the value. The policy then costs the apiserver one lookup per Image
// written. With the deprecated BaseImages themselves as its params, it cost one CEL evaluation per
// deprecated entry, each converting the whole admission request (11 per Image with the shipped
// catalog): a fifth of the kube-apiserver's CPU while a burst of Images was created (README,
// Performance). The operator may read and replace this one ConfigMap by name and create none
// (config/rbac/catalog_warnings_role.yaml): the deploy ships it empty.
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import type { BaseImage } from "../api/v1alpha1/index.js";
import { unlessNotFound } from "../runtime/api-errors.js";
import type { Logger } from "../runtime/logger.js";
import type { Result } from "../runtime/workqueue.js";
import { type CatalogLookup, catalogKey, deprecationNote, firstByName } from "./catalog.js";

export interface ConfigMapRef {
  namespace: string;
  name: string;
}

export const DEFAULT_CATALOG_WARNINGS_CONFIGMAP = "golden-system/golden-deprecated-bases";

/** Looked at again this often besides every catalog change: a ConfigMap reset by hand comes back. */
export const CATALOG_WARNINGS_RESYNC_MS = 5 * 60_000;

/** `namespace/name` → its parts; "" → undefined (no warnings kept). */
export function parseConfigMapRef(value: string, flag: string): ConfigMapRef | undefined {
  if (value === "") return undefined;
  const m = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?)$/.exec(value);
  if (!m) throw new Error(`--${flag}: want namespace/name, got ${JSON.stringify(value)}`);
  return { namespace: m[1] as string, name: m[3] as string };
}

/**
 * The ConfigMap key of a base as an Image names it. Keep in step with the policy's `key` variable.
 * No part can hold a `_` (os and arch are enums, a release matches [A-Za-z0-9._-]), and every
 * character is one a ConfigMap key allows.
 */
export function warningKey(os: string, arch: string, release: string): string {
  return `${os}_${arch}_${release}`;
}

/**
 * What the ConfigMap should hold for these BaseImages: each name an Image may use (a release or an
 * alias) that resolves, as the Image controller resolves it (`lookup`, the catalog's index; the
 * first BaseImage by name), to a deprecated entry. An entry being deleted is left out. Every entry
 * counts, whatever --catalog-selector says: operators that divide the catalog's campaigns between
 * them all keep the same ConfigMap, and agree on its content.
 */
export function deprecationWarnings(bases: BaseImage[], lookup: CatalogLookup): Record<string, string> {
  const warnings: Record<string, string> = {};
  for (const base of bases) {
    const { os, arch, release, aliases = [] } = base.spec;
    for (const r of [release, ...aliases]) {
      const found = firstByName(
        lookup(catalogKey(os, arch, r)).filter((b) => !b.metadata?.deletionTimestamp),
      );
      if (found?.spec.deprecated) warnings[warningKey(os, arch, r)] = deprecationNote(found, r);
    }
  }
  return warnings;
}

export interface CatalogWarningsDeps {
  bases: { list(): BaseImage[] };
  /** The catalog's index (CATALOG_INDEX), as the Image controller resolves bases. */
  catalog: CatalogLookup;
  configMaps: Pick<CoreV1Api, "readNamespacedConfigMap" | "replaceNamespacedConfigMap">;
  ref: ConfigMapRef;
  log: Logger;
}

export class CatalogWarningsReconciler {
  #reportedMissing = false;

  constructor(private readonly deps: CatalogWarningsDeps) {}

  /** One key: the whole catalog. Replaces the ConfigMap's data when it differs from the catalog's. */
  async reconcile(): Promise<Result> {
    const { ref, log } = this.deps;
    const want = deprecationWarnings(this.deps.bases.list(), this.deps.catalog);
    const current = await unlessNotFound(this.deps.configMaps.readNamespacedConfigMap(ref));
    if (!current) {
      // Not created here: the operator may create no ConfigMap (golden-system holds the trust params).
      if (!this.#reportedMissing)
        log.warn(
          "catalog warnings ConfigMap not found: Images on deprecated bases are admitted without a warning (their status still says so); kubectl apply -k config/catalog creates it",
          {
            configMap: `${ref.namespace}/${ref.name}`,
          },
        );
      this.#reportedMissing = true;
      return { requeueAfterMs: CATALOG_WARNINGS_RESYNC_MS };
    }
    this.#reportedMissing = false;
    if (sameData(current.data ?? {}, want)) return { requeueAfterMs: CATALOG_WARNINGS_RESYNC_MS };
    // Its resourceVersion guards the write: a concurrent one makes it a 409, and the next pass redoes it.
    const body: V1ConfigMap = { ...current, data: want };
    await this.deps.configMaps.replaceNamespacedConfigMap({ ...ref, body });
    log.info("catalog warnings updated", {
      configMap: `${ref.namespace}/${ref.name}`,
      deprecatedNames: Object.keys(want).length,
    });
    return { requeueAfterMs: CATALOG_WARNINGS_RESYNC_MS };
  }
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
