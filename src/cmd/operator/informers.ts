// The operator's caches: Images, ImageBuilds (slimmed, indexed by their Image's uid), golden's
// Jobs (slimmed, by label), Namespaces (for per-namespace build limits), and the cluster-scoped
// catalog (BaseImages, indexed by the names Images use) and RebuildCampaigns.
import type { KubeConfig, V1Job, V1Namespace } from "@kubernetes/client-node";
import {
  API_VERSION,
  BASE_IMAGE_RESOURCE,
  type BaseImage,
  IMAGE_BUILD_RESOURCE,
  IMAGE_RESOURCE,
  type Image,
  type ImageBuild,
  REBUILD_CAMPAIGN_RESOURCE,
  type RebuildCampaign,
} from "../../api/v1alpha1/index.js";
import { LABELS, MANAGED_BY } from "../../build/names.js";
import { slimImageBuild, slimJob } from "../../controllers/cache-transforms.js";
import { CATALOG_INDEX, catalogKeys } from "../../controllers/catalog.js";
import {
  BUILDS_BY_IMAGE_UID,
  IMAGES_BY_PARENT,
  parentIndexKeys,
} from "../../controllers/image-reconciler.js";
import { Informer, stripManagedFields } from "../../runtime/informer.js";
import type { RestClient } from "../../runtime/kube.js";
import type { Logger } from "../../runtime/logger.js";
import type { Metrics } from "../../runtime/metrics.js";

export interface Informers {
  images: Informer<Image>;
  builds: Informer<ImageBuild>;
  jobs: Informer<V1Job>;
  namespaces: Informer<V1Namespace>;
  /** The catalog (cluster-scoped): every operator resolves bases, whatever its namespace. */
  baseImages: Informer<BaseImage>;
  campaigns: Informer<RebuildCampaign>;
}

/** `namespace` scopes Images, builds and Jobs to one namespace; empty watches all. */
export function informers(
  kc: KubeConfig,
  o: { rest: RestClient; metrics: Metrics; log: Logger; namespace: string },
): Informers {
  const scope = o.namespace ? `/namespaces/${o.namespace}` : "";
  const common = {
    client: o.rest,
    metrics: o.metrics,
    logger: o.log,
    transform: stripManagedFields,
  } as const;
  return {
    images: new Informer<Image>(kc, {
      ...common,
      name: "images",
      path: `/apis/${API_VERSION}${scope}/${IMAGE_RESOURCE.plural}`,
      indexers: { [IMAGES_BY_PARENT]: parentIndexKeys },
    }),
    builds: new Informer<ImageBuild>(kc, {
      ...common,
      name: "imagebuilds",
      path: `/apis/${API_VERSION}${scope}/${IMAGE_BUILD_RESOURCE.plural}`,
      transform: slimImageBuild,
      indexers: { [BUILDS_BY_IMAGE_UID]: (b) => [b.metadata?.labels?.[LABELS.imageUid] ?? ""] },
    }),
    jobs: new Informer<V1Job>(kc, {
      ...common,
      name: "jobs",
      path: `/apis/batch/v1${scope}/jobs`,
      transform: slimJob,
      labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`,
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
