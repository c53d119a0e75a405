// What an Image's status says of its versions: latestVersion and where each channel points (with
// the Events of the channels' moves). Pure: the Image reconciler writes it in its own status write,
// so that one controller writes the Image's status and a build's success, its version and the
// channels that follow it land in one write instead of two that conflict.
import type { ChannelStatus, Image, ImageVersion } from "../api/v1alpha1/index.js";
import { type ChannelEvent, reconcileChannels, type VersionFacts } from "../versions/channels.js";
import { channelRequests } from "../versions/names.js";
import { isRevoked } from "../versions/revocation.js";
import { compareVersions } from "../versions/semver.js";

export interface VersionsView {
  latestVersion?: string;
  channels: ChannelStatus[];
  /** The channels' moves, to record once the status that holds them is written. */
  events: ChannelEvent[];
  /** When a soaking version becomes eligible, in ms from now. */
  wakeAfterMs?: number;
}

/** The Image's latest version and channels, from its versions (any order) and the clock. */
export function versionsView(image: Image, versions: ImageVersion[], now: Date): VersionsView {
  const byNumber = [...versions].sort((a, b) => compareVersions(a.spec.version, b.spec.version));
  const facts: VersionFacts[] = byNumber.map((v) => ({
    version: v.spec.version,
    revoked: isRevoked(v, now),
    ...(v.revocation ? { revocationReason: v.revocation.reason } : {}),
  }));
  const result = reconcileChannels({
    spec: image.spec.channels ?? [],
    previous: image.status?.channels ?? [],
    versions: facts,
    requests: channelRequests(image.metadata?.annotations),
    now,
  });
  return {
    latestVersion: byNumber.at(-1)?.spec.version,
    channels: result.channels,
    events: result.events,
    wakeAfterMs: result.wakeAfterMs,
  };
}
