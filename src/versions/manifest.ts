// The content manifest of a version. The build is mocked, so the manifest is derived from the
// inputs alone: the same inputs give the same manifest, byte for byte, on every rebuild.
import { createHash } from "node:crypto";
import type {
  ContentManifest,
  ImageSpec,
  ManifestFile,
  ManifestUser,
  OperatingSystem,
  PackageVersion,
  VersionInputs,
} from "../api/v1alpha1/index.js";
import { canonicalJson } from "../build/canonical.js";
import { sha256 } from "./inputs.js";

/** What every image of a distribution family starts with. */
const BASE_PACKAGES: Record<OperatingSystem, string[]> = {
  ubuntu: [
    "apt",
    "base-files",
    "bash",
    "coreutils",
    "libc6",
    "linux-image-generic",
    "openssh-server",
    "openssl",
    "systemd",
  ],
  debian: [
    "apt",
    "base-files",
    "bash",
    "coreutils",
    "libc6",
    "linux-image-amd64",
    "openssh-server",
    "openssl",
    "systemd",
  ],
  rhel: ["bash", "coreutils", "dnf", "glibc", "kernel", "openssh-server", "openssl", "systemd"],
  rocky: ["bash", "coreutils", "dnf", "glibc", "kernel", "openssh-server", "openssl", "systemd"],
  almalinux: ["bash", "coreutils", "dnf", "glibc", "kernel", "openssh-server", "openssl", "systemd"],
  fedora: ["bash", "coreutils", "dnf", "glibc", "kernel", "openssh-server", "openssl", "systemd"],
  sles: ["bash", "coreutils", "glibc", "kernel-default", "openssh", "openssl", "systemd", "zypper"],
};
const BASE_SERVICES: Record<OperatingSystem, string> = {
  ubuntu: "ssh",
  debian: "ssh",
  rhel: "sshd",
  rocky: "sshd",
  almalinux: "sshd",
  fedora: "sshd",
  sles: "sshd",
};

function bytes(...parts: string[]): Buffer {
  return createHash("sha256").update(parts.join("\u0000")).digest();
}

const WEEK_MS = 7 * 24 * 3600 * 1000;
const DATED_EPOCH_MS = Date.UTC(2024, 0, 1);

/**
 * Where a base revision stands in time, so package versions only move forward: a dated revision
 * (the catalog's 20261215) in weeks since 2024, a numbered one (r2, fedora-r2) by its number,
 * anything else 0.
 */
export function revisionOrdinal(baseRevision: string): number {
  const dated = /^(\d{4})(\d{2})(\d{2})$/.exec(baseRevision);
  if (dated) {
    const ms = Date.UTC(Number(dated[1]), Number(dated[2]) - 1, Number(dated[3]));
    return Math.max(0, Math.floor((ms - DATED_EPOCH_MS) / WEEK_MS));
  }
  const numbered = /(\d+)$/.exec(baseRevision);
  return numbered ? Number(numbered[1]) : 0;
}

/**
 * A package's version at a base revision: MAJOR.MINOR and the package release from the name and
 * the distribution release (stable across revisions); the patch level grows with the revision, each
 * package at its own pace (every 1 to 3 steps), so a newer base revision moves some packages
 * forward and never one back.
 */
export function packageVersion(name: string, release: string, baseRevision: string): string {
  const n = bytes(name);
  const r = bytes(name, release);
  const pace = 1 + ((r[0] ?? 0) % 3);
  const patch =
    ((r[2] ?? 0) % 10) + Math.floor((revisionOrdinal(baseRevision) + ((r[3] ?? 0) % pace)) / pace);
  return `${1 + ((n[0] ?? 0) % 9)}.${(n[1] ?? 0) % 30}.${patch}-${1 + ((r[1] ?? 0) % 3)}`;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/**
 * The manifest of an image with these inputs and spec. A layered Image starts from its parent
 * version's manifest instead of the distribution's base.
 */
export function contentManifest(
  inputs: VersionInputs,
  spec: ImageSpec,
  parent?: ContentManifest,
): ContentManifest {
  const c = spec.customizations ?? {};
  const packages = new Map<string, PackageVersion>();
  const basePackages = parent
    ? (parent.packages ?? [])
    : BASE_PACKAGES[inputs.os].map((name) => pkg(name, inputs));
  for (const p of basePackages) packages.set(p.name, p);
  for (const name of c.packages ?? []) if (!packages.has(name)) packages.set(name, pkg(name, inputs));

  const users = new Map<string, ManifestUser>();
  for (const u of parent?.users ?? []) users.set(u.name, u);
  for (const u of c.users ?? []) {
    const user: ManifestUser = { name: u.name };
    if (u.groups?.length) user.groups = sorted(u.groups);
    if (u.sshAuthorizedKeys?.length) user.sshKeys = sorted(u.sshAuthorizedKeys.map((k) => sha256(k)));
    users.set(u.name, user);
  }

  const enabledOwn = c.services?.enabled ?? [];
  const disabledOwn = c.services?.disabled ?? [];
  const enabled = new Set([
    ...(parent ? (parent.servicesEnabled ?? []) : [BASE_SERVICES[inputs.os]]),
    ...enabledOwn,
  ]);
  const disabled = new Set([...(parent?.servicesDisabled ?? []), ...disabledOwn]);
  for (const s of disabledOwn) enabled.delete(s);
  for (const s of enabledOwn) disabled.delete(s);

  const files = new Map<string, ManifestFile>();
  for (const f of parent?.files ?? []) files.set(f.path, f);
  for (const f of c.files ?? [])
    files.set(f.path, { path: f.path, mode: f.mode ?? "0644", digest: sha256(f.content ?? "") });

  const body: Omit<ContentManifest, "digest"> = {};
  const put = <K extends keyof typeof body>(key: K, value: (typeof body)[K] & unknown[]) => {
    if (value.length > 0) body[key] = value;
  };
  put("packages", [...packages.values()].sort(byName));
  put("users", [...users.values()].sort(byName));
  put("servicesEnabled", sorted(enabled));
  put("servicesDisabled", sorted(disabled));
  put(
    "files",
    [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  );
  put("kernelArgs", [...(parent?.kernelArgs ?? []), ...(c.kernelArgs ?? [])]);
  return { digest: sha256(canonicalJson(body)), ...body };
}

function pkg(name: string, inputs: VersionInputs): PackageVersion {
  return { name, version: packageVersion(name, inputs.release, inputs.baseRevision) };
}
