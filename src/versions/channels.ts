// Channels: where each of an Image's channels points, computed from the channel's previous state,
// the Image's versions, the promote/rollback request on the Image and the clock. Pure: the version
// reconciler writes what this returns, and records the Events it names.
import { createHash } from "node:crypto";
import type { ChannelMove, ChannelStatus, ImageChannel } from "../api/v1alpha1/index.js";
import { compareVersions } from "./semver.js";

/** The history a channel keeps (status.channels[].history, oldest first). */
export const HISTORY_LIMIT = 20;

export interface VersionFacts {
  version: string;
  /** Effective revocation: its time has come. */
  revoked: boolean;
  revocationReason?: string;
}

export interface ChannelEvent {
  type: "Normal" | "Warning";
  reason: string;
  note: string;
}

export interface ChannelRequest {
  action: "promote" | "rollback";
  version?: string;
}

export interface ChannelsResult {
  channels: ChannelStatus[];
  events: ChannelEvent[];
  /** When a soaking version becomes eligible, in ms from now. */
  wakeAfterMs?: number;
}

/** `promote <version> <id>` or `rollback <id>`: the value of annotation channel.golden.dev/<channel>. */
export function parseRequest(value: string): ChannelRequest | undefined {
  const [action, ...rest] = value.trim().split(/\s+/);
  if (action === "promote" && rest.length === 2) return { action, version: rest[0] };
  if (action === "rollback" && rest.length === 1) return { action };
  return undefined;
}

/**
 * What status.channels[].lastRequest records of a request: the request itself, or the digest of
 * one too long for the field (an annotation anyone may write), so that it is handled only once too.
 */
export function requestKey(value: string): string {
  return value.length <= 200 ? value : `sha256:${createHash("sha256").update(value).digest("hex")}`;
}

export function formatRequest(request: ChannelRequest, id: string): string {
  return request.action === "promote" ? `promote ${request.version} ${id}` : `rollback ${id}`;
}

const ENTERS = new Set(["Followed", "Promoted", "Soaked"]);

/** The channel's versions as a stack: moves forward push, rollbacks and revocations pop. */
export function versionStack(history: ChannelMove[]): string[] {
  const stack: string[] = [];
  for (const move of history) {
    if (ENTERS.has(move.action)) {
      if (move.version) stack.push(move.version);
      continue;
    }
    while (stack.length > 0 && stack.at(-1) !== move.version) stack.pop();
    if (move.version && stack.length === 0) stack.push(move.version);
  }
  return stack;
}

/** The version below the current one that is still good, for a rollback or a revocation. */
export function fallback(
  history: ChannelMove[],
  good: (v: string) => boolean,
  current?: string,
): string | undefined {
  const stack = versionStack(history);
  if (current !== undefined && stack.at(-1) === current) stack.pop();
  for (let i = stack.length - 1; i >= 0; i--) {
    const v = stack[i];
    if (v !== undefined && v !== current && good(v)) return v;
  }
  return undefined;
}

/** Whether `v` is newer than every version the channel ever held (so following it is progress). */
function newerThanHeld(status: ChannelStatus, v: string): boolean {
  const held = [status.version, ...(status.history ?? []).map((m) => m.version)].filter(
    (x): x is string => x !== undefined,
  );
  return held.every((h) => compareVersions(v, h) > 0);
}

interface Soak {
  version: string;
  /** ms spent in the source channel so far (to now, or until it left). */
  dwellMs: number;
  /** Still in the source channel. */
  current: boolean;
}

function soaks(source: ChannelStatus | undefined, now: Date): Soak[] {
  const history = source?.history ?? [];
  const out: Soak[] = [];
  history.forEach((move, i) => {
    if (!move.version) return; // Left empty. (A fallback after a revocation enters its version anew.)
    const entered = Date.parse(move.time);
    const next = history[i + 1];
    const left = next ? Date.parse(next.time) : now.getTime();
    out.push({ version: move.version, dwellMs: left - entered, current: next === undefined });
  });
  return out;
}

export interface ChannelsInput {
  spec: ImageChannel[];
  previous: ChannelStatus[];
  versions: VersionFacts[];
  /** Annotation value per channel name. */
  requests: Record<string, string>;
  now: Date;
}

export function reconcileChannels(input: ChannelsInput): ChannelsResult {
  const { now } = input;
  const byVersion = new Map(input.versions.map((v) => [v.version, v]));
  const good = (v: string) => byVersion.get(v)?.revoked === false;
  const newestGood = input.versions
    .filter((v) => !v.revoked)
    .map((v) => v.version)
    .sort(compareVersions)
    .at(-1);
  const events: ChannelEvent[] = [];
  const done = new Map<string, ChannelStatus>();
  let wakeAfterMs: number | undefined;
  const wake = (ms: number) => {
    wakeAfterMs = Math.max(0, Math.min(wakeAfterMs ?? ms, ms));
  };

  // Sources first, so a soaking channel sees its source's moves of this same pass.
  const ordered = [...input.spec].sort((a, b) => Number(Boolean(a.soak)) - Number(Boolean(b.soak)));
  for (const channel of ordered) {
    const old = input.previous.find((c) => c.name === channel.name);
    const st: ChannelStatus = structuredClone(old ?? { name: channel.name });
    const move = (version: string | undefined, action: ChannelMove["action"], reason: string) => {
      const entry: ChannelMove = { action, time: now.toISOString(), reason };
      if (version) entry.version = version;
      st.history = [...(st.history ?? []), entry].slice(-HISTORY_LIMIT);
      if (version) st.version = version;
      else delete st.version;
      st.since = now.toISOString();
      st.message = reason;
    };
    const tell = (type: ChannelEvent["type"], reason: string, note: string) =>
      events.push({ type, reason, note: `channel ${channel.name}: ${note}` });

    // 1. A revoked (or deleted) version leaves the channel, which falls back.
    if (st.version && !good(st.version)) {
      const bad = st.version;
      const why = byVersion.get(bad)?.revocationReason ?? "version no longer exists";
      const to =
        channel.promotion === "Auto"
          ? newestGoodBelow(input.versions, bad)
          : fallback(st.history ?? [], good, bad);
      move(to, "Revoked", `${bad} revoked (${why}); ${to ? `back to ${to}` : "channel is empty"}`);
      tell("Warning", "ChannelRevoked", st.message ?? "");
    }

    // 2. A promote or rollback request not handled yet.
    const request = input.requests[channel.name];
    if (request && requestKey(request) !== st.lastRequest) {
      st.lastRequest = requestKey(request);
      const parsed = parseRequest(request);
      if (!parsed) {
        st.message = `request "${request.slice(0, 100)}" not understood: want "promote <version> <id>" or "rollback <id>"`;
        tell("Warning", "ChannelRequestRefused", st.message);
      } else if (parsed.action === "promote") {
        const v = parsed.version ?? "";
        const facts = byVersion.get(v);
        if (!facts) {
          st.message = `cannot promote ${v}: no such version`;
          tell("Warning", "PromotionRefused", st.message);
        } else if (facts.revoked) {
          st.message = `cannot promote ${v}: it is revoked (${facts.revocationReason ?? ""})`;
          tell("Warning", "PromotionRefused", st.message);
        } else if (st.version === v) {
          st.message = `already at ${v}`;
        } else {
          const from = st.version;
          move(v, "Promoted", `promoted ${from ?? "(empty)"} → ${v}`);
          tell("Normal", "ChannelPromoted", st.message ?? "");
        }
      } else {
        const to = fallback(st.history ?? [], good, st.version);
        if (!to) {
          st.message = `cannot roll back from ${st.version ?? "(empty)"}: no earlier good version in the channel's history`;
          tell("Warning", "RollbackRefused", st.message);
        } else {
          const from = st.version;
          move(to, "RolledBack", `rolled back ${from ?? "(empty)"} → ${to}`);
          tell("Normal", "ChannelRolledBack", st.message ?? "");
        }
      }
    }

    // 3. Auto follows every new version; a Manual channel with soak takes a version that soaked.
    if (channel.promotion === "Auto" && newestGood && newerThanHeld(st, newestGood)) {
      move(newestGood, "Followed", `follows ${newestGood}, the newest version`);
      tell("Normal", "ChannelFollowed", st.message ?? "");
    } else if (channel.soak) {
      const needMs = channel.soak.seconds * 1000;
      const source =
        done.get(channel.soak.channel) ?? input.previous.find((c) => c.name === channel.soak?.channel);
      const candidates = soaks(source, now).filter((s) => good(s.version) && newerThanHeld(st, s.version));
      const ready = candidates
        .filter((s) => s.dwellMs >= needMs)
        .map((s) => s.version)
        .sort(compareVersions)
        .at(-1);
      if (ready) {
        const from = st.version;
        move(
          ready,
          "Soaked",
          `promoted ${from ?? "(empty)"} → ${ready} after ${channel.soak.seconds}s in ${channel.soak.channel}`,
        );
        tell("Normal", "ChannelPromoted", st.message ?? "");
      }
      for (const s of candidates)
        if (s.current && s.dwellMs < needMs && (!ready || compareVersions(s.version, ready) > 0))
          wake(needMs - s.dwellMs);
    }
    done.set(channel.name, st);
  }
  const channels = input.spec.map((c) => done.get(c.name) as ChannelStatus);
  const result: ChannelsResult = { channels, events };
  if (wakeAfterMs !== undefined) result.wakeAfterMs = wakeAfterMs;
  return result;
}

function newestGoodBelow(versions: VersionFacts[], bad: string): string | undefined {
  return versions
    .filter((v) => !v.revoked && compareVersions(v.version, bad) < 0)
    .map((v) => v.version)
    .sort(compareVersions)
    .at(-1);
}
