import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { Image, ImageBuild } from "../../../src/api/v1alpha1/index.js";
import { controllingBuildUid, jobOutcome } from "../../../src/build/job.js";
import { LABELS } from "../../../src/build/names.js";
import {
  LAST_APPLIED_ANNOTATION,
  slimImage,
  slimImageBuild,
  slimJob,
  slimPod,
} from "../../../src/controllers/cache-transforms.js";
import { SchedulerState } from "../../../src/scheduler/state.js";
import { build, job, lcg, pick, pod } from "../scheduler/fixtures.js";

describe("informer cache transforms", () => {
  it("keeps of a Job what jobOutcome and controllingBuildUid read, not its pod template", () => {
    const owner = {
      apiVersion: "golden.dev/v1alpha1",
      kind: "ImageBuild",
      name: "b",
      uid: "u-build",
      controller: true,
      blockOwnerDeletion: true,
    };
    const job: V1Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name: "b",
        namespace: "ns",
        uid: "u-job",
        resourceVersion: "7",
        creationTimestamp: "2026-12-01T00:00:01Z" as unknown as Date,
        labels: { [LABELS.build]: "b" },
        managedFields: [{ manager: "kcm" }],
        ownerReferences: [{ apiVersion: "v1", kind: "Other", name: "x", uid: "u-x" }, owner],
      },
      spec: { template: { spec: { containers: [{ name: "worker", image: "golden" }] } } },
      status: {
        active: 0,
        ready: 0,
        succeeded: 0,
        conditions: [
          {
            type: "Failed",
            status: "True",
            reason: "DeadlineExceeded",
            message: "too long",
            lastProbeTime: "2026-12-01T00:00:31Z" as unknown as Date,
          },
        ],
      },
    };
    const slim = slimJob(structuredClone(job));
    assert.deepEqual(slim, {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name: "b",
        namespace: "ns",
        uid: "u-job",
        resourceVersion: "7",
        creationTimestamp: "2026-12-01T00:00:01Z",
        ownerReferences: [
          {
            apiVersion: "golden.dev/v1alpha1",
            kind: "ImageBuild",
            name: "b",
            uid: "u-build",
            controller: true,
          },
        ],
      },
      status: {
        ready: 0,
        conditions: [{ type: "Failed", status: "True", reason: "DeadlineExceeded", message: "too long" }],
      },
    });
    // What the readers conclude is what they concluded from the whole Job.
    assert.deepEqual(jobOutcome(slim), jobOutcome(job));
    assert.equal(controllingBuildUid(slim), controllingBuildUid(job));
    assert.equal(controllingBuildUid(slim), "u-build");

    const deleting = slimJob({
      metadata: { name: "b", namespace: "ns", deletionTimestamp: "t" as unknown as Date },
    });
    assert.deepEqual(deleting.metadata, {
      name: "b",
      namespace: "ns",
      uid: undefined,
      resourceVersion: undefined,
      creationTimestamp: undefined,
      deletionTimestamp: "t",
    });
    assert.equal(deleting.status, undefined);
    assert.equal(controllingBuildUid(deleting), undefined);
    assert.deepEqual(jobOutcome(deleting), { state: "active" });
  });

  it("keeps of a build pod its key, build label, controlling Job, ServiceAccount and phase, sharing spec and status", () => {
    const pod = (name: string, phase: string): V1Pod => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: "ns",
        uid: `u-${name}`,
        resourceVersion: "9",
        labels: { [LABELS.build]: "b", [LABELS.managedBy]: "golden", "job-name": "b" },
        ownerReferences: [
          {
            apiVersion: "batch/v1",
            kind: "Job",
            name: "b",
            uid: "u-job",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { serviceAccountName: "golden-worker", containers: [{ name: "worker", image: "golden" }] },
      status: { phase, podIP: "10.0.0.1" },
    });
    const a = slimPod(pod("p1", "Running"));
    assert.deepEqual(a, {
      metadata: {
        name: "p1",
        namespace: "ns",
        uid: "u-p1",
        resourceVersion: "9",
        labels: { [LABELS.build]: "b" },
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "b", uid: "u-job", controller: true }],
      },
      spec: { serviceAccountName: "golden-worker", containers: [] },
      status: { phase: "Running" },
    });
    const b = slimPod(pod("p2", "Running"));
    assert.equal(b.spec, a.spec, "one spec object for every pod of a ServiceAccount");
    assert.equal(b.status, a.status, "one status object per phase");
    assert.ok(Object.isFrozen(a.spec) && Object.isFrozen(a.status) && Object.isFrozen(a.spec?.containers));
    assert.notEqual(slimPod(pod("p3", "Succeeded")).status, a.status);
    const gone = slimPod({
      ...pod("p4", "Running"),
      metadata: { name: "p4", deletionTimestamp: "t" as unknown as Date },
    });
    assert.equal(gone.metadata?.labels, undefined);
    assert.equal(gone.metadata?.deletionTimestamp, "t");
  });

  it("keeps what placement, priority and timeouts need of a build's spec snapshot", () => {
    const build: ImageBuild = {
      apiVersion: "golden.dev/v1alpha1",
      kind: "ImageBuild",
      metadata: { name: "b", namespace: "ns", managedFields: [{ manager: "golden" }] },
      spec: {
        imageName: "web",
        imageGeneration: 2,
        attempt: 1,
        trigger: "Created",
        image: {
          base: { os: "ubuntu", release: "24.04", arch: "arm64" },
          formats: ["qcow2"],
          build: { priority: 5, timeoutSeconds: 60 },
          customizations: { packages: ["nginx"] },
        },
      },
      status: {
        phase: "Building",
        progress: { step: "install", stepIndex: 2, totalSteps: 5, percent: 40 },
        heartbeatTime: "2026-12-01T00:00:05Z",
      },
    };
    const slim = slimImageBuild(build);
    assert.equal(slim.spec.image.customizations, undefined);
    assert.equal(slim.metadata?.managedFields, undefined);
    assert.deepEqual(slim.spec.image.base, { os: "ubuntu", release: "24.04", arch: "arm64" });
    assert.deepEqual(slim.spec.image.build, { priority: 5, timeoutSeconds: 60 });
    assert.equal(slim.spec.imageGeneration, 2);
    assert.equal(slim.status?.phase, "Building");
    assert.equal(slim.status?.heartbeatTime, "2026-12-01T00:00:05Z");
    assert.equal(slim.status?.progress, undefined, "the worker's progress report is for users");
  });

  it("keeps an Image whole but for managedFields and kubectl's last-applied copy", () => {
    const spec: Image["spec"] = {
      base: { os: "ubuntu", release: "24.04", arch: "amd64" },
      formats: ["qcow2"],
      customizations: { packages: ["nginx"] },
    };
    const image: Image = {
      apiVersion: "golden.dev/v1alpha1",
      kind: "Image",
      metadata: {
        name: "web",
        namespace: "ns",
        uid: "u1",
        generation: 3,
        labels: { team: "a" },
        annotations: {
          [LAST_APPLIED_ANNOTATION]: JSON.stringify({ spec }),
          "golden.dev/rebuild": "t1",
        },
        managedFields: [{ manager: "kubectl" }],
      },
      spec,
      status: { phase: "Succeeded", observedGeneration: 3 },
    };
    const slim = slimImage(structuredClone(image));
    assert.equal(slim.metadata?.managedFields, undefined);
    assert.deepEqual(slim.metadata?.annotations, { "golden.dev/rebuild": "t1" });
    assert.deepEqual(slim.spec, image.spec);
    assert.deepEqual(slim.status, image.status);
    assert.deepEqual(slim.metadata?.labels, { team: "a" });
    assert.equal(slim.metadata?.generation, 3);

    const onlyApplied = slimImage({
      ...structuredClone(image),
      metadata: { name: "web", annotations: { [LAST_APPLIED_ANNOTATION]: "{}" } },
    });
    assert.equal(onlyApplied.metadata?.annotations, undefined);
  });

  it("leaves the scheduler's decisions as the whole objects make them", () => {
    // The same random history of builds, Jobs and pods, fed whole to one state and slimmed (as
    // cached) to another: every slot, count and waiting list agrees after every event.
    const rand = lcg(18);
    const full = new SchedulerState({ workerServiceAccount: "golden-worker" });
    const slim = new SchedulerState({ workerServiceAccount: "golden-worker" });
    const names = ["b1", "b2", "b3", "b4", "b5"];
    const namespaces = ["a", "b"];
    const phases = ["Queued", "Building", "Succeeded", "Failed"] as const;
    for (let step = 0; step < 400; step++) {
      const ns = pick(namespaces, rand);
      const name = pick(names, rand);
      const r = rand();
      if (r < 0.3) {
        const b = build(ns, name, { phase: pick(phases, rand), started: 1, created: step });
        full.observeBuild(structuredClone(b));
        slim.observeBuild(slimImageBuild(structuredClone(b)));
      } else if (r < 0.5) {
        const j = job(ns, name, rand() < 0.5);
        full.observeJob(structuredClone(j));
        slim.observeJob(slimJob(structuredClone(j)));
      } else if (r < 0.55) {
        full.forgetJob(`${ns}/${name}`);
        slim.forgetJob(`${ns}/${name}`);
      } else if (r < 0.85) {
        const p = pod(ns, name, pick(["Pending", "Running", "Succeeded", "Failed"], rand));
        if (rand() < 0.2) p.spec = { serviceAccountName: "default", containers: [] };
        full.observePod(structuredClone(p));
        slim.observePod(slimPod(structuredClone(p)));
      } else {
        const p = pod(ns, name, "Running");
        full.forgetPod(structuredClone(p));
        slim.forgetPod(slimPod(structuredClone(p)));
      }
      for (const n of namespaces)
        for (const b of names)
          assert.equal(slim.slotOf(`${n}/${b}`), full.slotOf(`${n}/${b}`), `step ${step}`);
      assert.deepEqual(slim.inFlight(), full.inFlight());
      assert.deepEqual(slim.waiting(), full.waiting());
    }
  });
});
