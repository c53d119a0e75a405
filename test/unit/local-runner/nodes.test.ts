import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  nodeObject,
  parseNodes,
  RUNNER_NODE_LABEL,
  RUNNER_TAINT_KEY,
} from "../../../hack/local-runner/nodes.js";

describe("parseNodes", () => {
  it("parses name:arch entries in order", () => {
    assert.deepEqual(parseNodes("runner-amd64:amd64,runner-arm64:arm64"), [
      { name: "runner-amd64", arch: "amd64" },
      { name: "runner-arm64", arch: "arm64" },
    ]);
  });

  it("skips empty entries", () => {
    assert.deepEqual(parseNodes(",a:amd64,,"), [{ name: "a", arch: "amd64" }]);
    assert.deepEqual(parseNodes(""), []);
  });

  it("rejects entries without a name or an arch", () => {
    for (const bad of ["runner", "runner:", ":amd64", "a:amd64,b"]) {
      assert.throws(() => parseNodes(bad), /want name:arch/, bad);
    }
    assert.throws(() => parseNodes("a:amd64,b"), /--nodes entry b: want name:arch/);
  });
});

describe("nodeObject", () => {
  const node = nodeObject({ name: "runner-arm64", arch: "arm64" });

  it("is a v1 Node named after the runner node", () => {
    assert.equal(node.apiVersion, "v1");
    assert.equal(node.kind, "Node");
    assert.equal(node.metadata?.name, "runner-arm64");
  });

  it("carries the arch, os, hostname and runner labels", () => {
    assert.deepEqual(node.metadata?.labels, {
      "kubernetes.io/arch": "arm64",
      "kubernetes.io/os": "linux",
      "kubernetes.io/hostname": "runner-arm64",
      [RUNNER_NODE_LABEL]: "true",
    });
    assert.equal(RUNNER_NODE_LABEL, "golden.dev/local-runner");
  });

  it("is tainted so only pods that tolerate the runner land on it", () => {
    assert.deepEqual(node.spec?.taints, [{ key: RUNNER_TAINT_KEY, value: "true", effect: "NoSchedule" }]);
    assert.equal(RUNNER_TAINT_KEY, "golden.dev/local-runner");
  });

  it("follows the arch of each node", () => {
    assert.equal(nodeObject({ name: "x", arch: "amd64" }).metadata?.labels?.["kubernetes.io/arch"], "amd64");
  });
});
