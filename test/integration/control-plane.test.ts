// Issue 3: the local control plane is real — apiserver + etcd, Job controller, garbage
// collector, scheduler, KWOK fake nodes, and the local runner playing the kubelet.
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { batch, core, eventually, kc, kubectl, repo, scratchNamespace } from "./cluster.js";

const pinned = /K8S_VERSION=(\S+)/.exec(fs.readFileSync(`${repo}hack/versions.env`, "utf8"))?.[1];

describe("local control plane", () => {
  let ns: { name: string; remove: () => Promise<void> };
  before(async () => {
    ns = await scratchNamespace("cp");
    await eventually("default ServiceAccount", () =>
      core.readNamespacedServiceAccount({ name: "default", namespace: ns.name }),
    );
  });
  after(async () => ns.remove());

  it("serves the pinned Kubernetes version", async () => {
    const version = JSON.parse(await kubectl("get", "--raw", "/version")) as { gitVersion: string };
    assert.equal(version.gitVersion, pinned);
  });

  it("is ready, with etcd healthy behind it", async () => {
    const readyz = await kubectl("get", "--raw", "/readyz?verbose");
    assert.match(readyz, /\[\+\]etcd ok/);
    assert.match(readyz, /readyz check passed/);
  });

  it("has KWOK fake nodes and the local runner's nodes, all Ready", async () => {
    const nodes = (await core.listNode()).items;
    const ready = (name: string) =>
      nodes.find((n) => n.metadata?.name === name)?.status?.conditions?.find((c) => c.type === "Ready")
        ?.status;
    assert.ok(
      nodes.some((n) => n.metadata?.annotations?.["kwok.x-k8s.io/node"] === "fake"),
      "a KWOK node exists",
    );
    for (const n of nodes)
      assert.equal(ready(n.metadata?.name ?? ""), "True", `${n.metadata?.name} is Ready`);
    for (const arch of ["amd64", "arm64"]) {
      const runner = nodes.find((n) => n.metadata?.name === `golden-local-${arch}`);
      assert.equal(runner?.metadata?.labels?.["kubernetes.io/arch"], arch);
      assert.deepEqual(
        runner?.spec?.taints?.map((t) => `${t.key}=${t.value}:${t.effect}`),
        ["golden.dev/local-runner=true:NoSchedule"],
      );
    }
  });

  it("runs a Job to completion on a KWOK node, and garbage-collects its pods with it", async () => {
    await batch.createNamespacedJob({
      namespace: ns.name,
      body: {
        metadata: { name: "hello" },
        spec: {
          template: {
            spec: {
              restartPolicy: "Never",
              containers: [{ name: "c", image: "busybox", command: ["true"] }],
            },
          },
        },
      },
    });
    const job = await eventually("Job hello to complete", async () => {
      const j = await batch.readNamespacedJob({ name: "hello", namespace: ns.name });
      return j.status?.succeeded === 1 ? j : undefined;
    });
    const pods = (await core.listNamespacedPod({ namespace: ns.name, labelSelector: "job-name=hello" }))
      .items;
    assert.equal(pods.length, 1);
    const node = await core.readNode({ name: pods[0]?.spec?.nodeName ?? "" });
    assert.equal(node.metadata?.annotations?.["kwok.x-k8s.io/node"], "fake", "scheduled to a KWOK node");
    assert.equal(pods[0]?.metadata?.ownerReferences?.[0]?.uid, job.metadata?.uid);

    await batch.deleteNamespacedJob({ name: "hello", namespace: ns.name, propagationPolicy: "Background" });
    await eventually("the garbage collector to delete the Job's pod", async () => {
      const left = await core.listNamespacedPod({ namespace: ns.name, labelSelector: "job-name=hello" });
      return left.items.length === 0;
    });
  });

  const runnerPod = (name: string, script: string): V1Pod => ({
    metadata: { name },
    spec: {
      restartPolicy: "Never",
      nodeSelector: { "golden.dev/local-runner": "true" },
      tolerations: [{ key: "golden.dev/local-runner", operator: "Exists", effect: "NoSchedule" }],
      containers: [{ name: "main", image: "golden:dev", command: ["node", "-e", script] }],
    },
  });

  it("runs a golden pod as a local process and reports its exit code and termination message", async () => {
    const script =
      "require('fs').writeFileSync(process.env.GOLDEN_TERMINATION_LOG, 'bye from ' + process.env.HOSTNAME); process.exit(3)";
    await core.createNamespacedPod({ namespace: ns.name, body: runnerPod("exit-three", script) });
    const pod = await eventually("pod exit-three to fail", async () => {
      const p = await core.readNamespacedPod({ name: "exit-three", namespace: ns.name });
      return p.status?.phase === "Failed" ? p : undefined;
    });
    assert.match(pod.spec?.nodeName ?? "", /^golden-local-/);
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 3);
    assert.equal(terminated?.message, "bye from exit-three");
  });

  it("gives the process a ServiceAccount token for its pod, so RBAC applies to it", async () => {
    // The pod reads its own kubeconfig's token and asks the apiserver who it is.
    const script = [
      "const fs = require('fs');",
      "const cfg = fs.readFileSync(process.env.KUBECONFIG, 'utf8');",
      "const token = /token: (\\S+)/.exec(cfg)[1];",
      "const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));",
      "fs.writeFileSync(process.env.GOLDEN_TERMINATION_LOG, claims.sub + ' ' + claims['kubernetes.io'].pod.name);",
    ].join(" ");
    await core.createNamespacedPod({ namespace: ns.name, body: runnerPod("whoami", script) });
    const pod = await eventually("pod whoami to succeed", async () => {
      const p = await core.readNamespacedPod({ name: "whoami", namespace: ns.name });
      return p.status?.phase === "Succeeded" ? p : undefined;
    });
    assert.equal(
      pod.status?.containerStatuses?.[0]?.state?.terminated?.message,
      `system:serviceaccount:${ns.name}:default whoami`,
    );
  });

  it("leaves pods of other images to KWOK's nodes, and refuses to run them on the runner", async () => {
    await core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: "not-golden" },
        spec: {
          nodeName: "golden-local-amd64",
          tolerations: [{ key: "golden.dev/local-runner", operator: "Exists" }],
          containers: [{ name: "main", image: "nginx:1.27", command: ["nginx"] }],
        },
      },
    });
    const waiting = await eventually("pod not-golden to be refused", async () => {
      const p = await core.readNamespacedPod({ name: "not-golden", namespace: ns.name });
      return p.status?.containerStatuses?.[0]?.state?.waiting;
    });
    assert.equal(waiting.reason, "ErrImageNeverPull");
    assert.ok(kc.getCurrentCluster()?.server.startsWith("https://127.0.0.1:"));
  });
});
