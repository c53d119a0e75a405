// The defaults code reads are the schema's: the generated CRDs carry the same values.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
  arch,
  attempt,
  DEFAULT_ARCH,
  DEFAULT_ATTEMPT,
  DEFAULT_HISTORY_LIMIT,
  DEFAULT_PRIORITY,
  DEFAULT_RETRIES,
  DEFAULT_STEP_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  historyLimits,
  priority,
  retries,
  stepSeconds,
  timeoutSeconds,
} from "../../../src/build/defaults.js";
import { build } from "../../support/fixtures.js";
import { repoRoot } from "../../support/repo-root.js";

interface Schema {
  default?: unknown;
  properties?: Record<string, Schema>;
}

function imageSpecSchema(crd: string, ...specPath: string[]): Schema {
  const doc = parse(fs.readFileSync(path.join(repoRoot(), "config/crd/bases", crd), "utf8")) as {
    spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
  };
  let schema = doc.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec;
  for (const key of specPath) schema = schema?.properties?.[key];
  assert.ok(schema, `${crd}: spec.${specPath.join(".")}`);
  return schema;
}

describe("schema defaults", () => {
  for (const [crd, at] of [
    ["golden.dev_images.yaml", []],
    ["golden.dev_imagebuilds.yaml", ["image"]],
  ] as const) {
    it(`match ${crd}`, () => {
      const spec = imageSpecSchema(crd, ...at);
      assert.deepEqual(spec.properties?.build?.default, {});
      assert.equal(spec.properties?.build?.properties?.timeoutSeconds?.default, DEFAULT_TIMEOUT_SECONDS);
      assert.equal(spec.properties?.build?.properties?.retries?.default, DEFAULT_RETRIES);
      assert.equal(spec.properties?.build?.properties?.priority?.default, DEFAULT_PRIORITY);
      assert.equal(
        spec.properties?.build?.properties?.simulate?.properties?.stepSeconds?.default,
        DEFAULT_STEP_SECONDS,
      );
      // arch has no schema default (a layered Image sets none); code reads it as DEFAULT_ARCH.
      assert.equal(spec.properties?.base?.properties?.arch?.default, undefined);
      assert.equal(DEFAULT_ARCH, "amd64");
      assert.deepEqual(spec.properties?.historyLimits?.default, {});
      for (const kind of ["successful", "failed"])
        assert.equal(spec.properties?.historyLimits?.properties?.[kind]?.default, DEFAULT_HISTORY_LIMIT);
    });
  }

  it("match the ImageBuild's own (spec.attempt)", () => {
    const doc = parse(
      fs.readFileSync(path.join(repoRoot(), "config/crd/bases/golden.dev_imagebuilds.yaml"), "utf8"),
    ) as {
      spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
    };
    const spec = doc.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec;
    assert.equal(spec?.properties?.attempt?.default, DEFAULT_ATTEMPT);
  });

  it("apply to a spec made in memory, and give way to what it says", () => {
    const bare = { base: { os: "debian" as const, release: "12" }, formats: ["raw" as const] };
    assert.equal(timeoutSeconds(bare), 3600);
    assert.equal(retries(bare), 0);
    assert.deepEqual(historyLimits(bare), { successful: 3, failed: 3 });
    assert.equal(arch(bare), "amd64");
    assert.equal(priority(bare), 0);
    assert.equal(stepSeconds(bare), 1);
    assert.equal(attempt(build()), 1);
    assert.equal(attempt(build({ attempt: 3 })), 3);
    const set = { ...bare, build: { timeoutSeconds: 60, retries: 2 }, historyLimits: { failed: 0 } };
    assert.equal(timeoutSeconds(set), 60);
    assert.equal(retries(set), 2);
    assert.deepEqual(historyLimits(set), { successful: 3, failed: 0 });
  });
});
