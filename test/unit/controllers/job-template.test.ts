import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Container, V1Job } from "@kubernetes/client-node";
import type { ImageBuild, ImageSpec } from "../../../src/api/v1alpha1/index.js";
import { LABELS, MANAGED_BY } from "../../../src/build/names.js";
import {
  buildJob,
  EMULATED_ANNOTATION,
  nodeArch,
  WORKER_CONTAINER,
  type WorkerConfig,
} from "../../../src/controllers/job-template.js";
import { build as fixtureBuild } from "../../support/fixtures.js";

const BUILD_NAME = "web-g2-abc123";

/** Generation 2 of Image web in team-a, with the labels the Image reconciler sets (and one more). */
function build(o: { spec?: ImageSpec; labels?: Record<string, string> } = {}): ImageBuild {
  return fixtureBuild({
    name: BUILD_NAME,
    namespace: "team-a",
    uid: "build-uid-1",
    generation: 2,
    attempt: 1,
    trigger: "SpecChanged",
    spec: o.spec ?? imageSpec(),
    labels: {
      [LABELS.image]: "web",
      [LABELS.imageUid]: "image-uid-1",
      [LABELS.generation]: "2",
      unrelated: "dropped",
      ...o.labels,
    },
  });
}

function imageSpec(overrides: Partial<ImageSpec> = {}): ImageSpec {
  return { base: { os: "ubuntu", release: "24.04", arch: "arm64" }, formats: ["qcow2"], ...overrides };
}

const cfg: WorkerConfig = {
  image: "registry.example/golden:1.2.3",
  serviceAccount: "golden-worker",
  nodeSelector: { pool: "builders" },
  tolerations: [{ key: "dedicated", operator: "Equal", value: "builds", effect: "NoSchedule" }],
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
  heartbeatSeconds: 7,
  timeoutGraceSeconds: 30,
};

function container(job: V1Job): V1Container {
  const c = job.spec?.template.spec?.containers[0];
  assert.ok(c, "a container");
  return c;
}

describe("buildJob", () => {
  const job = buildJob(build(), cfg);
  const pod = job.spec?.template.spec;

  it("is a batch/v1 Job named after the build in its namespace", () => {
    assert.equal(job.apiVersion, "batch/v1");
    assert.equal(job.kind, "Job");
    assert.equal(job.metadata?.name, BUILD_NAME);
    assert.equal(job.metadata?.namespace, "team-a");
  });

  it("is owned by the build, as its controller", () => {
    assert.deepEqual(job.metadata?.ownerReferences, [
      {
        apiVersion: "golden.dev/v1alpha1",
        kind: "ImageBuild",
        name: BUILD_NAME,
        uid: "build-uid-1",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it("never retries and stops at the build's timeout", () => {
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(pod?.restartPolicy, "Never");
    assert.equal(job.spec?.activeDeadlineSeconds, 3600, "default timeout");
    const custom = buildJob(build({ spec: imageSpec({ build: { timeoutSeconds: 120 } }) }), cfg);
    assert.equal(custom.spec?.activeDeadlineSeconds, 120);
  });

  it("expires once finished (TTL, default an hour), and an eviction does not fail it", () => {
    assert.equal(job.spec?.ttlSecondsAfterFinished, 3600);
    assert.equal(buildJob(build(), { ...cfg, finishedJobTtlSeconds: 60 }).spec?.ttlSecondsAfterFinished, 60);
    assert.deepEqual(job.spec?.podFailurePolicy?.rules, [
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
    ]);
  });

  it("is what the admission policy golden-operator-jobs admits: no volumes, host access or secrets", () => {
    assert.equal(pod?.volumes, undefined);
    assert.equal(pod?.initContainers, undefined);
    assert.equal(pod?.hostNetwork ?? false, false);
    const c = container(job);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext?.privileged, undefined);
    assert.equal(c.securityContext?.capabilities?.add, undefined);
    assert.equal(c.volumeMounts, undefined);
    assert.equal(c.ports, undefined);
    assert.ok((c.env ?? []).every((e) => e.valueFrom === undefined || e.valueFrom.fieldRef !== undefined));
  });

  it("labels Job and pod with the image, its uid, generation and build", () => {
    const expected = {
      [LABELS.managedBy]: MANAGED_BY,
      [LABELS.component]: "worker",
      [LABELS.build]: BUILD_NAME,
      [LABELS.image]: "web",
      [LABELS.imageUid]: "image-uid-1",
      [LABELS.generation]: "2",
    };
    assert.deepEqual(job.metadata?.labels, expected);
    assert.deepEqual(job.spec?.template.metadata?.labels, expected);
  });

  it("copies only the linking labels the build has", () => {
    const b = build();
    b.metadata = { ...b.metadata, labels: { [LABELS.imageUid]: "u" } };
    const labels = buildJob(b, cfg).metadata?.labels ?? {};
    assert.equal(labels[LABELS.imageUid], "u");
    assert.ok(!(LABELS.image in labels));
    assert.ok(!(LABELS.generation in labels));
  });

  it("selects nodes of the Image's arch, merged with the configured selector", () => {
    assert.deepEqual(pod?.nodeSelector, { "kubernetes.io/arch": "arm64", pool: "builders" });
    const amd = buildJob(build({ spec: imageSpec({ base: { os: "debian", release: "12" } }) }), cfg);
    assert.equal(amd.spec?.template.spec?.nodeSelector?.["kubernetes.io/arch"], "amd64", "default arch");
    const bare = buildJob(build(), { ...cfg, nodeSelector: {} });
    assert.deepEqual(bare.spec?.template.spec?.nodeSelector, { "kubernetes.io/arch": "arm64" });
  });

  it("runs arm64 natively unless arm64Placement is emulated", () => {
    assert.equal(job.metadata?.annotations, undefined, "native: no emulation mark");
    assert.ok(!container(job).env?.some((e) => e.name === "GOLDEN_EMULATED_ON"));
    const native = buildJob(build(), { ...cfg, arm64Placement: "native" });
    assert.equal(native.spec?.template.spec?.nodeSelector?.["kubernetes.io/arch"], "arm64");
  });

  it("runs an arm64 build on amd64 nodes when emulated, and says so", () => {
    const emu = buildJob(build(), { ...cfg, arm64Placement: "emulated" });
    assert.deepEqual(emu.spec?.template.spec?.nodeSelector, {
      "kubernetes.io/arch": "amd64",
      pool: "builders",
    });
    assert.equal(emu.metadata?.annotations?.[EMULATED_ANNOTATION], "arm64-on-amd64");
    assert.equal(emu.spec?.template.metadata?.annotations?.[EMULATED_ANNOTATION], "arm64-on-amd64");
    assert.deepEqual(
      container(emu).env?.find((e) => e.name === "GOLDEN_EMULATED_ON"),
      { name: "GOLDEN_EMULATED_ON", value: "amd64" },
    );
    const amd = buildJob(
      build({ spec: imageSpec({ base: { os: "debian", release: "12", arch: "amd64" } }) }),
      {
        ...cfg,
        arm64Placement: "emulated",
      },
    );
    assert.equal(amd.spec?.template.spec?.nodeSelector?.["kubernetes.io/arch"], "amd64");
    assert.equal(amd.metadata?.annotations, undefined, "amd64 is never emulated");
  });

  it("nodeArch maps only arm64 under emulated placement", () => {
    assert.deepEqual(nodeArch("arm64", "emulated"), { arch: "amd64", emulated: true });
    assert.deepEqual(nodeArch("arm64", "native"), { arch: "arm64", emulated: false });
    assert.deepEqual(nodeArch("arm64"), { arch: "arm64", emulated: false });
    assert.deepEqual(nodeArch("amd64", "emulated"), { arch: "amd64", emulated: false });
  });

  it("uses the configured tolerations, service account and resources", () => {
    assert.deepEqual(pod?.tolerations, cfg.tolerations);
    assert.equal(pod?.serviceAccountName, "golden-worker");
    assert.deepEqual(container(job).resources, cfg.resources);
    assert.equal(container(job).image, cfg.image);
    assert.equal(container(job).name, WORKER_CONTAINER);
  });

  it("meets Pod Security 'restricted'", () => {
    const psc = pod?.securityContext;
    assert.equal(psc?.runAsNonRoot, true);
    assert.equal(psc?.seccompProfile?.type, "RuntimeDefault");
    assert.ok(psc?.runAsUser === undefined || psc.runAsUser > 0, "non-root uid");
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      const sc = c.securityContext;
      assert.equal(sc?.allowPrivilegeEscalation, false, c.name);
      assert.deepEqual(sc?.capabilities?.drop, ["ALL"], c.name);
      assert.ok(!sc?.capabilities?.add?.length, c.name);
      assert.notEqual(sc?.privileged, true, c.name);
      assert.notEqual(sc?.runAsNonRoot, false, c.name);
      assert.ok(sc?.runAsUser === undefined || sc.runAsUser > 0, c.name);
      const profile = sc?.seccompProfile?.type;
      assert.ok(profile === undefined || profile === "RuntimeDefault" || profile === "Localhost", c.name);
    }
    assert.ok(!pod?.hostNetwork && !pod?.hostPID && !pod?.hostIPC);
    assert.ok(!pod?.volumes?.some((v) => v.hostPath), "no hostPath volumes");
  });

  it("runs golden-worker for this build", () => {
    const c = container(job);
    assert.deepEqual(c.command, ["golden-worker"]);
    assert.deepEqual(c.args, ["--build-name", BUILD_NAME, "--build-namespace", "team-a"]);
    assert.deepEqual(c.env, [{ name: "GOLDEN_HEARTBEAT_SECONDS", value: "7" }]);
    assert.equal(pod?.containers.length, 1);
  });

  it("is a pure function of build and config", () => {
    assert.deepEqual(buildJob(build(), cfg), buildJob(structuredClone(build()), structuredClone(cfg)));
  });
});
