// The operator's Node flags and malloc settings (docs/performance.md, "Memory") are set in three places:
// its Deployment, the local start script, and the cache-footprint bench that measures them.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import YAML from "yaml";
import { OPERATOR_ENV, OPERATOR_NODE_FLAGS } from "../../../bench/cache-memory.js";

const repo = new URL("../../../../", import.meta.url).pathname;

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
}

describe("the operator's memory settings", () => {
  const docs = YAML.parseAllDocuments(
    fs.readFileSync(path.join(repo, "config/manager/manager.yaml"), "utf8"),
  );
  const deployment = docs.map((d) => d.toJS()).find((d) => d?.kind === "Deployment");
  const container = (deployment.spec.template.spec.containers as Container[])[0];
  const env = new Map((container?.env ?? []).map((e) => [e.name, e.value]));

  it("are the Deployment's: its NODE_OPTIONS and malloc variables are the bench's", () => {
    assert.deepEqual(env.get("NODE_OPTIONS")?.split(" "), OPERATOR_NODE_FLAGS);
    for (const [name, value] of Object.entries(OPERATOR_ENV)) assert.equal(env.get(name), value, name);
  });

  it("are hack/operator-bg.sh's, which runs the bundle as the image does", () => {
    const script = fs.readFileSync(path.join(repo, "hack/operator-bg.sh"), "utf8");
    assert.ok(script.includes(`"$node" ${OPERATOR_NODE_FLAGS.join(" ")} "$repo/dist/bundle/operator.mjs"`));
    for (const [name, value] of Object.entries(OPERATOR_ENV))
      assert.ok(script.includes(`export ${name}="\${${name}:-${value}}"`), name);
  });
});
