// What changed between two versions: packages added, removed, up- and downgraded; users,
// services, files and kernel arguments; the base revision and the parent version. Pure, so the
// operator (each version against the previous one) and the plugin (any two) share it.
import type {
  Changelog,
  ContentManifest,
  ListChange,
  PackageChange,
  PackageVersion,
  VersionInputs,
} from "../api/v1alpha1/index.js";
import { canonicalJson } from "../build/canonical.js";
import { comparePackageVersions } from "./semver.js";

export interface VersionContent {
  inputs: VersionInputs;
  manifest: ContentManifest;
}

function listChange<T>(
  before: T[] | undefined,
  after: T[] | undefined,
  key: (t: T) => string,
): ListChange | undefined {
  const old = new Map((before ?? []).map((t) => [key(t), canonicalJson(t)]));
  const now = new Map((after ?? []).map((t) => [key(t), canonicalJson(t)]));
  const change: ListChange = {};
  const added = [...now.keys()].filter((k) => !old.has(k));
  const removed = [...old.keys()].filter((k) => !now.has(k));
  const changed = [...now.keys()].filter((k) => old.has(k) && old.get(k) !== now.get(k));
  if (added.length) change.added = added;
  if (removed.length) change.removed = removed;
  if (changed.length) change.changed = changed;
  return Object.keys(change).length ? change : undefined;
}

/** The changes from `before` to `after`; with no `before`, everything is new. */
export function changelog(before: VersionContent | undefined, after: VersionContent): Changelog {
  const log: Changelog = {};
  const oldPkgs = new Map((before?.manifest.packages ?? []).map((p) => [p.name, p.version]));
  const newPkgs = new Map((after.manifest.packages ?? []).map((p) => [p.name, p.version]));
  const added: PackageVersion[] = [];
  const upgraded: PackageChange[] = [];
  const downgraded: PackageChange[] = [];
  for (const [name, version] of newPkgs) {
    const was = oldPkgs.get(name);
    if (was === undefined) added.push({ name, version });
    else if (was !== version) {
      (comparePackageVersions(version, was) > 0 ? upgraded : downgraded).push({
        name,
        from: was,
        to: version,
      });
    }
  }
  const removed = [...oldPkgs].filter(([n]) => !newPkgs.has(n)).map(([name, version]) => ({ name, version }));
  if (added.length) log.packagesAdded = added;
  if (removed.length) log.packagesRemoved = removed;
  if (upgraded.length) log.packagesUpgraded = upgraded;
  if (downgraded.length) log.packagesDowngraded = downgraded;

  const m0 = before?.manifest;
  const m1 = after.manifest;
  const set = <K extends "users" | "servicesEnabled" | "servicesDisabled" | "files" | "kernelArgs">(
    k: K,
    c: ListChange | undefined,
  ) => {
    if (c) log[k] = c;
  };
  set(
    "users",
    listChange(m0?.users, m1.users, (u) => u.name),
  );
  set(
    "servicesEnabled",
    listChange(m0?.servicesEnabled, m1.servicesEnabled, (s) => s),
  );
  set(
    "servicesDisabled",
    listChange(m0?.servicesDisabled, m1.servicesDisabled, (s) => s),
  );
  set(
    "files",
    listChange(m0?.files, m1.files, (f) => f.path),
  );
  set(
    "kernelArgs",
    listChange(m0?.kernelArgs, m1.kernelArgs, (a) => a),
  );
  const value = (from?: string, to?: string) => {
    const v: { from?: string; to?: string } = {};
    if (from) v.from = from;
    if (to) v.to = to;
    return v;
  };
  if (before?.inputs.baseRevision !== after.inputs.baseRevision)
    log.baseRevision = value(before?.inputs.baseRevision, after.inputs.baseRevision);
  if (before?.inputs.parentVersion !== after.inputs.parentVersion)
    log.parentVersion = value(before?.inputs.parentVersion, after.inputs.parentVersion);
  // The first version's "changes" are its whole content: say what it is instead.
  log.summary = before ? summarize(log) : `first version: ${after.manifest.packages?.length ?? 0} packages`;
  return log;
}

/** One line, e.g. "packages +2 -1 ↑3, users +1, base r2": the counts of each kind of change. */
export function summarize(log: Changelog): string {
  const parts: string[] = [];
  const n = (xs: unknown[] | undefined) => xs?.length ?? 0;
  const counts = (label: string, signed: [string, number][]) => {
    const nonzero = signed.filter(([, c]) => c > 0).map(([sign, c]) => `${sign}${c}`);
    if (nonzero.length) parts.push(`${label} ${nonzero.join(" ")}`);
  };
  counts("packages", [
    ["+", n(log.packagesAdded)],
    ["-", n(log.packagesRemoved)],
    ["↑", n(log.packagesUpgraded)],
    ["↓", n(log.packagesDowngraded)],
  ]);
  const list = (label: string, ...changes: (ListChange | undefined)[]) =>
    counts(label, [
      ["+", changes.reduce((t, c) => t + n(c?.added), 0)],
      ["-", changes.reduce((t, c) => t + n(c?.removed), 0)],
      ["~", changes.reduce((t, c) => t + n(c?.changed), 0)],
    ]);
  list("users", log.users);
  list("services", log.servicesEnabled, log.servicesDisabled);
  list("files", log.files);
  list("kernel args", log.kernelArgs);
  if (log.baseRevision) parts.push(`base ${log.baseRevision.to ?? "-"}`);
  if (log.parentVersion) parts.push(`parent ${log.parentVersion.to ?? "-"}`);
  return parts.length ? parts.join(", ").slice(0, 256) : "no changes";
}

/** The changelog as lines for a terminal (kubectl golden diff). */
export function renderChangelog(log: Changelog): string[] {
  const lines: string[] = [];
  if (log.baseRevision)
    lines.push(`base revision: ${log.baseRevision.from ?? "-"} → ${log.baseRevision.to ?? "-"}`);
  if (log.parentVersion)
    lines.push(`parent version: ${log.parentVersion.from ?? "-"} → ${log.parentVersion.to ?? "-"}`);
  for (const p of log.packagesAdded ?? []) lines.push(`+ package ${p.name} ${p.version}`);
  for (const p of log.packagesRemoved ?? []) lines.push(`- package ${p.name} ${p.version}`);
  for (const p of log.packagesUpgraded ?? []) lines.push(`↑ package ${p.name} ${p.from} → ${p.to}`);
  for (const p of log.packagesDowngraded ?? []) lines.push(`↓ package ${p.name} ${p.from} → ${p.to}`);
  const list = (what: string, c: ListChange | undefined) => {
    for (const x of c?.added ?? []) lines.push(`+ ${what} ${x}`);
    for (const x of c?.removed ?? []) lines.push(`- ${what} ${x}`);
    for (const x of c?.changed ?? []) lines.push(`~ ${what} ${x}`);
  };
  list("user", log.users);
  list("enabled service", log.servicesEnabled);
  list("disabled service", log.servicesDisabled);
  list("file", log.files);
  list("kernel arg", log.kernelArgs);
  if (lines.length === 0) lines.push("no changes");
  return lines;
}
