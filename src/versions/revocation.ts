// When a version counts as revoked: read by the version reconciler (its Revoked condition), the
// Image reconciler (channels fall back from a revoked version) and parent resolution.
import type { ImageVersion } from "../api/v1alpha1/index.js";

/** Whether a revocation is in effect at `now` (a revocation without `at` is at once). */
export function isRevoked(v: ImageVersion, now: Date): boolean {
  const r = v.revocation;
  return r !== undefined && (!r.at || Date.parse(r.at) <= now.getTime());
}

/**
 * Whether a version may be a layered Image's parent: not revoked. Parent resolution (the
 * catalog's admission of layered builds) must skip versions for which this is false.
 */
export function usableAsParent(v: ImageVersion, now: Date): boolean {
  return !isRevoked(v, now);
}
