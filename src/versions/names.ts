// Names and annotations of versions and channels.
import { createHash } from "node:crypto";
import { GROUP } from "../api/v1alpha1/index.js";

/** Annotation on an Image: the promote or rollback request of one channel (see channels.ts). */
export const CHANNEL_REQUEST_PREFIX = `channel.${GROUP}/`;

export function channelRequestAnnotation(channel: string): string {
  return `${CHANNEL_REQUEST_PREFIX}${channel}`;
}

/** The channel requests in an Image's annotations, by channel name. */
export function channelRequests(annotations: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations ?? {}))
    if (k.startsWith(CHANNEL_REQUEST_PREFIX)) out[k.slice(CHANNEL_REQUEST_PREFIX.length)] = v;
  return out;
}

/** Labels on an ImageVersion (besides the Image's name and uid labels builds carry too). */
export const VERSION_LABELS = { version: `${GROUP}/version` } as const;

/** `<image>-<version>`, e.g. web-1.2.0; a long Image name is cut and hashed to stay within 253. */
export function versionName(imageName: string, version: string): string {
  const name = `${imageName}-${version}`;
  if (name.length <= 253) return name;
  const hash = createHash("sha256").update(imageName).digest("hex").slice(0, 8);
  return `${imageName.slice(0, 253 - version.length - hash.length - 2).replace(/[-.]+$/, "")}-${hash}-${version}`;
}
