// The Image spec's size limits, read from the generated CRD (config/crd/bases), so the fuzzer's
// boundary cases follow api/spec/golden.dev_v1alpha1.yaml, and the largest spec the schema admits.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { ImageSpec } from "../../src/api/v1alpha1/index.js";
import { repoRoot } from "./repo-root.js";

type Schema = Record<string, unknown>;

/** The openAPIV3Schema of a generated CRD, e.g. "images". */
export function crdSchema(plural: string): Schema {
  const crd = parse(readFileSync(join(repoRoot(), `config/crd/bases/golden.dev_${plural}.yaml`), "utf8"));
  return crd.spec.versions[0].schema.openAPIV3Schema as Schema;
}

/** The schema at a dotted path below the Image's spec; `[]` steps into a list's items. */
function at(root: Schema, path: string): Schema {
  let s = (root.properties as Record<string, Schema>).spec as Schema;
  for (const step of path.split(".")) {
    const items = step.endsWith("[]");
    const name = items ? step.slice(0, -2) : step;
    s = (s.properties as Record<string, Schema>)[name] as Schema;
    if (!s) throw new Error(`spec.${path}: not in the Image CRD`);
    if (items) s = s.items as Schema;
  }
  return s;
}

function num(root: Schema, path: string, key: "maxItems" | "maxLength"): number {
  const v = at(root, path)[key];
  if (typeof v !== "number") throw new Error(`spec.${path} has no ${key}`);
  return v;
}

export interface SpecLimits {
  packages: number;
  packageLength: number;
  users: number;
  userNameLength: number;
  groups: number;
  groupLength: number;
  sshKeys: number;
  sshKeyLength: number;
  /** The longest comment an SSH key may carry (the pattern's bound). */
  sshCommentLength: number;
  services: number;
  serviceLength: number;
  files: number;
  filePathLength: number;
  fileContentLength: number;
  kernelArgs: number;
  kernelArgLength: number;
  releaseLength: number;
  channels: number;
  channelNameLength: number;
  targets: number;
  targetNameLength: number;
  regionLength: number;
  accountLength: number;
  repositoryLength: number;
}

export function specLimits(root: Schema = crdSchema("images")): SpecLimits {
  const c = "customizations";
  const keyPattern = String(at(root, `${c}.users[].sshAuthorizedKeys[]`).pattern);
  const comment = /\{0,(\d+)\}\)\?\$$/.exec(keyPattern);
  if (!comment) throw new Error(`the SSH key pattern ${keyPattern} does not bound the comment`);
  return {
    packages: num(root, `${c}.packages`, "maxItems"),
    packageLength: num(root, `${c}.packages[]`, "maxLength"),
    users: num(root, `${c}.users`, "maxItems"),
    userNameLength: num(root, `${c}.users[].name`, "maxLength"),
    groups: num(root, `${c}.users[].groups`, "maxItems"),
    groupLength: num(root, `${c}.users[].groups[]`, "maxLength"),
    sshKeys: num(root, `${c}.users[].sshAuthorizedKeys`, "maxItems"),
    sshKeyLength: num(root, `${c}.users[].sshAuthorizedKeys[]`, "maxLength"),
    sshCommentLength: Number(comment[1]),
    services: num(root, `${c}.services.enabled`, "maxItems"),
    serviceLength: num(root, `${c}.services.enabled[]`, "maxLength"),
    files: num(root, `${c}.files`, "maxItems"),
    filePathLength: num(root, `${c}.files[].path`, "maxLength"),
    fileContentLength: num(root, `${c}.files[].content`, "maxLength"),
    kernelArgs: num(root, `${c}.kernelArgs`, "maxItems"),
    kernelArgLength: num(root, `${c}.kernelArgs[]`, "maxLength"),
    releaseLength: num(root, "base.release", "maxLength"),
    channels: num(root, "channels", "maxItems"),
    channelNameLength: num(root, "channels[].name", "maxLength"),
    targets: num(root, "distribution.targets", "maxItems"),
    targetNameLength: num(root, "distribution.targets[].name", "maxLength"),
    regionLength: num(root, "distribution.targets[].region", "maxLength"),
    accountLength: num(root, "distribution.targets[].account", "maxLength"),
    repositoryLength: num(root, "distribution.targets[].repository", "maxLength"),
  };
}

/** `prefix` padded with `fill` to exactly `length` characters. */
export const padded = (prefix: string, length: number, fill: string): string =>
  prefix + fill.repeat(Math.max(0, length - prefix.length));

/** An SSH key of exactly `length` characters whose comment has `comment` characters of `c`. */
export function sshKey(length: number, comment: number, c = "<"): string {
  const head = "ssh-ed25519 ";
  const body = "A".repeat(length - head.length - 1 - comment);
  return `${head}${body} ${c.repeat(comment)}`;
}

/**
 * The largest spec the schema admits, as the apiserver stores it: every list at maxItems, every
 * string at maxLength, and where a string may hold any character, characters that take 6 bytes in
 * the apiserver's JSON (`<` is written as \u003c). Valid against every rule (unique names and
 * paths, disjoint services, absolute paths). `tag` makes names unique across calls.
 */
export function maximalSpec(limits: SpecLimits = specLimits(), tag = "m"): ImageSpec {
  const L = limits;
  const uniq = (kind: string, i: number, length: number, fill: string) =>
    padded(`${kind}${tag}${i}`, length, fill);
  return {
    // The longest release that golden also builds (almalinux takes 9.<minor>).
    base: { os: "almalinux", release: padded("9.", L.releaseLength, "0"), arch: "amd64" },
    formats: ["qcow2", "raw", "vmdk", "vhd", "ami", "iso"],
    customizations: {
      packages: Array.from({ length: L.packages }, (_, i) => uniq("p", i, L.packageLength, "x")),
      users: Array.from({ length: L.users }, (_, i) => ({
        name: uniq("u", i, L.userNameLength, "_"),
        groups: Array.from({ length: L.groups }, (_, j) => uniq(`g${i}-`, j, L.groupLength, "_")),
        sshAuthorizedKeys: Array.from({ length: L.sshKeys }, () =>
          sshKey(L.sshKeyLength, L.sshCommentLength),
        ),
      })),
      services: {
        enabled: Array.from({ length: L.services }, (_, i) => uniq("e", i, L.serviceLength, "@")),
        disabled: Array.from({ length: L.services }, (_, i) => uniq("d", i, L.serviceLength, "@")),
      },
      files: Array.from({ length: L.files }, (_, i) => ({
        path: uniq("/f", i, L.filePathLength, "<"),
        content: "<".repeat(L.fileContentLength),
        mode: "0755",
      })),
      // ASCII without shell syntax, and 2048 characters in all joined by spaces (the kernel's limit).
      kernelArgs: Array.from({ length: L.kernelArgs }, () =>
        "x".repeat(Math.min(L.kernelArgLength, Math.floor((2048 - (L.kernelArgs - 1)) / L.kernelArgs))),
      ),
    },
    build: { timeoutSeconds: 86400, retries: 10, priority: -1000, simulate: { stepSeconds: 3600 } },
    historyLimits: { successful: 50, failed: 50 },
    rebuild: { schedule: "0 3 * * 0", suspend: true },
    // Each channel soaks in the first; the schema ignores a cloud target's repository, so it is set too.
    channels: Array.from({ length: L.channels }, (_, i) => {
      const name = uniq("c", i, L.channelNameLength, "x");
      const first = uniq("c", 0, L.channelNameLength, "x");
      return i === 0
        ? { name, promotion: "Manual" as const }
        : { name, promotion: "Manual" as const, soak: { channel: first, seconds: 31536000 } };
    }),
    distribution: {
      targets: Array.from({ length: L.targets }, (_, i) => ({
        name: uniq("t", i, L.targetNameLength, "x"),
        provider: "azure" as const,
        region: uniq("r", i, L.regionLength, "x"),
        account: uniq("a", i, L.accountLength, "x"),
        repository: uniq("o", i, L.repositoryLength, "x"),
        simulate: { failAttempts: 10 },
      })),
    },
    versioning: { onParentRevoked: "Rebuild" },
  };
}
