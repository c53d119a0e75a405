// The schema's defaults (api/spec) that code reads. The apiserver applies them to every stored
// Image and ImageBuild (spec.build and spec.historyLimits default to {}, their fields to these),
// so they matter only for objects made in memory; test/unit/build/defaults.test.ts checks that
// they match the generated CRDs.
import type { ImageSpec } from "../api/v1alpha1/index.js";

/** spec.build.timeoutSeconds */
export const DEFAULT_TIMEOUT_SECONDS = 3600;
/** spec.build.retries */
export const DEFAULT_RETRIES = 0;
/** spec.historyLimits.successful and .failed */
export const DEFAULT_HISTORY_LIMIT = 3;

/** Wall-clock limit of one attempt, in seconds. */
export function timeoutSeconds(spec: ImageSpec): number {
  return spec.build?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
}

/** How many failed attempts are retried. */
export function retries(spec: ImageSpec): number {
  return spec.build?.retries ?? DEFAULT_RETRIES;
}

/** How many Succeeded and how many Failed (or Cancelled) builds are kept. */
export function historyLimits(spec: ImageSpec): { successful: number; failed: number } {
  return {
    successful: spec.historyLimits?.successful ?? DEFAULT_HISTORY_LIMIT,
    failed: spec.historyLimits?.failed ?? DEFAULT_HISTORY_LIMIT,
  };
}
