// Images and their builds as the scheduling and build-policy tests make and wait for them.
import type { Image, ImageBuild } from "../../src/api/v1alpha1/index.js";
import { eventually, golden } from "./cluster.js";

export type Spec = Partial<Image["spec"]>;

export function image(
  namespace: string,
  name: string,
  spec: Spec = {},
  stepSeconds = 0,
  priority = 0,
): Image {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "Image",
    metadata: { name, namespace },
    spec: {
      base: { os: "fedora", release: "42", arch: "amd64" },
      formats: ["raw"],
      build: { priority, simulate: { stepSeconds } },
      ...spec,
    },
  };
}

export async function buildsOf(namespace: string, imageName: string): Promise<ImageBuild[]> {
  const list = await golden.imageBuilds.list(namespace, { fieldSelector: `spec.imageName=${imageName}` });
  const at = (b: ImageBuild) => new Date(b.metadata?.annotations?.["golden.dev/queued-at"] ?? 0).getTime();
  return list.items.sort((a, b) => at(a) - at(b));
}

export async function waitPhase(
  namespace: string,
  name: string,
  phase: string,
  timeoutMs = 90_000,
): Promise<Image> {
  return eventually(
    `Image ${namespace}/${name} to be ${phase}`,
    async () => {
      const img = await golden.images.get(namespace, name);
      return img?.status?.phase === phase ? img : undefined;
    },
    timeoutMs,
  );
}

export type Ns = { name: string; remove: () => Promise<void> };
