// The catalog and rebuild campaigns through the real apiserver: a BaseImage's new revision opens
// one campaign whose preview lists exactly the dependent Images (and their children) before any
// build starts; approving it rebuilds them within maxInFlight, parents before children, with a
// user's own build ahead of the campaign's queued ones; an opted-out Image is skipped; a failure
// threshold halts a campaign. Nothing runs in the build pods here (KWOK-only clusters have no
// worker): the test plays the worker, writing each admitted build's result as the worker would.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { BaseImage, Image, ImageBuild, RebuildCampaign } from "../../src/api/v1alpha1/index.js";
import { inputsOf } from "../../src/build/inputs.js";
import { isTerminal } from "../../src/build/phase.js";
import {
  type ConfigMapRef,
  DEFAULT_CATALOG_WARNINGS_CONFIGMAP,
  parseConfigMapRef,
  warningKey,
} from "../../src/controllers/catalog-warnings.js";
import { succeededStatus } from "../../src/worker/build.js";
import { buildsOf, image, type Ns, waitPhase } from "./build-helpers.js";
import { batch, core, eventually, golden, kubeconfigPath, kubectl, scratchNamespace } from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";

const CATALOG_LABEL = "golden.dev/test-catalog";
const run = promisify(execFile);
/** The operator's default (--catalog-warnings-configmap), shipped by config/catalog. */
const CATALOG_WARNINGS = parseConfigMapRef(DEFAULT_CATALOG_WARNINGS_CONFIGMAP, "test") as ConfigMapRef;

function base(
  ns: string,
  release: string,
  revision: string,
  rebuild: BaseImage["spec"]["rebuild"],
): BaseImage {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "BaseImage",
    metadata: { name: `ubuntu-${release}-amd64`, labels: { [CATALOG_LABEL]: ns } },
    spec: { os: "ubuntu", release, arch: "amd64", revision, rebuild },
  };
}

function onBase(ns: string, name: string, release: string, extra: Partial<Image["spec"]> = {}): Image {
  return image(ns, name, { base: { os: "ubuntu", release, arch: "amd64" }, ...extra });
}

function layered(ns: string, name: string, parent: string, extra: Partial<Image["spec"]> = {}): Image {
  return image(ns, name, { base: { image: parent }, ...extra });
}

/** The worker's result for an admitted build: Succeeded with artifacts, or Failed. */
async function finish(build: ImageBuild, ok = true): Promise<void> {
  const now = new Date().toISOString();
  const status = ok
    ? succeededStatus(build.spec.image, "oci://golden.test", {
        rootBase: build.spec.rootBase,
        inputs: inputsOf(build),
      })
    : { phase: "Failed" as const, failedStep: "fetch-base", message: "step fetch-base failed (test)" };
  await golden.imageBuilds.patchStatusIfCurrent(build, { ...status, completionTime: now });
  await deleteJob(build.metadata?.namespace ?? "", build.metadata?.name ?? "");
}

/** The Job holds the build's slot until it ends, and nothing ends it here: its pod never runs. */
async function deleteJob(namespace: string, name: string): Promise<void> {
  await batch
    .deleteNamespacedJob({ namespace, name, propagationPolicy: "Background" })
    .catch(() => undefined);
}

/**
 * Plays the worker once: finishes every admitted (Building) build whose Job exists and that `pick`
 * accepts, and deletes any Job left to a finished build (one its controller created from a cache
 * that had not seen the result yet).
 */
async function finishBuilding(
  ns: string,
  pick: (b: ImageBuild) => boolean | "fail" = () => true,
): Promise<string[]> {
  const done: string[] = [];
  const jobs = new Set((await batch.listNamespacedJob({ namespace: ns })).items.map((j) => j.metadata?.name));
  for (const b of (await golden.imageBuilds.list(ns)).items) {
    const name = b.metadata?.name ?? "";
    if (isTerminal(b) && jobs.has(name)) await deleteJob(ns, name);
    if (b.status?.phase !== "Building" || !jobs.has(name)) continue;
    const verdict = pick(b);
    if (verdict === false) continue;
    await finish(b, verdict !== "fail");
    done.push(b.metadata?.name ?? "");
  }
  return done;
}

/** Builds every Image once, parents before children (the worker played until all succeed). */
async function buildAll(ns: string, names: string[]): Promise<void> {
  await eventually(
    `${names.join(", ")} to succeed`,
    async () => {
      await finishBuilding(ns);
      const images = await Promise.all(names.map((n) => golden.images.get(ns, n)));
      return images.every((i) => i?.status?.phase === "Succeeded");
    },
    120_000,
  );
}

async function campaignOf(baseName: string): Promise<RebuildCampaign> {
  return eventually(`the campaign of ${baseName}`, async () => {
    const list = await golden.rebuildCampaigns.list({ labelSelector: `golden.dev/base-image=${baseName}` });
    return list.items.length > 0 ? list : undefined;
  }).then((list) => {
    assert.equal(list.items.length, 1, "one campaign per revision change");
    return list.items[0] as RebuildCampaign;
  });
}

async function campaignBuilds(ns: string, campaign: string): Promise<ImageBuild[]> {
  return (await golden.imageBuilds.list(ns, { labelSelector: `golden.dev/campaign=${campaign}` })).items;
}

describe("base image catalog and rebuild campaigns", () => {
  let ns: Ns;
  let operator: OperatorProcess;
  const bases: string[] = [];
  const suffix = Math.random().toString(36).slice(2, 8);
  const releaseA = `t${suffix}a`;
  const releaseB = `t${suffix}b`;

  before(async () => {
    ns = await scratchNamespace("campaign");
    operator = await startOperator(
      ns.name,
      [
        "--campaigns",
        "true",
        "--catalog-selector",
        `${CATALOG_LABEL}=${ns.name}`,
        "--max-concurrent-builds",
        "1",
      ],
      { name: "campaign" },
    );
  });
  after(async () => {
    for (const name of bases) await golden.baseImages.delete(name).catch(() => undefined);
    await ns.remove();
    await operator.stop();
  });

  it("previews, waits for approval, then rebuilds in bounded waves, parents first, users' builds ahead", async () => {
    const a = await golden.baseImages.create(
      base(ns.name, releaseA, "r1", { approval: "Manual", maxInFlight: 2, maxFailures: 3 }),
    );
    bases.push(a.metadata?.name ?? "");
    const n = ns.name;
    for (const img of [
      onBase(n, "a1", releaseA),
      onBase(n, "a2", releaseA),
      onBase(n, "a3", releaseA),
      onBase(n, "opt", releaseA, { rebuild: { onBaseUpdate: "Never" } }),
      image(n, "other"), // fedora 42: another base
    ])
      await golden.images.create(img);
    for (const img of [layered(n, "c1", "a1"), layered(n, "g1", "c1"), layered(n, "optchild", "opt")])
      await golden.images.create(img);
    await buildAll(n, ["a1", "a2", "a3", "opt", "other", "c1", "g1", "optchild"]);

    const c1 = await golden.images.get(n, "c1");
    assert.equal(c1?.status?.baseRevision, "r1", "a layered Image inherits its root's base revision");
    assert.equal(c1?.status?.conditions?.find((c) => c.type === "UpToDate")?.status, "True");
    const [c1Build] = await buildsOf(n, "c1");
    assert.equal(c1Build?.spec.inputs?.parentImage, "a1");
    assert.equal(
      c1Build?.spec.inputs?.parentBuild,
      (await golden.images.get(n, "a1"))?.status?.lastSuccessfulBuild,
    );
    assert.equal(c1Build?.spec.rootBase?.release, releaseA);

    // The catalog moves on: one campaign, previewed and paused before anything runs.
    await golden.baseImages.patch(a.metadata?.name ?? "", { spec: { revision: "r2" } });
    const pending = await eventually("the preview", async () => {
      const c = await campaignOf(a.metadata?.name ?? "");
      return c.status?.targets ? c : undefined;
    });
    const name = pending.metadata?.name ?? "";
    assert.equal(pending.spec.paused, true, "Manual approval: created paused");
    assert.equal(pending.status?.phase, "AwaitingApproval");
    assert.deepEqual(
      pending.status?.targets?.map((t) => [t.name, t.depth, t.state, t.currentRevision ?? ""]),
      [
        ["a1", 0, "Pending", "r1"],
        ["a2", 0, "Pending", "r1"],
        ["a3", 0, "Pending", "r1"],
        ["opt", 0, "Skipped", "r1"],
        ["c1", 1, "Pending", ""],
        ["optchild", 1, "Skipped", ""],
        ["g1", 2, "Pending", ""],
      ],
      "exactly the dependents and their children, parents first; other (fedora) untouched",
    );
    assert.match(pending.status?.targets?.find((t) => t.name === "opt")?.reason ?? "", /OptedOut/);
    assert.equal(pending.status?.total, 7);
    assert.equal(pending.status?.skipped, 2);
    assert.equal(pending.status?.namespaces, 1);
    assert.deepEqual(await campaignBuilds(n, name), [], "no build before approval");
    const table = await kubectl("get", "rebuildcampaigns", name);
    assert.match(
      table,
      /BASE\s+REVISION\s+PHASE\s+IMAGES\s+NAMESPACES\s+SUCCEEDED\s+IN FLIGHT\s+PENDING\s+FAILED\s+SKIPPED/,
    );
    assert.match(
      table,
      new RegExp(
        `${name}\\s+${a.metadata?.name}\\s+r2\\s+AwaitingApproval\\s+7\\s+1\\s+0\\s+0\\s+5\\s+0\\s+2`,
      ),
    );
    const a1 = await waitForCondition(n, "a1", "UpToDate", "False");
    assert.match(a1, /BaseUpdated|revision r1/);

    // Approve; play the worker. A user's Image arrives while campaign builds wait for the slot.
    await kubectl("patch", "rebuildcampaign", name, "--type=merge", "-p", '{"spec":{"paused":false}}');
    let maxInFlight = 0;
    let queuedAtArrival: string[] | undefined;
    await eventually(
      "the campaign to complete",
      async () => {
        const builds = await campaignBuilds(n, name);
        maxInFlight = Math.max(maxInFlight, builds.filter((b) => !isTerminal(b)).length);
        const queued = builds.filter((b) => b.status?.phase === "Queued");
        // Only while a running build holds the one slot: a build finished by the last round may
        // still be freeing it, and a campaign build that takes it before the user's exists is fair.
        const running = builds.some((b) => b.status?.phase === "Building");
        if (!queuedAtArrival && queued.length > 0 && running) {
          queuedAtArrival = queued.map((b) => b.metadata?.name ?? "");
          await golden.images.create(image(n, "urgent"));
          // The slot stays taken (nothing finishes) until the user's build waits beside them.
          await eventually("the user's build to queue", async () =>
            (await buildsOf(n, "urgent")).some((b) => b.status?.phase === "Queued"),
          );
        }
        await finishBuilding(n);
        const c = await golden.rebuildCampaigns.get(name);
        return c?.status?.phase === "Completed" ? c : undefined;
      },
      180_000,
    );
    assert.ok(queuedAtArrival, "a campaign build waited in the queue when the user's Image arrived");
    assert.ok(maxInFlight <= 2, `at most maxInFlight (2) campaign builds at once, saw ${maxInFlight}`);
    assert.ok(maxInFlight >= 1);

    const done = (await golden.rebuildCampaigns.get(name)) as RebuildCampaign;
    assert.equal(done.status?.succeeded, 5);
    assert.equal(done.status?.skipped, 2);
    assert.equal(done.status?.failed, 0);
    const builds = await campaignBuilds(n, name);
    const byImage = new Map(builds.map((b) => [b.spec.imageName, b]));
    assert.deepEqual([...byImage.keys()].sort(), ["a1", "a2", "a3", "c1", "g1"]);
    for (const b of builds) {
      assert.equal(b.spec.trigger, "BaseUpdate");
      assert.equal(b.spec.background, true, "campaign builds are background builds");
    }
    const at = (b: ImageBuild | undefined, f: "created" | "completed") =>
      new Date(
        (f === "created" ? b?.metadata?.annotations?.["golden.dev/queued-at"] : b?.status?.completionTime) ??
          0,
      ).getTime();
    assert.ok(
      at(byImage.get("c1"), "created") >= at(byImage.get("a1"), "completed"),
      "c1 after a1 succeeded",
    );
    assert.ok(
      at(byImage.get("g1"), "created") >= at(byImage.get("c1"), "completed"),
      "g1 after c1 succeeded",
    );
    assert.equal(byImage.get("c1")?.spec.inputs?.parentBuild, byImage.get("a1")?.metadata?.name);
    assert.equal(byImage.get("a1")?.spec.inputs?.baseRevision, "r2");

    // The user's build started ahead of every campaign build that was queued when it arrived.
    const [urgent] = await buildsOf(n, "urgent");
    const started = (b: ImageBuild | undefined) => new Date(b?.status?.startTime ?? 0).getTime();
    assert.ok(started(urgent) > 0, "the user's build was admitted");
    for (const queuedName of queuedAtArrival ?? []) {
      const queued = builds.find((b) => b.metadata?.name === queuedName);
      assert.ok(
        started(urgent) <= started(queued),
        `${queuedName} (queued earlier) started after the user's build`,
      );
    }

    for (const img of ["a1", "c1", "g1"]) {
      const i = await waitForCondition(n, img, "UpToDate", "True");
      assert.ok(i);
      assert.equal((await golden.images.get(n, img))?.status?.baseRevision, "r2", img);
    }
    const opt = await golden.images.get(n, "opt");
    assert.equal(opt?.status?.baseRevision, "r1", "opted out: not rebuilt");
    assert.equal(opt?.status?.conditions?.find((c) => c.type === "UpToDate")?.reason, "BaseUpdated");
    const history = (await golden.baseImages.get(a.metadata?.name ?? ""))?.status?.history?.map(
      (h) => h.revision,
    );
    assert.deepEqual(history, ["r2", "r1"]);
  });

  it("warns at admission about a deprecated base, builds on it with a BaseDeprecated condition", async () => {
    const release = `t${suffix}d`;
    const deprecated = {
      ...base(ns.name, release, "r1", {}),
      spec: { ...base(ns.name, release, "r1", {}).spec, deprecated: true },
    };
    const name = (await golden.baseImages.create(deprecated)).metadata?.name ?? "";
    bases.push(name);
    // The policy looks the Image's base up in the ConfigMap the operator keeps from the catalog.
    const key = warningKey("ubuntu", "amd64", release);
    const warnings = async () => (await core.readNamespacedConfigMap(CATALOG_WARNINGS)).data ?? {};
    await eventually("the operator's catalog warning", async () => (await warnings())[key] !== undefined);
    // kubectl's warnings for an Image of this name on the deprecated base (a server-side dry run).
    const dryRun = async (imageName: string) => {
      const file = path.join(os.tmpdir(), `golden-deprecated-${suffix}-${imageName}.json`);
      fs.writeFileSync(file, JSON.stringify(onBase(ns.name, imageName, release)));
      try {
        const args = ["--kubeconfig", kubeconfigPath, "create", "--dry-run=server", "-f", file];
        return (await run("kubectl", args)).stderr;
      } finally {
        fs.rmSync(file, { force: true });
      }
    };
    // The policy reads its params through the apiserver's own informer: it may lag a moment.
    const warning = await eventually("the deprecation warning", async () => {
      const stderr = await dryRun("legacy");
      return stderr.includes("deprecated") ? stderr : undefined;
    });
    assert.match(
      warning,
      new RegExp(
        `spec\\.base: BaseImage ubuntu-${release}-amd64 \\(ubuntu ${release}, amd64\\) is deprecated; builds still run`,
      ),
    );
    await golden.images.create(onBase(ns.name, "legacy", release));
    const condition = await waitForCondition(ns.name, "legacy", "BaseDeprecated", "True");
    assert.match(condition, /ubuntu-.*-amd64 .* is deprecated/);
    // Undeprecating is followed: the key goes, and with it the warning.
    await golden.baseImages.patch(name, { spec: { deprecated: false } });
    await eventually("the warning's key removed", async () => (await warnings())[key] === undefined);
    await eventually("no deprecation warning", async () => !(await dryRun("current")).includes("deprecated"));
  });

  it("halts after maxFailures, starting nothing more; Automatic approval starts at once", async () => {
    const b = await golden.baseImages.create(
      base(ns.name, releaseB, "r1", { approval: "Automatic", maxInFlight: 1, maxFailures: 1 }),
    );
    bases.push(b.metadata?.name ?? "");
    const n = ns.name;
    for (const name of ["b1", "b2", "b3"]) await golden.images.create(onBase(n, name, releaseB));
    await buildAll(n, ["b1", "b2", "b3"]);
    await golden.baseImages.patch(b.metadata?.name ?? "", { spec: { revision: "r2" } });
    const campaign = await campaignOf(b.metadata?.name ?? "");
    const name = campaign.metadata?.name ?? "";
    assert.equal(campaign.spec.paused, false, "Automatic: not paused");
    const halted = await eventually(
      "the campaign to halt",
      async () => {
        await finishBuilding(n, (build) => (build.spec.campaign === name ? "fail" : true));
        const c = await golden.rebuildCampaigns.get(name);
        return c?.status?.phase === "Halted" ? c : undefined;
      },
      120_000,
    );
    assert.equal(halted.status?.failed, 1);
    assert.equal(halted.status?.pending, 2);
    assert.equal(halted.status?.succeeded, 0);
    assert.equal((await campaignBuilds(n, name)).length, 1, "no build after the threshold");
    const failedImage = await waitPhase(n, "b1", "Failed");
    assert.ok(failedImage);
  });
});

async function waitForCondition(ns: string, name: string, type: string, status: string): Promise<string> {
  return eventually(`${ns}/${name} ${type}=${status}`, async () => {
    const c = (await golden.images.get(ns, name))?.status?.conditions?.find((x) => x.type === type);
    return c?.status === status ? `${c.reason}: ${c.message}` : undefined;
  });
}
