#!/usr/bin/env node
// Bundles the long-running entry points into single files, dependencies included:
//   dist/bundle/operator.mjs  golden-operator (src/cmd/operator.ts)
//   dist/bundle/worker.mjs    golden-worker (src/cmd/worker.ts)
//   dist/bundle/visibility-thread.mjs  the operator's visibility API thread (src/cmd/visibility-thread.ts)
//   dist/bundle/cache-memory-child.mjs  bench/cache-memory.ts's child: the operator's modules, bundled alike
// Why: @kubernetes/client-node's index loads every generated API class and model (some 1 200
// files); as separate ES modules they cost ~25 MB of RSS before the operator caches anything.
// esbuild keeps only the code the entry points reach, in one script (docs/performance.md, "Memory").
// `make build` runs it after tsc (all three); the Dockerfile bundles `operator worker visibility-thread` only.
// --metafile also writes what each bundle holds (dist/bundle/meta.json).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(repo, "dist", "bundle");

const entries = {
  operator: "src/cmd/operator.ts",
  worker: "src/cmd/worker.ts",
  "visibility-thread": "src/cmd/visibility-thread.ts",
  "cache-memory-child": "bench/cache-memory-child.ts",
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("--"));
for (const name of wanted)
  if (!(name in entries)) throw new Error(`unknown entry ${name}: one of ${Object.keys(entries)}`);
fs.rmSync(out, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: repo,
  entryPoints: Object.fromEntries(
    Object.entries(entries).filter(([name]) => wanted.length === 0 || wanted.includes(name)),
  ),
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  // Whitespace and syntax only: names stay readable in heap snapshots, stack traces and logs.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  // External maps, read only when Node runs with --enable-source-maps (the image sets it for the
  // worker; the operator's Deployment leaves it out: ~9 MB of RSS).
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  // Bundled CommonJS dependencies call require() for Node's built-ins.
  banner: {
    js: 'import { createRequire as __goldenRequire } from "node:module";\nconst require = __goldenRequire(import.meta.url);',
  },
  metafile: process.argv.includes("--metafile"),
  logLevel: "warning",
});
if (result.metafile) fs.writeFileSync(path.join(out, "meta.json"), JSON.stringify(result.metafile));
