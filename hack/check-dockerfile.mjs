#!/usr/bin/env node
// The textual checks of golden's Dockerfile and .dockerignore that building the image cannot do.
// Everything the build and its smoke test can see (stages, npm ci --omit=dev, tsc, numeric
// non-root USER, exec-form ENTRYPOINT, wrappers on PATH, package.json, no dev dependencies, no
// shell) is checked on the built image by hack/image/smoke.sh (make docker-smoke). Left here:
//   - the public base images users pull: ARG NODE_IMAGE/RUNTIME_IMAGE default to Node 24 images
//     with pinned tags (a distroless nodejs24 :nonroot runtime) and every base FROM uses one of
//     them. Where no registry answers, make docker-build replaces both with local stand-ins, so
//     these defaults are never built there;
//   - .dockerignore keeps node_modules, dist, .cluster (keys) and .git out of the build context:
//     the build only shows what COPY takes, not what the builder was sent;
//   - no secret-looking ENV/ARG names and no ADD of a URL: intent that no image inspection shows.
// hadolint covers general Dockerfile hygiene (make verify-dockerfile runs it when installed).
//
//   node hack/check-dockerfile.mjs [--dockerfile Dockerfile] [--dockerignore .dockerignore]
//
// Also a module: test/unit/deploy/dockerfile.test.ts imports parseDockerfile and the checks.
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

/**
 * @typedef {{ keyword: string, args: string, flags: Record<string, string>, line: number, heredocs: { name: string, body: string }[] }} Instruction
 * @typedef {{ index: number, name: string | undefined, base: string, image: string, fromStage: boolean, instructions: Instruction[] }} Stage
 * @typedef {{ args: Record<string, string>, stages: Stage[] }} Dockerfile
 */

/** Parses a Dockerfile into global ARG defaults and stages of instructions. */
export function parseDockerfile(text) {
  const lines = text.split("\n");
  /** @type {Record<string, string>} */
  const args = {};
  /** @type {Stage[]} */
  const stages = [];
  let i = 0;
  while (i < lines.length) {
    const first = i;
    let logical = "";
    // Join continuation lines; comment and empty lines inside a continuation are dropped.
    while (i < lines.length) {
      const raw = lines[i++] ?? "";
      if (logical === "" && /^\s*(#|$)/.test(raw)) break;
      if (logical !== "" && /^\s*(#|$)/.test(raw)) continue;
      if (raw.endsWith("\\") && i < lines.length) {
        logical += `${raw.slice(0, -1)} `;
        continue;
      }
      logical += raw;
      break;
    }
    logical = logical.trim();
    if (!logical) continue;
    const match = /^(\S+)\s*(.*)$/s.exec(logical);
    if (!match) continue;
    const keyword = (match[1] ?? "").toUpperCase();
    let rest = match[2] ?? "";
    /** @type {Record<string, string>} */
    const flags = {};
    for (let f = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest); f; f = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest)) {
      flags[f[1] ?? ""] = f[2] ?? "true";
      rest = rest.slice(f[0].length);
    }
    const heredocs = [];
    for (const h of rest.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
      const body = [];
      while (i < lines.length) {
        const raw = lines[i++] ?? "";
        if ((h[1] ? raw.trim() : raw) === h[3]) break;
        body.push(raw);
      }
      heredocs.push({ name: h[3] ?? "", body: body.map((l) => `${l}\n`).join("") });
    }
    /** @type {Instruction} */
    const instruction = { keyword, args: rest, flags, line: first + 1, heredocs };
    if (keyword === "FROM") {
      const [base = "", as, name] = rest.split(/\s+/);
      const image = substitute(base, args);
      const fromStage = stages.some((s) => s.name !== undefined && s.name === image.toLowerCase());
      stages.push({
        index: stages.length,
        name: as?.toUpperCase() === "AS" ? name?.toLowerCase() : undefined,
        base,
        image,
        fromStage,
        instructions: [instruction],
      });
    } else if (stages.length === 0) {
      if (keyword === "ARG") {
        const [name = "", value = ""] = rest.split("=", 2);
        args[name.trim()] = unquote(value.trim());
      }
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

function substitute(text, args) {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, a, def, b) => {
      const name = a ?? b;
      return args[name] ?? def ?? "";
    },
  );
}

function unquote(s) {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s;
}

/** True when `image` is a Node 24 image with a pinned tag (node:24…, distroless nodejs24…). */
export function isNode24(image) {
  const [name = "", tag = ""] = image.split("@")[0]?.split(/:(?=[^/]*$)/) ?? [];
  if (/(^|\/)node$/.test(name)) return /^24($|[.-])/.test(tag);
  if (/(^|\/)nodejs24(-|$)/.test(name)) return (tag !== "" && tag !== "latest") || image.includes("@sha256:");
  return false;
}

/** A .dockerignore matcher with Docker's semantics: last matching pattern wins, `!` re-includes. */
export function dockerignore(text) {
  const rules = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const include = l.startsWith("!");
      const pattern = (include ? l.slice(1) : l).replace(/^\/+|\/+$/g, "");
      const re = pattern
        .split("/")
        .map((seg) =>
          seg === "**"
            ? ".*"
            : seg
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, "[^/]*")
                .replace(/\?/g, "[^/]"),
        )
        .join("/");
      return { include, re: new RegExp(`^${re}$`) };
    });
  /** True when `path` (relative to the context) is left out of the build context. */
  return (path) => {
    const parts = path.replace(/^\.?\/+|\/+$/g, "").split("/");
    let excluded = false;
    for (const rule of rules) {
      // A pattern that matches a directory applies to everything below it.
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join("/"))) {
          excluded = !rule.include;
          break;
        }
      }
    }
    return excluded;
  };
}

const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY)/i;

/** The base-image build arguments, with the public images users pull by default. */
export const BASE_ARGS = ["NODE_IMAGE", "RUNTIME_IMAGE"];

/** Returns the policy violations of a Dockerfile (and optionally its .dockerignore); [] if none. */
export function checkDockerfile(text, ignoreText) {
  const problems = [];
  const { args, stages } = parseDockerfile(text);
  for (const name of BASE_ARGS) {
    const image = args[name];
    if (image === undefined) problems.push(`no global ARG ${name} with the public default base image`);
    else if (!isNode24(image)) problems.push(`ARG ${name}=${image}: not a Node 24 image with a pinned tag`);
  }
  const runtime = args.RUNTIME_IMAGE ?? "";
  if (!/(^|\/)distroless\/nodejs24-debian\d+:nonroot$/.test(runtime))
    problems.push(`ARG RUNTIME_IMAGE=${runtime}: want the distroless nodejs24 :nonroot image`);
  const argOf = (base) => /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(base)?.[1];
  for (const s of stages) {
    if (s.fromStage) continue;
    const arg = argOf(s.base);
    if (!arg || !BASE_ARGS.includes(arg))
      problems.push(
        `FROM ${s.base} (line ${s.instructions[0]?.line}): use $NODE_IMAGE or $RUNTIME_IMAGE, so local bases can stand in`,
      );
  }
  if (argOf(stages.at(-1)?.base ?? "") !== "RUNTIME_IMAGE")
    problems.push("final stage: not FROM $RUNTIME_IMAGE");
  for (const name of Object.keys(args)) {
    if (SECRET_NAME.test(name)) problems.push(`global ARG ${name} looks like a secret`);
  }
  for (const s of stages) {
    for (const i of s.instructions) {
      if (i.keyword === "ADD" && /\bhttps?:\/\//.test(i.args))
        problems.push(`line ${i.line}: ADD of a URL (unpinned download); use COPY`);
      if (i.keyword === "ENV" || i.keyword === "ARG") {
        for (const [, name] of i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)/g)) {
          if (SECRET_NAME.test(name ?? ""))
            problems.push(`line ${i.line}: ${i.keyword} ${name} looks like a secret`);
        }
      }
    }
  }
  if (ignoreText !== undefined) {
    const excluded = dockerignore(ignoreText);
    for (const path of ["node_modules/x", "dist/x", ".cluster/kubeconfig", ".git/config"]) {
      if (!excluded(path)) problems.push(`.dockerignore: ${path.split("/")[0]} is sent to the builder`);
    }
  }
  return problems;
}

function main() {
  const { values } = parseArgs({
    options: { dockerfile: { type: "string", default: "Dockerfile" }, dockerignore: { type: "string" } },
  });
  const file = values.dockerfile ?? "Dockerfile";
  const ignorePath = values.dockerignore ?? (fs.existsSync(".dockerignore") ? ".dockerignore" : undefined);
  const problems = checkDockerfile(
    fs.readFileSync(file, "utf8"),
    ignorePath ? fs.readFileSync(ignorePath, "utf8") : undefined,
  );
  for (const p of problems) process.stderr.write(`${file}: ${p}\n`);
  if (problems.length > 0) process.exit(1);
  const { stages } = parseDockerfile(fs.readFileSync(file, "utf8"));
  process.stdout.write(`${file}: ok (${stages.length} stages; runtime ${stages.at(-1)?.image})\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
