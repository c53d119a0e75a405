// The scheduler: capacity, priority, fair share, why builds wait, retries, timeouts,
// history, cron rebuilds, placement by arch, cancellation, lost workers and worker RBAC.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Image, ImageBuild } from "../../src/api/v1alpha1/index.js";
import { apiErrorMessage } from "../../src/runtime/api-errors.js";
import {
  batch,
  core,
  eventually,
  golden,
  KWOK_TOLERATION,
  kc,
  kubectl,
  realNode,
  scratchNamespace,
  succeededBuildPod,
} from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";
import { JobWatchLog } from "./watch-log.js";

type Spec = Partial<Image["spec"]>;

function image(namespace: string, name: string, spec: Spec = {}, stepSeconds = 0, priority = 0): Image {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "Image",
    metadata: { name, namespace },
    spec: {
      base: { os: "fedora", release: "42", arch: "amd64" },
      formats: ["raw"],
      build: { priority, simulate: { stepSeconds } },
      ...spec,
    },
  };
}

async function buildsOf(namespace: string, imageName: string): Promise<ImageBuild[]> {
  const list = await golden.imageBuilds.list(namespace, { fieldSelector: `spec.imageName=${imageName}` });
  const at = (b: ImageBuild) => new Date(b.metadata?.annotations?.["golden.dev/queued-at"] ?? 0).getTime();
  return list.items.sort((a, b) => at(a) - at(b));
}

async function waitPhase(namespace: string, name: string, phase: string, timeoutMs = 90_000): Promise<Image> {
  return eventually(
    `Image ${namespace}/${name} to be ${phase}`,
    async () => {
      const img = await golden.images.get(namespace, name);
      return img?.status?.phase === phase ? img : undefined;
    },
    timeoutMs,
  );
}

type Ns = { name: string; remove: () => Promise<void> };

describe("scheduling with capacity 2 across three namespaces", () => {
  const namespaces: Ns[] = [];
  let operator: OperatorProcess;
  const jobs = new JobWatchLog();
  before(async () => {
    for (const prefix of ["team-a", "team-b", "team-c"]) namespaces.push(await scratchNamespace(prefix));
    // team-c's own limit, for the second test. Set before the operator starts so its first list
    // has it: annotated later, the namespace watch could lag behind the builds it must limit.
    // team-c runs one build at a time in the first test anyway.
    await kubectl("annotate", "namespace", namespaces[2]?.name ?? "", "golden.dev/max-concurrent-builds=1");
    await jobs.start();
    operator = await startOperator("", ["--max-concurrent-builds", "2"], { name: "sched" });
  });
  after(async () => {
    jobs.stop();
    for (const ns of namespaces) await ns.remove();
    await operator.stop();
  });

  it("never runs more than 2 builds, honours priority, starves no namespace and tells each build why it waits", async () => {
    const [a, b, c] = namespaces.map((n) => n.name) as [string, string, string];
    // Two slow builds fill both slots while the rest queue up behind them.
    await golden.images.create(image(a, "a1", {}, 3));
    await golden.images.create(image(a, "a2", {}, 3));
    await eventually("a1 and a2 to be admitted", async () => {
      const [x, y] = await Promise.all([golden.images.get(a, "a1"), golden.images.get(a, "a2")]);
      return x?.status?.phase === "Building" && y?.status?.phase === "Building";
    });
    for (const name of ["a3", "a4", "a5", "a6"]) await golden.images.create(image(a, name));
    await golden.images.create(image(b, "b1"));
    await golden.images.create(image(b, "b2"));
    await golden.images.create(image(b, "b3", {}, 0, 10)); // submitted late, but higher priority
    await golden.images.create(image(c, "c1"));

    // Everyone waiting says why, in plain words, in a status written once: positions are the
    // visibility API's (kubectl get pendingbuilds), so the queue moving rewrites no waiting build.
    const queued = await eventually("8 queued builds", async () => {
      const all = (await golden.imageBuilds.list()).items.filter((x) =>
        [a, b, c].includes(x.metadata?.namespace ?? ""),
      );
      const waiting = all.filter((x) => x.status?.phase === "Queued");
      return waiting.length === 8 ? waiting : undefined;
    });
    for (const build of queued) {
      const scheduled = build.status?.conditions?.find((x) => x.type === "Scheduled");
      assert.equal(scheduled?.status, "False", build.spec.imageName);
      assert.equal(scheduled?.reason, "ClusterLimitReached", build.spec.imageName);
      assert.equal(scheduled?.message, "cluster limit 2 reached", build.spec.imageName);
    }
    const queuedA6 = queued.find((x) => x.spec.imageName === "a6");
    // The Image mirrors its build's phase and reason a reconcile later.
    const mirrored = await eventually("Image a6 to show why its build waits", async () => {
      const img = await golden.images.get(a, "a6");
      return img?.status?.message?.endsWith("queued: cluster limit 2 reached") ? img : undefined;
    });
    assert.equal(mirrored.status?.phase, "Queued", "the Image shows Queued too");

    // b3 goes first (priority) once a slot frees; a6, last in line, is not written meanwhile.
    await eventually("b3 to be admitted", async () => {
      const [build] = await buildsOf(b, "b3");
      return build?.status?.startTime !== undefined;
    });
    const [a6] = await buildsOf(a, "a6");
    assert.equal(a6?.status?.phase, "Queued");
    assert.equal(
      a6?.metadata?.resourceVersion,
      queuedA6?.metadata?.resourceVersion,
      "another build's admission does not rewrite a waiting build",
    );

    for (const [ns, names] of [
      [a, ["a1", "a2", "a3", "a4", "a5", "a6"]],
      [b, ["b1", "b2", "b3"]],
      [c, ["c1"]],
    ] as const) {
      for (const name of names) await waitPhase(ns, name, "Succeeded");
    }
    assert.ok(
      jobs.maxActive(new Set([a, b, c])) <= 2,
      `at most 2 Jobs active, saw ${jobs.maxActive(new Set([a, b, c]))}`,
    );
    // Admission order from the scheduler's own record: startTime, one instant per pass. Job
    // creation order would not do: builds admitted in one pass get their Jobs in either order.
    const builds = (await golden.imageBuilds.list()).items.filter((x) =>
      [a, b, c].includes(x.metadata?.namespace ?? ""),
    );
    const started = (x: ImageBuild) => Date.parse(x.status?.startTime ?? "");
    assert.ok(
      builds.every((x) => !Number.isNaN(started(x))),
      "every build has a startTime",
    );
    const order = builds.sort((x, y) => started(x) - started(y)).map((x) => x.spec.imageName);
    const startedAt = (img: string) => started(builds.find((x) => x.spec.imageName === img) as ImageBuild);
    assert.deepEqual(order.slice(0, 2).sort(), ["a1", "a2"], `admission order ${order.join(",")}`);
    assert.deepEqual(order.slice(2, 4).sort(), ["b3", "c1"], `admission order ${order.join(",")}`);
    assert.ok(startedAt("b3") <= startedAt("c1"), `admission order ${order.join(",")}`);
  });

  it("applies a namespace's own limit, given as an annotation", async () => {
    const ns = namespaces[2]?.name ?? ""; // annotated golden.dev/max-concurrent-builds=1 in before()
    // The previous test's Jobs hold cluster slots until the Job controller marks them finished; a
    // build that starts waiting on the cluster limit keeps that reason (written once), so start
    // with the cluster's slots free.
    const mine = new Set(namespaces.map((n) => n.name));
    await eventually("the previous test's Jobs to finish", async () => jobs.activeNow(mine) === 0);
    for (const name of ["n1", "n2", "n3"]) await golden.images.create(image(ns, name, {}, 1));
    const waiting = await eventually("a build waiting on the namespace limit", async () => {
      const builds = (await golden.imageBuilds.list(ns)).items;
      return builds.find((x) =>
        x.status?.conditions?.some((cond) => cond.reason === "NamespaceLimitReached"),
      );
    });
    const cond = waiting.status?.conditions?.find((x) => x.type === "Scheduled");
    assert.equal(cond?.message, `namespace limit 1 reached in ${ns}`);
    for (const name of ["n1", "n2", "n3"]) await waitPhase(ns, name, "Succeeded");
    assert.equal(jobs.maxActive(new Set([ns])), 1, "one at a time in this namespace");
  });
});

describe("retries, timeouts, history, schedules, placement and cancellation", () => {
  let ns: Ns;
  let operator: OperatorProcess;
  before(async () => {
    ns = await scratchNamespace("policy");
    operator = await startOperator(
      ns.name,
      ["--retry-base-seconds", "1", "--worker-heartbeat-seconds", "1"],
      {
        name: "policy",
      },
    );
  });
  after(async () => {
    await ns.remove();
    await operator.stop();
  });

  it("retries a failing build with growing delays and stops at the limit", async () => {
    await golden.images.create(
      image(ns.name, "flaky", { build: { retries: 2, simulate: { stepSeconds: 0, failAt: "fetch-base" } } }),
    );
    const failed = await waitPhase(ns.name, "flaky", "Failed");
    assert.equal(failed.status?.conditions?.find((c) => c.type === "Ready")?.reason, "BuildFailed");
    const builds = await buildsOf(ns.name, "flaky");
    assert.deepEqual(
      builds.map((b) => b.spec.attempt),
      [1, 2, 3],
      "1 attempt + 2 retries, then stop",
    );
    assert.deepEqual(
      builds.map((b) => b.spec.trigger),
      ["Created", "Retry", "Retry"],
    );
    const gap = (i: number) =>
      new Date(builds[i]?.metadata?.annotations?.["golden.dev/queued-at"] ?? 0).getTime() -
      new Date(builds[i - 1]?.status?.completionTime ?? 0).getTime();
    assert.ok(gap(1) >= 900, `first retry waited ${gap(1)} ms (base 1 s)`);
    assert.ok(gap(2) >= 1900, `second retry waited ${gap(2)} ms (2 s)`);
    assert.ok(gap(2) > gap(1), "delays grow");
  });

  it("fails a build that exceeds spec.build.timeoutSeconds with a clear condition", async () => {
    await golden.images.create(
      image(ns.name, "slow", { build: { timeoutSeconds: 60, simulate: { stepSeconds: 40 } } }),
    );
    const failed = await waitPhase(ns.name, "slow", "Failed", 120_000);
    const [build] = await buildsOf(ns.name, "slow");
    const succeeded = build?.status?.conditions?.find((c) => c.type === "Succeeded");
    assert.equal(succeeded?.reason, "TimedOut");
    assert.match(failed.status?.message ?? "", /deadline|timeoutSeconds/i);
  });

  it("prunes history to spec.historyLimits, taking the Jobs along", async () => {
    await golden.images.create(image(ns.name, "churn", { historyLimits: { successful: 1, failed: 1 } }));
    await waitPhase(ns.name, "churn", "Succeeded");
    for (const token of ["r1", "r2", "r3"]) {
      await kubectl(
        "annotate",
        "image",
        "churn",
        "-n",
        ns.name,
        `golden.dev/rebuild=${token}`,
        "--overwrite",
      );
      await eventually(`rebuild ${token}`, async () => {
        const builds = await buildsOf(ns.name, "churn");
        const latest = builds.at(-1);
        return (
          latest?.metadata?.annotations?.["golden.dev/trigger-id"] === `rebuild:${token}` &&
          latest.status?.phase === "Succeeded"
        );
      });
    }
    const builds = await eventually("history pruned to 1 successful build", async () => {
      const list = await buildsOf(ns.name, "churn");
      return list.length === 1 ? list : undefined;
    });
    assert.equal(builds[0]?.metadata?.annotations?.["golden.dev/trigger-id"], "rebuild:r3");
    await eventually("pruned builds' Jobs to be gone", async () => {
      const list = await batch.listNamespacedJob({ namespace: ns.name });
      return list.items.filter((j) => j.metadata?.name?.startsWith("churn-")).length === 1;
    });
  });

  it("rebuilds on a cron schedule", async () => {
    await golden.images.create(image(ns.name, "nightly", { rebuild: { schedule: "* * * * *" } }));
    const scheduled = await eventually(
      "a build triggered by the schedule",
      async () => (await buildsOf(ns.name, "nightly")).find((b) => b.spec.trigger === "Schedule"),
      75_000,
      1000,
    );
    assert.match(
      scheduled.metadata?.annotations?.["golden.dev/trigger-id"] ?? "",
      /^schedule:\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/,
    );
    // The Image shows the first build's success until the scheduled build's outcome reaches it.
    const img = await eventually("the scheduled build's success on the Image", async () => {
      const got = await golden.images.get(ns.name, "nightly");
      return got?.status?.phase === "Succeeded" && got.status.latestBuild === scheduled.metadata?.name
        ? got
        : undefined;
    });
    assert.ok(img.status?.lastScheduleTime, "status.lastScheduleTime set");
  });

  it("runs an arm64 build emulated on the amd64 node, and says so", async () => {
    await golden.images.create(
      image(ns.name, "graviton", { base: { os: "ubuntu", release: "24.04", arch: "arm64" } }),
    );
    await waitPhase(ns.name, "graviton", "Succeeded");
    const [build] = await buildsOf(ns.name, "graviton");
    const pod = await succeededBuildPod(ns.name, build?.metadata?.name ?? "");
    // startOperator runs --arm64-placement=emulated: there is no arm64 node here.
    assert.equal(pod?.spec?.nodeSelector?.["kubernetes.io/arch"], "amd64");
    assert.equal(pod?.spec?.nodeName, realNode);
    assert.equal(pod?.metadata?.annotations?.["golden.dev/emulated"], "arm64-on-amd64");
    assert.match(
      pod?.status?.containerStatuses?.[0]?.state?.terminated?.message ?? "",
      /built 1 artifact: .*; arm64 emulated on amd64/,
    );
    const done = await golden.imageBuilds.get(ns.name, build?.metadata?.name ?? "");
    assert.match(done?.status?.message ?? "", /arm64 emulated on amd64$/);
  });

  it("cancels a running build on request", async () => {
    await golden.images.create(image(ns.name, "doomed", {}, 5));
    const build = await eventually("doomed to be Building", async () =>
      (await buildsOf(ns.name, "doomed")).find((b) => b.status?.phase === "Building"),
    );
    await golden.imageBuilds.patch(ns.name, build.metadata?.name ?? "", {
      metadata: { annotations: { "golden.dev/cancel": "true" } },
    });
    const img = await waitPhase(ns.name, "doomed", "Failed");
    assert.equal(img.status?.conditions?.find((c) => c.type === "Ready")?.reason, "BuildCancelled");
    await eventually(
      "the cancelled build's Job to be deleted",
      async () =>
        !(await batch
          .readNamespacedJob({ name: build.metadata?.name ?? "", namespace: ns.name })
          .catch(() => undefined)),
    );
  });

  it("lets a worker update only its own ImageBuild's status", async () => {
    await golden.images.create(image(ns.name, "mine"));
    await golden.images.create(image(ns.name, "theirs"));
    // Read the builds once they exist: right after the create, the operator may not have made them.
    await waitPhase(ns.name, "mine", "Succeeded");
    await waitPhase(ns.name, "theirs", "Succeeded");
    const [mine] = await buildsOf(ns.name, "mine");
    const [theirs] = await buildsOf(ns.name, "theirs");
    assert.ok(mine?.metadata?.name && theirs?.metadata?.name, "both builds exist");
    // A pod named like one of mine's build pods, running as the worker ServiceAccount, on a KWOK node.
    const podName = `${mine?.metadata?.name}-zzzzz`;
    const pod = await core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: podName },
        spec: {
          serviceAccountName: "golden-worker",
          nodeSelector: { type: "kwok" },
          tolerations: [KWOK_TOLERATION],
          containers: [{ name: "c", image: "busybox" }],
        },
      },
    });
    const token = await core.createNamespacedServiceAccountToken({
      name: "golden-worker",
      namespace: ns.name,
      body: {
        spec: {
          audiences: [],
          boundObjectRef: { kind: "Pod", apiVersion: "v1", name: podName, uid: pod.metadata?.uid },
        },
      },
    });
    const { KubeConfig, CustomObjectsApi } = await import("@kubernetes/client-node");
    const { GoldenClient } = await import("../../src/api/client.js");
    const workerKc = new KubeConfig();
    const cluster = kc.getCurrentCluster();
    workerKc.loadFromClusterAndUser(
      { name: "c", server: cluster?.server ?? "", caFile: cluster?.caFile, skipTLSVerify: false },
      { name: "worker", token: token.status?.token },
    );
    const asWorker = new GoldenClient(workerKc.makeApiClient(CustomObjectsApi));
    await asWorker.imageBuilds.patchStatus(ns.name, mine?.metadata?.name ?? "", {
      status: { message: "mine to write" },
    });
    await assert.rejects(
      asWorker.imageBuilds.patchStatus(ns.name, theirs?.metadata?.name ?? "", {
        status: { message: "hijacked" },
      }),
      (err: unknown) => {
        assert.match(apiErrorMessage(err), /may only update the status of its own ImageBuild/);
        return true;
      },
    );
    await assert.rejects(
      asWorker.images.patch(ns.name, "theirs", { spec: { formats: ["iso"] } }),
      /403|forbidden/i,
    );
  });
});

describe("lost and slow workers", () => {
  let ns: Ns;
  let operator: OperatorProcess;
  before(async () => {
    ns = await scratchNamespace("lost");
    operator = await startOperator(
      ns.name,
      // Only the real (amd64) node matches and arm64 builds want arm64 nodes, so an arm64 build's
      // pod can never be scheduled.
      [
        "--worker-lost-after",
        "5",
        "--worker-heartbeat-seconds",
        "1",
        "--worker-node-selector",
        `kubernetes.io/hostname=${realNode}`,
        "--arm64-placement",
        "native",
      ],
      { name: "lost" },
    );
  });
  after(async () => {
    await ns.remove();
    await operator.stop();
  });

  it("keeps a slow worker that heartbeats, and fails one that never starts", async () => {
    // Slow: each step (6 s) outlasts the 5 s silence limit, but heartbeats every second keep it alive.
    await golden.images.create(image(ns.name, "slow-but-alive", {}, 6));
    // Lost: its pod never starts, so it never heartbeats.
    await golden.images.create(
      image(ns.name, "never-starts", { base: { os: "fedora", release: "42", arch: "arm64" } }),
    );
    const lost = await waitPhase(ns.name, "never-starts", "Failed", 60_000).catch(async (err) => {
      throw new Error(`${String(err)}\n${operator.logs().slice(-3000)}`);
    });
    assert.match(lost.status?.message ?? "", /no heartbeat for \d+s/);
    const alive = await waitPhase(ns.name, "slow-but-alive", "Succeeded", 90_000);
    assert.equal(alive.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
  });
});
