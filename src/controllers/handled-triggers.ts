// Which rebuild request and schedule slot an Image has already built. Builds carry their trigger,
// but history pruning deletes builds; the Image's status keeps the marks, so a pruned build's
// trigger does not fire again (a loop with historyLimits.successful: 1 and a schedule).
import { createHash } from "node:crypto";
import type { ImageBuild, ImageStatus } from "../api/v1alpha1/index.js";
import { ANNOTATIONS } from "../build/names.js";

const MAX_PLAIN_TOKEN = 64;

/** How status.handledRebuild records a golden.dev/rebuild token: as is, or hashed when long. */
export function rebuildKey(token: string): string {
  if (token.length <= MAX_PLAIN_TOKEN) return token;
  return `sha256:${createHash("sha256").update(token).digest("hex")}`;
}

export interface HandledTriggers {
  handledRebuild?: string;
  handledScheduleTime?: string;
}

/**
 * The marks to record: the current rebuild token once a build exists for it, and the newest
 * schedule slot any build was made for, never going back from what status already says.
 */
export function handledTriggers(
  status: ImageStatus | undefined,
  builds: readonly ImageBuild[],
  rebuildToken: string | undefined,
): HandledTriggers {
  const triggers = builds.map((b) => b.metadata?.annotations?.[ANNOTATIONS.trigger] ?? "");
  let handledRebuild = status?.handledRebuild;
  if (rebuildToken && triggers.includes(`rebuild:${rebuildToken}`)) handledRebuild = rebuildKey(rebuildToken);
  let newest = status?.handledScheduleTime ? new Date(status.handledScheduleTime).getTime() : undefined;
  for (const t of triggers) {
    if (!t.startsWith("schedule:")) continue;
    const slot = new Date(t.slice("schedule:".length)).getTime();
    if (!Number.isNaN(slot) && (newest === undefined || slot > newest)) newest = slot;
  }
  return {
    ...(handledRebuild !== undefined ? { handledRebuild } : {}),
    ...(newest !== undefined ? { handledScheduleTime: new Date(newest).toISOString() } : {}),
  };
}

/** True when the rebuild `token` asks for was already started. */
export function rebuildHandled(handled: HandledTriggers, token: string): boolean {
  return handled.handledRebuild === rebuildKey(token);
}

/** True when a build for schedule slot `slot` (or a later one) was already started. */
export function slotHandled(handled: HandledTriggers, slot: Date): boolean {
  return (
    handled.handledScheduleTime !== undefined &&
    new Date(handled.handledScheduleTime).getTime() >= slot.getTime()
  );
}
