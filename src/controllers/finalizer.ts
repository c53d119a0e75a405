// Releasing golden's artifacts finalizer from an ImageBuild: one merge patch guarded by the
// build's resourceVersion, so it is removed exactly once and never over a newer change (a 409
// requeues the key).
import type { ResourceClient } from "../api/client.js";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { FINALIZER } from "../build/names.js";
import { isNotFound } from "../runtime/api-errors.js";

/** True when the build still carries golden's finalizer. */
export function holdsFinalizer(build: ImageBuild): boolean {
  return build.metadata?.finalizers?.includes(FINALIZER) ?? false;
}

export async function releaseFinalizer(
  builds: Pick<ResourceClient<ImageBuild>, "patch">,
  build: ImageBuild,
): Promise<void> {
  try {
    await builds.patch(build.metadata?.namespace ?? "", build.metadata?.name ?? "", {
      metadata: {
        finalizers: (build.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER),
        resourceVersion: build.metadata?.resourceVersion,
      },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err; // Gone already: nothing left to hold.
  }
}
