// When a version counts as revoked: read by the version reconciler (its Revoked condition), the
// Image reconciler (channels fall back from a revoked version) and parent resolution.
import type { ImageVersion } from "../api/v1alpha1/index.js";
import { compareVersions } from "./semver.js";

/** Whether a revocation is in effect at `now` (a revocation without `at` is at once). */
export function isRevoked(v: ImageVersion, now: Date): boolean {
  const r = v.revocation;
  return r !== undefined && (!r.at || Date.parse(r.at) <= now.getTime());
}

/** Whether a version may be a layered Image's parent: not revoked. */
export function usableAsParent(v: ImageVersion, now: Date): boolean {
  return !isRevoked(v, now);
}

/** What a layered Image builds on: a parent build, or why there is none to use. */
export type ParentChoice =
  | { build: string; version?: ImageVersion; revoked?: undefined }
  | { revoked: ImageVersion; build?: undefined; version?: undefined };

/**
 * The parent build a layered Image's next build uses: the parent's newest success, unless the
 * version it became is revoked; then the build of the parent's newest version still usable, or
 * none (`revoked`: the newest success's version) when every version is revoked. A newest success
 * with no version yet is used: its version is on its way and nothing can have revoked it.
 */
export function chooseParentBuild(
  newestSuccess: string,
  parentVersions: ImageVersion[],
  now: Date,
): ParentChoice {
  const newest = parentVersions.find((v) => v.spec.build === newestSuccess);
  if (!newest || usableAsParent(newest, now))
    return newest ? { build: newestSuccess, version: newest } : { build: newestSuccess };
  const usable = parentVersions
    .filter((v) => usableAsParent(v, now))
    .sort((a, b) => compareVersions(b.spec.version, a.spec.version))[0];
  return usable ? { build: usable.spec.build, version: usable } : { revoked: newest };
}
