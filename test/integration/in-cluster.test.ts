// golden as `make up` runs it: the shipped config/default (through config/local, which only adds
// arm64 emulation for this one-node amd64 cluster) on the real node, with the golden:dev image in
// its containerd. Two replicas under Pod Security "restricted" elect a leader with in-cluster
// configuration; Images build in worker containers whose `kubectl logs` show their steps; the
// visibility API answers through the in-cluster Service.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import type { Image } from "../../src/api/v1alpha1/index.js";
import { foreignOperator } from "../support/foreign-operator.js";
import { VISIBILITY_APISERVICE } from "../support/visibility.js";
import {
  core,
  eventually,
  golden,
  kubeconfigPath,
  kubectl,
  realNode,
  repo,
  scratchNamespace,
  succeededBuildPod,
} from "./cluster.js";

const SYSTEM_NS = "golden-system";

function image(namespace: string, name: string, arch: "amd64" | "arm64"): Image {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "Image",
    metadata: { name, namespace },
    spec: {
      base: { os: "debian", release: "12", arch },
      customizations: { packages: ["curl"] },
      formats: ["raw"],
      build: { simulate: { stepSeconds: 1 } },
    },
  };
}

/** Everything config/local renders except the CRDs and the namespace, as kind/name[@namespace]. */
async function deployedObjects(): Promise<string[]> {
  const docs = parseAllDocuments(await kubectl("kustomize", `${repo}config/local`)).map(
    (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } },
  );
  return docs
    .filter((d) => d.kind !== "CustomResourceDefinition" && d.kind !== "Namespace")
    .map(
      (d) =>
        `${d.kind.toLowerCase()}/${d.metadata.name}${d.metadata.namespace ? `@${d.metadata.namespace}` : ""}`,
    );
}

/** kubectl arguments naming one object of deployedObjects(). */
function ref(obj: string): string[] {
  const [name = "", namespace] = obj.split("@");
  return namespace ? [name, "-n", namespace] : [name];
}

describe("config/default on the real node (make up)", () => {
  let ns: { name: string; remove: () => Promise<void> };
  /** What this file created, to remove after (make install's admission policy, say, stays). */
  let created: string[] = [];
  /** make install creates the namespace for its admission params: then it stays, with them. */
  let systemNamespaceExisted = false;

  before(async () => {
    systemNamespaceExisted =
      (await kubectl("get", "namespace", SYSTEM_NS, "--ignore-not-found", "-o", "name")).trim() !== "";
    const foreign = foreignOperator(kubeconfigPath);
    assert.equal(foreign, undefined, foreign);
    created = [];
    for (const obj of await deployedObjects())
      if (!(await kubectl("get", ...ref(obj), "--ignore-not-found", "-o", "name")).trim()) created.push(obj);
    await kubectl("apply", "--server-side", "--force-conflicts", "-k", `${repo}config/local`);
    await kubectl("-n", SYSTEM_NS, "rollout", "status", "deployment/golden-operator", "--timeout=180s");
    ns = await scratchNamespace("in-cluster");
  });

  after(async () => {
    await ns?.remove();
    for (const obj of created.reverse()) await kubectl("delete", "--ignore-not-found", ...ref(obj));
    if (!systemNamespaceExisted) await kubectl("delete", "namespace", SYSTEM_NS, "--ignore-not-found");
  });

  it("runs two ready replicas on the real node under Pod Security restricted, one holding the Lease", async () => {
    const pods = (
      await core.listNamespacedPod({
        namespace: SYSTEM_NS,
        labelSelector: "app.kubernetes.io/name=golden,app.kubernetes.io/component=operator",
      })
    ).items.filter((p) => !p.metadata?.deletionTimestamp);
    assert.equal(pods.length, 2, "two operator pods");
    for (const p of pods) {
      assert.equal(p.spec?.nodeName, realNode, `${p.metadata?.name} runs on the real node`);
      assert.ok(
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        `${p.metadata?.name} is Ready`,
      );
    }
    const ns = JSON.parse(await kubectl("get", "namespace", SYSTEM_NS, "-o", "json"));
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    const holder = await eventually("a replica to hold the leader Lease", async () => {
      const h = await kubectl(
        "-n",
        SYSTEM_NS,
        "get",
        "lease",
        "golden-operator",
        "-o",
        "jsonpath={.spec.holderIdentity}",
      ).catch(() => "");
      return h || undefined;
    });
    assert.ok(
      pods.some((p) => holder.startsWith(`${p.metadata?.name}_`)),
      `the Lease holder ${holder} is one of the pods`,
    );
  });

  it("builds amd64 and emulated arm64 Images in worker containers whose logs show the steps", async () => {
    await golden.images.create(image(ns.name, "web", "amd64"));
    await golden.images.create(image(ns.name, "edge", "arm64"));
    for (const name of ["web", "edge"])
      await eventually(
        `Image ${name} to succeed`,
        async () => (await golden.images.get(ns.name, name))?.status?.phase === "Succeeded",
        180_000,
      );
    const web = await golden.images.get(ns.name, "web");
    const pod = await succeededBuildPod(ns.name, web?.status?.latestBuild ?? "");
    assert.equal(pod.spec?.nodeName, realNode);
    const logs = await kubectl("logs", "-n", ns.name, pod.metadata?.name ?? "");
    for (const step of ["fetch-base", "install-packages", "convert-raw", "publish"])
      assert.match(logs, new RegExp(`"step started".*"step":"${step}"`), `kubectl logs shows step ${step}`);
    const edge = await golden.images.get(ns.name, "edge");
    assert.match(edge?.status?.message ?? "", /arm64 emulated on amd64/);
  });

  it("serves kubectl get pendingbuilds through the in-cluster Service", async () => {
    await eventually(
      "the visibility APIService to be Available",
      async () =>
        (await kubectl(
          "get",
          "apiservice",
          VISIBILITY_APISERVICE,
          "-o",
          'jsonpath={.status.conditions[?(@.type=="Available")].status}',
        )) === "True",
      120_000,
      1000,
    );
    const list = JSON.parse(await kubectl("get", "pendingbuilds", "-A", "-o", "json"));
    assert.equal(list.kind, "List");
    assert.ok(Array.isArray(list.items));
  });
});
