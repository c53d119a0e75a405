// What the resilience tests check after each fault: a build's progress, its outcome at the Image's
// current generation, and that nothing was duplicated or orphaned.
import assert from "node:assert/strict";
import type { Image, ImageBuild } from "../../src/api/v1alpha1/index.js";
import { batch, eventually, golden } from "./cluster.js";

export function image(
  namespace: string,
  name: string,
  stepSeconds = 1,
  formats: Image["spec"]["formats"] = ["raw"],
): Image {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "Image",
    metadata: { name, namespace },
    spec: { base: { os: "rocky", release: "9" }, formats, build: { simulate: { stepSeconds } } },
  };
}

export async function builds(namespace: string, imageName: string): Promise<ImageBuild[]> {
  return (await golden.imageBuilds.list(namespace, { fieldSelector: `spec.imageName=${imageName}` })).items;
}

export async function succeeded(namespace: string, name: string, timeoutMs = 90_000): Promise<Image> {
  return eventually(
    `Image ${name} Succeeded at its current generation`,
    async () => {
      const img = await golden.images.get(namespace, name);
      return img?.status?.phase === "Succeeded" && img.status.observedGeneration === img.metadata?.generation
        ? img
        : undefined;
    },
    timeoutMs,
  );
}

export async function building(namespace: string, name: string): Promise<ImageBuild> {
  return eventually(`a running build of ${name}`, async () =>
    (await builds(namespace, name)).find((b) => b.status?.phase === "Building" && b.status.progress?.step),
  );
}

/** No duplicate successful build per generation, and every Job belongs to a live build. */
export async function assertNoDuplicatesOrOrphans(namespace: string): Promise<void> {
  const all = (await golden.imageBuilds.list(namespace)).items;
  const perGeneration = new Map<string, number>();
  for (const b of all.filter((x) => x.status?.phase === "Succeeded")) {
    const key = `${b.spec.imageName}@${b.spec.imageGeneration}`;
    perGeneration.set(key, (perGeneration.get(key) ?? 0) + 1);
  }
  for (const [key, count] of perGeneration) assert.equal(count, 1, `${key} succeeded ${count} times`);
  const names = new Set(all.map((b) => b.metadata?.name));
  const jobs = (await batch.listNamespacedJob({ namespace })).items;
  for (const job of jobs) assert.ok(names.has(job.metadata?.name), `orphaned Job ${job.metadata?.name}`);
}
