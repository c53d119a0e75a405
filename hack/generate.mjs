#!/usr/bin/env node
// Generates golden's CRDs, TypeScript API types and served OpenAPI from the OpenAPI sources of truth.
//
//   node hack/generate.mjs           write every generated file (only those that changed)
//   node hack/generate.mjs --check   write nothing; exit 1 naming each file that differs
//
// Input:  api/spec/golden.dev_v1alpha1.yaml (its header comment describes the conventions),
//         api/spec/visibility.golden.dev_v1alpha1.yaml (golden's aggregated API)
// Output: config/crd/bases/golden.dev_<plural>.yaml, config/crd/kustomization.yaml,
//         src/api/v1alpha1/types.ts, src/api/v1alpha1/index.ts,
//         src/api/visibility/v1alpha1/{types,index,openapi}.ts
// Stale config/crd/bases/golden.dev_*.yaml files (kinds removed from the spec) are deleted, or
// reported by --check.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import {
  AGGREGATED_BANNER,
  AGGREGATED_SPEC,
  buildAggregatedIndexTs,
  buildAggregatedTsSchema,
  buildOpenApiTs,
} from "./codegen/aggregated.mjs";
import { biomeFormat, renderIndex, renderTsSchema, renderTypes, renderYaml } from "./codegen/render.mjs";
import { buildCrd, buildCrdKustomization, crdDefinitions, crdFileName } from "./codegen/schema.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SPEC = "api/spec/golden.dev_v1alpha1.yaml";
const CRD_DIR = "config/crd/bases";
const VISIBILITY_DIR = "src/api/visibility/v1alpha1";

/** Every generated file: repository-relative path -> content. */
async function generate() {
  const spec = YAML.parse(readFileSync(join(root, SPEC), "utf8"));
  const out = new Map();
  for (const resource of crdDefinitions(spec).resources) {
    const path = `${CRD_DIR}/${crdFileName(spec, resource)}`;
    out.set(path, renderYaml(buildCrd(spec, resource), path, root));
  }
  const kustomization = "config/crd/kustomization.yaml";
  out.set(kustomization, renderYaml(buildCrdKustomization(spec), kustomization, root));
  const types = "src/api/v1alpha1/types.ts";
  out.set(types, await renderTypes(spec, types, root));
  const index = "src/api/v1alpha1/index.ts";
  out.set(index, renderIndex(spec, index, root));

  const aggregated = YAML.parse(readFileSync(join(root, AGGREGATED_SPEC), "utf8"));
  const aggregatedTypes = `${VISIBILITY_DIR}/types.ts`;
  out.set(
    aggregatedTypes,
    await renderTsSchema(
      buildAggregatedTsSchema(aggregated),
      `// ${AGGREGATED_BANNER}`,
      aggregatedTypes,
      root,
    ),
  );
  for (const [file, build] of [
    ["index.ts", buildAggregatedIndexTs],
    ["openapi.ts", buildOpenApiTs],
  ]) {
    const path = `${VISIBILITY_DIR}/${file}`;
    out.set(path, biomeFormat(build(aggregated), path, root));
  }
  return out;
}

/** Generated-looking CRD files on disk that the spec no longer produces. */
function staleFiles(out) {
  const dir = join(root, CRD_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^golden\.dev_.*\.yaml$/.test(f))
    .map((f) => `${CRD_DIR}/${f}`)
    .filter((p) => !out.has(p));
}

/** A few lines around the first difference, `-` for what is on disk and `+` for what is expected. */
function firstDifference(actual, expected) {
  const a = actual.split("\n");
  const e = expected.split("\n");
  let i = 0;
  while (i < a.length && i < e.length && a[i] === e[i]) i++;
  const lines = [`    first difference at line ${i + 1}:`];
  for (const l of a.slice(i, i + 3)) lines.push(`    - ${l}`);
  for (const l of e.slice(i, i + 3)) lines.push(`    + ${l}`);
  return lines.join("\n");
}

async function main() {
  const check = process.argv.includes("--check");
  const out = await generate();
  const drift = [];
  for (const [path, content] of out) {
    const abs = join(root, path);
    const current = existsSync(abs) ? readFileSync(abs, "utf8") : undefined;
    if (current === content) continue;
    if (check) {
      drift.push(
        current === undefined
          ? `  ${path}: missing`
          : `  ${path}: differs\n${firstDifference(current, content)}`,
      );
    } else {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, content);
      console.log(`wrote ${path}`);
    }
  }
  for (const path of staleFiles(out)) {
    if (check) drift.push(`  ${path}: stale (no kind in ${SPEC} generates it)`);
    else {
      rmSync(join(root, path));
      console.log(`removed ${path}`);
    }
  }
  if (check && drift.length > 0) {
    console.error(
      `generated files are out of date with ${SPEC} or ${AGGREGATED_SPEC}; run \`node hack/generate.mjs\`:\n${drift.join("\n")}`,
    );
    process.exit(1);
  }
  if (check)
    console.log(`generated files are up to date with ${SPEC} and ${AGGREGATED_SPEC} (${out.size} files)`);
  else
    console.log(
      `generated ${out.size} files from ${relative(root, join(root, SPEC))} and ${AGGREGATED_SPEC}`,
    );
}

main().catch((err) => {
  console.error(`hack/generate.mjs: ${err instanceof Error ? err.message : err}`);
  process.exit(2);
});
