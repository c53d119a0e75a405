// kubectl golden's commands. Each reads and writes golden's objects through the API; the operator
// does the rest (a promote or rollback is a request annotation the version reconciler handles).
import { findCondition } from "../api/conditions.js";
import type { ChannelStatus, Image, ImageVersion } from "../api/v1alpha1/index.js";
import {
  PENDING_BUILD_RESOURCE,
  API_VERSION as VISIBILITY_API_VERSION,
  GROUP as VISIBILITY_GROUP,
  VERSION as VISIBILITY_VERSION,
} from "../api/visibility/v1alpha1/index.js";
import type { PendingBuild } from "../api/visibility/v1alpha1/types.js";
import { ANNOTATIONS } from "../build/names.js";
import { apiErrorCode, apiErrorMessage } from "../runtime/api-errors.js";
import { changelog, renderChangelog } from "../versions/changelog.js";
import { type ChannelRequest, formatRequest, requestKey } from "../versions/channels.js";
import { channelRequestAnnotation, versionName } from "../versions/names.js";
import { compareVersions } from "../versions/semver.js";
import type { Args } from "./args.js";
import { notFound, PluginError, usage } from "./errors.js";
import type { Session } from "./kube.js";
import { age, structured, table, until } from "./output.js";

export interface Io {
  out: (text: string) => void;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

type Command = (s: Session, a: Args, io: Io) => Promise<void>;

export const COMMANDS: Record<string, { arity: number; usage: string; run: Command }> = {
  versions: { arity: 1, usage: "versions IMAGE", run: versions },
  diff: { arity: 3, usage: "diff IMAGE VERSION_A VERSION_B", run: diff },
  promote: { arity: 3, usage: "promote IMAGE CHANNEL VERSION", run: promote },
  rollback: { arity: 2, usage: "rollback IMAGE CHANNEL", run: rollback },
  revoke: { arity: 2, usage: "revoke IMAGE VERSION --reason TEXT [--at TIME]", run: revoke },
  rebuild: { arity: 1, usage: "rebuild IMAGE", run: rebuild },
  queue: { arity: 0, usage: "queue [-A]", run: queue },
};

/** Runs a call against the API, turning its errors into the plugin's. */
async function api<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof PluginError) throw err;
    throw new PluginError(`${what}: ${apiErrorMessage(err)}`);
  }
}

async function getImage(s: Session, name: string): Promise<Image> {
  const image = await api(`reading Image ${name}`, () => s.golden.images.get(s.namespace, name));
  if (!image) throw notFound(`Image "${name}" not found in namespace "${s.namespace}"`);
  return image;
}

async function listVersions(s: Session, image: string): Promise<ImageVersion[]> {
  const list = await api(`listing versions of ${image}`, () =>
    s.golden.imageVersions.list(s.namespace, { fieldSelector: `spec.imageName=${image}` }),
  );
  return list.items.sort((a, b) => compareVersions(a.spec.version, b.spec.version));
}

async function getVersion(s: Session, image: string, version: string): Promise<ImageVersion> {
  const found = await api(`reading version ${version} of ${image}`, () =>
    s.golden.imageVersions.get(s.namespace, versionName(image, version)),
  );
  if (found && found.spec.imageName === image) return found;
  const known = (await listVersions(s, image)).map((v) => v.spec.version);
  throw notFound(
    `Image "${image}" has no version "${version}"${known.length ? ` (versions: ${known.join(", ")})` : " (no versions yet)"}`,
  );
}

function channelOf(image: Image, channel: string): void {
  const names = (image.spec.channels ?? []).map((c) => c.name);
  if (!names.includes(channel))
    throw notFound(
      `Image "${image.metadata?.name}" has no channel "${channel}"${names.length ? ` (channels: ${names.join(", ")})` : " (spec.channels is empty)"}`,
    );
}

const isTrue = (v: ImageVersion, type: string) =>
  findCondition(v.status?.conditions, type)?.status === "True";

/** A version's STATUS: its own revocation first, then its parent's. */
function versionState(v: ImageVersion): string {
  if (isTrue(v, "Revoked")) return "revoked";
  if (v.revocation?.at) return `revokes ${v.revocation.at}`;
  return isTrue(v, "ParentRevoked") ? "parent revoked" : "ok";
}

async function versions(s: Session, a: Args, io: Io): Promise<void> {
  const [name = ""] = a.positionals;
  const image = await getImage(s, name);
  const list = (await listVersions(s, name)).reverse();
  if (a.output !== "table") {
    io.out(structured({ apiVersion: "v1", kind: "List", items: list }, a.output));
    return;
  }
  if (list.length === 0) {
    io.out(`Image "${name}" has no versions yet (each successful build makes one)`);
    return;
  }
  const channels = image.status?.channels ?? [];
  const rows = list.map((v) => {
    const targets = v.spec.targets?.length ?? 0;
    const published = v.status?.distribution?.filter((t) => t.phase === "Published").length ?? 0;
    return [
      v.spec.version,
      channels
        .filter((c) => c.version === v.spec.version)
        .map((c) => c.name)
        .join(",") || "-",
      versionState(v),
      v.spec.inputs.baseRevision,
      targets ? `${published}/${targets}` : "-",
      v.spec.changelog?.summary ?? "",
      age(v.metadata?.creationTimestamp, io.now()),
    ];
  });
  io.out(table(["VERSION", "CHANNELS", "STATUS", "BASE REVISION", "PUBLISHED", "CHANGES", "AGE"], rows));
}

async function diff(s: Session, a: Args, io: Io): Promise<void> {
  const [name = "", from = "", to = ""] = a.positionals;
  await getImage(s, name);
  const [va, vb] = [await getVersion(s, name, from), await getVersion(s, name, to)];
  const log = changelog(va.spec, vb.spec);
  if (a.output !== "table") io.out(structured(log, a.output));
  else
    io.out(
      [`${name} ${from} → ${to}: ${log.summary}`, ...renderChangelog(log).map((l) => `  ${l}`)].join("\n"),
    );
}

/**
 * Writes the request annotation and, unless --no-wait, waits for the operator's verdict: the
 * channel's status, or (--no-wait) the Image as annotated.
 */
async function requestChannelMove(
  s: Session,
  a: Args,
  io: Io,
  image: Image,
  channel: string,
  request: ChannelRequest,
): Promise<ChannelStatus | { annotated: Image }> {
  const name = image.metadata?.name ?? "";
  const value = formatRequest(request, io.now().getTime().toString(36));
  const annotated = await api(`annotating Image ${name}`, () =>
    s.golden.images.patch(s.namespace, name, {
      metadata: { annotations: { [channelRequestAnnotation(channel)]: value } },
    }),
  );
  if (!a.wait) return { annotated };
  const deadline = io.now().getTime() + a.timeoutMs;
  while (io.now().getTime() < deadline) {
    const current = await getImage(s, name);
    const st = current.status?.channels?.find((c) => c.name === channel);
    if (st?.lastRequest === requestKey(value)) return st;
    await io.sleep(250);
  }
  throw new PluginError(
    `the operator did not handle "${value}" on channel ${channel} within ${a.timeoutMs / 1000}s: is golden-operator running?`,
  );
}

function report(
  a: Args,
  io: Io,
  verdict: ChannelStatus | { annotated: Image },
  ok: (st: ChannelStatus) => boolean,
  requested: string,
): void {
  if ("annotated" in verdict) {
    io.out(a.output !== "table" ? structured(verdict.annotated, a.output) : requested);
    return;
  }
  if (a.output !== "table") io.out(structured(verdict, a.output));
  if (!ok(verdict)) throw new PluginError(verdict.message ?? "refused");
  if (a.output === "table") io.out(`${verdict.name}: ${verdict.message}`);
}

async function promote(s: Session, a: Args, io: Io): Promise<void> {
  const [name = "", channel = "", version = ""] = a.positionals;
  const image = await getImage(s, name);
  channelOf(image, channel);
  const v = await getVersion(s, name, version);
  if (v.revocation)
    throw new PluginError(`cannot promote ${version}: it is revoked (${v.revocation.reason})`);
  const verdict = await requestChannelMove(s, a, io, image, channel, { action: "promote", version });
  report(a, io, verdict, (st) => st.version === version, `requested: promote ${channel} to ${version}`);
}

async function rollback(s: Session, a: Args, io: Io): Promise<void> {
  const [name = "", channel = ""] = a.positionals;
  const image = await getImage(s, name);
  channelOf(image, channel);
  const verdict = await requestChannelMove(s, a, io, image, channel, { action: "rollback" });
  report(
    a,
    io,
    verdict,
    (st) => st.history?.at(-1)?.action === "RolledBack" && st.history.at(-1)?.reason === st.message,
    `requested: roll back ${channel}`,
  );
}

async function revoke(s: Session, a: Args, io: Io): Promise<void> {
  const [name = "", version = ""] = a.positionals;
  if (!a.reason) throw usage("revoke needs --reason TEXT: say why, for the channels' history and Events");
  if (a.at !== undefined && Number.isNaN(Date.parse(a.at)))
    throw usage(`--at ${a.at}: want a time such as 2026-12-24T18:00:00Z`);
  await getImage(s, name);
  const v = await getVersion(s, name, version);
  if (v.revocation) throw new PluginError(`${name} ${version} is already revoked: ${v.revocation.reason}`);
  const revocation = { reason: a.reason, ...(a.at ? { at: new Date(a.at).toISOString() } : {}) };
  const written = await api(`revoking ${name} ${version}`, () =>
    s.golden.imageVersions.patch(s.namespace, v.metadata?.name ?? "", { revocation }),
  );
  if (a.output !== "table") io.out(structured(written, a.output));
  else io.out(`${name} ${version} revoked${a.at ? ` as of ${revocation.at}` : ""}: ${a.reason}`);
}

async function rebuild(s: Session, a: Args, io: Io): Promise<void> {
  const [name = ""] = a.positionals;
  await getImage(s, name);
  const token = String(io.now().getTime());
  const written = await api(`annotating Image ${name}`, () =>
    s.golden.images.patch(s.namespace, name, { metadata: { annotations: { [ANNOTATIONS.rebuild]: token } } }),
  );
  if (a.output !== "table") io.out(structured(written, a.output));
  else io.out(`${name}: rebuild requested (${ANNOTATIONS.rebuild}=${token})`);
}

async function queue(s: Session, a: Args, io: Io): Promise<void> {
  const coords = {
    group: VISIBILITY_GROUP,
    version: VISIBILITY_VERSION,
    plural: PENDING_BUILD_RESOURCE.plural,
  };
  let list: { items?: PendingBuild[] };
  try {
    list = (await (a.allNamespaces
      ? s.custom.listCustomObjectForAllNamespaces({
          group: coords.group,
          version: coords.version,
          resourcePlural: coords.plural,
        })
      : s.custom.listNamespacedCustomObject({ ...coords, namespace: s.namespace }))) as {
      items?: PendingBuild[];
    };
  } catch (err) {
    if (apiErrorCode(err) === 404 || apiErrorCode(err) === 503)
      throw new PluginError(
        `the visibility API (${VISIBILITY_API_VERSION}) is not available (${apiErrorMessage(err)}): is golden's operator deployed with it?`,
      );
    throw new PluginError(`listing pendingbuilds: ${apiErrorMessage(err)}`);
  }
  const items = list.items ?? [];
  if (a.output !== "table") {
    io.out(structured({ apiVersion: "v1", kind: "List", items }, a.output));
    return;
  }
  if (items.length === 0) {
    io.out(a.allNamespaces ? "no builds are waiting" : `no builds are waiting in namespace "${s.namespace}"`);
    return;
  }
  const rows = items.map((p) => [
    ...(a.allNamespaces ? [p.metadata.namespace ?? ""] : []),
    p.metadata.name ?? "",
    String(p.clusterPosition),
    String(p.namespacePosition),
    p.imageName,
    String(p.priority),
    age(p.waitingSince, io.now()),
    until(p.estimatedStartTime, io.now()),
    p.reason,
  ]);
  const header = ["NAME", "POSITION", "NS POSITION", "IMAGE", "PRIORITY", "WAITING", "ETA", "REASON"];
  io.out(table(a.allNamespaces ? ["NAMESPACE", ...header] : header, rows));
}
