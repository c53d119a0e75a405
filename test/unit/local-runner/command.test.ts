import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { containerEnv, isGoldenImage, localCommand } from "../../../hack/local-runner/command.js";

const REPO = "/src/golden";
const NODE = "/opt/node/bin/node";
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("isGoldenImage", () => {
  it("matches golden's image whatever the registry, tag or digest", () => {
    for (const image of [
      "golden",
      "golden:dev",
      "golden:1.2.3",
      "registry.example/golden:1.2",
      "registry.example:5000/team/golden:v1_rc.2",
      `golden@${DIGEST}`,
      `registry.example/golden:1.2@${DIGEST}`,
    ]) {
      assert.equal(isGoldenImage(image), true, image);
    }
  });

  it("does not match other images", () => {
    for (const image of [
      "nginx",
      "goldenrod:1",
      "my-golden",
      "my-golden:dev",
      "registry.example/not-golden:1",
      "golden/other:1",
      "golden@sha256:short",
      "",
    ]) {
      assert.equal(isGoldenImage(image), false, image);
    }
    assert.equal(isGoldenImage(undefined), false);
  });

  it("accepts another pattern", () => {
    assert.equal(isGoldenImage("nginx:1", /^nginx/), true);
    assert.equal(isGoldenImage("golden", /^nginx/), false);
    assert.equal(isGoldenImage(undefined, /.*/), false);
  });
});

describe("localCommand", () => {
  it("runs golden-worker with this repository's build, passing the args", () => {
    const c: V1Container = {
      name: "worker",
      command: ["golden-worker"],
      args: ["--build-name", "b", "--build-namespace", "ns"],
    };
    assert.deepEqual(localCommand(c, REPO, NODE), {
      file: NODE,
      args: [path.join(REPO, "dist/src/cmd/worker.js"), "--build-name", "b", "--build-namespace", "ns"],
    });
  });

  it("runs golden-operator, also named by an absolute path", () => {
    for (const entry of ["golden-operator", "/usr/local/bin/golden-operator"]) {
      assert.deepEqual(localCommand({ name: "m", command: [entry, "--leader-elect"] }, REPO, NODE), {
        file: NODE,
        args: [path.join(REPO, "dist/src/cmd/operator.js"), "--leader-elect"],
      });
    }
    assert.deepEqual(localCommand({ name: "w", command: ["/usr/local/bin/golden-worker"] }, REPO, NODE), {
      file: NODE,
      args: [path.join(REPO, "dist/src/cmd/worker.js")],
    });
  });

  it("joins command and args as the kubelet does", () => {
    const c: V1Container = { name: "w", command: ["golden-worker", "--a"], args: ["--b", "c"] };
    const out = localCommand(c, REPO, NODE);
    assert.ok(typeof out !== "string");
    assert.deepEqual(out.args.slice(1), ["--a", "--b", "c"]);
  });

  it("runs node commands with the given node binary, resolving dist/ paths in the repository", () => {
    for (const entry of ["node", "/usr/bin/node", "/nodejs/bin/node"]) {
      const c: V1Container = {
        name: "n",
        command: [entry],
        args: ["dist/src/cmd/worker.js", "--x", "/abs/dist/y.js"],
      };
      assert.deepEqual(localCommand(c, REPO, NODE), {
        file: NODE,
        args: [path.join(REPO, "dist/src/cmd/worker.js"), "--x", "/abs/dist/y.js"],
      });
    }
  });

  it("returns an error string for any other command", () => {
    for (const command of [["sh", "-c", "echo"], ["/bin/golden-workerx"], ["nodejs"], ["golden"]]) {
      const out = localCommand({ name: "x", command }, REPO, NODE);
      assert.equal(typeof out, "string", command.join(" "));
      assert.ok((out as string).includes(command[0] ?? ""), out as string);
      assert.ok((out as string).includes("golden-worker"), "names the supported entry points");
    }
  });

  it("returns an error string for a container without command", () => {
    for (const c of [{ name: "x" }, { name: "x", command: [] }, { name: "x", command: [], args: [] }]) {
      const out = localCommand(c, REPO, NODE);
      assert.equal(typeof out, "string");
      assert.match(out as string, /no command/);
    }
  });
});

function pod(): V1Pod {
  return {
    metadata: {
      name: "web-g1-abc123-x7k2p",
      namespace: "team-a",
      uid: "pod-uid-9",
      labels: { "golden.dev/build": "web-g1-abc123", app: "w" },
      annotations: { note: "hi" },
    },
    spec: { nodeName: "runner-1", serviceAccountName: "golden-worker", containers: [] },
  };
}

function fieldRef(name: string, fieldPath: string) {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

describe("containerEnv", () => {
  it("copies literal values", () => {
    const c: V1Container = {
      name: "w",
      env: [
        { name: "A", value: "1" },
        { name: "EMPTY", value: "" },
      ],
    };
    assert.deepEqual(containerEnv(pod(), c), { A: "1", EMPTY: "" });
  });

  it("is empty without env", () => {
    assert.deepEqual(containerEnv(pod(), { name: "w" }), {});
  });

  it("resolves downward-API fields", () => {
    const c: V1Container = {
      name: "w",
      env: [
        fieldRef("POD_NAME", "metadata.name"),
        fieldRef("POD_NAMESPACE", "metadata.namespace"),
        fieldRef("POD_UID", "metadata.uid"),
        fieldRef("BUILD", "metadata.labels['golden.dev/build']"),
        fieldRef("NOTE", "metadata.annotations['note']"),
        fieldRef("NODE", "spec.nodeName"),
        fieldRef("SA", "spec.serviceAccountName"),
        fieldRef("POD_IP", "status.podIP"),
      ],
    };
    assert.deepEqual(containerEnv(pod(), c), {
      POD_NAME: "web-g1-abc123-x7k2p",
      POD_NAMESPACE: "team-a",
      POD_UID: "pod-uid-9",
      BUILD: "web-g1-abc123",
      NOTE: "hi",
      NODE: "runner-1",
      SA: "golden-worker",
      POD_IP: "127.0.0.1",
    });
  });

  it("leaves out fields the pod does not have", () => {
    const c: V1Container = {
      name: "w",
      env: [fieldRef("MISSING", "metadata.labels['nope']"), fieldRef("ODD", "spec.unknownField")],
    };
    assert.deepEqual(containerEnv(pod(), c), {});
  });

  it("expands $(VAR) references to earlier variables", () => {
    const c: V1Container = {
      name: "w",
      env: [
        fieldRef("POD_NAME", "metadata.name"),
        { name: "A", value: "x" },
        { name: "B", value: "$(A)-$(POD_NAME)" },
        { name: "C", value: "$(B)/$(A)" },
      ],
    };
    const env = containerEnv(pod(), c);
    assert.equal(env.B, "x-web-g1-abc123-x7k2p");
    assert.equal(env.C, "x-web-g1-abc123-x7k2p/x");
  });

  it("leaves references to unknown or later variables as written", () => {
    const c: V1Container = {
      name: "w",
      env: [
        { name: "A", value: "$(LATER) $(NOPE) $A" },
        { name: "LATER", value: "v" },
      ],
    };
    assert.equal(containerEnv(pod(), c).A, "$(LATER) $(NOPE) $A");
  });
});
