// The order of an Image's builds: by when they were requested.
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { attempt } from "./defaults.js";
import { ANNOTATIONS } from "./names.js";

/** When the build was requested: the millisecond annotation, else the (whole-second) creationTimestamp. */
export function createdAtMs(build: ImageBuild): number {
  const t = build.metadata?.annotations?.[ANNOTATIONS.queuedAt] ?? build.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

/** Oldest first; ties broken by attempt then name so the order is total and stable. */
export function byCreation(a: ImageBuild, b: ImageBuild): number {
  return (
    createdAtMs(a) - createdAtMs(b) ||
    attempt(a) - attempt(b) ||
    (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "")
  );
}

export function newest(builds: ImageBuild[]): ImageBuild | undefined {
  return [...builds].sort(byCreation).at(-1);
}
