// Shipping golden: the kustomize config/ against the real apiserver. The whole of
// config/default passes a server-side dry run; the operator's pod (and a build pod) is admitted
// under Pod Security "restricted"; the operator's RBAC allows what it does and denies the rest;
// and the operator, holding nothing but its ServiceAccount's token, builds an Image end to end.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { V1ClusterRole, V1Deployment, V1Pod, V1PolicyRule } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { Image, ImageBuild } from "../../src/api/v1alpha1/index.js";
import { buildJob } from "../../src/controllers/job-template.js";
import { shippedCatalog } from "../support/catalog.js";
import { foreignOperator } from "../support/foreign-operator.js";
import {
  batch,
  core,
  eventsApi,
  eventually,
  golden,
  kc,
  kubeconfigPath,
  kubectl,
  realNode,
  repo,
  scratchNamespace,
} from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";

const run = promisify(execFile);
const SYSTEM_NS = "golden-system";
const OPERATOR_SA = `system:serviceaccount:${SYSTEM_NS}:golden-operator`;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

async function render(dir: string): Promise<Manifest[]> {
  const text = await kubectl("kustomize", path.join(repo, dir));
  return parseAllDocuments(text).map((d) => d.toJS() as Manifest);
}

function find<T>(manifests: Manifest[], kind: string, name: string): T {
  const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m, `${kind} ${name} in the rendered config`);
  return m as unknown as T;
}

/** kubectl with stdin, resolving with stdout and stderr (kubectl() drops stderr). */
async function kubectlIn(input: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "golden-deploy-")), "input.yaml");
  fs.writeFileSync(file, input);
  try {
    return await run("kubectl", ["--kubeconfig", kubeconfigPath, ...args, "-f", file], {
      maxBuffer: 16 << 20,
    });
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

async function exists(...args: string[]): Promise<boolean> {
  return kubectl("get", ...args, "--ignore-not-found", "-o", "name").then((out) => out.trim() !== "");
}

/** `kubectl auth can-i` as the operator's ServiceAccount: true (yes) or false (no). */
/** `resource` is TYPE, TYPE/SUBRESOURCE or TYPE:NAME (one object, for rules with resourceNames). */
async function can(verb: string, resource: string, scope: string[]): Promise<boolean> {
  const [typeAndName = "", subresource] = resource.split("/");
  const [res = "", name] = typeAndName.split(":");
  const args = ["auth", "can-i", verb, name ? `${res}/${name}` : res, `--as=${OPERATOR_SA}`, ...scope];
  if (subresource) args.push(`--subresource=${subresource}`);
  try {
    await run("kubectl", ["--kubeconfig", kubeconfigPath, ...args]);
    return true;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (e.code === 1 && e.stdout?.trim() === "no") return false;
    throw new Error(`kubectl ${args.join(" ")}: ${e.stderr ?? String(err)}`);
  }
}

describe("deploying golden with config/", () => {
  let manifests: Manifest[];
  /** What this file created in golden-system and cluster-wide, to remove (and only that) after. */
  let createdSystemNs = false;
  const createdRbac: string[][] = [];

  before(async () => {
    manifests = await render("config/default");
    // Namespaced objects of a dry run need their namespace to exist.
    if (!(await exists("namespace", SYSTEM_NS))) {
      await kubectl("apply", "--server-side", "-f", path.join(repo, "config/manager/namespace.yaml"));
      createdSystemNs = true;
    }
  });

  after(async () => {
    for (const obj of createdRbac.reverse())
      await kubectl("delete", "--ignore-not-found", "--wait=false", ...obj);
    if (createdSystemNs) {
      await kubectl("delete", "namespace", SYSTEM_NS, "--ignore-not-found", "--wait=false");
      // A later run must not meet a Terminating namespace.
      await eventually(
        `namespace ${SYSTEM_NS} to be gone`,
        async () => !(await exists("namespace", SYSTEM_NS)),
        90_000,
      );
    }
  });

  it("renders config/default to CRDs, the catalog, RBAC, the restricted golden-system namespace and the operator", () => {
    const catalog = manifests.filter((m) => m.kind === "BaseImage").map((m) => m.metadata.name);
    assert.deepEqual(
      catalog.sort(),
      shippedCatalog()
        .map((b) => b.metadata?.name ?? "")
        .sort(),
    );
    const kinds = manifests
      .filter((m) => m.kind !== "BaseImage")
      .map((m) => `${m.kind}/${m.metadata.name}`)
      .sort();
    assert.deepEqual(kinds, [
      "APIService/v1alpha1.visibility.golden.dev",
      "ClusterRole/golden-metrics-reader",
      "ClusterRole/golden-operator",
      "ClusterRole/golden-pendingbuilds-viewer",
      "ClusterRole/golden-visibility-apiservice",
      "ClusterRoleBinding/golden-operator",
      "ClusterRoleBinding/golden-visibility-apiservice",
      "ClusterRoleBinding/golden-visibility:system:auth-delegator",
      "ConfigMap/golden-admission",
      "ConfigMap/golden-deprecated-bases",
      "CustomResourceDefinition/baseimages.golden.dev",
      "CustomResourceDefinition/imagebuilds.golden.dev",
      "CustomResourceDefinition/images.golden.dev",
      "CustomResourceDefinition/imageversions.golden.dev",
      "CustomResourceDefinition/rebuildcampaigns.golden.dev",
      "Deployment/golden-operator",
      "Namespace/golden-system",
      "NetworkPolicy/golden-operator",
      "PodDisruptionBudget/golden-operator",
      "Role/golden-operator-catalog-warnings",
      "Role/golden-operator-leader-election",
      "Role/golden-visibility-serving-cert",
      "RoleBinding/golden-operator-catalog-warnings",
      "RoleBinding/golden-operator-leader-election",
      "RoleBinding/golden-visibility-auth-reader",
      "RoleBinding/golden-visibility-serving-cert",
      "Service/golden-operator-metrics",
      "Service/golden-visibility",
      "ServiceAccount/golden-operator",
      "ValidatingAdmissionPolicy/golden-image-base-deprecated",
      "ValidatingAdmissionPolicy/golden-no-orphans",
      "ValidatingAdmissionPolicy/golden-operator-access",
      "ValidatingAdmissionPolicy/golden-operator-jobs",
      "ValidatingAdmissionPolicy/golden-operator-rolebindings",
      "ValidatingAdmissionPolicy/golden-operator-roles",
      "ValidatingAdmissionPolicy/golden-worker-jobs",
      "ValidatingAdmissionPolicy/golden-worker-own-build",
      "ValidatingAdmissionPolicy/golden-worker-pods",
      "ValidatingAdmissionPolicyBinding/golden-image-base-deprecated",
      "ValidatingAdmissionPolicyBinding/golden-no-orphans",
      "ValidatingAdmissionPolicyBinding/golden-operator-access",
      "ValidatingAdmissionPolicyBinding/golden-operator-jobs",
      "ValidatingAdmissionPolicyBinding/golden-operator-rolebindings",
      "ValidatingAdmissionPolicyBinding/golden-operator-roles",
      "ValidatingAdmissionPolicyBinding/golden-worker-jobs",
      "ValidatingAdmissionPolicyBinding/golden-worker-own-build",
      "ValidatingAdmissionPolicyBinding/golden-worker-pods",
    ]);
    const nsLabels = find<Manifest & { metadata: { labels: Record<string, string> } }>(
      manifests,
      "Namespace",
      SYSTEM_NS,
    ).metadata.labels;
    for (const mode of ["enforce", "audit", "warn"]) {
      assert.equal(nsLabels[`pod-security.kubernetes.io/${mode}`], "restricted", mode);
    }

    const deploy = find<V1Deployment>(manifests, "Deployment", "golden-operator");
    assert.equal(deploy.metadata?.namespace, SYSTEM_NS);
    assert.equal(deploy.spec?.replicas, 2);
    const pod = deploy.spec?.template.spec;
    assert.equal(pod?.serviceAccountName, "golden-operator");
    const [c, ...more] = pod?.containers ?? [];
    assert.equal(more.length, 0);
    assert.equal(c?.image, "golden:dev");
    assert.deepEqual(c?.command, ["golden-operator"]);
    assert.ok(c?.args?.includes("--leader-elect"));
    assert.ok(c?.args?.includes("--health-port=8081"));
    assert.equal(c?.ports?.find((p) => p.name === c.livenessProbe?.httpGet?.port)?.containerPort, 8081);
    assert.equal(c?.livenessProbe?.httpGet?.path, "/healthz");
    assert.equal(c?.readinessProbe?.httpGet?.path, "/readyz");
    assert.equal(c?.readinessProbe?.httpGet?.port, c?.livenessProbe?.httpGet?.port);
    assert.ok(c?.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory);
    const env = new Map((c?.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.get("POD_NAME")?.valueFrom?.fieldRef?.fieldPath, "metadata.name");
    assert.equal(env.get("GOLDEN_WORKER_IMAGE")?.value, c?.image, "build pods run the operator's image");
    // The image's USER, and the runAsUser of build pods (controllers/job-template.ts).
    assert.equal(pod?.securityContext?.runAsUser, 65532);
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
  });

  it("grants the operator no wildcard, no secrets, no pod writes, no cluster-scoped RBAC writes", () => {
    const role = find<V1ClusterRole>(manifests, "ClusterRole", "golden-operator");
    const rules: V1PolicyRule[] = role.rules ?? [];
    assert.ok(rules.length > 0);
    for (const r of rules) {
      for (const field of [r.apiGroups, r.resources, r.verbs])
        assert.ok(!field?.includes("*"), JSON.stringify(r));
      assert.equal(r.nonResourceURLs, undefined);
      assert.equal(r.resourceNames, undefined);
      for (const res of r.resources ?? []) {
        assert.ok(
          !/^(secrets|pods\/.*|nodes|clusterroles|clusterrolebindings|serviceaccounts\/token)$/.test(res),
          res,
        );
        // Pods are watched (a build's slot is held while its pod runs), never written.
        if (res === "pods") assert.deepEqual(r.verbs, ["get", "list", "watch"], res);
      }
      for (const v of r.verbs)
        assert.ok(!["escalate", "bind", "impersonate", "deletecollection"].includes(v), v);
    }
  });

  it("passes a server-side dry run of kubectl apply -k config/default", async () => {
    const out = await kubectl(
      "apply",
      "--server-side",
      "--dry-run=server",
      "-k",
      path.join(repo, "config/default"),
    );
    const applied = out.split("\n").filter((l) => l.endsWith("serverside-applied (server dry run)"));
    assert.equal(applied.length, manifests.length, out);
    assert.match(out, /^deployment\.apps\/golden-operator serverside-applied/m);
  });

  describe("under Pod Security restricted", () => {
    let ns: { name: string; remove: () => Promise<void> };
    before(async () => {
      ns = await scratchNamespace("deploy-psa");
      await kubectl(
        "label",
        "namespace",
        ns.name,
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/enforce-version=latest",
      );
      await core.createNamespacedServiceAccount({
        namespace: ns.name,
        body: { metadata: { name: "golden-operator" } },
      });
      await core.createNamespacedServiceAccount({
        namespace: ns.name,
        body: { metadata: { name: "golden-worker" } },
      });
    });
    after(async () => ns.remove());

    const admit = async (pod: V1Pod) => {
      const { stderr } = await kubectlIn(JSON.stringify(pod), "create", "--dry-run=server", "-n", ns.name);
      assert.doesNotMatch(stderr, /PodSecurity|violate/i, stderr);
    };

    it("admits a pod of the operator Deployment's template", async () => {
      const template = find<V1Deployment>(manifests, "Deployment", "golden-operator").spec?.template;
      await admit({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "golden-operator-psa" },
        spec: template?.spec,
      });
    });

    it("admits a build pod (the Job template's pod)", async () => {
      const build = {
        apiVersion: "golden.dev/v1alpha1",
        kind: "ImageBuild",
        metadata: { name: "psa-build", namespace: ns.name, uid: "00000000-0000-0000-0000-000000000000" },
        spec: {
          imageName: "psa",
          imageGeneration: 1,
          image: { base: { os: "ubuntu", release: "24.04" }, formats: ["qcow2"] },
        },
      } as ImageBuild;
      const job = buildJob(build, {
        image: "golden:dev",
        serviceAccount: "golden-worker",
        nodeSelector: {},
        tolerations: [],
        resources: {},
        heartbeatSeconds: 10,
        timeoutGraceSeconds: 30,
      });
      await admit({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "psa-build-abcde" },
        spec: job.spec?.template.spec,
      });
    });

    it("rejects the same pod once it may escalate privileges (the namespace really enforces)", async () => {
      const spec = structuredClone(
        find<V1Deployment>(manifests, "Deployment", "golden-operator").spec?.template.spec,
      );
      assert.ok(spec?.containers[0]?.securityContext);
      spec.containers[0].securityContext.allowPrivilegeEscalation = true;
      const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "golden-operator-bad" }, spec };
      await assert.rejects(
        kubectlIn(JSON.stringify(pod), "create", "--dry-run=server", "-n", ns.name),
        (err: unknown) => {
          assert.match(
            String((err as { stderr?: string }).stderr),
            /violates PodSecurity "restricted:latest".*allowPrivilegeEscalation/s,
          );
          return true;
        },
      );
    });
  });

  describe("with config/rbac applied", () => {
    before(async () => {
      // Remove afterwards only what this file creates: the admission policy belongs to
      // `make install`, and a real deployment's objects are left alone.
      const owned: string[][] = [
        ["clusterrolebinding", "golden-operator"],
        ["clusterrole", "golden-operator"],
        ["-n", SYSTEM_NS, "serviceaccount", "golden-operator"],
        ["-n", SYSTEM_NS, "role", "golden-operator-leader-election"],
        ["-n", SYSTEM_NS, "rolebinding", "golden-operator-leader-election"],
        ["clusterrolebinding", "golden-visibility:system:auth-delegator"],
        ["clusterrole", "golden-visibility-apiservice"],
        ["clusterrolebinding", "golden-visibility-apiservice"],
        ["-n", "kube-system", "rolebinding", "golden-visibility-auth-reader"],
        ["-n", SYSTEM_NS, "role", "golden-visibility-serving-cert"],
        ["-n", SYSTEM_NS, "rolebinding", "golden-visibility-serving-cert"],
      ];
      for (const obj of owned) if (!(await exists(...obj))) createdRbac.push(obj);
      await kubectl("apply", "--server-side", "-k", path.join(repo, "config/rbac"));
      // The visibility API's own RBAC (the rest of config/visibility needs the operator running).
      await kubectl("apply", "--server-side", "-f", path.join(repo, "config/visibility/rbac.yaml"));
    });

    it("lets the operator's ServiceAccount do what the operator does, and nothing else", async () => {
      const anyNs = ["--all-namespaces"];
      const inNs = ["-n", "team-a"];
      const system = ["-n", SYSTEM_NS];
      const allowed: [string, string, string[]][] = [
        ["list", "images.golden.dev", anyNs],
        ["watch", "images.golden.dev", anyNs],
        ["patch", "images.golden.dev", inNs],
        ["update", "images.golden.dev/status", inNs],
        ["watch", "imageversions.golden.dev", anyNs],
        ["create", "imageversions.golden.dev", inNs],
        ["patch", "imageversions.golden.dev/status", inNs],
        ["update", "images.golden.dev/finalizers", inNs],
        ["watch", "imagebuilds.golden.dev", anyNs],
        ["create", "imagebuilds.golden.dev", inNs],
        ["get", "imagebuilds.golden.dev", inNs],
        ["delete", "imagebuilds.golden.dev", inNs],
        ["patch", "imagebuilds.golden.dev", inNs],
        ["patch", "imagebuilds.golden.dev/status", inNs],
        ["get", "imagebuilds.golden.dev/status", inNs],
        ["update", "imagebuilds.golden.dev/finalizers", inNs],
        ["watch", "jobs.batch", anyNs],
        ["create", "jobs.batch", inNs],
        ["get", "jobs.batch", inNs],
        ["delete", "jobs.batch", inNs],
        ["watch", "namespaces", []],
        ["watch", "pods", anyNs],
        ["create", "serviceaccounts", inNs],
        ["create", "roles.rbac.authorization.k8s.io", inNs],
        ["create", "rolebindings.rbac.authorization.k8s.io", inNs],
        ["create", "events.events.k8s.io", inNs],
        ["patch", "events.events.k8s.io", inNs],
        ["get", "leases.coordination.k8s.io", system],
        ["create", "leases.coordination.k8s.io", system],
        ["update", "leases.coordination.k8s.io", system],
        // The visibility API: delegated authn/authz, its own Secret and its own APIService.
        ["create", "subjectaccessreviews.authorization.k8s.io", []],
        // --metrics-auth: TokenReview of a scraper's token (system:auth-delegator, like the SubjectAccessReviews).
        ["create", "tokenreviews.authentication.k8s.io", []],
        ["get", "configmaps:extension-apiserver-authentication", ["-n", "kube-system"]],
        ["create", "secrets", system],
        ["get", "secrets:golden-visibility-serving-cert", system],
        ["update", "secrets:golden-visibility-serving-cert", system],
        // The deprecated-base warning's params, kept from the catalog (catalog-warnings.ts).
        ["get", "configmaps:golden-deprecated-bases", system],
        ["update", "configmaps:golden-deprecated-bases", system],
        ["get", "apiservices.apiregistration.k8s.io:v1alpha1.visibility.golden.dev", []],
        ["patch", "apiservices.apiregistration.k8s.io:v1alpha1.visibility.golden.dev", []],
      ];
      const denied: [string, string, string[]][] = [
        ["*", "*", anyNs],
        ["*", "images.golden.dev", inNs],
        // The Image controller is the only writer of an Image's status, by PUT (update).
        ["patch", "images.golden.dev/status", inNs],
        ["get", "secrets", system],
        ["get", "secrets:someone-elses", system],
        ["list", "secrets", anyNs],
        ["get", "configmaps:kube-proxy", ["-n", "kube-system"]],
        ["patch", "apiservices.apiregistration.k8s.io:v1beta1.metrics.k8s.io", []],
        ["delete", "apiservices.apiregistration.k8s.io:v1alpha1.visibility.golden.dev", []],
        ["get", "configmaps", inNs],
        // One ConfigMap by name, and none created: golden-admission (the trust params) stays the admins'.
        ["create", "configmaps", system],
        ["get", "configmaps:golden-admission", system],
        ["update", "configmaps:golden-admission", system],
        ["list", "configmaps", system],
        ["patch", "baseimages.golden.dev", []],
        ["create", "pods/exec", inNs],
        ["create", "pods", inNs],
        ["delete", "pods", inNs],
        ["patch", "pods", inNs],
        ["delete", "nodes", []],
        ["create", "serviceaccounts/token", inNs],
        ["update", "serviceaccounts", inNs],
        ["update", "roles.rbac.authorization.k8s.io", inNs],
        ["escalate", "roles.rbac.authorization.k8s.io", inNs],
        ["bind", "roles.rbac.authorization.k8s.io", inNs],
        ["create", "clusterroles.rbac.authorization.k8s.io", []],
        ["create", "clusterrolebindings.rbac.authorization.k8s.io", []],
        ["impersonate", "users", []],
        ["delete", "images.golden.dev", inNs],
        ["update", "images.golden.dev", inNs],
        ["update", "imagebuilds.golden.dev", inNs],
        ["update", "imageversions.golden.dev", inNs],
        ["delete", "imageversions.golden.dev", inNs],
        ["update", "jobs.batch", inNs],
        ["deletecollection", "jobs.batch", inNs],
        ["create", "events", inNs],
        ["update", "namespaces", []],
        ["delete", "namespaces", []],
        ["update", "leases.coordination.k8s.io", inNs],
        ["create", "leases.coordination.k8s.io", ["-n", "kube-system"]],
        ["delete", "leases.coordination.k8s.io", system],
        ["create", "customresourcedefinitions.apiextensions.k8s.io", []],
        ["update", "validatingadmissionpolicies.admissionregistration.k8s.io", []],
      ];
      const check = async ([verb, resource, scope]: [string, string, string[]], want: boolean) => {
        const got = await can(verb, resource, scope);
        return got === want
          ? undefined
          : `${want ? "denied" : "allowed"}: ${verb} ${resource} ${scope.join(" ")}`;
      };
      const wrong = (
        await Promise.all([...allowed.map((c) => check(c, true)), ...denied.map((c) => check(c, false))])
      ).filter((x) => x !== undefined);
      assert.deepEqual(wrong, [], "can-i disagrees with the intended RBAC");
    });

    describe("the operator holding only its ServiceAccount token", () => {
      let ns: { name: string; remove: () => Promise<void> };
      let operator: OperatorProcess | undefined;
      let kubeconfigDir: string;
      const leaseName = `golden-operator-test-${randomBytes(3).toString("hex")}`;
      const imageName = "sa-built";
      const forbiddenLines = () =>
        (operator?.logs() ?? "")
          .split("\n")
          .filter((l) => /forbidden|HTTP-Code: 403\b|"(code|statusCode)":403\b/i.test(l));

      before(async () => {
        const foreign = foreignOperator(kubeconfigPath);
        assert.equal(foreign, undefined, `${foreign}: it would build this test's Image too`);
        // Build pods run on the real node: without it no build can finish.
        const node = await core.readNode({ name: realNode });
        assert.equal(
          node.status?.conditions?.find((c) => c.type === "Ready")?.status,
          "True",
          `the real node ${realNode} is Ready (make cluster-up restarts its kubelet)`,
        );
        ns = await scratchNamespace("deploy-sa");
        const token = (
          await kubectl("create", "token", "golden-operator", "-n", SYSTEM_NS, "--duration=1h")
        ).trim();
        const cluster = kc.getCurrentCluster();
        assert.ok(cluster?.caFile || cluster?.caData, "the local cluster's CA");
        kubeconfigDir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-sa-"));
        const file = path.join(kubeconfigDir, "kubeconfig");
        const ca = cluster?.caData
          ? { "certificate-authority-data": cluster.caData }
          : { "certificate-authority": cluster?.caFile };
        const config = {
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: "local", cluster: { server: cluster?.server, ...ca } }],
          users: [{ name: "golden-operator", user: { token } }],
          contexts: [{ name: "sa", context: { cluster: "local", user: "golden-operator" } }],
          "current-context": "sa",
        };
        fs.writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
        const whoami = await run("kubectl", [
          "--kubeconfig",
          file,
          "auth",
          "whoami",
          "-o",
          "jsonpath={.status.userInfo.username}",
        ]);
        assert.equal(whoami.stdout, OPERATOR_SA, "the operator runs as its ServiceAccount, not as admin");

        operator = await startOperator(
          ns.name,
          [
            "--leader-elect",
            `--leader-election-namespace=${SYSTEM_NS}`,
            `--leader-election-id=${leaseName}`,
            // A mark on the Jobs it creates: only this operator sets this CPU.
            "--worker-cpu=111m",
          ],
          { kubeconfig: file, name: "deploy-sa" },
        );
      });

      after(async () => {
        // Delete the namespace while the operator runs: its ImageBuilds hold golden's finalizer,
        // which only the operator releases.
        try {
          await ns.remove();
        } finally {
          await operator?.stop();
        }
        await kubectl("delete", "lease", "-n", SYSTEM_NS, leaseName, "--ignore-not-found");
        fs.rmSync(kubeconfigDir, { recursive: true, force: true });
      });

      it("builds an Image to Succeeded", async () => {
        const img: Image = {
          apiVersion: "golden.dev/v1alpha1",
          kind: "Image",
          metadata: { name: imageName, namespace: ns.name },
          spec: {
            base: { os: "ubuntu", release: "24.04" },
            formats: ["qcow2"],
            build: { simulate: { stepSeconds: 0 } },
          },
        };
        await golden.images.create(img);
        const done = await eventually(
          "the Image to reach Succeeded",
          async () => {
            const got = await golden.images.get(ns.name, imageName);
            if (got?.status?.phase === "Failed") throw new Error(`build failed: ${got.status.message}`);
            return got?.status?.phase === "Succeeded" ? got : undefined;
          },
          120_000,
        ).catch((err: Error) => {
          // Say why: an RBAC gap shows up as 403s in the operator's log.
          throw new Error(`${err.message}\n${forbiddenLines().slice(-3).join("\n").slice(0, 3000)}`);
        });
        assert.equal(done.status?.artifacts?.[0]?.format, "qcow2");

        // It was this operator: its Job carries the CPU only it sets.
        const builds = await golden.imageBuilds.list(ns.name);
        assert.equal(builds.items.length, 1);
        const job = await batch.readNamespacedJob({
          namespace: ns.name,
          name: builds.items[0]?.status?.jobName ?? "",
        });
        assert.equal(job.spec?.template.spec?.containers[0]?.resources?.requests?.cpu, "111m");
        // It gave the namespace's build pods their identity (a Role it may only grant as it holds it).
        await core.readNamespacedServiceAccount({ namespace: ns.name, name: "golden-worker" });
        await kubectl("get", "-n", ns.name, "role/golden-worker", "rolebinding/golden-worker");
        // It recorded events, and it leads through its Lease.
        // Recorded after the status write that says Succeeded, so poll for it.
        await eventually("a BuildSucceeded Event from golden.dev/operator", async () => {
          const events = await eventsApi.listNamespacedEvent({ namespace: ns.name });
          return events.items.some(
            (e) => e.reportingController === "golden.dev/operator" && e.reason === "BuildSucceeded",
          );
        });
        // Its version, the version's changelog and the Image's latestVersion: the RBAC for all three.
        await eventually(
          `ImageVersion ${imageName}-1.0.0 with its changelog, and the Image's latestVersion`,
          async () => {
            const v = await golden.imageVersions.get(ns.name, `${imageName}-1.0.0`);
            const got = await golden.images.get(ns.name, imageName);
            return v?.spec.changelog?.summary !== undefined && got?.status?.latestVersion === "1.0.0";
          },
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n${forbiddenLines().slice(-3).join("\n").slice(0, 3000)}`);
        });
        const holder = await kubectl(
          "get",
          "lease",
          "-n",
          SYSTEM_NS,
          leaseName,
          "-o",
          "jsonpath={.spec.holderIdentity}",
        );
        assert.ok(holder.length > 0, "the operator holds its Lease");
      });

      it("supersedes a running build (cancel, delete its Job, prune it), then builds the new generation", async () => {
        const name = "sa-superseded";
        await golden.images.create({
          apiVersion: "golden.dev/v1alpha1",
          kind: "Image",
          metadata: { name, namespace: ns.name },
          spec: {
            base: { os: "ubuntu", release: "24.04" },
            formats: ["qcow2"],
            build: { simulate: { stepSeconds: 3 } },
            // Keep no cancelled builds: the superseded one is deleted once the next one exists.
            historyLimits: { failed: 0 },
          },
        });
        const first = await eventually("the first build to be Building with a Job", async () => {
          const b = (await golden.imageBuilds.list(ns.name)).items.find((x) => x.spec.imageName === name);
          return b?.status?.phase === "Building" && b.status.jobName ? b : undefined;
        });
        await golden.images.patch(ns.name, name, { spec: { formats: ["qcow2", "raw"] } });
        await eventually("the superseded build's Job to be deleted", async () => {
          const job = await batch
            .readNamespacedJob({ namespace: ns.name, name: first.status?.jobName ?? "" })
            .catch(() => undefined);
          return job === undefined || job.metadata?.deletionTimestamp !== undefined;
        });
        const done = await eventually(
          "generation 2 to reach Succeeded",
          async () => {
            const img = await golden.images.get(ns.name, name);
            return img?.status?.phase === "Succeeded" && img.status.observedGeneration === 2
              ? img
              : undefined;
          },
          120_000,
        );
        assert.equal(done.status?.artifacts?.length, 2);
        const second = (await golden.imageBuilds.list(ns.name)).items.find(
          (b) => b.spec.imageName === name && b.spec.imageGeneration === 2,
        );
        const job = await batch.readNamespacedJob({
          namespace: ns.name,
          name: second?.status?.jobName ?? "",
        });
        assert.equal(
          job.spec?.template.spec?.containers[0]?.resources?.requests?.cpu,
          "111m",
          "this operator's Job",
        );
        await eventually("a Superseded Event", async () => {
          const events = await eventsApi.listNamespacedEvent({ namespace: ns.name });
          return events.items.some((e) => e.reason === "Superseded" && e.regarding?.name === name);
        });
        await eventually(
          "the superseded build to be pruned",
          async () => !(await golden.imageBuilds.get(ns.name, first.metadata?.name ?? "")),
          30_000,
        );
      });

      it("releases the builds' finalizers when an Image is deleted", async () => {
        await golden.images.delete(ns.name, "sa-superseded");
        await eventually(
          "the Image and its builds to be gone",
          async () =>
            !(await golden.images.get(ns.name, "sa-superseded")) &&
            (await golden.imageBuilds.list(ns.name)).items.every((b) => b.spec.imageName !== "sa-superseded"),
          30_000,
        );
      });

      it("was never refused by the apiserver (no 403 in its log or metrics)", async () => {
        assert.ok(operator);
        const text = await operator.metrics();
        assert.doesNotMatch(text, /^golden_rest_client_requests_total\{[^}]*code="403"/m);
        assert.deepEqual(forbiddenLines(), []);
      });

      it("serves /metrics with controller-runtime, workqueue, client and leader-election series", async (t) => {
        assert.ok(operator);
        const text = await operator.metrics();
        const value = (series: RegExp) => {
          const line = text.split("\n").find((l) => series.test(l));
          assert.ok(line, `${series} in /metrics`);
          return Number(line.split(" ").at(-1));
        };
        assert.ok(value(/^controller_runtime_reconcile_total\{controller="image",result="success"\}/) > 0);
        assert.ok(
          value(/^controller_runtime_reconcile_total\{controller="imagebuild",result="success"\}/) > 0,
        );
        value(/^controller_runtime_reconcile_errors_total\{controller="image"\}/);
        value(/^workqueue_depth\{name="image"\}/);
        assert.ok(value(/^workqueue_adds_total\{name="imagebuild"\}/) > 0);
        assert.ok(value(/^golden_rest_client_requests_total\{method="POST",code="201"\}/) > 0);
        assert.equal(value(new RegExp(`^leader_election_master_status\\{name="${leaseName}"\\}`)), 1);
        assert.ok(value(/^golden_informer_objects\{informer="images"\}/) >= 1);
        // golden's own build metrics (controllers/build-metrics.ts), where this build has them.
        if (!/^golden_builds\{/m.test(text)) {
          t.diagnostic("no golden_builds metric registered: build metrics not asserted");
          return;
        }
        assert.ok(value(/^golden_builds\{phase="Succeeded"\}/) >= 1);
        assert.ok(value(/^golden_images\{phase="Succeeded"\}/) >= 1);
        assert.ok(value(/^golden_build_duration_seconds_count\{result="Succeeded"\}/) >= 1);
        assert.ok(value(/^golden_build_queue_wait_seconds_count\{namespace="[^"]+"\}/) >= 1);
      });
    });
  });
});
