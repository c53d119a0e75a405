// The operator's caches: Images, ImageBuilds (slimmed, indexed by their Image's uid), ImageVersions
// (by Image, parent version and build), golden's Jobs and their pods (slimmed, by label) and
// Namespaces (for per-namespace build limits).
import type { KubeConfig, V1Job, V1Namespace, V1Pod } from "@kubernetes/client-node";
import {
  API_VERSION,
  IMAGE_BUILD_RESOURCE,
  IMAGE_RESOURCE,
  IMAGE_VERSION_RESOURCE,
  type Image,
  type ImageBuild,
  type ImageVersion,
} from "../../api/v1alpha1/index.js";
import { LABELS, MANAGED_BY } from "../../build/names.js";
import { slimImageBuild, slimJob, slimPod } from "../../controllers/cache-transforms.js";
import { BUILDS_BY_IMAGE_UID } from "../../controllers/image-reconciler.js";
import { versionIndexers } from "../../controllers/version-reconciler.js";
import { Informer, stripManagedFields } from "../../runtime/informer.js";
import type { RestClient } from "../../runtime/kube.js";
import type { Logger } from "../../runtime/logger.js";
import type { Metrics } from "../../runtime/metrics.js";

export interface Informers {
  images: Informer<Image>;
  builds: Informer<ImageBuild>;
  versions: Informer<ImageVersion>;
  jobs: Informer<V1Job>;
  /** Build pods: a slot is held while a build's pod runs, and freed as soon as it has ended. */
  pods: Informer<V1Pod>;
  namespaces: Informer<V1Namespace>;
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
    }),
    builds: new Informer<ImageBuild>(kc, {
      ...common,
      name: "imagebuilds",
      path: `/apis/${API_VERSION}${scope}/${IMAGE_BUILD_RESOURCE.plural}`,
      transform: slimImageBuild,
      indexers: { [BUILDS_BY_IMAGE_UID]: (b) => [b.metadata?.labels?.[LABELS.imageUid] ?? ""] },
    }),
    versions: new Informer<ImageVersion>(kc, {
      ...common,
      name: "imageversions",
      path: `/apis/${API_VERSION}${scope}/${IMAGE_VERSION_RESOURCE.plural}`,
      indexers: versionIndexers,
    }),
    jobs: new Informer<V1Job>(kc, {
      ...common,
      name: "jobs",
      path: `/apis/batch/v1${scope}/jobs`,
      transform: slimJob,
      labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`,
    }),
    pods: new Informer<V1Pod>(kc, {
      ...common,
      name: "pods",
      path: `/api/v1${scope}/pods`,
      transform: slimPod,
      labelSelector: `${LABELS.managedBy}=${MANAGED_BY},${LABELS.component}=worker`,
    }),
    namespaces: new Informer<V1Namespace>(kc, {
      ...common,
      name: "namespaces",
      path: "/api/v1/namespaces",
    }),
  };
}
