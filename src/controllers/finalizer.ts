// Releasing golden's artifacts finalizer: one merge patch guarded by the object's resourceVersion,
// so it is removed exactly once and never over a newer change (a 409 requeues the key).

import type { Image, ImageBuild } from "../api/v1alpha1/index.js";
import { FINALIZER } from "../build/names.js";
import { isNotFound } from "../runtime/api-errors.js";

/** True when the object still carries golden's finalizer. */
export function holdsFinalizer(obj: Image | ImageBuild): boolean {
  return obj.metadata?.finalizers?.includes(FINALIZER) ?? false;
}

/** The one write this needs, which both the Image and the ImageBuild client offer. */
interface MetadataPatcher {
  patch(
    namespace: string,
    name: string,
    patch: { metadata: { finalizers: string[]; resourceVersion?: string } },
  ): Promise<unknown>;
}

export async function releaseFinalizer(resource: MetadataPatcher, obj: Image | ImageBuild): Promise<void> {
  try {
    await resource.patch(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "", {
      metadata: {
        finalizers: (obj.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER),
        resourceVersion: obj.metadata?.resourceVersion,
      },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err; // Gone already: nothing left to hold.
  }
}
