// When a failed build is attempted again (spec.build.retries), with exponential backoff.
import type { Image, ImageBuild } from "../api/v1alpha1/index.js";
import { attempt as attemptOf, retries as retriesOf } from "../build/defaults.js";

export const RETRY_BASE_MS = 10_000;
export const RETRY_CAP_MS = 10 * 60_000;

/** Delay before attempt n+1 after attempt n failed: 10 s, 20 s, 40 s, … capped at 10 min. */
export function retryDelayMs(failedAttempt: number, baseMs = RETRY_BASE_MS, capMs = RETRY_CAP_MS): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, failedAttempt - 1));
}

/** The time the next attempt is due, or undefined when the build is not a retryable failure. */
export function retryAt(image: Image, build: ImageBuild, baseMs = RETRY_BASE_MS): Date | undefined {
  if (build.status?.phase !== "Failed") return undefined;
  const attempt = attemptOf(build);
  const retries = retriesOf(image.spec);
  if (attempt > retries) return undefined;
  const failedAt = new Date(build.status.completionTime ?? build.metadata?.creationTimestamp ?? 0).getTime();
  return new Date(failedAt + retryDelayMs(attempt, baseMs));
}
