import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job } from "@kubernetes/client-node";
import type { Image, ImageBuild } from "../../../src/api/v1alpha1/index.js";
import {
  LAST_APPLIED_ANNOTATION,
  slimImage,
  slimImageBuild,
  slimJob,
} from "../../../src/controllers/cache-transforms.js";

describe("informer cache transforms", () => {
  it("keeps a Job's metadata and status, not its pod template", () => {
    const job: V1Job = {
      metadata: { name: "b", namespace: "ns", managedFields: [{ manager: "kcm" }], ownerReferences: [] },
      spec: { template: { spec: { containers: [{ name: "worker", image: "golden" }] } } },
      status: { active: 1, conditions: [{ type: "Complete", status: "True" }] },
    };
    const slim = slimJob(job);
    assert.equal(slim.spec, undefined);
    assert.equal(slim.metadata?.managedFields, undefined);
    assert.deepEqual(slim.metadata?.ownerReferences, []);
    assert.deepEqual(slim.status, { active: 1, conditions: [{ type: "Complete", status: "True" }] });
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
      status: { phase: "Building" },
    };
    const slim = slimImageBuild(build);
    assert.equal(slim.spec.image.customizations, undefined);
    assert.equal(slim.metadata?.managedFields, undefined);
    assert.deepEqual(slim.spec.image.base, { os: "ubuntu", release: "24.04", arch: "arm64" });
    assert.deepEqual(slim.spec.image.build, { priority: 5, timeoutSeconds: 60 });
    assert.equal(slim.spec.imageGeneration, 2);
    assert.equal(slim.status?.phase, "Building");
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
});
