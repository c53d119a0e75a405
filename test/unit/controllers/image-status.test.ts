import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Artifact, Condition, ImageStatus } from "../../../src/api/v1alpha1/index.js";
import { deriveImageStatus } from "../../../src/controllers/image-status.js";
import { build, image } from "../../support/fixtures.js";

const NOW = new Date("2025-06-01T12:00:00.000Z");
const EARLIER = "2025-06-01T10:00:00.000Z";
/** Builds are created a minute apart from 09:00. */
const minute = (m: number) => new Date(Date.UTC(2025, 5, 1, 9, m));

function artifact(tag: string): Artifact {
  return {
    format: "qcow2",
    location: `s3://bucket/${tag}.qcow2`,
    digest: `sha256:${tag.padEnd(64, "0")}`,
    sizeBytes: 1,
  };
}

function ready(status: ImageStatus): Condition {
  const list = status.conditions?.filter((c) => c.type === "Ready") ?? [];
  assert.equal(list.length, 1, "exactly one Ready condition");
  return list[0] as Condition;
}

describe("deriveImageStatus", () => {
  it("is Pending without builds", () => {
    const s = deriveImageStatus({ image: image({ generation: 1 }), builds: [], now: NOW });
    assert.equal(s.phase, "Pending");
    assert.equal(s.observedGeneration, 1);
    assert.equal(s.message, "waiting for a build to be created");
    const r = ready(s);
    assert.equal(r.status, "False");
    assert.equal(r.reason, "BuildPending");
    assert.equal(r.observedGeneration, 1);
    assert.equal(r.lastTransitionTime, NOW.toISOString());
    for (const key of ["latestBuild", "lastSuccessfulBuild", "artifacts"] as const) {
      assert.ok(!(key in s), `${key} absent`);
    }
  });

  it("is Building for a build that waits for a slot, that runs, or that has no verdict yet", () => {
    const scheduled: Condition = {
      type: "Scheduled",
      status: "False",
      reason: "ClusterLimitReached",
      message: "cluster limit 2 reached",
      lastTransitionTime: EARLIER,
    };
    const progress = { step: "install-packages", stepIndex: 2, totalSteps: 6, percent: 33 };
    const statuses = [
      undefined,
      { phase: "Pending" as const },
      { phase: "Queued" as const, conditions: [scheduled] },
      { phase: "Building" as const },
      { phase: "Building" as const, progress },
    ];
    const derived = statuses.map((status) =>
      deriveImageStatus({
        image: image({ generation: 1 }),
        builds: [build({ name: "web-g1-aaaaaa", generation: 1, created: minute(0), status, attempt: 1 })],
        now: NOW,
      }),
    );
    for (const s of derived) {
      assert.equal(s.phase, "Building");
      assert.equal(
        s.message,
        "build web-g1-aaaaaa in progress (kubectl get imagebuild web-g1-aaaaaa shows whether it waits for a slot or runs)",
      );
      assert.equal(ready(s).reason, "BuildInProgress");
      assert.equal(ready(s).status, "False");
      assert.equal(ready(s).message, s.message);
      assert.equal(s.latestBuild, "web-g1-aaaaaa");
    }
    // The same status whatever the queue or the worker does: no Image write until the build ends.
    assert.equal(new Set(derived.map((s) => JSON.stringify(s))).size, 1);
  });

  it("is Succeeded and Ready with the newest successful build's artifacts", () => {
    const old = build({
      name: "b1",
      generation: 1,
      created: minute(0),
      status: { phase: "Succeeded", artifacts: [artifact("old")] },
      attempt: 1,
    });
    const fresh = build({
      name: "b2",
      generation: 1,
      created: minute(5),
      status: { phase: "Succeeded", artifacts: [artifact("new"), artifact("new2")] },
      attempt: 1,
    });
    const s = deriveImageStatus({ image: image({ generation: 1 }), builds: [fresh, old], now: NOW });
    assert.equal(s.phase, "Succeeded");
    const r = ready(s);
    assert.equal(r.status, "True");
    assert.equal(r.reason, "BuildSucceeded");
    assert.deepEqual(s.artifacts, [artifact("new"), artifact("new2")]);
    assert.equal(s.lastSuccessfulBuild, "b2");
    assert.equal(s.latestBuild, "b2");
    assert.equal(s.message, "build b2 succeeded");
  });

  it("uses the build's own message when it succeeded with one", () => {
    const b = build({
      name: "b1",
      generation: 1,
      created: minute(0),
      status: {
        phase: "Succeeded",
        message: "built 2 artifacts",
        artifacts: [artifact("a")],
      },
      attempt: 1,
    });
    const s = deriveImageStatus({ image: image({ generation: 1 }), builds: [b], now: NOW });
    assert.equal(s.message, "built 2 artifacts");
  });

  it("is Failed with reason BuildFailed when the newest build failed", () => {
    const b = build({
      name: "b1",
      generation: 1,
      created: minute(0),
      status: { phase: "Failed", failedStep: "configure" },
      attempt: 1,
    });
    const s = deriveImageStatus({ image: image({ generation: 1 }), builds: [b], now: NOW });
    assert.equal(s.phase, "Failed");
    assert.equal(ready(s).reason, "BuildFailed");
    assert.equal(ready(s).status, "False");
    assert.equal(s.message, "build b1 failed: step configure failed");
    const withMessage = build({
      name: "b1",
      generation: 1,
      created: minute(0),
      status: { phase: "Failed", message: "disk full" },
      attempt: 1,
    });
    assert.equal(
      deriveImageStatus({ image: image({ generation: 1 }), builds: [withMessage], now: NOW }).message,
      "build b1 failed: disk full",
    );
  });

  it("is Queued with reason RetryPending when a failed build will be retried", () => {
    const retryAt = new Date("2025-06-01T12:00:20.000Z");
    const b = build({
      name: "b1",
      generation: 1,
      created: minute(0),
      status: { phase: "Failed", failedStep: "publish" },
      attempt: 2,
    });
    const s = deriveImageStatus({ image: image({ generation: 1 }), builds: [b], retryAt, now: NOW });
    assert.equal(s.phase, "Queued");
    assert.equal(ready(s).reason, "RetryPending");
    assert.equal(ready(s).status, "False");
    assert.equal(s.message, `attempt 2 failed (step publish failed); retrying at ${retryAt.toISOString()}`);
  });

  it("is Failed with reason BuildCancelled when the newest build was cancelled", () => {
    const s = deriveImageStatus({
      image: image({ generation: 1 }),
      builds: [
        build({ name: "b1", generation: 1, created: minute(0), status: { phase: "Cancelled" }, attempt: 1 }),
      ],
      now: NOW,
    });
    assert.equal(s.phase, "Failed");
    assert.equal(ready(s).reason, "BuildCancelled");
    assert.equal(s.message, "build b1 was cancelled");
  });

  it("stays Ready while a rebuild of the same generation runs, fails, is cancelled or awaits its retry", () => {
    const done = build({
      name: "r1",
      generation: 1,
      created: minute(0),
      status: { phase: "Succeeded", artifacts: [artifact("r1")] },
      attempt: 1,
    });
    const rebuild = (status: NonNullable<Parameters<typeof build>[0]>["status"]) =>
      build({ name: "r2", generation: 1, created: minute(1), status, attempt: 1 });
    const retryAt = new Date("2025-06-01T12:00:20.000Z");
    const cases: [NonNullable<Parameters<typeof build>[0]>["status"], Date | undefined, string, string][] = [
      [{ phase: "Building" }, undefined, "Building", "Rebuilding"],
      [{ phase: "Failed", failedStep: "configure" }, undefined, "Failed", "RebuildFailed"],
      [{ phase: "Cancelled" }, undefined, "Failed", "RebuildCancelled"],
      [{ phase: "Failed", failedStep: "configure" }, retryAt, "Queued", "RetryPending"],
    ];
    for (const [status, retry, phase, reason] of cases) {
      const s = deriveImageStatus({
        image: image({ generation: 1 }),
        builds: [done, rebuild(status)],
        retryAt: retry,
        now: NOW,
      });
      assert.equal(s.phase, phase, reason);
      assert.equal(ready(s).status, "True", reason);
      assert.equal(ready(s).reason, reason);
      assert.match(ready(s).message, /build r1's artifacts stay available$/);
      assert.deepEqual(s.artifacts, [artifact("r1")]);
      assert.equal(s.latestBuild, "r2");
    }
  });

  it("is not Ready while a new generation builds: the artifacts it has are of the old spec", () => {
    const s = deriveImageStatus({
      image: image({ generation: 2 }),
      builds: [
        build({ name: "g1", generation: 1, created: minute(0), status: { phase: "Succeeded" }, attempt: 1 }),
        build({ name: "g2", generation: 2, created: minute(1), status: { phase: "Building" }, attempt: 1 }),
      ],
      now: NOW,
    });
    assert.equal(ready(s).status, "False");
    assert.equal(ready(s).reason, "BuildInProgress");
    const problem = deriveImageStatus({
      image: image({ generation: 1 }),
      builds: [
        build({ name: "g1", generation: 1, created: minute(0), status: { phase: "Succeeded" }, attempt: 1 }),
      ],
      problem: { reason: "BaseEndOfLife", field: "spec.base", message: "spec.base: past its end of life" },
      now: NOW,
    });
    assert.equal(ready(problem).status, "False", "a spec problem is not Ready, artifacts or not");
  });

  it("is Failed with the problem's reason and message when the spec has a problem", () => {
    const problem = {
      reason: "UnsupportedRelease",
      field: "spec.base.release",
      message: "spec.base.release: ubuntu 14.04 is not a release golden can build",
    };
    const ok = build({
      name: "b1",
      generation: 1,
      created: minute(0),
      status: { phase: "Succeeded", artifacts: [artifact("a")] },
      attempt: 1,
    });
    for (const builds of [[], [ok]]) {
      const s = deriveImageStatus({ image: image({ generation: 1 }), builds, problem, now: NOW });
      assert.equal(s.phase, "Failed");
      assert.equal(ready(s).reason, "UnsupportedRelease");
      assert.equal(ready(s).status, "False");
      assert.equal(ready(s).message, problem.message);
      assert.equal(s.message, problem.message);
    }
  });

  it("sets observedGeneration from metadata.generation", () => {
    const s = deriveImageStatus({
      image: image({ generation: 7, status: { observedGeneration: 6 } }),
      builds: [],
      now: NOW,
    });
    assert.equal(s.observedGeneration, 7);
    assert.equal(ready(s).observedGeneration, 7);
  });

  it("only builds of the current generation decide the phase", () => {
    const oldOk = build({
      name: "g1",
      generation: 1,
      created: minute(0),
      status: { phase: "Succeeded", artifacts: [artifact("g1")] },
      attempt: 1,
    });
    // Generation 2 has no build yet: Pending, but the generation-1 artifacts stay available.
    const pending = deriveImageStatus({ image: image({ generation: 2 }), builds: [oldOk], now: NOW });
    assert.equal(pending.phase, "Pending");
    assert.equal(ready(pending).status, "False");
    assert.equal(pending.lastSuccessfulBuild, "g1");
    assert.deepEqual(pending.artifacts, [artifact("g1")]);
    assert.equal(pending.latestBuild, "g1", "latestBuild falls back to the newest build of any generation");

    // A newer build of an older generation (e.g. a late-finishing one) does not decide the phase.
    const current = build({
      name: "g2",
      generation: 2,
      created: minute(1),
      status: { phase: "Building" },
      attempt: 1,
    });
    const lateOld = build({
      name: "g1-late",
      generation: 1,
      created: minute(2),
      status: { phase: "Failed" },
      attempt: 1,
    });
    const s = deriveImageStatus({
      image: image({ generation: 2 }),
      builds: [lateOld, current, oldOk],
      now: NOW,
    });
    assert.equal(s.phase, "Building");
    assert.equal(s.latestBuild, "g2");
    assert.equal(s.lastSuccessfulBuild, "g1");
    assert.deepEqual(s.artifacts, [artifact("g1")]);
  });

  it("a success of the previous generation does not make the current one Ready", () => {
    const oldOk = build({
      name: "g1",
      generation: 1,
      created: minute(0),
      status: { phase: "Succeeded", artifacts: [artifact("g1")] },
      attempt: 1,
    });
    const failed = build({
      name: "g2",
      generation: 2,
      created: minute(1),
      status: { phase: "Failed", message: "boom" },
      attempt: 1,
    });
    const s = deriveImageStatus({ image: image({ generation: 2 }), builds: [oldOk, failed], now: NOW });
    assert.equal(s.phase, "Failed");
    assert.equal(ready(s).status, "False");
    assert.equal(s.lastSuccessfulBuild, "g1");
  });

  it("the newest build of the current generation decides, across attempts", () => {
    const a1 = build({
      name: "a1",
      generation: 1,
      created: minute(0),
      status: { phase: "Failed" },
      attempt: 1,
    });
    const a2 = build({
      name: "a2",
      generation: 1,
      created: minute(1),
      status: { phase: "Succeeded", artifacts: [artifact("a2")] },
      attempt: 2,
    });
    const s = deriveImageStatus({ image: image({ generation: 1 }), builds: [a2, a1], now: NOW });
    assert.equal(s.phase, "Succeeded");
    assert.equal(s.latestBuild, "a2");
  });

  it("keeps lastTransitionTime while Ready does not flip, and moves it when it flips", () => {
    const previous: ImageStatus = {
      phase: "Queued",
      conditions: [
        { type: "Ready", status: "False", reason: "Queued", message: "q", lastTransitionTime: EARLIER },
      ],
    };
    const building = deriveImageStatus({
      image: image({ generation: 1, status: previous }),
      builds: [
        build({ name: "b1", generation: 1, created: minute(0), status: { phase: "Building" }, attempt: 1 }),
      ],
      now: NOW,
    });
    assert.equal(ready(building).lastTransitionTime, EARLIER);
    assert.equal(ready(building).reason, "BuildInProgress", "reason and message update without a flip");

    const done = deriveImageStatus({
      image: image({ generation: 1, status: building }),
      builds: [
        build({ name: "b1", generation: 1, created: minute(0), status: { phase: "Succeeded" }, attempt: 1 }),
      ],
      now: NOW,
    });
    assert.equal(ready(done).status, "True");
    assert.equal(ready(done).lastTransitionTime, NOW.toISOString());

    const later = new Date(NOW.getTime() + 60_000);
    const still = deriveImageStatus({
      image: image({ generation: 1, status: done }),
      builds: [
        build({ name: "b1", generation: 1, created: minute(0), status: { phase: "Succeeded" }, attempt: 1 }),
      ],
      now: later,
    });
    assert.equal(ready(still).lastTransitionTime, NOW.toISOString());

    const back = deriveImageStatus({
      image: image({ generation: 2, status: still }),
      builds: [
        build({ name: "b1", generation: 1, created: minute(0), status: { phase: "Succeeded" }, attempt: 1 }),
      ],
      now: later,
    });
    assert.equal(ready(back).status, "False");
    assert.equal(ready(back).lastTransitionTime, later.toISOString());
  });

  it("keeps unrelated fields and conditions once the build leaves the queue", () => {
    const other: Condition = {
      type: "Other",
      status: "True",
      reason: "X",
      message: "",
      lastTransitionTime: EARLIER,
    };
    const previous: ImageStatus = {
      phase: "Queued",
      lastScheduleTime: EARLIER,
      artifacts: [artifact("stale")],
      lastSuccessfulBuild: "gone",
      conditions: [other],
    };
    const s = deriveImageStatus({
      image: image({ generation: 1, status: previous }),
      builds: [
        build({ name: "b1", generation: 1, created: minute(0), status: { phase: "Building" }, attempt: 1 }),
      ],
      now: NOW,
    });
    assert.ok(!("artifacts" in s), "artifacts follow the builds, not the old status");
    assert.ok(!("lastSuccessfulBuild" in s));
    assert.equal(s.lastScheduleTime, EARLIER);
    assert.deepEqual(
      s.conditions?.map((c) => c.type),
      ["Other", "Ready", "UpToDate"],
    );
    assert.deepEqual(s.conditions?.[0], other);
  });

  it("does not modify the image or the builds", () => {
    const previous: ImageStatus = {
      phase: "Queued",
      conditions: [
        { type: "Ready", status: "False", reason: "Queued", message: "", lastTransitionTime: EARLIER },
      ],
    };
    const img = image({ generation: 1, status: previous });
    const builds = [
      build({ name: "b2", generation: 1, created: minute(1), status: { phase: "Succeeded" }, attempt: 1 }),
      build({ name: "b1", generation: 1, created: minute(0), status: { phase: "Failed" }, attempt: 1 }),
    ];
    const imgCopy = structuredClone(img);
    const buildsCopy = structuredClone(builds);
    deriveImageStatus({ image: img, builds, now: NOW });
    assert.deepEqual(img, imgCopy);
    assert.deepEqual(builds, buildsCopy);
  });

  it("is a pure function of its inputs", () => {
    const builds = [
      build({
        name: "b1",
        generation: 1,
        created: minute(0),
        status: { phase: "Succeeded", artifacts: [artifact("x")] },
        attempt: 1,
      }),
    ];
    assert.deepEqual(
      deriveImageStatus({ image: image({ generation: 1 }), builds, now: NOW }),
      deriveImageStatus({ image: image({ generation: 1 }), builds: structuredClone(builds), now: NOW }),
    );
  });
});

describe("deriveImageStatus: base inputs and UpToDate", () => {
  const upToDate = (s: ImageStatus) => s.conditions?.find((c) => c.type === "UpToDate");
  const success = build({
    name: "b1",
    generation: 1,
    created: minute(0),
    status: { phase: "Succeeded", inputs: { baseImage: "ubuntu-24.04-amd64", baseRevision: "r1" } },
    attempt: 1,
  });

  it("reports the newest success's base and the verdict it is given", () => {
    const s = deriveImageStatus({
      image: image({ generation: 1 }),
      builds: [success],
      now: NOW,
      upToDate: { ok: false, reason: "BaseUpdated", message: "catalog at r2" },
    });
    assert.equal(s.baseImage, "ubuntu-24.04-amd64");
    assert.equal(s.baseRevision, "r1");
    assert.equal(upToDate(s)?.status, "False");
    assert.equal(upToDate(s)?.reason, "BaseUpdated");
  });

  it("is Unknown before the first success, and names an unresolvable base", () => {
    const none = deriveImageStatus({ image: image({ generation: 1 }), builds: [], now: NOW });
    assert.equal(upToDate(none)?.status, "Unknown");
    assert.equal(upToDate(none)?.reason, "NotBuilt");
    const problem = { reason: "UnsupportedRelease", field: "spec.base.release", message: "no" };
    const unresolved = deriveImageStatus({ image: image({ generation: 1 }), builds: [], now: NOW, problem });
    assert.equal(upToDate(unresolved)?.reason, "BaseUnresolved");
    const schedule = { reason: "InvalidSchedule", field: "spec.rebuild.schedule", message: "no" };
    assert.equal(
      upToDate(
        deriveImageStatus({ image: image({ generation: 1 }), builds: [], now: NOW, problem: schedule }),
      )?.reason,
      "NotBuilt",
    );
  });

  it("sets BaseDeprecated while the base is deprecated and drops it after", () => {
    const deprecated = deriveImageStatus({
      image: image({ generation: 1 }),
      builds: [success],
      now: NOW,
      deprecated: "BaseImage x is deprecated",
    });
    assert.equal(deprecated.conditions?.find((c) => c.type === "BaseDeprecated")?.status, "True");
    const after = deriveImageStatus({
      image: image({ generation: 1, status: deprecated }),
      builds: [success],
      now: NOW,
    });
    assert.equal(
      after.conditions?.find((c) => c.type === "BaseDeprecated"),
      undefined,
    );
  });

  it("a layered Image waiting for its parent is Pending with WaitingForParent", () => {
    const s = deriveImageStatus({
      image: image({ generation: 1 }),
      builds: [],
      now: NOW,
      waiting: "waiting for parent",
    });
    assert.equal(s.phase, "Pending");
    assert.equal(ready(s).reason, "WaitingForParent");
  });
});
