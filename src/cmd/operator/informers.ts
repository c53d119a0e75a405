// The operator's caches, every string in them interned (runtime/intern.ts): Images (without client
// bookkeeping), ImageBuilds (slimmed, indexed by their Image's uid), ImageVersions
// (by Image, parent version and build), golden's Jobs and their pods (slimmed, by label), in all
// namespaces or the ones --namespace names, Namespaces (for per-namespace build limits), and the
// cluster-scoped catalog (BaseImages, indexed by the names Images use) and RebuildCampaigns.
import type { KubeConfig, KubernetesObject, V1Job, V1Namespace, V1Pod } from "@kubernetes/client-node";
import {
  API_VERSION,
  BASE_IMAGE_RESOURCE,
  type BaseImage,
  IMAGE_BUILD_RESOURCE,
  IMAGE_RESOURCE,
  IMAGE_VERSION_RESOURCE,
  type Image,
  type ImageBuild,
  type ImageVersion,
  REBUILD_CAMPAIGN_RESOURCE,
  type RebuildCampaign,
} from "../../api/v1alpha1/index.js";
import { LABELS, MANAGED_BY } from "../../build/names.js";
import { slimImage, slimImageBuild, slimJob, slimPod } from "../../controllers/cache-transforms.js";
import { CATALOG_INDEX, catalogKeys } from "../../controllers/catalog.js";
import {
  BUILDS_BY_IMAGE_UID,
  IMAGES_BY_PARENT,
  parentIndexKeys,
} from "../../controllers/image-reconciler.js";
import { versionIndexers } from "../../controllers/version-reconciler.js";
import { Informer, type InformerOptions, stripManagedFields } from "../../runtime/informer.js";
import { internStrings } from "../../runtime/intern.js";
import type { RestClient } from "../../runtime/kube.js";
import type { Logger } from "../../runtime/logger.js";
import type { Metrics } from "../../runtime/metrics.js";
import { MultiNamespaceInformer, type SharedInformer } from "../../runtime/multi-informer.js";

export interface Informers {
  images: SharedInformer<Image>;
  builds: SharedInformer<ImageBuild>;
  versions: SharedInformer<ImageVersion>;
  jobs: SharedInformer<V1Job>;
  /** Build pods: a slot is held while a build's pod runs, and freed as soon as it has ended. */
  pods: SharedInformer<V1Pod>;
  namespaces: SharedInformer<V1Namespace>;
  /** The catalog (cluster-scoped): every operator resolves bases, whatever its namespaces. */
  baseImages: Informer<BaseImage>;
  campaigns: Informer<RebuildCampaign>;
}

/**
 * Objects per LIST page. A page's text and its objects as parsed (managedFields and all) are
 * garbage once cached; pages of 500 (the runtime's default, client-go's) peaked ~35 MB higher in
 * RSS while caching 10 000 Images' objects than pages of 100 did, for a few more requests at
 * start (docs/performance.md, "Memory").
 */
const LIST_PAGE_SIZE = 100;

/** A cache transform followed by interning: each distinct string value is kept once. */
function interned<T>(slim: (obj: T) => T): (obj: T) => T {
  return (obj) => internStrings(slim(obj));
}

/**
 * `namespaces` scopes Images, builds, Jobs and pods to those namespaces (a list and watch in each);
 * empty watches all.
 */
export function informers(
  kc: KubeConfig,
  o: { rest: RestClient; metrics: Metrics; log: Logger; namespaces: readonly string[] },
): Informers {
  const common = {
    client: o.rest,
    metrics: o.metrics,
    logger: o.log,
    pageSize: LIST_PAGE_SIZE,
    transform: interned(stripManagedFields),
  } as const;
  const scoped = <T extends KubernetesObject>(
    collection: (prefix: string) => string,
    opts: Omit<InformerOptions<T>, "path"> & { name: string },
  ): SharedInformer<T> => {
    const [only, ...more] = o.namespaces;
    if (only === undefined) return new Informer<T>(kc, { ...opts, path: collection("") });
    if (more.length === 0) return new Informer<T>(kc, { ...opts, path: collection(`/namespaces/${only}`) });
    return new MultiNamespaceInformer<T>(kc, o.namespaces, (ns) => collection(`/namespaces/${ns}`), opts);
  };
  return {
    images: scoped<Image>((scope) => `/apis/${API_VERSION}${scope}/${IMAGE_RESOURCE.plural}`, {
      ...common,
      name: "images",
      transform: interned(slimImage),
      indexers: { [IMAGES_BY_PARENT]: parentIndexKeys },
    }),
    builds: scoped<ImageBuild>((scope) => `/apis/${API_VERSION}${scope}/${IMAGE_BUILD_RESOURCE.plural}`, {
      ...common,
      name: "imagebuilds",
      transform: interned(slimImageBuild),
      indexers: { [BUILDS_BY_IMAGE_UID]: (b) => [b.metadata?.labels?.[LABELS.imageUid] ?? ""] },
    }),
    versions: scoped<ImageVersion>(
      (scope) => `/apis/${API_VERSION}${scope}/${IMAGE_VERSION_RESOURCE.plural}`,
      {
        ...common,
        name: "imageversions",
        indexers: versionIndexers,
      },
    ),
    jobs: scoped<V1Job>((scope) => `/apis/batch/v1${scope}/jobs`, {
      ...common,
      name: "jobs",
      transform: interned(slimJob),
      labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`,
    }),
    pods: scoped<V1Pod>((scope) => `/api/v1${scope}/pods`, {
      ...common,
      name: "pods",
      transform: interned(slimPod),
      labelSelector: `${LABELS.managedBy}=${MANAGED_BY},${LABELS.component}=worker`,
    }),
    namespaces: new Informer<V1Namespace>(kc, {
      ...common,
      name: "namespaces",
      path: "/api/v1/namespaces",
    }),
    baseImages: new Informer<BaseImage>(kc, {
      ...common,
      name: "baseimages",
      path: `/apis/${API_VERSION}/${BASE_IMAGE_RESOURCE.plural}`,
      indexers: { [CATALOG_INDEX]: catalogKeys },
    }),
    campaigns: new Informer<RebuildCampaign>(kc, {
      ...common,
      name: "rebuildcampaigns",
      path: `/apis/${API_VERSION}/${REBUILD_CAMPAIGN_RESOURCE.plural}`,
    }),
  };
}
