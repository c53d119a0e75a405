// The local control plane is real: apiserver + etcd, Job controller, garbage
// collector, scheduler, KWOK fake nodes — and so is its node: kubelet, containerd, kube-proxy.
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import {
  batch,
  core,
  eventually,
  KWOK_TOLERATION,
  kc,
  kubectl,
  realNode,
  repo,
  scratchNamespace,
} from "./cluster.js";

const versions = fs.readFileSync(`${repo}hack/versions.env`, "utf8");
const pinned = /K8S_VERSION=(\S+)/.exec(versions)?.[1];
const containerd = /CONTAINERD_VERSION=(\S+)/.exec(versions)?.[1];

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

  it("has KWOK fake nodes and the real node, all Ready", async () => {
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
    const node = nodes.find((n) => n.metadata?.name === realNode);
    assert.equal(node?.metadata?.labels?.["kubernetes.io/arch"], "amd64");
    assert.equal(node?.metadata?.labels?.["golden.dev/real-node"], "true");
    assert.equal(
      node?.status?.nodeInfo?.containerRuntimeVersion,
      `containerd://${containerd?.replace(/^v/, "")}`,
    );
    assert.equal(node?.status?.nodeInfo?.kubeletVersion, pinned);
    const internal = node?.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "";
    assert.match(internal, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(!internal.startsWith("127."), "the node's InternalIP is on its bridge, not loopback");
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
              nodeSelector: { type: "kwok" },
              tolerations: [KWOK_TOLERATION],
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

  // A pod on the real node from golden's image, with the build pods' restricted securityContext.
  const realPod = (name: string, script: string): V1Pod => ({
    metadata: { name },
    spec: {
      restartPolicy: "Never",
      nodeSelector: { "golden.dev/real-node": "true" },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "main",
          image: "golden:dev",
          imagePullPolicy: "Never",
          command: ["/nodejs/bin/node", "-e", script],
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
        },
      ],
    },
  });
  const finished = (name: string, phase: "Succeeded" | "Failed") =>
    eventually(`pod ${name} to be ${phase}`, async () => {
      const p = await core.readNamespacedPod({ name, namespace: ns.name });
      return p.status?.phase === phase ? p : undefined;
    });

  it("runs a restricted pod in a container on the real node: exit code, termination message, logs", async () => {
    const script =
      "console.log('hello from ' + require('os').hostname()); require('fs').writeFileSync('/dev/termination-log', 'bye'); process.exit(3)";
    await core.createNamespacedPod({ namespace: ns.name, body: realPod("exit-three", script) });
    const pod = await finished("exit-three", "Failed");
    assert.equal(pod.spec?.nodeName, realNode);
    assert.ok(
      pod.status?.podIP && !pod.status.podIP.startsWith("10.244."),
      "an address on the node's bridge",
    );
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 3);
    assert.equal(terminated?.message, "bye");
    // kubectl logs: apiserver -> kubelet at the node's InternalIP, over TLS both ways.
    assert.equal((await kubectl("logs", "-n", ns.name, "exit-three")).trim(), "hello from exit-three");
  });

  it("lets a pod reach the apiserver through the kubernetes Service with its ServiceAccount token", async () => {
    // KUBERNETES_SERVICE_HOST is the Service's ClusterIP; kube-proxy sends it to the apiserver.
    const script = `
      const fs = require("fs"), https = require("https");
      const sa = "/var/run/secrets/kubernetes.io/serviceaccount/";
      const req = https.request({
        host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT,
        path: "/apis/authentication.k8s.io/v1/selfsubjectreviews", method: "POST",
        ca: fs.readFileSync(sa + "ca.crt"), servername: "kubernetes.default.svc",
        headers: { authorization: "Bearer " + fs.readFileSync(sa + "token", "utf8"), "content-type": "application/json" },
      }, (res) => {
        let body = ""; res.on("data", (c) => (body += c));
        res.on("end", () => {
          const who = JSON.parse(body).status.userInfo.username;
          fs.writeFileSync("/dev/termination-log", process.env.KUBERNETES_SERVICE_HOST + " " + who);
        });
      });
      req.end(JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }));`;
    await core.createNamespacedPod({ namespace: ns.name, body: realPod("whoami", script) });
    const pod = await finished("whoami", "Succeeded");
    assert.equal(
      pod.status?.containerStatuses?.[0]?.state?.terminated?.message,
      `10.96.0.1 system:serviceaccount:${ns.name}:default`,
    );
    assert.ok(kc.getCurrentCluster()?.server.startsWith("https://127.0.0.1:"), "host tools stay on loopback");
  });
});
