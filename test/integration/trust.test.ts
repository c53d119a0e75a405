// golden's chain of trust against attackers, through the real apiserver (docs/security.md): a
// tenant with `edit` in a namespace, a stolen operator token and a worker token, each refused with
// a message naming what and why. The identities are impersonated (the admin may impersonate
// anyone); the policies under test are config/rbac's, installed by `make install`.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { ImageBuild } from "../../src/api/v1alpha1/index.js";
import { LABELS, MANAGED_BY } from "../../src/build/names.js";
import { buildJob } from "../../src/controllers/job-template.js";
import { WorkerAccess } from "../../src/controllers/worker-access.js";
import { buildsOf, image, type Ns } from "./build-helpers.js";
import {
  clusterDir,
  core,
  eventually,
  golden,
  KWOK_TOLERATION,
  kc,
  kubectl,
  kubectlFails,
  repo,
  scratchNamespace,
} from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";

const OPERATOR = "system:serviceaccount:golden-system:golden-operator";
const WORKER_SA = "golden-worker";
const WORKER_IMAGE = "golden:dev"; // config/rbac/admission_params.yaml's workerImage
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const suffix = randomBytes(3).toString("hex");
const tenant = `tenant-${suffix}`;

/** kubectl create of `obj` as `as` (impersonated), expected to fail: its stderr. */
async function createAs(as: string, obj: object, ...args: string[]): Promise<string> {
  return withFile(obj, (file) => kubectlFails("create", `--as=${as}`, "-f", file, ...args));
}

/** kubectl create of `obj` as `as`, expected to succeed: its stdout. */
async function createOkAs(as: string, obj: object, ...args: string[]): Promise<string> {
  return withFile(obj, (file) => kubectl("create", `--as=${as}`, "-f", file, ...args));
}

async function withFile(obj: object, use: (file: string) => Promise<string>): Promise<string> {
  const file = path.join(clusterDir, `trust-${randomBytes(4).toString("hex")}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(obj));
  try {
    return await use(file);
  } finally {
    rmSync(file, { force: true });
  }
}

function workerPod(namespace: string, name: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: {
      serviceAccountName: WORKER_SA,
      nodeSelector: { type: "kwok" },
      tolerations: [KWOK_TOLERATION],
      containers: [{ name: "c", image: "busybox" }],
    },
  };
}

/** A sleeping Job labelled like golden's, as a tenant would make it. */
function sleeper(namespace: string, name: string, serviceAccountName?: string) {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace, labels: { [LABELS.managedBy]: MANAGED_BY } },
    spec: {
      template: {
        spec: {
          restartPolicy: "Never",
          ...(serviceAccountName ? { serviceAccountName } : {}),
          nodeSelector: { type: "kwok" },
          tolerations: [KWOK_TOLERATION],
          containers: [{ name: "c", image: "busybox", command: ["sleep", "infinity"] }],
        },
      },
    },
  };
}

/** A build as the image controller makes it (created by hand here, no operator watches). */
async function handMadeBuild(namespace: string, name: string): Promise<ImageBuild> {
  return golden.imageBuilds.create({
    apiVersion: "golden.dev/v1alpha1",
    kind: "ImageBuild",
    metadata: { name, namespace },
    spec: {
      imageName: name,
      imageGeneration: 1,
      trigger: "Created",
      image: { base: { os: "fedora", release: "42" }, formats: ["raw"] },
    },
  } as ImageBuild);
}

describe("who may run golden's workers, what the operator's identity may do", () => {
  let ns: Ns;
  let optedOut: Ns;
  const cleanup: string[][] = [];
  const workerKubeconfigs: string[] = [];

  before(async () => {
    ns = await scratchNamespace("trust");
    optedOut = await scratchNamespace("trust-optout");
    await kubectl("label", "namespace", optedOut.name, "golden.dev/builds=disabled");
    await kubectl(
      "create",
      "rolebinding",
      "tenant-edit",
      "--clusterrole=edit",
      `--user=${tenant}`,
      "-n",
      ns.name,
    );
    // The operator's RBAC, as config/rbac grants it, under a name of this file's own (deploy.test
    // applies and removes the real one): the policies key on the username, not on the binding.
    const role = parseAllDocuments(await kubectl("kustomize", path.join(repo, "config/rbac")))
      .map((d) => d.toJS())
      .find((m) => m.kind === "ClusterRole" && m.metadata.name === "golden-operator");
    const name = `golden-operator-trust-${suffix}`;
    await rbac.createClusterRole({ body: { metadata: { name }, rules: role.rules } });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
        subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: OPERATOR }],
      },
    });
    cleanup.push(["clusterrolebinding", name], ["clusterrole", name]);
    // The worker's identity in ns, as the operator gives it.
    await new WorkerAccess(core, rbac, WORKER_SA).ensure(ns.name);
  });

  after(async () => {
    for (const obj of cleanup) await kubectl("delete", "--ignore-not-found", ...obj);
    for (const file of workerKubeconfigs) rmSync(file, { force: true });
    await Promise.all([ns.remove(), optedOut.remove()]);
  });

  describe("a tenant with edit in a namespace", () => {
    it("may not create a pod running the worker ServiceAccount", async () => {
      const err = await createAs(tenant, workerPod(ns.name, "b1-abcde"));
      assert.match(err, /golden-worker-pods/);
      assert.match(
        err,
        /pods running as golden's worker ServiceAccount golden-worker are created only by the Job controller/,
      );
      assert.match(err, new RegExp(`${tenant} may not create one`));
    });

    it("may not create a Job running the worker ServiceAccount, nor one owned by an ImageBuild", async () => {
      const err = await createAs(tenant, sleeper(ns.name, "forged", WORKER_SA));
      assert.match(
        err,
        /only golden's operator \(system:serviceaccount:golden-system:golden-operator\) creates Jobs/,
      );
      const owned = sleeper(ns.name, "adopt-me");
      Object.assign(owned.metadata, {
        ownerReferences: [
          {
            apiVersion: "golden.dev/v1alpha1",
            kind: "ImageBuild",
            name: "adopt-me",
            uid: "00000000-0000-0000-0000-000000000001",
            controller: true,
          },
        ],
      });
      assert.match(await createAs(tenant, owned), /or are owned by an ImageBuild; .* may not/);
    });

    it("may still create ordinary Jobs and pods (a control: the tenant is allowed the rest)", async () => {
      await kubectl(
        "create",
        `--as=${tenant}`,
        "-n",
        ns.name,
        "--dry-run=server",
        "job",
        "ok",
        "--image=busybox",
      );
      await kubectl("run", `--as=${tenant}`, "-n", ns.name, "--dry-run=server", "ok", "--image=busybox");
    });
  });

  describe("the operator's identity (a stolen token)", () => {
    const build = (namespace: string, name: string): ImageBuild =>
      ({
        apiVersion: "golden.dev/v1alpha1",
        kind: "ImageBuild",
        metadata: { name, namespace, uid: "00000000-0000-0000-0000-000000000002" },
        spec: {
          imageName: name,
          imageGeneration: 1,
          trigger: "Created",
          image: { base: { os: "fedora", release: "42" }, formats: ["raw"] },
        },
      }) as ImageBuild;
    const job = (namespace: string, name: string) =>
      buildJob(build(namespace, name), {
        image: WORKER_IMAGE,
        serviceAccount: WORKER_SA,
        nodeSelector: {},
        tolerations: [],
        resources: {},
        heartbeatSeconds: 10,
        timeoutGraceSeconds: 30,
      });

    it("may create a build's Job as golden makes it (a control)", async () => {
      const stdout = await createOkAs(OPERATOR, job(ns.name, "fine"), "--dry-run=server");
      assert.match(stdout, /job.batch\/fine created \(server dry run\)/);
    });

    it("may not create a privileged Job, or one with another image, ServiceAccount or a hostPath", async () => {
      const privileged = job(ns.name, "priv");
      const c = privileged.spec?.template.spec?.containers[0];
      assert.ok(c?.securityContext);
      c.securityContext.privileged = true;
      c.securityContext.allowPrivilegeEscalation = true;
      assert.match(
        await createAs(OPERATOR, privileged),
        /only unprivileged build Jobs: no privileged container/,
      );
      const other = job(ns.name, "miner");
      if (other.spec?.template.spec?.containers[0])
        other.spec.template.spec.containers[0].image = "evil/miner";
      assert.match(
        await createAs(OPERATOR, other),
        /only Jobs running golden's worker image golden:dev .* not evil\/miner/,
      );
      const sa = job(ns.name, "default-sa");
      if (sa.spec?.template.spec) sa.spec.template.spec.serviceAccountName = "default";
      assert.match(
        await createAs(OPERATOR, sa),
        /only Jobs running the worker ServiceAccount golden-worker, not default/,
      );
      const host = job(ns.name, "host");
      if (host.spec?.template.spec)
        host.spec.template.spec.volumes = [{ name: "root", hostPath: { path: "/" } }];
      assert.match(await createAs(OPERATOR, host), /no volumes/);
    });

    it("may not create a Job in kube-system, in golden-system, or in a namespace that opted out", async () => {
      assert.match(
        await createAs(OPERATOR, job("kube-system", "k")),
        /may not create Jobs in namespace kube-system: it is protected/,
      );
      assert.match(
        await createAs(OPERATOR, job("golden-system", "g")),
        /may not create Jobs in namespace golden-system/,
      );
      assert.match(
        await createAs(OPERATOR, job(optedOut.name, "o")),
        /has opted out of golden builds \(label golden.dev\/builds=disabled\)/,
      );
    });

    it("may not bind cluster-admin, write other Roles, or make other ServiceAccounts", async () => {
      const err = await kubectlFails(
        "create",
        "rolebinding",
        "evil",
        "--clusterrole=cluster-admin",
        `--serviceaccount=${ns.name}:${WORKER_SA}`,
        "-n",
        ns.name,
        `--as=${OPERATOR}`,
      );
      // RBAC's escalation check or golden's policy, whichever the apiserver asks first.
      assert.match(
        err,
        /forbidden.*(attempting to grant RBAC permissions not currently held|binds only the Role golden-worker)/s,
      );
      // A Role the operator holds every permission of, so RBAC's escalation check lets it through.
      await kubectl(
        "create",
        "role",
        "someone",
        "--verb=get",
        "--resource=imagebuilds.golden.dev",
        "-n",
        ns.name,
      );
      assert.match(
        await kubectlFails(
          "create",
          "rolebinding",
          WORKER_SA,
          "--role=someone",
          `--serviceaccount=${ns.name}:default`,
          "-n",
          ns.name,
          `--as=${OPERATOR}`,
        ),
        /golden's operator binds only the Role golden-worker to the ServiceAccount golden-worker of the same namespace, not Role someone/,
      );
      assert.match(
        await kubectlFails(
          "create",
          "role",
          WORKER_SA,
          "--verb=get,list",
          "--resource=imagebuilds.golden.dev",
          "-n",
          ns.name,
          `--as=${OPERATOR}`,
        ),
        /golden's operator writes only the worker's Role: get imagebuilds, get and patch imagebuilds\/status/,
      );
      assert.match(
        await kubectlFails("create", "serviceaccount", WORKER_SA, "-n", optedOut.name, `--as=${OPERATOR}`),
        /may not create serviceaccounts in namespace trust-optout-\w+: it is protected or has opted out of golden builds/,
      );
      assert.match(
        await kubectlFails("create", "serviceaccount", "admin-ish", "-n", ns.name, `--as=${OPERATOR}`),
        /writes only the worker's serviceaccounts named golden-worker, not admin-ish/,
      );
    });
  });

  describe("results that cannot be forged", () => {
    /** kubectl flags acting as the worker ServiceAccount of a pod named `pod` (the extra a bound token carries). */
    const asWorker = (pod: string) => {
      const config = JSON.parse(kc.exportConfig());
      for (const u of config.users) {
        u.user.as = `system:serviceaccount:${ns.name}:${WORKER_SA}`;
        u.user["as-user-extra"] = { "authentication.kubernetes.io/pod-name": [pod] };
      }
      const file = path.join(clusterDir, `trust-worker-${randomBytes(4).toString("hex")}.kubeconfig`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
      workerKubeconfigs.push(file);
      return ["--kubeconfig", file];
    };
    const patchStatus = (name: string, as: string[], patch: object) =>
      kubectlFails(
        "patch",
        "imagebuild",
        name,
        "-n",
        ns.name,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify(patch),
        ...as,
      );

    it("a worker writes only its own running build, and only its own fields", async () => {
      await handMadeBuild(ns.name, "queued");
      const forged = {
        status: {
          phase: "Succeeded",
          artifacts: [{ format: "raw", location: "s3://evil/x", digest: `sha256:${"0".repeat(64)}` }],
        },
      };
      assert.match(
        await patchStatus("queued", asWorker("queued-abcde"), forged),
        /a golden worker writes only a running build; ImageBuild queued is not admitted/,
      );
      await golden.imageBuilds.patchStatus(ns.name, "queued", {
        status: { phase: "Building", startTime: new Date().toISOString() },
      });
      assert.match(
        await patchStatus("queued", asWorker("queued-abcde"), {
          status: { startTime: "2020-01-01T00:00:00Z" },
        }),
        /may not change status.startTime, jobName, inputs or observedGeneration/,
      );
      assert.match(
        await patchStatus("queued", asWorker("other-abcde"), forged),
        /may only update the status of its own ImageBuild, not queued/,
      );
      // Its own progress it may write (a control).
      await kubectl(
        "patch",
        "imagebuild",
        "queued",
        "-n",
        ns.name,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"progress":{"percent":5}}}',
        ...asWorker("queued-abcde"),
      );
    });

    it("a finished build's status cannot be removed or rewritten, by anyone", async () => {
      await handMadeBuild(ns.name, "done");
      const now = new Date().toISOString();
      await golden.imageBuilds.patchStatus(ns.name, "done", {
        status: {
          phase: "Succeeded",
          completionTime: now,
          artifacts: [
            { format: "raw", location: "s3://golden/done.raw", digest: `sha256:${"a".repeat(64)}` },
          ],
          conditions: [
            {
              type: "Succeeded",
              status: "True",
              reason: "BuildSucceeded",
              message: "built",
              lastTransitionTime: now,
            },
          ],
        },
      });
      const asAdmin: string[] = [];
      assert.match(
        await patchStatus("done", asAdmin, { status: null }),
        /a finished build stays finished: its status cannot be removed/,
      );
      assert.match(
        await patchStatus("done", asAdmin, {
          status: { artifacts: [{ format: "raw", location: "s3://evil/x" }] },
        }),
        /a finished build's status is immutable/,
      );
      assert.match(
        await patchStatus("done", asWorker("done-abcde"), { status: { message: "mine" } }),
        // The schema's rule answers before the worker policy does.
        /a finished build's status is immutable/,
      );
      const after = await golden.imageBuilds.get(ns.name, "done");
      assert.equal(after?.status?.artifacts?.[0]?.location, "s3://golden/done.raw");
      // Inputs learnt later may be completed (the version controller's parentVersion), not rewritten.
      await golden.imageBuilds.patchStatus(ns.name, "done", {
        status: { inputs: { parentVersion: "1.0.0" } },
      });
      assert.match(
        await patchStatus("done", asAdmin, { status: { inputs: { parentVersion: "9.9.9" } } }),
        /a finished build's status is immutable: .*inputs can only be completed/,
      );
    });
  });

  describe("build limits hold for pods", () => {
    it("a tenant may not orphan a build's Job (its pod would run outside the limits)", async () => {
      const owner = await handMadeBuild(ns.name, "orphan-me");
      const body = sleeper(ns.name, "orphan-me");
      Object.assign(body.metadata, {
        ownerReferences: [
          {
            apiVersion: "golden.dev/v1alpha1",
            kind: "ImageBuild",
            name: "orphan-me",
            uid: owner.metadata?.uid,
            controller: true,
          },
        ],
      });
      await withFile(body, (file) => kubectl("create", "-f", file)); // as golden would (admin here)
      const del = (...flags: string[]) =>
        kubectlFails("delete", "job", "orphan-me", "-n", ns.name, `--as=${tenant}`, ...flags);
      assert.match(
        await del("--cascade=orphan"),
        /golden's build jobs orphan-me may not be deleted with orphan propagation/,
      );
      assert.match(
        await kubectlFails(
          "delete",
          "imagebuild",
          "orphan-me",
          "-n",
          ns.name,
          `--as=${OPERATOR}`,
          "--cascade=orphan",
        ),
        /golden's build imagebuilds orphan-me may not be deleted with orphan propagation/,
      );
      // Deleting it with its pod is the tenant's right (a control).
      await kubectl("delete", "job", "orphan-me", "-n", ns.name, `--as=${tenant}`, "--dry-run=server");
    });
  });

  describe("the scheduler", () => {
    let operator: OperatorProcess;
    let sched: Ns;
    before(async () => {
      sched = await scratchNamespace("trust-sched");
      await kubectl(
        "create",
        "rolebinding",
        "tenant-edit",
        "--clusterrole=edit",
        `--user=${tenant}`,
        "-n",
        sched.name,
      );
      operator = await startOperator(sched.name, ["--max-concurrent-builds", "1", "--metrics-auth"], {
        name: "trust",
      });
    });
    after(async () => {
      await sched.remove();
      await operator.stop();
    });

    it("serves /metrics only to a token that may get /metrics", async () => {
      const url = `http://127.0.0.1:${operator.port}/metrics`;
      const get = (token?: string) =>
        fetch(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
      const none = await get();
      assert.equal(none.status, 401);
      assert.match(await none.text(), /\/metrics needs a bearer token/);
      const reader = `golden-metrics-reader-trust-${suffix}`;
      const rules = parseAllDocuments(
        await kubectl(
          "create",
          "--dry-run=client",
          "-o",
          "yaml",
          "-f",
          path.join(repo, "config/rbac/metrics_reader_role.yaml"),
        ),
      )[0]?.toJS().rules;
      await rbac.createClusterRole({ body: { metadata: { name: reader }, rules } });
      cleanup.push(["clusterrole", reader], ["clusterrolebinding", reader]);
      for (const sa of ["scraper", "nosy"]) await kubectl("create", "serviceaccount", sa, "-n", sched.name);
      await kubectl(
        "create",
        "clusterrolebinding",
        reader,
        `--clusterrole=${reader}`,
        `--serviceaccount=${sched.name}:scraper`,
      );
      const token = async (sa: string) => (await kubectl("create", "token", sa, "-n", sched.name)).trim();
      const nosy = await get(await token("nosy"));
      assert.equal(nosy.status, 403);
      assert.match(
        await nosy.text(),
        new RegExp(`user "system:serviceaccount:${sched.name}:nosy" may not get /metrics`),
      );
      assert.equal((await get("not-a-token")).status, 401);
      const scraper = await eventually("the binding to take effect", async () => {
        const res = await get(await token("scraper"));
        return res.status === 200 ? res : undefined;
      });
      assert.match(await scraper.text(), /^# HELP /m);
      // Probes stay open: the kubelet sends no token.
      assert.equal((await fetch(`http://127.0.0.1:${operator.port}/readyz`)).status, 200);
    });

    it("is not starved by a tenant's ten sleeping Jobs and pods labelled like golden's", async () => {
      const labels = {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.component]: "worker",
      };
      for (let i = 0; i < 10; i++) {
        await createOkAs(tenant, sleeper(sched.name, `sleep-${i}`));
        const p = workerPod(sched.name, `sleep-${i}-abcde`);
        p.spec.serviceAccountName = "default";
        Object.assign(p.metadata, { labels: { ...labels, [LABELS.build]: `sleep-${i}` } });
        await createOkAs(tenant, p);
      }
      // Running, as a real build pod would be: were they counted, the one slot would be taken.
      await eventually("the look-alike pods to run", async () => {
        const pods = await core.listNamespacedPod({
          namespace: sched.name,
          labelSelector: `${LABELS.build}`,
        });
        return pods.items.filter((x) => x.status?.phase === "Running").length === 10;
      });
      await golden.images.create(
        image(sched.name, "not-starved", { build: { simulate: { stepSeconds: 30 } } }),
      );
      const admitted = await eventually("the build to be admitted despite them", async () => {
        const [b] = await buildsOf(sched.name, "not-starved");
        return b?.status?.startTime ? b : undefined;
      });
      assert.notEqual(admitted.status?.phase, "Queued");
      const queued = admitted.status?.conditions?.find((c) => c.type === "Scheduled" && c.status === "False");
      assert.equal(queued, undefined, `never held back: ${queued?.message}`);
    });
  });
});
