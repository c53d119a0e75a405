// What golden keeps of each object in its informer caches. The operator reads only metadata and
// status of Jobs, and of an ImageBuild's spec snapshot only what placement, priority and timeouts
// need (the worker reads the full build from the API): everything else would cost memory per build.
import type { V1Job } from "@kubernetes/client-node";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { stripManagedFields } from "../runtime/informer.js";

export function slimJob(job: V1Job): V1Job {
  stripManagedFields(job);
  job.spec = undefined;
  return job;
}

export function slimImageBuild(build: ImageBuild): ImageBuild {
  stripManagedFields(build);
  if (build.spec?.image?.customizations) build.spec.image.customizations = undefined;
  return build;
}
