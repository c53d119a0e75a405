// Build policy through the real apiserver: retries with growing delays, timeouts, history
// pruning, cron rebuilds, arm64 placement, cancellation, and a worker confined to its own build.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiErrorMessage } from "../../src/runtime/api-errors.js";
import { buildsOf, image, type Ns, waitPhase } from "./build-helpers.js";
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

// Each case has an Image of its own: they run side by side, so the two that mostly wait (the
// 60 s timeout, the next cron minute) overlap the others instead of adding up.
describe("retries, timeouts, history, schedules, placement and cancellation", { concurrency: true }, () => {
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
    // The coming minute of every hour: the schema refuses schedules that fire every minute.
    const minute = (new Date().getUTCMinutes() + 1) % 60;
    await golden.images.create(image(ns.name, "nightly", { rebuild: { schedule: `${minute} * * * *` } }));
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

  it("stays Ready beside a rebuild of the same spec, running or cancelled", async () => {
    await golden.images.create(image(ns.name, "kept", {}, 2));
    const built = await waitPhase(ns.name, "kept", "Succeeded");
    const readyOf = (i: typeof built) => i.status?.conditions?.find((c) => c.type === "Ready");
    await kubectl("annotate", "image/kept", "-n", ns.name, "golden.dev/rebuild=1");
    const rebuild = await eventually("the rebuild to be Building", async () =>
      (await buildsOf(ns.name, "kept")).find(
        (b) => b.spec.trigger === "Rebuild" && b.status?.phase === "Building",
      ),
    );
    const rebuilding = await eventually("kept to show the rebuild", async () => {
      const i = await golden.images.get(ns.name, "kept");
      return i?.status?.phase === "Building" ? i : undefined;
    });
    assert.equal(readyOf(rebuilding)?.status, "True");
    assert.equal(readyOf(rebuilding)?.reason, "Rebuilding");
    await golden.imageBuilds.patch(ns.name, rebuild.metadata?.name ?? "", {
      metadata: { annotations: { "golden.dev/cancel": "true" } },
    });
    const cancelled = await waitPhase(ns.name, "kept", "Failed");
    assert.equal(readyOf(cancelled)?.status, "True");
    assert.equal(readyOf(cancelled)?.reason, "RebuildCancelled");
    assert.deepEqual(
      cancelled.status?.artifacts,
      built.status?.artifacts,
      "the first build's artifacts stay",
    );
    await kubectl("wait", "--for=condition=Ready", "image/kept", "-n", ns.name, "--timeout=5s");
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
    // A pod named like one of mine's build pods, running as the worker ServiceAccount, on a KWOK node
    // (made by the cluster admin: anyone else is refused, see trust.test.ts).
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
    // Its own build, finished: sealed. The schema's rule on a finished status answers before the
    // admission policy (a worker writes only a running build) is asked.
    await assert.rejects(
      asWorker.imageBuilds.patchStatus(ns.name, mine?.metadata?.name ?? "", {
        status: { message: "rewritten" },
      }),
      (err: unknown) => {
        assert.match(apiErrorMessage(err), /a finished build's status is immutable/);
        return true;
      },
    );
    // Another build: a write the schema lets through on a finished build (completing its inputs),
    // so that it is the admission policy that answers.
    await assert.rejects(
      asWorker.imageBuilds.patchStatus(ns.name, theirs?.metadata?.name ?? "", {
        status: { inputs: { parentVersion: "9.9.9" } },
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
