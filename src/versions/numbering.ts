// The versioning scheme (README "Versions and channels"): MAJOR.MINOR.PATCH, compared with the
// Image's newest version. Major: a different distribution, release, architecture or parent Image.
// Minor: different customizations or formats. Patch: anything else (a new base revision or parent
// version, or a plain rebuild of the same inputs). The first version is 1.0.0.
import type { VersionInputs } from "../api/v1alpha1/index.js";
import { type Bump, bumpVersion } from "./semver.js";

export interface Numbered {
  version: string;
  bump: Bump;
}

export function bumpFor(previous: VersionInputs | undefined, next: VersionInputs): Bump {
  if (!previous) return "Initial";
  const base = (i: VersionInputs) => [i.os, i.release, i.arch, i.parentImage ?? ""].join("\u0000");
  if (base(previous) !== base(next)) return "Major";
  if (previous.customizationDigest !== next.customizationDigest) return "Minor";
  return "Patch";
}

/** The number of the version after `previous` (the newest, by number), for `next`'s inputs. */
export function nextVersion(
  previous: { version: string; inputs: VersionInputs } | undefined,
  next: VersionInputs,
): Numbered {
  const bump = bumpFor(previous?.inputs, next);
  return { version: bumpVersion(previous?.version, bump), bump };
}
