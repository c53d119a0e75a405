#!/usr/bin/env node
// Checks golden's Dockerfile (and .dockerignore) against the image policy of docs/deploy.md
// without a Docker engine: multi-stage, Node 24 bases with pinned tags, production-only
// node_modules in the runtime, a numeric non-root USER, exec-form entry point, no secrets.
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

/** Returns the policy violations of a Dockerfile (and optionally its .dockerignore); [] if none. */
export function checkDockerfile(text, ignoreText) {
  const problems = [];
  const { stages } = parseDockerfile(text);
  if (stages.length < 2)
    problems.push(`multi-stage: want build and runtime stages, found ${stages.length} FROM`);
  const final = stages.at(-1);
  if (!final) return problems;
  const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name, s]));

  for (const s of stages) {
    if (s.fromStage) continue;
    if (!isNode24(s.image))
      problems.push(
        `FROM ${s.image} (line ${s.instructions[0]?.line}): not a Node 24 image with a pinned tag`,
      );
  }
  if (!stages.some((s) => s.instructions.some((i) => i.keyword === "RUN" && /\btsc\b/.test(i.args)))) {
    problems.push("no stage compiles TypeScript (tsc)");
  }
  const npmCi = (s) =>
    s.instructions.filter((i) => i.keyword === "RUN" && /\bnpm\s+(ci|install|i)\b/.test(i.args));
  if (!stages.some((s) => npmCi(s).some((i) => /\bnpm\s+ci\b/.test(i.args) && /--omit=dev\b/.test(i.args)))) {
    problems.push("no stage installs production dependencies with npm ci --omit=dev");
  }

  const ins = final.instructions;
  const users = ins.filter((i) => i.keyword === "USER");
  const user = users.at(-1)?.args.trim();
  const ids = /^(\d+)(?::(\d+))?$/.exec(user ?? "");
  if (!user) problems.push("final stage: no USER (the runtime must not run as root)");
  else if (!ids) problems.push(`final stage: USER ${user} is not numeric (runAsNonRoot needs a numeric uid)`);
  else if (Number(ids[1]) === 0 || ids[2] === "0") problems.push(`final stage: USER ${user} is root`);

  for (const i of ins) {
    if (i.keyword !== "COPY" || !i.flags.from) continue;
    if (!/node_modules/.test(i.args)) continue;
    const source = byName.get(i.flags.from.toLowerCase());
    if (!source) continue;
    const installs = npmCi(source);
    if (installs.length === 0 || installs.some((x) => !/--omit=dev\b/.test(x.args))) {
      problems.push(
        `final stage (line ${i.line}): copies node_modules from stage ${i.flags.from}, which installs dev dependencies`,
      );
    }
  }
  if (/distroless/.test(final.image) && ins.some((i) => i.keyword === "RUN")) {
    problems.push(
      "final stage: RUN on a distroless base (it has no shell); prepare files in an earlier stage",
    );
  }
  const entry = ins.filter((i) => i.keyword === "ENTRYPOINT").at(-1);
  if (!entry) problems.push("final stage: no ENTRYPOINT");
  else {
    let argv;
    try {
      argv = JSON.parse(entry.args);
    } catch {
      argv = undefined;
    }
    if (!Array.isArray(argv))
      problems.push(`final stage: ENTRYPOINT ${entry.args} is not exec form (signals must reach node)`);
    else if (argv[0] !== "golden-operator")
      problems.push(`final stage: ENTRYPOINT ${entry.args} does not start golden-operator`);
  }
  if (!ins.some((i) => i.keyword === "COPY" && /(^|\s)\/usr\/local\/bin\/?$/.test(i.args.trim()))) {
    problems.push(
      "final stage: nothing is copied to /usr/local/bin (golden-operator and golden-worker must be on PATH)",
    );
  }
  if (!ins.some((i) => i.keyword === "COPY" && /\bpackage\.json\b/.test(i.args))) {
    problems.push('final stage: no package.json ("type": "module" is needed to load dist/ as ES modules)');
  }
  for (const s of stages) {
    for (const i of s.instructions) {
      if (i.keyword === "ADD" && /\bhttps?:\/\//.test(i.args))
        problems.push(`line ${i.line}: ADD of a URL (unpinned download); use COPY`);
      if (i.keyword === "ENV" || i.keyword === "ARG") {
        for (const [, name] of i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)) {
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
    for (const s of stages) {
      for (const i of s.instructions) {
        if (i.keyword !== "COPY" || i.flags.from || i.heredocs.length > 0) continue;
        const sources = i.args.trim().split(/\s+/).slice(0, -1);
        for (const src of sources) {
          if (!/[*?[]/.test(src) && excluded(src))
            problems.push(`.dockerignore: excludes ${src}, which line ${i.line} copies`);
        }
      }
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
