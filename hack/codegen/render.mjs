// Turns the objects built by schema.mjs into file contents: YAML for Kubernetes manifests,
// TypeScript via json-schema-to-typescript. Everything goes through Biome at the end, so that the
// generated files are exactly what `biome check` expects and `--check` compares like with like.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { compile } from "json-schema-to-typescript";
import YAML from "yaml";
import { buildIndexTs, buildTsSchema, GENERATED_BANNER } from "./schema.mjs";

/**
 * Formats `content` as if it were the file `relPath` (relative to `root`), with the repository's
 * Biome configuration, applying safe fixes (import sorting). Returns the formatted text.
 */
export function biomeFormat(content, relPath, root) {
  const bin = join(root, "node_modules", ".bin", process.platform === "win32" ? "biome.cmd" : "biome");
  const res = spawnSync(bin, ["check", "--write", `--stdin-file-path=${relPath}`], {
    cwd: root,
    input: content,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) throw new Error(`biome: ${res.error.message}`);
  if (res.status !== 0) {
    throw new Error(`biome check ${relPath} failed (exit ${res.status}):\n${res.stderr}${res.stdout}`);
  }
  return res.stdout;
}

/**
 * Serializes a Kubernetes manifest deterministically (keys in the order of `obj`), quoting every
 * scalar that YAML 1.1 (kubectl's parser) would read as something other than a string.
 */
export function renderYaml(obj, relPath, root) {
  const body = YAML.stringify(obj, {
    version: "1.1",
    lineWidth: 0,
    minContentWidth: 0,
    aliasDuplicateObjects: false,
  });
  const text = biomeFormat(`# ${GENERATED_BANNER}\n${body}`, relPath, root);
  const reparsed = YAML.parse(text, { version: "1.1" });
  if (!isDeepStrictEqual(reparsed, obj)) {
    throw new Error(`${relPath}: formatted YAML no longer parses to the generated object`);
  }
  return text;
}

/** src/api/v1alpha1/types.ts */
export async function renderTypes(spec, relPath, root) {
  return renderTsSchema(
    buildTsSchema(spec),
    `// ${GENERATED_BANNER}\n\nimport type { V1ObjectMeta } from "@kubernetes/client-node";`,
    relPath,
    root,
  );
}

/** TypeScript declarations of a JSON Schema built by tsSchemaOf, under `banner`. */
export async function renderTsSchema(schema, banner, relPath, root) {
  const ts = await compile(schema, schema.title, {
    bannerComment: banner,
    additionalProperties: false,
    unreachableDefinitions: true,
    ignoreMinAndMaxItems: true,
    strictIndexSignatures: true,
    declareExternallyReferenced: true,
    enableConstEnums: false,
    format: false,
    cwd: root,
  });
  return biomeFormat(ts, relPath, root);
}

/** src/api/v1alpha1/index.ts */
export function renderIndex(spec, relPath, root) {
  return biomeFormat(buildIndexTs(spec), relPath, root);
}
