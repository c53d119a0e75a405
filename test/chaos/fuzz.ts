// Fuzzing the Image API: random and adversarial specs, each a valid random spec plus up to three
// mutations (boundary numbers, lists at and past their limits, the largest spec the schema admits,
// specs too large for etcd, unicode and control characters, 253-character names, paths with ..,
// duplicates, unknown fields, wrong types). The size limits come from the generated CRD
// (limits.ts). Each mutation knows whether the schema must accept or refuse it, so the run checks
// the apiserver's verdict as well as its wording:
//   refused  -> the error names a field (spec.… or metadata.…);
//   accepted -> unknown fields were pruned, defaults applied; a sample is created for real and
//               must end Succeeded or Failed with a reason and a readable status.
import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";
import { API_VERSION, type Image, type ImageSpec } from "../../src/api/v1alpha1/index.js";
import {
  apiErrorCode,
  apiErrorMessage,
  apiErrorStatus,
  isAlreadyExists,
} from "../../src/runtime/api-errors.js";
import { golden } from "../integration/cluster.js";
import { maximalSpec, specLimits, sshKey } from "../support/spec-limits.js";
import { storedSize } from "../support/worst-case-size.js";
import { unsettled } from "./invariants.js";
import type { Rng } from "./prng.js";

/** The Image spec's size limits, as the installed CRD declares them. */
const L = specLimits();

export type Expect = "accept" | "reject" | "either";

export interface FuzzCase {
  id: number;
  /** Short labels of the mutations applied, e.g. "timeout=59", "name253". */
  tags: string[];
  expect: Expect;
  /** The object sent: an Image, or deliberately something that is not quite one. */
  body: Record<string, unknown>;
}

type Json = Record<string, unknown>;
type Mutation = {
  slot: string;
  expect: Expect;
  tag: string;
  apply: (obj: Json, rng: Rng, id: number) => void;
};

const OSES: [string, string[]][] = [
  ["ubuntu", ["20.04", "22.04", "24.04", "noble", "jammy"]],
  ["debian", ["11", "12", "13", "bookworm"]],
  ["rhel", ["8", "9.4", "10"]],
  ["rocky", ["8", "9", "9.5"]],
  ["almalinux", ["9", "10.0"]],
  ["fedora", ["41", "44"]],
  ["sles", ["15-SP5", "15-SP7", "16.0"]],
];
const FORMATS = ["qcow2", "raw", "vmdk", "vhd", "ami", "iso"];
const STEPS = ["fetch-base", "install-packages", "create-users", "configure", "publish"];
const SSH_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0dXJ0bGVzYWxsdGhld2F5ZG93bjAxMjM0NTY3ODk alice@example.com";
const UNICODE = ["é", "ß", "漢字", "🚀", "\u200b", "\u202e", "Ω", "ﬁ", "２", "\ud83d\ude00"];
const CONTROL = ["\u0000", "\u0001", "\u0007", "\n", "\r", "\t", "\u001b", "\u007f"];

const obj = (o: Json, k: string): Json => {
  if (typeof o[k] !== "object" || o[k] === null || Array.isArray(o[k])) o[k] = {};
  return o[k] as Json;
};
const spec = (o: Json) => obj(o, "spec");
const build = (o: Json) => obj(spec(o), "build");
const custom = (o: Json) => obj(spec(o), "customizations");
const setName = (o: Json, name: unknown) => {
  obj(o, "metadata").name = name;
};

/** A random valid spec. */
function validSpec(rng: Rng): Json {
  const [os, releases] = rng.pick(OSES);
  const formats = rng.sample(FORMATS, rng.int(1, 6));
  const s: Json = {
    base: {
      os,
      release: rng.pick(releases),
      ...(rng.chance(0.5) ? { arch: os === "sles" ? "amd64" : rng.pick(["amd64", "arm64"]) } : {}),
    },
    formats,
  };
  if (rng.chance(0.6)) {
    const c: Json = {};
    if (rng.chance(0.5))
      c.packages = rng.sample(["nginx", "curl", "vim", "g++", "python3.12", "lib_x-1"], rng.int(1, 4));
    if (rng.chance(0.4))
      c.users = rng.sample(["deploy", "svc_backup", "_ops", "alice"], rng.int(1, 3)).map((name) => ({
        name,
        ...(rng.chance(0.5) ? { groups: rng.sample(["sudo", "wheel", "docker"], rng.int(1, 2)) } : {}),
        ...(rng.chance(0.3) ? { sshAuthorizedKeys: [SSH_KEY] } : {}),
      }));
    if (rng.chance(0.3)) c.services = { enabled: ["nginx"], disabled: ["cups.service"] };
    if (rng.chance(0.4)) c.files = [{ path: "/etc/motd", content: "hello\n", mode: "0644" }];
    if (rng.chance(0.3)) c.kernelArgs = ["console=ttyS0,115200", "quiet"];
    s.customizations = c;
  }
  if (rng.chance(0.7)) {
    const timeout = rng.pick([60, 600, 3600, 86400, rng.int(60, 86400)]);
    const b: Json = { timeoutSeconds: timeout, retries: rng.int(0, 10), priority: rng.int(-1000, 1000) };
    if (rng.chance(0.6)) {
      const sim: Json = { stepSeconds: rng.int(0, Math.min(3600, timeout - 1)) };
      if (rng.chance(0.3)) sim.failAt = rng.chance(0.5) ? rng.pick(STEPS) : `convert-${rng.pick(formats)}`;
      b.simulate = sim;
    }
    s.build = b;
  }
  if (rng.chance(0.3)) s.historyLimits = { successful: rng.int(0, 50), failed: rng.int(0, 50) };
  if (rng.chance(0.15))
    s.rebuild = { schedule: rng.pick(["@weekly", "0 3 * * 0", "30 2 1 * *"]), suspend: rng.chance(0.5) };
  return s;
}

/** A DNS-1123 subdomain of exactly `length` characters that embeds the case id. */
function dnsName(rng: Rng, length: number, id: number): string {
  const tail = `-${id}`;
  let s = "";
  while (s.length < length - tail.length) {
    const label = rng.string(rng.int(1, 40));
    s += s ? `.${label}` : label;
  }
  s = s.slice(0, length - tail.length).replace(/[.-]+$/, "");
  while (s.length < length - tail.length) s += "a";
  return `${s}${tail}`;
}

const m = (slot: string, expect: Expect, tag: string, apply: Mutation["apply"]): Mutation => ({
  slot,
  expect,
  tag,
  apply,
});
const timing = (timeout: unknown, step?: unknown) => (o: Json) => {
  const b = build(o);
  b.timeoutSeconds = timeout;
  if (step === undefined) delete b.simulate;
  else b.simulate = { stepSeconds: step };
};

const MUTATIONS: Mutation[] = [
  // metadata.name
  m("name", "accept", "name253", (o, rng, id) => setName(o, dnsName(rng, 253, id))),
  m("name", "reject", "name254", (o, rng, id) => setName(o, dnsName(rng, 254, id))),
  m("name", "reject", "name-upper", (o, _r, id) => setName(o, `Image-${id}`)),
  m("name", "reject", "name-underscore", (o, _r, id) => setName(o, `img_${id}`)),
  m("name", "reject", "name-unicode", (o, rng, id) => setName(o, `img-${rng.pick(UNICODE)}-${id}`)),
  m("name", "reject", "name-control", (o, rng, id) => setName(o, `img-${id}${rng.pick(CONTROL)}`)),
  m("name", "reject", "name-empty", (o) => setName(o, "")),
  m("name", "reject", "name-dots", (o, rng) => setName(o, rng.pick([".", ".."]))),
  m("name", "reject", "name-leading-dash", (o, _r, id) => setName(o, `-img-${id}`)),
  m("name", "reject", "name-trailing-dot", (o, _r, id) => setName(o, `img-${id}.`)),
  m("name", "reject", "name-slash", (o, _r, id) => setName(o, `img/${id}`)),
  m("name", "reject", "name-wrong-type", (o, _r, id) => setName(o, id)),
  // spec.build.timeoutSeconds and simulate.stepSeconds (one slot: a CEL rule ties them)
  m("timing", "accept", "timeout=60", timing(60)),
  m("timing", "accept", "timeout=86400", timing(86400)),
  m("timing", "reject", "timeout=59", timing(59)),
  m("timing", "reject", "timeout=86401", timing(86401)),
  m("timing", "reject", "timeout=0", timing(0)),
  m("timing", "reject", "timeout=-1", timing(-1)),
  m("timing", "reject", "timeout=2^31", timing(2 ** 31)),
  m("timing", "reject", "timeout=1e15", timing(1e15)),
  m("timing", "reject", "timeout=60.5", timing(60.5)),
  m("timing", "reject", "timeout-string", timing("60")),
  m("timing", "reject", "timeout-bool", timing(true)),
  m("timing", "accept", "step=0", timing(60, 0)),
  m("timing", "accept", "step=3600", timing(86400, 3600)),
  m("timing", "accept", "step=timeout-1", timing(61, 60)),
  m("timing", "reject", "step=timeout", timing(60, 60)),
  m("timing", "reject", "step=3601", timing(86400, 3601)),
  m("timing", "reject", "step=-1", timing(60, -1)),
  m("timing", "reject", "step-string", timing(60, "1")),
  // spec.build.priority / retries
  m("priority", "accept", "priority=1000", (o) => Object.assign(build(o), { priority: 1000 })),
  m("priority", "accept", "priority=-1000", (o) => Object.assign(build(o), { priority: -1000 })),
  m("priority", "reject", "priority=1001", (o) => Object.assign(build(o), { priority: 1001 })),
  m("priority", "reject", "priority=-1001", (o) => Object.assign(build(o), { priority: -1001 })),
  m("priority", "reject", "priority-float", (o) => Object.assign(build(o), { priority: 1.5 })),
  m("priority", "reject", "priority-string", (o) => Object.assign(build(o), { priority: "high" })),
  m("retries", "accept", "retries=10", (o) => Object.assign(build(o), { retries: 10 })),
  m("retries", "accept", "retries=0", (o) => Object.assign(build(o), { retries: 0 })),
  m("retries", "reject", "retries=11", (o) => Object.assign(build(o), { retries: 11 })),
  m("retries", "reject", "retries=-1", (o) => Object.assign(build(o), { retries: -1 })),
  // spec.historyLimits
  m("history", "accept", "history=0/50", (o) =>
    Object.assign(spec(o), { historyLimits: { successful: 0, failed: 50 } }),
  ),
  m("history", "reject", "history=51", (o) => Object.assign(spec(o), { historyLimits: { successful: 51 } })),
  m("history", "reject", "history=-1", (o) => Object.assign(spec(o), { historyLimits: { failed: -1 } })),
  // spec.base
  m("base", "accept", "unsupported-release", (o, rng) =>
    Object.assign(spec(o), {
      base: rng.pick([
        { os: "ubuntu", release: "14.04" },
        { os: "fedora", release: "rawhide" },
        { os: "sles", release: "12-SP5" },
      ]),
    }),
  ),
  m("base", "accept", "release-32", (o, rng) =>
    Object.assign(spec(o), { base: { os: "debian", release: `r${rng.string(31)}` } }),
  ),
  m("base", "reject", "release-33", (o, rng) =>
    Object.assign(spec(o), { base: { os: "debian", release: `r${rng.string(32)}` } }),
  ),
  m("base", "reject", "release-empty", (o) =>
    Object.assign(spec(o), { base: { os: "debian", release: "" } }),
  ),
  m("base", "reject", "release-dotdot", (o) =>
    Object.assign(spec(o), { base: { os: "debian", release: "../12" } }),
  ),
  m("base", "reject", "release-space", (o) =>
    Object.assign(spec(o), { base: { os: "ubuntu", release: "24.04 " } }),
  ),
  m("base", "reject", "release-unicode", (o, rng) =>
    Object.assign(spec(o), { base: { os: "ubuntu", release: `24.04${rng.pick(UNICODE)}` } }),
  ),
  m("base", "reject", "release-control", (o, rng) =>
    Object.assign(spec(o), { base: { os: "ubuntu", release: `24.04${rng.pick(CONTROL)}` } }),
  ),
  m("base", "reject", "os-unknown", (o, rng) =>
    Object.assign(spec(o), { base: { os: rng.pick(["windows", "Ubuntu", "", "arch"]), release: "1" } }),
  ),
  m("base", "reject", "os-missing", (o) => Object.assign(spec(o), { base: { release: "9" } })),
  m("base", "accept", "arm64", (o) =>
    Object.assign(spec(o), { base: { os: "rocky", release: "9", arch: "arm64" } }),
  ),
  m("base", "reject", "sles-arm64", (o) =>
    Object.assign(spec(o), { base: { os: "sles", release: "15-SP6", arch: "arm64" } }),
  ),
  m("base", "reject", "arch-unknown", (o) =>
    Object.assign(spec(o), { base: { os: "rocky", release: "9", arch: "x86_64" } }),
  ),
  m("base", "reject", "base-string", (o) => Object.assign(spec(o), { base: "rocky-9" })),
  // spec.formats (before failAt, which depends on them)
  m("formats", "accept", "formats-all", (o) => Object.assign(spec(o), { formats: [...FORMATS] })),
  m("formats", "reject", "formats-empty", (o) => Object.assign(spec(o), { formats: [] })),
  m("formats", "reject", "formats-dup", (o) => Object.assign(spec(o), { formats: ["raw", "qcow2", "raw"] })),
  m("formats", "reject", "formats-7", (o) => Object.assign(spec(o), { formats: [...FORMATS, "raw"] })),
  m("formats", "reject", "formats-unknown", (o, rng) =>
    Object.assign(spec(o), { formats: [rng.pick(["vdi", "RAW", "", "qcow"])] }),
  ),
  m("formats", "reject", "formats-string", (o) => Object.assign(spec(o), { formats: "raw" })),
  // spec.customizations.packages
  m("packages", "accept", `packages-${L.packages}`, (o, rng) =>
    Object.assign(custom(o), {
      packages: Array.from({ length: L.packages }, (_, i) => `p${i}-${rng.string(4)}`),
    }),
  ),
  m("packages", "reject", `packages-${L.packages + 1}`, (o) =>
    Object.assign(custom(o), { packages: Array.from({ length: L.packages + 1 }, (_, i) => `p${i}`) }),
  ),
  m("packages", "reject", "packages-dup", (o) =>
    Object.assign(custom(o), { packages: ["vim", "curl", "vim"] }),
  ),
  m("packages", "accept", `package-${L.packageLength}`, (o, rng) =>
    Object.assign(custom(o), { packages: [`p${rng.string(L.packageLength - 1)}`] }),
  ),
  m("packages", "reject", `package-${L.packageLength + 1}`, (o, rng) =>
    Object.assign(custom(o), { packages: [`p${rng.string(L.packageLength)}`] }),
  ),
  m("packages", "reject", "package-empty", (o) => Object.assign(custom(o), { packages: [""] })),
  m("packages", "reject", "package-space", (o) => Object.assign(custom(o), { packages: ["vim enhanced"] })),
  m("packages", "reject", "package-leading-dash", (o) => Object.assign(custom(o), { packages: ["-rf"] })),
  m("packages", "reject", "package-unicode", (o, rng) =>
    Object.assign(custom(o), { packages: [`pkg${rng.pick(UNICODE)}`] }),
  ),
  m("packages", "reject", "package-control", (o, rng) =>
    Object.assign(custom(o), { packages: [`pkg${rng.pick(CONTROL)}`] }),
  ),
  m("packages", "reject", "packages-object", (o) => Object.assign(custom(o), { packages: { vim: true } })),
  // users
  m("users", "accept", `users-${L.users}`, (o) =>
    Object.assign(custom(o), {
      users: Array.from({ length: L.users }, (_, i) => ({ name: `u${i}`, groups: ["g1", "g2"] })),
    }),
  ),
  m("users", "reject", `users-${L.users + 1}`, (o) =>
    Object.assign(custom(o), { users: Array.from({ length: L.users + 1 }, (_, i) => ({ name: `u${i}` })) }),
  ),
  m("users", "reject", "users-dup", (o) =>
    Object.assign(custom(o), {
      users: [{ name: "deploy" }, { name: "ops" }, { name: "deploy", groups: ["wheel"] }],
    }),
  ),
  m("users", "reject", "user-upper", (o) => Object.assign(custom(o), { users: [{ name: "Root" }] })),
  m("users", "reject", "user-digit-first", (o) => Object.assign(custom(o), { users: [{ name: "1abc" }] })),
  m("users", "accept", "user-32", (o, rng) =>
    Object.assign(custom(o), { users: [{ name: `_${rng.string(31)}` }] }),
  ),
  m("users", "reject", "user-33", (o, rng) =>
    Object.assign(custom(o), { users: [{ name: `_${rng.string(32)}` }] }),
  ),
  m("users", "reject", "user-no-name", (o) => Object.assign(custom(o), { users: [{ groups: ["wheel"] }] })),
  m("users", "reject", "user-unicode", (o, rng) =>
    Object.assign(custom(o), { users: [{ name: `al${rng.pick(UNICODE)}ce` }] }),
  ),
  m("users", "reject", "groups-dup", (o) =>
    Object.assign(custom(o), { users: [{ name: "a", groups: ["wheel", "wheel"] }] }),
  ),
  m("users", "accept", `groups-${L.groups}`, (o) =>
    Object.assign(custom(o), {
      users: [{ name: "a", groups: Array.from({ length: L.groups }, (_, i) => `g${i}`) }],
    }),
  ),
  m("users", "reject", `groups-${L.groups + 1}`, (o) =>
    Object.assign(custom(o), {
      users: [{ name: "a", groups: Array.from({ length: L.groups + 1 }, (_, i) => `g${i}`) }],
    }),
  ),
  m("users", "accept", `ssh-keys-${L.sshKeys}`, (o) =>
    Object.assign(custom(o), { users: [{ name: "a", sshAuthorizedKeys: Array(L.sshKeys).fill(SSH_KEY) }] }),
  ),
  m("users", "reject", `ssh-keys-${L.sshKeys + 1}`, (o) =>
    Object.assign(custom(o), {
      users: [{ name: "a", sshAuthorizedKeys: Array(L.sshKeys + 1).fill(SSH_KEY) }],
    }),
  ),
  m("users", "accept", `ssh-key-${L.sshKeyLength}`, (o) =>
    Object.assign(custom(o), {
      users: [{ name: "a", sshAuthorizedKeys: [`ssh-rsa ${"A".repeat(L.sshKeyLength - 8)}`] }],
    }),
  ),
  m("users", "reject", `ssh-key-${L.sshKeyLength + 1}`, (o) =>
    Object.assign(custom(o), {
      users: [{ name: "a", sshAuthorizedKeys: [`ssh-rsa ${"A".repeat(L.sshKeyLength - 7)}`] }],
    }),
  ),
  // The longest key, with the longest comment, in one character (the limits count characters).
  m("users", "accept", `ssh-comment-${L.sshCommentLength}`, (o, rng) =>
    Object.assign(custom(o), {
      users: [
        {
          name: "a",
          sshAuthorizedKeys: [sshKey(L.sshKeyLength, L.sshCommentLength, rng.pick([..."é🚀\u202e<&Ω"]))],
        },
      ],
    }),
  ),
  m("users", "reject", `ssh-comment-${L.sshCommentLength + 1}`, (o) =>
    Object.assign(custom(o), {
      users: [{ name: "a", sshAuthorizedKeys: [`${SSH_KEY} ${"x".repeat(L.sshCommentLength)}`] }],
    }),
  ),
  m("users", "reject", "ssh-key-garbage", (o, rng) =>
    Object.assign(custom(o), {
      users: [{ name: "a", sshAuthorizedKeys: [rng.pick(["hello", "", "ssh-rsa", "rsa AAAA x"])] }],
    }),
  ),
  m("users", "reject", "ssh-comment-control", (o, rng) =>
    Object.assign(custom(o), {
      users: [{ name: "a", sshAuthorizedKeys: [`${SSH_KEY} bob${rng.pick(CONTROL)}x`] }],
    }),
  ),
  m("users", "reject", "ssh-key-newline", (o) =>
    Object.assign(custom(o), {
      users: [{ name: "a", sshAuthorizedKeys: [`${SSH_KEY}\nssh-rsa AAAA evil`] }],
    }),
  ),
  m("users", "accept", "ssh-key-unicode-comment", (o, rng) =>
    Object.assign(custom(o), {
      users: [{ name: "a", sshAuthorizedKeys: [`ssh-ed25519 AAAA ${rng.pick(UNICODE)} bob`] }],
    }),
  ),
  // services
  m("services", "reject", "service-both", (o) =>
    Object.assign(custom(o), { services: { enabled: ["nginx", "sshd"], disabled: ["sshd"] } }),
  ),
  m("services", "reject", "service-space", (o) =>
    Object.assign(custom(o), { services: { enabled: ["my service"] } }),
  ),
  m("services", "reject", "service-dup", (o) =>
    Object.assign(custom(o), { services: { disabled: ["cups", "cups"] } }),
  ),
  m("services", "accept", `services-${L.services}`, (o) =>
    Object.assign(custom(o), {
      services: {
        enabled: Array.from({ length: L.services }, (_, i) => `s${i}.service`),
        disabled: Array.from({ length: L.services }, (_, i) => `d${i}@x:y`),
      },
    }),
  ),
  m("services", "reject", `services-${L.services + 1}`, (o) =>
    Object.assign(custom(o), {
      services: { enabled: Array.from({ length: L.services + 1 }, (_, i) => `s${i}`) },
    }),
  ),
  // files
  m("files", "reject", "file-relative", (o) => Object.assign(custom(o), { files: [{ path: "etc/motd" }] })),
  m("files", "reject", "file-dotdot", (o, rng) =>
    Object.assign(custom(o), {
      files: [{ path: rng.pick(["/etc/../shadow", "/..", "/a/..", "/../etc/passwd"]) }],
    }),
  ),
  m("files", "accept", "file-dotdot-lookalike", (o, rng) =>
    Object.assign(custom(o), { files: [{ path: rng.pick(["/a/..b", "/...", "/etc/.x..", "/a..b/c"]) }] }),
  ),
  m("files", "reject", "file-trailing-slash", (o) =>
    Object.assign(custom(o), { files: [{ path: "/etc/" }] }),
  ),
  m("files", "reject", "file-root", (o) => Object.assign(custom(o), { files: [{ path: "/" }] })),
  m("files", "reject", "files-dup", (o) =>
    Object.assign(custom(o), { files: [{ path: "/etc/motd" }, { path: "/etc/motd", content: "x" }] }),
  ),
  m("files", "accept", "file-mode-755", (o) =>
    Object.assign(custom(o), { files: [{ path: "/usr/local/bin/x", mode: "755" }] }),
  ),
  m("files", "reject", "file-mode-bad", (o, rng) =>
    Object.assign(custom(o), { files: [{ path: "/x", mode: rng.pick(["999", "0x1", "", "07777", "rwx"]) }] }),
  ),
  m("files", "reject", "file-mode-number", (o) =>
    Object.assign(custom(o), { files: [{ path: "/x", mode: 644 }] }),
  ),
  m("files", "accept", `file-content-${L.fileContentLength}`, (o, rng) =>
    Object.assign(custom(o), { files: [{ path: "/big", content: rng.string(L.fileContentLength) }] }),
  ),
  m("files", "reject", `file-content-${L.fileContentLength + 1}`, (o, rng) =>
    Object.assign(custom(o), { files: [{ path: "/big", content: rng.string(L.fileContentLength + 1) }] }),
  ),
  // maxLength counts characters, not bytes: 4-byte characters are fine up to the same count.
  m("files", "accept", `file-content-${L.fileContentLength}-emoji`, (o) =>
    Object.assign(custom(o), { files: [{ path: "/big", content: "🚀".repeat(L.fileContentLength) }] }),
  ),
  m("files", "accept", "file-content-unicode-control", (o, rng) =>
    Object.assign(custom(o), {
      files: [
        { path: "/etc/issue", content: [...UNICODE, ...CONTROL].map((c) => c + rng.string(3)).join("") },
      ],
    }),
  ),
  m("files", "accept", "file-path-unicode", (o, rng) =>
    Object.assign(custom(o), { files: [{ path: `/etc/${rng.pick(UNICODE)}.conf` }] }),
  ),
  m("files", "reject", "file-path-control", (o, rng) =>
    Object.assign(custom(o), { files: [{ path: `/etc/a${rng.pick(CONTROL)}b` }] }),
  ),
  m("files", "reject", "file-path-unnormalized", (o, rng) =>
    Object.assign(custom(o), {
      files: [{ path: rng.pick(["/etc//motd", "//etc/motd", "/etc/./motd", "/etc/."]) }],
    }),
  ),
  m("files", "reject", "file-path-virtual", (o, rng) =>
    Object.assign(custom(o), {
      files: [{ path: rng.pick(["/proc/sys/kernel/core_pattern", "/sys/kernel/x", "/dev/sda", "/proc"]) }],
    }),
  ),
  m("files", "accept", "file-path-virtual-lookalike", (o, rng) =>
    Object.assign(custom(o), {
      files: [{ path: rng.pick(["/procfs", "/etc/proc/x", "/system/x", "/devices"]) }],
    }),
  ),
  m("files", "reject", "file-mode-setuid", (o, rng) =>
    Object.assign(custom(o), {
      files: [{ path: "/usr/bin/x", mode: rng.pick(["4755", "2755", "1777", "6755"]) }],
    }),
  ),
  m("files", "accept", `file-path-${L.filePathLength}`, (o, rng) =>
    Object.assign(custom(o), { files: [{ path: `/${rng.string(L.filePathLength - 1)}` }] }),
  ),
  m("files", "reject", `file-path-${L.filePathLength + 1}`, (o, rng) =>
    Object.assign(custom(o), { files: [{ path: `/${rng.string(L.filePathLength)}` }] }),
  ),
  m("files", "accept", `files-${L.files}`, (o, rng) =>
    Object.assign(custom(o), {
      files: Array.from({ length: L.files }, (_, i) => ({ path: `/etc/f${i}`, content: rng.string(512) })),
    }),
  ),
  m("files", "reject", `files-${L.files + 1}`, (o) =>
    Object.assign(custom(o), {
      files: Array.from({ length: L.files + 1 }, (_, i) => ({ path: `/etc/f${i}` })),
    }),
  ),
  // kernelArgs (atomic: duplicates allowed)
  m("kernel", "accept", `kernel-${L.kernelArgs}-dups`, (o) =>
    Object.assign(custom(o), { kernelArgs: Array.from({ length: L.kernelArgs }, () => "quiet") }),
  ),
  m("kernel", "reject", `kernel-${L.kernelArgs + 1}`, (o) =>
    Object.assign(custom(o), { kernelArgs: Array.from({ length: L.kernelArgs + 1 }, (_, i) => `a=${i}`) }),
  ),
  m("kernel", "reject", "kernel-whitespace", (o, rng) =>
    Object.assign(custom(o), { kernelArgs: [rng.pick(["a b", "\t", " ", "x\ny"])] }),
  ),
  m("kernel", "reject", "kernel-empty", (o) => Object.assign(custom(o), { kernelArgs: [""] })),
  m("kernel", "accept", `kernel-arg-${L.kernelArgLength}`, (o, rng) =>
    Object.assign(custom(o), { kernelArgs: [rng.string(L.kernelArgLength)] }),
  ),
  m("kernel", "reject", "kernel-shell", (o, rng) =>
    Object.assign(custom(o), {
      kernelArgs: [rng.pick(["a=$(reboot)", "a=`id`", 'a="b"', "a='b'", "a\\b", "a;b", "a|b", "a&b", "a>b"])],
    }),
  ),
  m("kernel", "reject", "kernel-control", (o, rng) =>
    Object.assign(custom(o), { kernelArgs: [`a${rng.pick([...CONTROL, "\u000b"])}b`] }),
  ),
  // 9 x 256 characters joined by spaces: more than the kernel's 2048-character command line.
  m("kernel", "reject", "kernel-total-2049", (o, rng) =>
    Object.assign(custom(o), { kernelArgs: Array.from({ length: 9 }, () => rng.string(L.kernelArgLength)) }),
  ),
  m("kernel", "accept", "kernel-total-2048", (o) =>
    Object.assign(custom(o), {
      kernelArgs: [...Array.from({ length: 7 }, () => "x".repeat(256)), "x".repeat(2048 - 7 * 257)],
    }),
  ),
  m("kernel", "reject", `kernel-arg-${L.kernelArgLength + 1}`, (o, rng) =>
    Object.assign(custom(o), { kernelArgs: [rng.string(L.kernelArgLength + 1)] }),
  ),
  m("kernel", "reject", "kernel-unicode", (o, rng) =>
    Object.assign(custom(o), { kernelArgs: [`lang=${rng.pick(["é", "漢字", "🚀"])}`] }),
  ),
  // spec.build.simulate.failAt (after formats)
  m("failAt", "accept", "failAt-convert-listed", (o) => {
    const formats = spec(o).formats;
    const f = Array.isArray(formats) && typeof formats[0] === "string" ? formats[0] : "raw";
    Object.assign(obj(build(o), "simulate"), { failAt: `convert-${f}` });
  }),
  m("failAt", "reject", "failAt-convert-unlisted", (o) => {
    const formats = spec(o).formats;
    const missing = FORMATS.find((f) => !(Array.isArray(formats) && formats.includes(f)));
    Object.assign(obj(build(o), "simulate"), { failAt: missing ? `convert-${missing}` : "explode" });
  }),
  m("failAt", "reject", "failAt-unknown", (o, rng) =>
    Object.assign(obj(build(o), "simulate"), { failAt: rng.pick(["explode", "", "publish ", "convert-"]) }),
  ),
  // spec.rebuild
  m("rebuild", "accept", "schedule-valid", (o, rng) =>
    Object.assign(spec(o), {
      rebuild: { schedule: rng.pick(["@daily", "@hourly", "0 3 * * 0", "0,15,30,45 * * * 1-5"]) },
    }),
  ),
  // Passes the pattern and the frequency rule, but is no time: the operator says InvalidSchedule.
  m("rebuild", "accept", "schedule-feb-30", (o) =>
    Object.assign(spec(o), { rebuild: { schedule: "0 3 30 2 *" } }),
  ),
  m("rebuild", "reject", "schedule-every-minute", (o, rng) =>
    Object.assign(spec(o), {
      rebuild: { schedule: rng.pick(["* * * * *", "*/5 * * * *", "0-59 * * * *", "0,1,2,3,4 * * * *"]) },
    }),
  ),
  m("rebuild", "reject", "schedule-61", (o) =>
    Object.assign(spec(o), { rebuild: { schedule: "61 * * * *" } }),
  ),
  m("rebuild", "reject", "schedule-garbage", (o, rng) =>
    Object.assign(spec(o), { rebuild: { schedule: rng.pick(["every day", "", "* * * * * *", "@often"]) } }),
  ),
  m("rebuild", "reject", "suspend-string", (o) =>
    Object.assign(spec(o), { rebuild: { schedule: "@daily", suspend: "yes" } }),
  ),
  // Unknown fields are pruned (the response must not carry them).
  m("unknown", "accept", "unknown-field", (o, rng) => {
    const where = rng.pick([spec(o), obj(spec(o), "base"), build(o)]);
    where.chaosUnknown = rng.pick([1, "x", { nested: true }, [1, 2]]);
  }),
  // The size of the whole spec: the largest one the schema admits is stored and built (see
  // pickSample); one past it, or as large as etcd's request limit, is refused naming a field.
  m("size", "accept", "spec-maximal", (o, _r, id) => {
    o.spec = maximalSpec(L, `z${id}`);
  }),
  m("oversize", "reject", "spec-maximal+file", (o, _r, id) => {
    const s = maximalSpec(L, `z${id}`);
    s.customizations?.files?.push({ path: "/one-too-many", content: "x" });
    o.spec = s;
  }),
  m("oversize", "reject", "spec-huge", (o) => {
    o.spec = hugeSpec();
  }),
  // The whole spec
  m("whole", "reject", "spec-missing", (o) => {
    delete o.spec;
  }),
  m("whole", "reject", "spec-empty", (o) => {
    o.spec = {};
  }),
  m("whole", "reject", "spec-wrong-type", (o, rng) => {
    o.spec = rng.pick(["rocky", 42, [], true]);
  }),
  m("whole", "reject", "customizations-array", (o) => Object.assign(spec(o), { customizations: [] })),
];

/** Somewhere in the spec, a random JSON value of a random type (no expectation: either verdict). */
function randomGarbage(o: Json, rng: Rng): string {
  const paths = [
    ["spec", "base", "release"],
    ["spec", "base", "arch"],
    ["spec", "formats"],
    ["spec", "build"],
    ["spec", "build", "timeoutSeconds"],
    ["spec", "build", "simulate"],
    ["spec", "customizations", "packages"],
    ["spec", "customizations", "users"],
    ["spec", "customizations", "files"],
    ["spec", "customizations", "services", "enabled"],
    ["spec", "historyLimits", "failed"],
    ["spec", "rebuild"],
    ["metadata", "annotations"],
  ];
  const path = rng.pick(paths);
  const values: unknown[] = [
    null,
    true,
    0,
    -1,
    2 ** 53,
    1.25,
    "",
    rng.string(rng.int(1, 300), "abcXYZ019 ./-_:@\u0000\n\té漢🚀"),
    [],
    [null],
    [rng.string(5)],
    {},
    { [rng.string(3)]: rng.string(3) },
  ];
  const value = rng.pick(values);
  let cur = o;
  for (const k of path.slice(0, -1)) cur = obj(cur, k);
  cur[path.at(-1) as string] = value;
  return `garbage ${path.join(".")}=${JSON.stringify(value)?.slice(0, 20)}`;
}

export function generateCases(rng: Rng, count: number, namespace: string, prefix: string): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (let id = 0; id < count; id++) {
    const body: Json = {
      apiVersion: "golden.dev/v1alpha1",
      kind: "Image",
      metadata: { name: `${prefix}-${id}`, namespace },
      spec: validSpec(rng),
    };
    const tags: string[] = [];
    let expect: Expect = "accept";
    if (rng.chance(0.12)) {
      tags.push(randomGarbage(body, rng));
      expect = "either";
    } else {
      const n = rng.pick([0, 1, 1, 1, 2, 2, 3]);
      const chosen: Mutation[] = [];
      for (const mut of rng.shuffle(MUTATIONS)) {
        if (chosen.length >= n) break;
        if (chosen.some((c) => c.slot === mut.slot)) continue;
        // At most one big mutation, so no request nears the apiserver's 3 MiB body limit.
        if (isBig(mut) && chosen.some(isBig)) continue;
        chosen.push(mut);
      }
      // "size" replaces the spec with the largest valid one: before the mutations that change a
      // part of it. "oversize" replaces it with one too large: after them all (see rank), so that
      // none of them can make it valid again (say, a single file instead of one file too many).
      const order = ["whole", "name", "size", "base", "formats"];
      chosen.sort((a, b) => rank(order, a.slot) - rank(order, b.slot));
      for (const mut of chosen) {
        mut.apply(body, rng, id);
        tags.push(mut.tag);
      }
      const verdicts = chosen.map((c) => c.expect);
      expect = verdicts.includes("reject") ? "reject" : verdicts.includes("either") ? "either" : "accept";
      // "spec-missing"/"spec-wrong-type" replace the spec: later mutations recreate parts of it.
      if (chosen.some((c) => c.slot === "whole")) expect = "either";
    }
    cases.push({ id, tags, expect, body });
  }
  return cases;
}

const BIG = new Set([
  `packages-${L.packages}`,
  `users-${L.users}`,
  `services-${L.services}`,
  `files-${L.files}`,
  `file-content-${L.fileContentLength}`,
  `file-content-${L.fileContentLength}-emoji`,
  "spec-maximal",
  "spec-maximal+file",
  "spec-huge",
]);
const isBig = (mut: Mutation) => BIG.has(mut.tag);
const rank = (order: string[], slot: string) => {
  const i = order.indexOf(slot);
  return i < 0 ? order.length + (slot === "failAt" ? 1 : slot === "oversize" ? 2 : 0) : i;
};

export interface FuzzResult {
  id: number;
  tags: string[];
  expect: Expect;
  verdict: "accepted" | "refused";
  code?: number;
  message?: string;
  /** The accepted object, as the apiserver returned it. */
  accepted?: Image;
}

/**
 * Names a field: "spec.build.timeoutSeconds: Invalid value", "metadata.name: Required value",
 * "spec: Required value", or a decoding error's "Go struct field ObjectMeta.name of type string".
 */
export function namesField(message: string): boolean {
  return /\b(spec|metadata|ObjectMeta)\.[A-Za-z]/.test(message) || /(^|[\s[,])spec: /.test(message);
}

/** Sends every case as a server-side dry-run create, `concurrency` at a time. */
export async function dryRunAll(cases: FuzzCase[], concurrency: number): Promise<FuzzResult[]> {
  const results: FuzzResult[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++] as FuzzCase;
      results[c.id] = await sendCase(c, { dryRun: "All" });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

async function sendCase(c: FuzzCase, opts: { dryRun?: "All" }): Promise<FuzzResult> {
  const base = { id: c.id, tags: c.tags, expect: c.expect };
  for (let attempt = 0; ; attempt++) {
    try {
      const accepted = await golden.images.create(c.body as unknown as Image, opts);
      return { ...base, verdict: "accepted", accepted };
    } catch (err) {
      const code = apiErrorCode(err);
      // Retry what is no verdict at all: the connection, throttling, a busy apiserver.
      if ((code === undefined || code === 429 || code >= 500) && attempt < 5 && !isTooLarge(err)) {
        await sleep(500 * (attempt + 1));
        continue;
      }
      return { ...base, verdict: "refused", code, message: apiErrorMessage(err) };
    }
  }
}

const isTooLarge = (err: unknown) => /too large/i.test(apiErrorStatus(err)?.message ?? String(err));

/** Violations of the fuzz contract among dry-run results. */
export function judge(results: FuzzResult[], cases: FuzzCase[]): string[] {
  const problems: string[] = [];
  for (const r of results) {
    const what = `case ${r.id} [${r.tags.join(", ") || "valid"}]`;
    if (r.verdict === "refused") {
      if (r.code !== 422 && r.code !== 400)
        problems.push(
          `${what}: refused with HTTP ${r.code}, not as invalid input: ${r.message?.slice(0, 300)}`,
        );
      else if (!namesField(r.message ?? ""))
        problems.push(`${what}: refused without naming a field: ${r.message?.slice(0, 300)}`);
      if (r.expect === "accept") problems.push(`${what}: valid spec refused: ${r.message?.slice(0, 300)}`);
    } else {
      if (r.expect === "reject")
        problems.push(
          `${what}: invalid spec accepted: ${JSON.stringify(cases[r.id]?.body.spec).slice(0, 300)}`,
        );
      const text = JSON.stringify(r.accepted);
      if (text.includes("chaosUnknown"))
        problems.push(`${what}: an unknown field survived: ${text.slice(0, 200)}`);
      const b = r.accepted?.spec?.build;
      if (b?.timeoutSeconds === undefined || b.retries === undefined || b.priority === undefined)
        problems.push(`${what}: accepted without defaults in spec.build: ${JSON.stringify(b)}`);
    }
  }
  return problems;
}

/**
 * Creates the accepted cases for real, with simulate.stepSeconds 0 (and at most one retry, so
 * a simulated failure does not take minutes), and waits until each settles.
 */
export async function buildSample(
  picks: FuzzResult[],
  cases: FuzzCase[],
  timeoutMs: number,
  log: (msg: string) => void,
): Promise<{ problems: string[]; outcomes: Map<string, number> }> {
  const problems: string[] = [];
  const outcomes = new Map<string, number>();
  const created: { namespace: string; name: string; tags: string[] }[] = [];
  for (const pick of picks) {
    const c = cases[pick.id] as FuzzCase;
    const body = structuredClone(c.body) as unknown as Image;
    body.spec.build ??= {};
    const b = body.spec.build;
    b.simulate = { ...b.simulate, stepSeconds: 0 };
    b.retries = Math.min(b.retries ?? 0, 1);
    try {
      await golden.images.create(body);
      created.push({
        namespace: body.metadata?.namespace ?? "",
        name: body.metadata?.name ?? "",
        tags: c.tags,
      });
    } catch (err) {
      if (isAlreadyExists(err)) continue;
      problems.push(
        `case ${c.id} [${c.tags.join(", ")}]: accepted by a dry run, refused for real: ${apiErrorMessage(err).slice(0, 300)}`,
      );
    }
  }
  const deadline = Date.now() + timeoutMs;
  const pending = new Map(created.map((c) => [`${c.namespace}/${c.name}`, c]));
  let lastWhy = new Map<string, string>();
  while (pending.size > 0 && Date.now() < deadline) {
    lastWhy = new Map();
    for (const [k, c] of pending) {
      const image = await golden.images.get(c.namespace, c.name).catch(() => undefined);
      if (!image) {
        lastWhy.set(k, "cannot be read");
        continue;
      }
      const why = unsettled(image);
      if (why) {
        lastWhy.set(k, why);
        continue;
      }
      pending.delete(k);
      const reason = image.status?.conditions?.find((x) => x.type === "Ready")?.reason ?? "";
      const outcome = `${image.status?.phase}/${reason}`;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (!image.status?.message) problems.push(`${k}: settled ${outcome} without a message`);
    }
    if (pending.size > 0) await sleep(1_000);
  }
  for (const [k, c] of pending)
    problems.push(
      `${k} [${c.tags.join(", ")}] did not settle within ${timeoutMs} ms: ${lastWhy.get(k) ?? "?"}`,
    );
  log(
    `fuzz sample: ${created.length} created; outcomes ${[...outcomes].map(([o, n]) => `${o}=${n}`).join(", ")}`,
  );
  return { problems, outcomes };
}

/** A sample of accepted cases that always includes the most adversarial kinds there are. */
export function pickSample(rng: Rng, results: FuzzResult[], size: number): FuzzResult[] {
  const accepted = results.filter((r) => r.verdict === "accepted");
  const must = [
    "name253",
    "unsupported-release",
    "schedule-61",
    "spec-maximal",
    `packages-${L.packages}`,
    `users-${L.users}`,
    `files-${L.files}`,
    `file-content-${L.fileContentLength}-emoji`,
    `ssh-comment-${L.sshCommentLength}`,
    "file-path-control",
    "file-content-unicode-control",
    "formats-all",
    "arm64",
  ];
  const picked = new Map<number, FuzzResult>();
  for (const tag of must) {
    const r = rng.shuffle(accepted).find((x) => x.tags.includes(tag));
    if (r && picked.size < size) picked.set(r.id, r);
  }
  for (const r of rng.shuffle(accepted)) {
    if (picked.size >= size) break;
    picked.set(r.id, r);
  }
  return [...picked.values()];
}

/**
 * The size edge, for real. A spec as large as etcd's request limit (what used to pass the schema
 * and leave the Image stuck: no finalizer, no status, no ImageBuild) must be refused at admission,
 * naming a field. The largest spec the schema admits (maximalSpec: every list full, every string
 * at its limit in characters that take 6 bytes as stored) must be stored, get its ImageBuild with
 * the snapshot of the spec, build (Succeeded), and go away when deleted.
 */
export async function sizeProbe(
  namespace: string,
  timeoutMs: number,
  log: (msg: string) => void,
): Promise<string[]> {
  const problems: string[] = [];
  const image = (name: string, spec: Image["spec"]): Image => ({
    apiVersion: "golden.dev/v1alpha1",
    kind: "Image",
    metadata: { name, namespace },
    spec,
  });
  const huge = image("size-huge", hugeSpec());
  try {
    await golden.images.create(huge);
    problems.push(`size probe: an Image of ${storedSize(huge)} bytes was accepted`);
    await golden.images.delete(namespace, "size-huge").catch(() => undefined);
  } catch (err) {
    const code = apiErrorCode(err);
    const message = apiErrorMessage(err);
    if (code !== 422 || !namesField(message))
      problems.push(
        `size probe: an Image of ${storedSize(huge)} bytes was refused with HTTP ${code}, ` +
          `not by the schema naming a field: ${message.slice(0, 300)}`,
      );
  }

  const name = "size-max";
  const spec = maximalSpec(L, "edge");
  spec.build = { timeoutSeconds: 86400, retries: 0, priority: 1000, simulate: { stepSeconds: 0 } };
  // The longest release is no release golden's catalog ships: give it a catalog entry of its own.
  const { os = "almalinux", release = "", arch = "amd64" } = spec.base;
  const baseName = `${os}-${release}-${arch}`;
  await golden.baseImages
    .create({
      apiVersion: API_VERSION,
      kind: "BaseImage",
      metadata: { name: baseName },
      spec: { os, release, arch, revision: "size-probe" },
    })
    .catch((err: unknown) => {
      if (apiErrorCode(err) !== 409) throw err;
    });
  try {
    return [...problems, ...(await sizeMaxProbe(namespace, name, spec, image, timeoutMs, log))];
  } finally {
    await golden.baseImages.delete(baseName).catch(() => undefined);
  }
}

async function sizeMaxProbe(
  namespace: string,
  name: string,
  spec: ImageSpec,
  image: (name: string, spec: ImageSpec) => Image,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<string[]> {
  const problems: string[] = [];
  let stored: Image;
  try {
    stored = await golden.images.create(image(name, spec));
  } catch (err) {
    return [
      ...problems,
      `size probe: the largest valid spec was refused: ${apiErrorMessage(err).slice(0, 300)}`,
    ];
  }
  log(
    `size edge: the largest valid spec takes ${storedSize(stored.spec)} bytes as stored; waiting for it to settle`,
  );
  const deadline = Date.now() + timeoutMs;
  let why: string | undefined = "not read";
  let got: Image | undefined;
  while (Date.now() < deadline) {
    got = await golden.images.get(namespace, name).catch(() => undefined);
    why = got ? unsettled(got) : "cannot be read";
    if (!why) break;
    await sleep(1_000);
  }
  if (why)
    problems.push(`size probe: Image ${namespace}/${name} did not settle within ${timeoutMs} ms: ${why}`);
  else if (got?.status?.phase !== "Succeeded")
    problems.push(
      `size probe: Image ${namespace}/${name} did not build: ${got?.status?.phase}: ${got?.status?.message}`,
    );
  else {
    log(`size edge: ${got.status.phase}; the Image takes ${storedSize(got)} bytes as stored`);
    const builds = (await golden.imageBuilds.list(namespace)).items.filter((b) => b.spec.imageName === name);
    if (builds.length === 0)
      problems.push(`size probe: Image ${namespace}/${name} settled without an ImageBuild`);
    for (const b of builds)
      if (!isDeepStrictEqual(b.spec.image, got.spec))
        problems.push(
          `size probe: ImageBuild ${namespace}/${b.metadata?.name} does not hold the Image's spec`,
        );
  }
  await golden.images.delete(namespace, name).catch(() => undefined);
  const gone = Date.now() + 60_000;
  while (Date.now() < gone && (await golden.images.get(namespace, name).catch(() => undefined)))
    await sleep(500);
  if (await golden.images.get(namespace, name).catch(() => undefined))
    problems.push(`size probe: Image ${namespace}/${name} was not deleted within 60 s`);
  return problems;
}

/** 24 files of 64 KiB: ~1.5 MiB, etcd's request limit (the old schema admitted it). */
function hugeSpec(): Image["spec"] {
  return {
    base: { os: "rocky", release: "9" },
    formats: ["raw"],
    build: { simulate: { stepSeconds: 0 } },
    customizations: {
      files: Array.from({ length: 24 }, (_, i) => ({
        path: `/var/lib/blob-${i}`,
        content: "x".repeat(65536),
      })),
    },
  };
}

export interface FuzzRun {
  results: FuzzResult[];
  /** Settled outcomes of the sample built for real, "phase/reason" → count. */
  outcomes: Map<string, number>;
  dryRunMs: number;
  /** What the judge, the sample and the size edge found wrong. */
  problems: string[];
}

/**
 * The whole fuzz of the Image API in `namespace`: `count` cases by dry run, judged; `built` of the
 * accepted ones and the size edge created for real, each given `timeoutMs` to settle. Shared by the
 * chaos run (after its faults) and test/integration/fuzz.test.ts; each checks its operators itself.
 */
export async function fuzzImageApi(
  rng: Rng,
  namespace: string,
  opts: { count: number; built: number; timeoutMs: number },
  log: (msg: string) => void,
): Promise<FuzzRun> {
  const started = Date.now();
  const cases = generateCases(rng, opts.count, namespace, "fz");
  const results = await dryRunAll(cases, 8);
  const dryRunMs = Date.now() - started;
  const problems = judge(results, cases);
  const accepted = results.filter((r) => r.verdict === "accepted").length;
  log(
    `fuzz: ${cases.length} dry runs in ${dryRunMs} ms: ${accepted} accepted, ${cases.length - accepted} refused`,
  );
  const [built, edge] = await Promise.all([
    buildSample(pickSample(rng, results, opts.built), cases, opts.timeoutMs, log),
    sizeProbe(namespace, opts.timeoutMs, log),
  ]);
  problems.push(...built.problems, ...edge);
  return { results, outcomes: built.outcomes, dryRunMs, problems };
}
