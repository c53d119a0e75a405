// The walking skeleton: Image → ImageBuild → Job → worker pod → status, through the
// real apiserver, with golden's operator running as a process scoped to this test's namespace.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Image, ImageBuild } from "../../src/api/v1alpha1/index.js";
import {
  batch,
  core,
  eventsApi,
  eventually,
  golden,
  realNode,
  scratchNamespace,
  succeededBuildPod,
} from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";

function image(namespace: string, name: string, spec: Partial<Image["spec"]> = {}): Image {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "Image",
    metadata: { name, namespace },
    spec: {
      base: { os: "debian", release: "12", arch: "amd64" },
      formats: ["qcow2", "raw"],
      customizations: { packages: ["curl"] },
      build: { simulate: { stepSeconds: 0 } },
      ...spec,
    },
  };
}

async function phaseOf(namespace: string, name: string, phase: string): Promise<Image> {
  return eventually(`Image ${name} to reach ${phase}`, async () => {
    const img = await golden.images.get(namespace, name);
    return img?.status?.phase === phase && img.status.observedGeneration === img.metadata?.generation
      ? img
      : undefined;
  });
}

async function buildsOf(namespace: string, image: Image): Promise<ImageBuild[]> {
  const list = await golden.imageBuilds.list(namespace, {
    labelSelector: `golden.dev/image-uid=${image.metadata?.uid}`,
  });
  return list.items;
}

async function eventsFor(namespace: string, name: string): Promise<string[]> {
  const events = await eventsApi.listNamespacedEvent({ namespace });
  return events.items
    .filter((e) => e.regarding?.name === name)
    .map((e) => `${e.type} ${e.reason}: ${e.note}`);
}

describe("building an Image", () => {
  let ns: { name: string; remove: () => Promise<void> };
  let operator: OperatorProcess;
  before(async () => {
    ns = await scratchNamespace("build");
    operator = await startOperator(ns.name);
  });
  after(async () => {
    await ns.remove();
    await operator.stop();
  });

  it("builds to Succeeded with one artifact per format, through a Job whose pod ran the worker", async () => {
    await golden.images.create(image(ns.name, "web", { formats: ["qcow2", "raw", "iso"] }));
    const done = await phaseOf(ns.name, "web", "Succeeded");
    const artifacts = done.status?.artifacts ?? [];
    assert.deepEqual(artifacts.map((a) => a.format).sort(), ["iso", "qcow2", "raw"]);
    for (const a of artifacts) {
      assert.match(a.digest ?? "", /^sha256:[a-f0-9]{64}$/);
      assert.ok((a.sizeBytes ?? 0) > 0);
    }
    const ready = done.status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "True");

    const [build, ...others] = await buildsOf(ns.name, done);
    assert.equal(others.length, 0, "exactly one build");
    assert.equal(build?.status?.phase, "Succeeded");
    assert.equal(build?.spec.imageGeneration, 1);
    assert.deepEqual(build?.spec.image.formats, ["qcow2", "raw", "iso"], "the build snapshots the spec");
    assert.equal(build?.metadata?.ownerReferences?.[0]?.uid, done.metadata?.uid);
    const job = await batch.readNamespacedJob({ name: build?.status?.jobName ?? "", namespace: ns.name });
    assert.equal(job.metadata?.ownerReferences?.[0]?.uid, build?.metadata?.uid);
    assert.equal(job.metadata?.labels?.["golden.dev/image-uid"], done.metadata?.uid);
    const pod = await succeededBuildPod(ns.name, build?.metadata?.name ?? "");
    assert.equal(pod?.spec?.nodeName, realNode, "ran on the real node");
    assert.equal(pod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    assert.match(pod?.status?.containerStatuses?.[0]?.state?.terminated?.message ?? "", /built 3 artifacts/);
    // managedFields name who wrote what: the worker owns the result, the operator the admission.
    const statusManagers = (build?.metadata?.managedFields ?? []).filter((m) => m.subresource === "status");
    const ownerOf = (field: string) =>
      statusManagers.find((m) =>
        Object.hasOwn((m.fieldsV1 as { "f:status"?: object })["f:status"] ?? {}, field),
      )?.manager;
    assert.equal(ownerOf("f:artifacts"), "golden-worker", "the worker's writes carry its name");
    assert.equal(ownerOf("f:startTime"), "golden-operator");
    assert.deepEqual(statusManagers.map((m) => m.manager).sort(), ["golden-operator", "golden-worker"]);

    // Events are written asynchronously (and deduplicated): one for the outcome, naming the build,
    // its generation, trigger and attempt; a build starting is in status, not an Event.
    const events = await eventually("the BuildSucceeded Event", async () => {
      const events = await eventsFor(ns.name, "web");
      return events.some((e) =>
        /^Normal BuildSucceeded: ImageBuild web-\S+ \(generation 1, Created, attempt 1\): /.test(e),
      )
        ? events
        : undefined;
    });
    assert.deepEqual(
      events.filter((e) => e.startsWith("Normal BuildStarted")),
      [],
      "no Event for the start",
    );
  });

  it("yields the same digest for the same spec, whatever the Image is called", async () => {
    await golden.images.create(image(ns.name, "twin-a"));
    await golden.images.create(
      image(ns.name, "twin-b", { build: { simulate: { stepSeconds: 0 }, priority: 5 } }),
    );
    const a = await phaseOf(ns.name, "twin-a", "Succeeded");
    const b = await phaseOf(ns.name, "twin-b", "Succeeded");
    const digests = (img: Image) =>
      Object.fromEntries((img.status?.artifacts ?? []).map((x) => [x.format, x.digest]));
    assert.deepEqual(digests(a), digests(b));
    const c = image(ns.name, "other", { customizations: { packages: ["curl", "vim"] } });
    await golden.images.create(c);
    const other = await phaseOf(ns.name, "other", "Succeeded");
    assert.notEqual(digests(other).qcow2, digests(a).qcow2, "a different spec gives a different digest");
  });

  it("fails at the simulated step, naming it in the Ready condition and in a Warning Event", async () => {
    await golden.images.create(
      image(ns.name, "broken", { build: { simulate: { stepSeconds: 0, failAt: "install-packages" } } }),
    );
    const failed = await phaseOf(ns.name, "broken", "Failed");
    const ready = failed.status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "False");
    assert.equal(ready?.reason, "BuildFailed");
    assert.match(ready?.message ?? "", /install-packages/);
    const [build] = await buildsOf(ns.name, failed);
    assert.equal(build?.status?.failedStep, "install-packages");
    const events = await eventually("a BuildFailed Event", async () => {
      const all = await eventsFor(ns.name, "broken");
      return all.some((e) => e.startsWith("Warning BuildFailed") && e.includes("install-packages"))
        ? all
        : undefined;
    });
    assert.ok(events.length > 0);
  });

  it("reports a release golden cannot build as Ready=False with a reason and an Event, without building", async () => {
    await golden.images.create(
      image(ns.name, "ancient", { base: { os: "ubuntu", release: "14.04", arch: "amd64" } }),
    );
    const failed = await phaseOf(ns.name, "ancient", "Failed");
    const ready = failed.status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.reason, "UnsupportedRelease");
    assert.match(ready?.message ?? "", /spec\.base\.release: ubuntu 14\.04/);
    assert.equal((await buildsOf(ns.name, failed)).length, 0, "no build for an unsupported release");
    await eventually("an UnsupportedRelease Warning", async () =>
      (await eventsFor(ns.name, "ancient")).some((e) => e.startsWith("Warning UnsupportedRelease")),
    );
  });

  it("builds again when the spec changes, and observedGeneration follows", async () => {
    await golden.images.create(image(ns.name, "evolving"));
    const first = await phaseOf(ns.name, "evolving", "Succeeded");
    assert.equal(first.status?.observedGeneration, 1);
    await golden.images.patch(ns.name, "evolving", { spec: { formats: ["vmdk"] } });
    const second = await phaseOf(ns.name, "evolving", "Succeeded");
    assert.equal(second.metadata?.generation, 2);
    assert.equal(second.status?.observedGeneration, 2);
    assert.deepEqual(
      second.status?.artifacts?.map((a) => a.format),
      ["vmdk"],
    );
    const builds = await buildsOf(ns.name, second);
    assert.deepEqual(builds.map((b) => b.spec.imageGeneration).sort(), [1, 2]);
    const gen2 = builds.find((b) => b.spec.imageGeneration === 2);
    assert.equal(gen2?.spec.trigger, "SpecChanged");
    assert.deepEqual(
      builds.find((b) => b.spec.imageGeneration === 1)?.spec.image.formats,
      ["qcow2", "raw"],
      "history stays true",
    );
  });

  it("keeps every derived name within 63 characters for a 253-character Image name", async () => {
    const name = `${"a".repeat(120)}.${"b".repeat(132)}`;
    assert.equal(name.length, 253);
    await golden.images.create(image(ns.name, name));
    const done = await phaseOf(ns.name, name, "Succeeded");
    const [build] = await buildsOf(ns.name, done);
    assert.ok((build?.metadata?.name ?? "").length <= 63, build?.metadata?.name);
    const jobs = await batch.listNamespacedJob({
      namespace: ns.name,
      labelSelector: `golden.dev/image-uid=${done.metadata?.uid}`,
    });
    for (const job of jobs.items) assert.ok((job.metadata?.name ?? "").length <= 63);
    for (const value of Object.values(build?.metadata?.labels ?? {})) assert.ok(value.length <= 63, value);
  });

  it("leaves nothing behind when an Image is deleted", async () => {
    await golden.images.create(image(ns.name, "ephemeral"));
    const done = await phaseOf(ns.name, "ephemeral", "Succeeded");
    const uid = done.metadata?.uid ?? "";
    await golden.images.delete(ns.name, "ephemeral", { propagationPolicy: "Foreground" });
    await eventually(
      "the Image, its builds, Jobs and pods to be gone",
      async () => {
        const selector = `golden.dev/image-uid=${uid}`;
        const [img, builds, jobs, pods] = await Promise.all([
          golden.images.get(ns.name, "ephemeral"),
          golden.imageBuilds.list(ns.name, { labelSelector: selector }),
          batch.listNamespacedJob({ namespace: ns.name, labelSelector: selector }),
          core.listNamespacedPod({ namespace: ns.name, labelSelector: selector }),
        ]);
        return !img && builds.items.length + jobs.items.length + pods.items.length === 0;
      },
      60_000,
    );
  });
});

describe("restarting the operator mid-build", () => {
  let ns: { name: string; remove: () => Promise<void> };
  let operator: OperatorProcess | undefined;
  before(async () => {
    ns = await scratchNamespace("restart");
  });
  after(async () => {
    await ns.remove();
    await operator?.stop();
  });

  it("converges to exactly one successful build for the generation", async () => {
    operator = await startOperator(ns.name);
    await golden.images.create(image(ns.name, "steady", { build: { simulate: { stepSeconds: 1 } } }));
    await eventually(
      "the build to start",
      async () => (await golden.imageBuilds.list(ns.name)).items[0]?.status?.phase === "Building",
    );
    assert.equal(await operator.stop("SIGKILL"), 137);
    operator = await startOperator(ns.name);
    const done = await phaseOf(ns.name, "steady", "Succeeded");
    const builds = await buildsOf(ns.name, done);
    assert.equal(builds.length, 1, builds.map((b) => b.metadata?.name).join(", "));
    assert.equal(builds.filter((b) => b.status?.phase === "Succeeded").length, 1);
    const jobs = await batch.listNamespacedJob({ namespace: ns.name });
    assert.equal(jobs.items.length, 1, "one Job");
  });
});
