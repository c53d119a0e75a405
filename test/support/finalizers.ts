// Teardown of last resort: strips every finalizer from a namespace's Images and ImageBuilds, for
// when no operator is left to release golden's (an interrupted benchmark, a stuck chaos run).
import PQueue from "p-queue";
import type { GoldenClient } from "../../src/api/client.js";
import type { Image, ImageBuild } from "../../src/api/v1alpha1/index.js";

export async function stripGoldenFinalizers(golden: GoldenClient, namespace: string): Promise<void> {
  const patches = new PQueue({ concurrency: 32 });
  for (const resource of [golden.images, golden.imageBuilds] as const) {
    const objects: (Image | ImageBuild)[] = await resource
      .list(namespace)
      .then((l) => l.items)
      .catch(() => []); // The CRDs may be gone.
    await patches.addAll(
      objects.map(
        (o) => () =>
          resource.patch(namespace, o.metadata?.name ?? "", { metadata: { finalizers: null } }).then(
            () => undefined,
            () => undefined,
          ),
      ),
    );
  }
}
