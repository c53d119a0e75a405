// One finished build's objects as the apiserver serves them (an Image, its ImageBuild, Job and pod,
// with server-set metadata and managedFields), made by golden's own code (buildJob,
// succeededStatus, deriveImageStatus) so the cache footprint measured from them follows golden.
import type { V1Job, V1ManagedFieldsEntry, V1Pod } from "@kubernetes/client-node";
import { API_VERSION, type Image, type ImageBuild } from "../../src/api/v1alpha1/index.js";
import { buildName, FINALIZER, imageLabelValue, LABELS, MANAGED_BY } from "../../src/build/names.js";
import { LAST_APPLIED_ANNOTATION } from "../../src/controllers/cache-transforms.js";
import { deriveImageStatus } from "../../src/controllers/image-status.js";
import { buildJob, type WorkerConfig } from "../../src/controllers/job-template.js";
import { ownerReference } from "../../src/controllers/owner.js";
import { succeededStatus } from "../../src/worker/build.js";
import { ARTIFACT_REPOSITORY, benchImageSpec } from "./golden.js";

export interface BuildObjects {
  image: Image;
  build: ImageBuild;
  job: V1Job;
  pod: V1Pod;
}

/** Deterministic uids, so each object can be regenerated alone and still point at the others. */
const uid = (kind: number, i: number) => `0000000${kind}-0000-4000-8000-${String(i).padStart(12, "0")}`;

const T0 = Date.parse("2026-12-01T00:00:00Z");
/**
 * Timestamps s seconds after the i-th Image was created. Each Image is created a second after the
 * one before, so no two Images' timestamps are equal (as in a cluster: the caches' string
 * interning must not gain from a coincidence of the data).
 */
function clock(i: number) {
  const iso = (s: number) => new Date(T0 + (i + s) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  /** A built-in's timestamp as the wire (and golden's caches) carry it: a string, though client-node's types say Date. */
  const at = (s: number) => iso(s) as unknown as Date;
  return { iso, at };
}

/** What the apiserver records for each writer (one entry per manager and subresource). */
function managedFields(at: (s: number) => Date, managers: [string, string?][]): V1ManagedFieldsEntry[] {
  return managers.map(([manager, subresource]) => ({
    manager,
    operation: "Update",
    apiVersion: "v1",
    time: at(5),
    fieldsType: "FieldsV1",
    fieldsV1: {
      "f:metadata": { "f:labels": { ".": {}, "f:golden.dev/managed-by": {} } },
      ...(subresource
        ? { "f:status": { ".": {}, "f:phase": {}, "f:message": {}, "f:conditions": {} } }
        : { "f:spec": { ".": {}, "f:base": {}, "f:formats": {} } }),
    },
    ...(subresource ? { subresource } : {}),
  }));
}

/** The i-th Image of `namespace` after a successful build, with its build, Job and pod. */
export function syntheticBuild(namespace: string, i: number, worker: WorkerConfig): BuildObjects {
  const { iso, at } = clock(i);
  const spec = benchImageSpec(1);
  const name = `img-${String(i).padStart(5, "0")}`;
  const imageMeta = {
    name,
    namespace,
    uid: uid(1, i),
    resourceVersion: String(100_000 + 4 * i),
    generation: 1,
    creationTimestamp: at(0),
    labels: { "golden.dev/bench": "true" },
    // Created with `kubectl apply`, as the README shows: kubectl keeps a copy of what it applied.
    annotations: {
      [LAST_APPLIED_ANNOTATION]: `${JSON.stringify({ apiVersion: API_VERSION, kind: "Image", metadata: { name, namespace }, spec })}\n`,
    },
    managedFields: managedFields(at, [["kubectl-client-side-apply"], ["golden-operator", "status"]]),
  };
  const image: Image = { apiVersion: API_VERSION, kind: "Image", metadata: imageMeta, spec };
  const bName = buildName({ imageName: name, imageUid: imageMeta.uid, generation: 1, attempt: 1 });
  const build: ImageBuild = {
    apiVersion: API_VERSION,
    kind: "ImageBuild",
    metadata: {
      name: bName,
      namespace,
      uid: uid(2, i),
      resourceVersion: String(100_001 + 4 * i),
      generation: 1,
      creationTimestamp: at(0),
      labels: {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.image]: imageLabelValue(name),
        [LABELS.imageUid]: imageMeta.uid,
        [LABELS.generation]: "1",
      },
      annotations: { "golden.dev/image-name": name, "golden.dev/queued-at": iso(0) },
      ownerReferences: [ownerReference(image)],
      finalizers: [FINALIZER],
      managedFields: managedFields(at, [
        ["golden-operator"],
        ["golden-operator", "status"],
        ["golden-worker", "status"],
      ]),
    },
    spec: {
      imageName: name,
      imageGeneration: 1,
      attempt: 1,
      trigger: "Created",
      image: spec,
      inputs: { baseImage: "ubuntu-24.04-amd64", baseRevision: "20261201" },
    },
    status: {
      ...succeededStatus(spec, ARTIFACT_REPOSITORY),
      startTime: iso(1),
      completionTime: iso(6),
      heartbeatTime: iso(6),
      conditions: [
        {
          type: "Admitted",
          status: "True",
          reason: "Admitted",
          message: "admitted: capacity free",
          lastTransitionTime: iso(1),
        },
        {
          type: "Succeeded",
          status: "True",
          reason: "BuildSucceeded",
          message: "built 1 artifact: qcow2",
          lastTransitionTime: iso(6),
        },
      ],
    },
  };
  image.status = deriveImageStatus({ image, builds: [build], now: new Date(T0 + (i + 6) * 1000) });
  const job = buildJob(build, worker);
  const jobMeta = {
    ...job.metadata,
    uid: uid(3, i),
    resourceVersion: String(100_002 + 4 * i),
    generation: 1,
    creationTimestamp: at(1),
    managedFields: managedFields(at, [["golden-operator"], ["kube-controller-manager", "status"]]),
  };
  job.metadata = jobMeta;
  job.status = {
    startTime: at(1),
    completionTime: at(31),
    succeeded: 1,
    ready: 0,
    terminating: 0,
    uncountedTerminatedPods: {},
    conditions: [
      { type: "SuccessCriteriaMet", status: "True", lastProbeTime: at(31), lastTransitionTime: at(31) },
      { type: "Complete", status: "True", lastProbeTime: at(31), lastTransitionTime: at(31) },
    ] as never,
  };
  const template = job.spec?.template;
  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${bName}-${String(i % 100_000).padStart(5, "x")}`,
      namespace,
      uid: uid(4, i),
      resourceVersion: String(100_003 + 4 * i),
      creationTimestamp: at(1),
      labels: { ...template?.metadata?.labels, "batch.kubernetes.io/job-name": bName, "job-name": bName },
      ownerReferences: [
        {
          apiVersion: "batch/v1",
          kind: "Job",
          name: bName,
          uid: jobMeta.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      finalizers: ["batch.kubernetes.io/job-tracking"],
      managedFields: managedFields(at, [["kube-controller-manager"], ["kwok", "status"]]),
    },
    spec: { ...template?.spec, nodeName: "golden-bench-kwok-0" } as V1Pod["spec"],
    status: {
      phase: "Succeeded",
      podIP: "10.0.0.1",
      hostIP: "10.0.0.2",
      startTime: at(1),
      conditions: [{ type: "Ready", status: "False", reason: "PodCompleted", lastTransitionTime: at(31) }],
    } as V1Pod["status"],
  };
  return { image, build, job, pod };
}
