import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CampaignTarget, Image, RebuildCampaign } from "../../../src/api/v1alpha1/index.js";
import {
  type Candidate,
  countTargets,
  isFinished,
  nextWave,
  planTargets,
  supersededBy,
} from "../../../src/build/campaign.js";
import { ANNOTATIONS } from "../../../src/build/names.js";
import { image } from "../../support/fixtures.js";

/** An Image on the campaign's base, built on `revision` (undefined: never built). */
function onBase(
  name: string,
  revision: string | undefined,
  o: { namespace?: string; optOut?: boolean } = {},
): Candidate {
  return {
    image: image({
      name,
      namespace: o.namespace ?? "ns",
      spec: o.optOut ? { rebuild: { onBaseUpdate: "Never" } } : {},
    }),
    onBase: true,
    revision,
  };
}

function child(name: string, parent: string, o: { namespace?: string; optOut?: boolean } = {}): Candidate {
  return {
    image: image({
      name,
      namespace: o.namespace ?? "ns",
      spec: { base: { image: parent }, ...(o.optOut ? { rebuild: { onBaseUpdate: "Never" } } : {}) },
    }),
    onBase: false,
    revision: "r1",
  };
}

const other: Candidate = {
  image: image({ name: "elsewhere", namespace: "ns" }),
  onBase: false,
  revision: "r1",
};

const summary = (targets: CampaignTarget[]) =>
  targets.map((t) => `${t.namespace}/${t.name}:${t.depth}:${t.state}`);

describe("planTargets (the preview)", () => {
  it("lists the Images on the base not yet on the revision, then their children level by level", () => {
    const targets = planTargets(
      [
        child("grandchild", "kid"),
        onBase("web", "r1"),
        other,
        child("kid", "web"),
        onBase("db", "r1", { namespace: "data" }),
        onBase("fresh", "r2"),
        onBase("never-built", undefined),
        child("kid-of-fresh", "fresh"),
      ],
      "r2",
    );
    assert.deepEqual(summary(targets), [
      "data/db:0:Pending",
      "ns/web:0:Pending",
      "ns/kid:1:Pending",
      "ns/grandchild:2:Pending",
    ]);
    assert.equal(targets[1]?.currentRevision, "r1");
    assert.equal(targets[2]?.parent, "web");
    assert.equal(targets[2]?.currentRevision, undefined, "a child's revision is its parent's business");
  });

  it("keeps children in their parent's namespace", () => {
    const targets = planTargets(
      [onBase("web", "r1", { namespace: "a" }), child("kid", "web", { namespace: "b" })],
      "r2",
    );
    assert.deepEqual(summary(targets), ["a/web:0:Pending"]);
  });

  it("lists opted-out Images as Skipped, and the Images below them too", () => {
    const targets = planTargets(
      [
        onBase("web", "r1", { optOut: true }),
        child("kid", "web"),
        child("grandchild", "kid"),
        onBase("db", "r1"),
      ],
      "r2",
    );
    assert.deepEqual(summary(targets), [
      "ns/db:0:Pending",
      "ns/web:0:Skipped",
      "ns/kid:1:Skipped",
      "ns/grandchild:2:Skipped",
    ]);
    assert.match(targets[1]?.reason ?? "", /^OptedOut/);
    assert.match(targets[2]?.reason ?? "", /^ParentSkipped: parent web/);
  });

  it("an opted-out child is skipped while its parent rebuilds", () => {
    const targets = planTargets([onBase("web", "r1"), child("kid", "web", { optOut: true })], "r2");
    assert.deepEqual(summary(targets), ["ns/web:0:Pending", "ns/kid:1:Skipped"]);
  });

  it("lists each Image once even when the Images form a cycle", () => {
    const targets = planTargets(
      [onBase("web", "r1"), child("a", "web"), child("b", "a"), child("web2", "b")],
      "r2",
    );
    assert.deepEqual(summary(targets), [
      "ns/web:0:Pending",
      "ns/a:1:Pending",
      "ns/b:2:Pending",
      "ns/web2:3:Pending",
    ]);
  });

  it("is empty when nothing depends on the base", () => {
    assert.deepEqual(planTargets([other], "r2"), []);
  });
});

function t(name: string, state: CampaignTarget["state"], parent?: string): CampaignTarget {
  return { namespace: "ns", name, state, depth: parent ? 1 : 0, ...(parent ? { parent } : {}) };
}

describe("nextWave", () => {
  const limits = { maxInFlight: 2, maxFailures: 3 };

  it("starts Pending targets in order up to maxInFlight, counting those in flight", () => {
    const targets = [t("a", "InFlight"), t("b", "Pending"), t("c", "Pending"), t("d", "Pending")];
    assert.deepEqual(nextWave(targets, limits), { start: [1], skip: [], halted: false });
    assert.deepEqual(nextWave(targets, { ...limits, maxInFlight: 10 }).start, [1, 2, 3]);
  });

  it("starts nothing while maxInFlight builds run", () => {
    const targets = [t("a", "InFlight"), t("b", "InFlight"), t("c", "Pending")];
    assert.deepEqual(nextWave(targets, limits).start, []);
  });

  it("starts a child only once its parent succeeded and the parent's Image names that build", () => {
    const targets = [t("web", "InFlight"), t("kid", "Pending", "web"), t("db", "Pending")];
    assert.deepEqual(nextWave(targets, limits).start, [2], "the child waits, the next root goes");
    targets[0] = { ...t("web", "Succeeded"), build: "web-b" };
    assert.deepEqual(nextWave(targets, limits, () => false).start, [2], "parent's status not caught up yet");
    assert.deepEqual(nextWave(targets, limits, (p) => p.build === "web-b").start, [1, 2]);
  });

  it("a child waits for its parent without taking a slot", () => {
    const targets = [t("web", "InFlight"), t("kid", "Pending", "web"), t("db", "Pending"), t("x", "Pending")];
    assert.deepEqual(nextWave(targets, limits).start, [2]);
  });

  it("skips the children of a failed or skipped parent, and theirs in the same pass", () => {
    const targets: CampaignTarget[] = [
      t("web", "Failed"),
      t("kid", "Pending", "web"),
      { ...t("grandchild", "Pending", "kid"), depth: 2 },
      t("opt", "Skipped"),
      t("optkid", "Pending", "opt"),
    ];
    const wave = nextWave(targets, limits);
    assert.deepEqual(
      wave.skip.map((s) => s.index),
      [1, 2, 4],
    );
    assert.match(wave.skip[0]?.reason ?? "", /^ParentNotRebuilt: parent web/);
    assert.deepEqual(wave.start, []);
  });

  it("halts at maxFailures: nothing starts, though skips are still recorded", () => {
    const targets = [
      t("a", "Failed"),
      t("b", "Failed"),
      t("c", "Failed"),
      t("d", "Pending"),
      t("kid", "Pending", "a"),
    ];
    const wave = nextWave(targets, limits);
    assert.equal(wave.halted, true);
    assert.deepEqual(wave.start, []);
    assert.deepEqual(
      wave.skip.map((s) => s.index),
      [4],
    );
    assert.equal(nextWave(targets.slice(1), limits).halted, false, "two failures of three allowed");
  });

  it("never plans more than maxInFlight for any mix of states", () => {
    const states: CampaignTarget["state"][] = ["Pending", "InFlight", "Succeeded", "Failed", "Skipped"];
    for (let seed = 0; seed < 500; seed++) {
      const targets = Array.from({ length: 12 }, (_, i) =>
        t(`i${i}`, states[(seed * 7 + i * i * 3) % 5] ?? "Pending"),
      );
      for (const maxInFlight of [1, 2, 5]) {
        const wave = nextWave(targets, { maxInFlight, maxFailures: 100 });
        const inFlight = countTargets(targets).inFlight;
        assert.ok(wave.start.length + inFlight <= Math.max(maxInFlight, inFlight), `seed ${seed}`);
        for (const i of wave.start) assert.equal(targets[i]?.state, "Pending");
      }
    }
  });
});

describe("countTargets", () => {
  it("counts states and namespaces", () => {
    const targets = [
      t("a", "Pending"),
      t("b", "InFlight"),
      t("c", "Succeeded"),
      t("d", "Failed"),
      t("e", "Skipped"),
      { ...t("f", "Succeeded"), namespace: "other" },
    ];
    assert.deepEqual(countTargets(targets), {
      total: 6,
      namespaces: 2,
      pending: 1,
      inFlight: 1,
      succeeded: 2,
      failed: 1,
      skipped: 1,
    });
  });
});

function campaign(
  name: string,
  base: string,
  openedAt: string,
  o: Partial<RebuildCampaign> = {},
): RebuildCampaign {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "RebuildCampaign",
    metadata: {
      name,
      creationTimestamp: new Date(`${openedAt.slice(0, 19)}Z`),
      annotations: { [ANNOTATIONS.openedAt]: openedAt },
    },
    spec: { baseImage: base, revision: name },
    ...o,
  };
}

describe("supersededBy", () => {
  const r2 = campaign("r2", "ubuntu-24.04-amd64", "2026-12-01T10:00:00.100Z");
  const r3 = campaign("r3", "ubuntu-24.04-amd64", "2026-12-01T10:00:00.900Z");
  const debian = campaign("d9", "debian-12-amd64", "2026-12-01T11:00:00.000Z");

  it("the newest campaign of the same base supersedes the others, to the millisecond", () => {
    assert.equal(supersededBy(r2, [r2, r3, debian])?.metadata?.name, "r3");
    assert.equal(supersededBy(r3, [r2, r3, debian]), undefined);
    assert.equal(supersededBy(debian, [r2, r3, debian]), undefined, "other bases do not count");
  });

  it("ignores campaigns being deleted", () => {
    const going = { ...r3, metadata: { ...r3.metadata, deletionTimestamp: new Date() } };
    assert.equal(supersededBy(r2, [r2, going]), undefined);
  });

  it("breaks a tie by name, so every replica agrees", () => {
    const x = campaign("x", "b", "2026-12-01T10:00:00.000Z");
    const y = campaign("y", "b", "2026-12-01T10:00:00.000Z");
    assert.equal(supersededBy(x, [x, y])?.metadata?.name, "y");
    assert.equal(supersededBy(y, [x, y]), undefined);
  });
});

describe("isFinished", () => {
  it("is true for Completed, Halted and Superseded only", () => {
    for (const phase of ["Completed", "Halted", "Superseded"] as const)
      assert.ok(isFinished(campaign("c", "b", "2026-12-01T00:00:00Z", { status: { phase } })));
    for (const phase of ["AwaitingApproval", "Paused", "Running"] as const)
      assert.ok(!isFinished(campaign("c", "b", "2026-12-01T00:00:00Z", { status: { phase } })));
    assert.ok(!isFinished(campaign("c", "b", "2026-12-01T00:00:00Z")));
  });
});

describe("lineage", async () => {
  const { ancestry } = await import("../../../src/build/lineage.js");
  const images = new Map<string, Image>();
  const put = (name: string, parent?: string) =>
    images.set(name, image({ name, spec: parent ? { base: { image: parent } } : {} }));
  put("root");
  put("mid", "root");
  put("leaf", "mid");
  put("loop-a", "loop-b");
  put("loop-b", "loop-a");
  put("orphan", "gone");
  const lookup = (n: string) => images.get(n);

  it("walks up to the Image on a catalog base", () => {
    const a = ancestry(images.get("leaf") as Image, lookup);
    assert.equal(a.root?.metadata?.name, "root");
    assert.deepEqual(a.problem === undefined ? a.parents.map((p) => p.metadata?.name) : [], ["mid", "root"]);
    assert.equal(ancestry(images.get("root") as Image, lookup).root?.metadata?.name, "root");
  });

  it("reports a cycle with the path walked", () => {
    const a = ancestry(images.get("loop-a") as Image, lookup);
    assert.equal(a.problem, "Cycle");
    assert.deepEqual(a.problem && a.path, ["loop-a", "loop-b", "loop-a"]);
  });

  it("reports a missing ancestor", () => {
    const a = ancestry(images.get("orphan") as Image, lookup);
    assert.equal(a.problem, "NotFound");
    assert.equal(a.problem && a.missing, "gone");
  });
});
