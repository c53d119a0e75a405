// The schema's defaults (api/spec) that code reads. The apiserver applies them to every stored
// Image and ImageBuild (spec.build and spec.historyLimits default to {}, their fields to these),
// so they matter for objects made in memory and for the optional parts without a default of
// their own (spec.build.simulate). test/unit/build/defaults.test.ts checks them against the CRDs.
import type { ImageBase, ImageBuild, ImageSpec } from "../api/v1alpha1/index.js";

/** spec.base.arch */
export const DEFAULT_ARCH = "amd64";
/** spec.build.timeoutSeconds */
export const DEFAULT_TIMEOUT_SECONDS = 3600;
/** spec.build.retries */
export const DEFAULT_RETRIES = 0;
/** spec.build.priority */
export const DEFAULT_PRIORITY = 0;
/** spec.build.simulate.stepSeconds */
export const DEFAULT_STEP_SECONDS = 1;
/** spec.historyLimits.successful and .failed */
export const DEFAULT_HISTORY_LIMIT = 3;
/** ImageBuild spec.attempt */
export const DEFAULT_ATTEMPT = 1;

/** The build's architecture: the Image's, or for a layered Image its root's (spec.rootBase). */
export function arch(spec: ImageSpec, rootBase?: ImageBase): string {
  return (rootBase ?? spec.base).arch ?? DEFAULT_ARCH;
}

/** Wall-clock limit of one attempt, in seconds. */
export function timeoutSeconds(spec: ImageSpec): number {
  return spec.build?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
}

/** How many failed attempts are retried. */
export function retries(spec: ImageSpec): number {
  return spec.build?.retries ?? DEFAULT_RETRIES;
}

export function priority(spec: ImageSpec): number {
  return spec.build?.priority ?? DEFAULT_PRIORITY;
}

/**
 * Below the lowest spec.build.priority (-1000) by more than the whole range: a background build
 * (a campaign's) orders after every other build, and among background builds priorities still count.
 */
export const BACKGROUND_OFFSET = 2001;

/** The priority the scheduler orders a build by: its Image's, lowered for background builds. */
export function schedulingPriority(build: ImageBuild): number {
  return priority(build.spec.image) - (build.spec.background ? BACKGROUND_OFFSET : 0);
}

/** How long each mocked build step takes, in seconds. */
export function stepSeconds(spec: ImageSpec): number {
  return spec.build?.simulate?.stepSeconds ?? DEFAULT_STEP_SECONDS;
}

/** How many Succeeded and how many Failed (or Cancelled) builds are kept. */
export function historyLimits(spec: ImageSpec): { successful: number; failed: number } {
  return {
    successful: spec.historyLimits?.successful ?? DEFAULT_HISTORY_LIMIT,
    failed: spec.historyLimits?.failed ?? DEFAULT_HISTORY_LIMIT,
  };
}

/** The build's attempt number for its generation, from 1. */
export function attempt(build: ImageBuild): number {
  return build.spec.attempt ?? DEFAULT_ATTEMPT;
}
