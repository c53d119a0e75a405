// What golden keeps of each object in its informer caches. The operator reads Images whole but for
// client bookkeeping (managedFields, kubectl's last-applied copy), only metadata and status of Jobs, the phase of build pods, and of an ImageBuild's spec snapshot only what
// placement, priority and timeouts need (the worker reads the full build from the API):
// everything else would cost memory per build.
import type { KubernetesObject, V1Job, V1Pod } from "@kubernetes/client-node";
import type { Image, ImageBuild } from "../api/v1alpha1/index.js";
import { stripManagedFields } from "../runtime/informer.js";

/** What `kubectl apply` (client-side) stores on an object: a second copy of its spec, read by no controller. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/** Drops managedFields and kubectl's last-applied copy, which only clients read. */
function stripClientBookkeeping<T extends KubernetesObject>(obj: T): T {
  stripManagedFields(obj);
  const annotations = obj.metadata?.annotations;
  if (annotations && LAST_APPLIED_ANNOTATION in annotations) {
    const { [LAST_APPLIED_ANNOTATION]: _, ...rest } = annotations;
    if (obj.metadata) obj.metadata.annotations = Object.keys(rest).length > 0 ? rest : undefined;
  }
  return obj;
}

/**
 * An Image as the reconciler reads it: all of its spec (copied into each build) and status (diffed
 * before each write), its metadata but for what only clients read. The status write is a PUT of
 * the status subresource, which takes nothing but status from its body, so the stored object
 * keeps what the cache drops.
 */
export function slimImage(image: Image): Image {
  return stripClientBookkeeping(image);
}

export function slimJob(job: V1Job): V1Job {
  stripManagedFields(job);
  job.spec = undefined;
  return job;
}

/** A build pod as the scheduler sees it: whose it is (labels, ServiceAccount) and whether it still runs (phase). */
export function slimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    // Only build pods run as the worker ServiceAccount: the scheduler counts no other.
    spec: { serviceAccountName: pod.spec?.serviceAccountName, containers: [] },
    status: { phase: pod.status?.phase },
  };
}

export function slimImageBuild(build: ImageBuild): ImageBuild {
  stripClientBookkeeping(build);
  if (build.spec?.image?.customizations) build.spec.image.customizations = undefined;
  return build;
}
