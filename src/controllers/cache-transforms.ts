// What golden keeps of each object in its informer caches. The operator reads only metadata and
// status of Jobs, the phase of build pods, and of an ImageBuild's spec snapshot only what
// placement, priority and timeouts need (the worker reads the full build from the API):
// everything else would cost memory per build.
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { stripManagedFields } from "../runtime/informer.js";

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
  stripManagedFields(build);
  if (build.spec?.image?.customizations) build.spec.image.customizations = undefined;
  return build;
}
