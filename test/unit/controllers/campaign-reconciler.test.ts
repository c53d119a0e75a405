// CampaignReconciler as a unit: fake caches, a client that records the campaign's status writes
// and the Images it annotates.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GoldenClient } from "../../../src/api/client.js";
import type {
  BaseImage,
  Image,
  ImageBuild,
  RebuildCampaign,
  RebuildCampaignStatus,
} from "../../../src/api/v1alpha1/index.js";
import { ANNOTATIONS, LABELS } from "../../../src/build/names.js";
import { CampaignReconciler } from "../../../src/controllers/campaign-reconciler.js";
import { BUILDS_BY_IMAGE_UID } from "../../../src/controllers/image-reconciler.js";
import { nopLogger } from "../../../src/runtime/logger.js";
import { baseImage, lookupOf } from "../../support/catalog.js";
import { FakeInformer } from "../../support/fake-informer.js";
import { build, image } from "../../support/fixtures.js";

const BASE = baseImage("ubuntu", "24.04", "r2");

function campaign(
  spec: Partial<RebuildCampaign["spec"]> = {},
  status?: RebuildCampaignStatus,
): RebuildCampaign {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "RebuildCampaign",
    metadata: { name: "c2", creationTimestamp: new Date("2026-12-01T10:00:00Z"), generation: 1 },
    spec: { baseImage: BASE.metadata?.name ?? "", revision: "r2", maxInFlight: 2, maxFailures: 1, ...spec },
    ...(status ? { status } : {}),
  };
}

function built(name: string, revision: string, spec: Partial<Image["spec"]> = {}): Image {
  return image({
    name,
    spec,
    status: {
      phase: "Succeeded",
      lastSuccessfulBuild: `${name}-b0`,
      baseImage: BASE.metadata?.name,
      baseRevision: revision,
    },
  });
}

function harness(images: Image[], c: RebuildCampaign, others: RebuildCampaign[] = []) {
  const campaigns = new FakeInformer<RebuildCampaign>();
  campaigns.put(c, ...others);
  const imageCache = new FakeInformer<Image>();
  for (const i of images) imageCache.put(i);
  const builds = new FakeInformer<ImageBuild>({
    [BUILDS_BY_IMAGE_UID]: (b) => [b.metadata?.labels?.[LABELS.imageUid] ?? ""],
  });
  const bases = new FakeInformer<BaseImage>();
  bases.put(BASE);
  const statuses: RebuildCampaignStatus[] = [];
  const annotated: string[] = [];
  const client = {
    rebuildCampaigns: {
      patchStatusIfCurrent: async (obj: RebuildCampaign, status: RebuildCampaignStatus) => {
        statuses.push(structuredClone(status));
        const next = { ...obj, status };
        campaigns.put(next);
        return next;
      },
    },
    images: {
      patch: async (
        _ns: string,
        name: string,
        patch: { metadata: { annotations: Record<string, string> } },
      ) => {
        annotated.push(`${name}=${patch.metadata.annotations[ANNOTATIONS.campaign]}`);
        return {};
      },
    },
  } as unknown as GoldenClient;
  const reconciler = new CampaignReconciler({
    campaigns,
    bases,
    images: imageCache,
    builds,
    catalog: lookupOf([BASE]),
    client,
    events: { record: () => undefined },
    log: nopLogger,
    selected: () => true,
  });
  return { reconciler, statuses, annotated, builds, images: imageCache, campaigns };
}

describe("CampaignReconciler", () => {
  it("writes the preview first, paused: nothing is annotated", async () => {
    const h = harness(
      [
        built("web", "r1"),
        built("db", "r1"),
        built("fresh", "r2"),
        image({ name: "kid", spec: { base: { image: "web" } } }),
      ],
      campaign({ paused: true }),
    );
    await h.reconciler.reconcile("c2");
    const [status] = h.statuses;
    assert.equal(status?.phase, "AwaitingApproval");
    assert.deepEqual(
      status?.targets?.map((t) => `${t.name}:${t.depth}:${t.state}`),
      ["db:0:Pending", "web:0:Pending", "kid:1:Pending"],
    );
    assert.equal(status?.total, 3);
    assert.deepEqual(h.annotated, []);
    await h.reconciler.reconcile("c2");
    assert.deepEqual(h.annotated, [], "still paused");
    assert.equal(h.statuses.at(-1)?.phase, "AwaitingApproval");
  });

  it("once running, annotates at most maxInFlight Images, parents before children", async () => {
    const h = harness(
      [
        built("a", "r1"),
        built("b", "r1"),
        built("c", "r1"),
        image({ name: "kid", spec: { base: { image: "a" } } }),
      ],
      campaign(),
    );
    await h.reconciler.reconcile("c2"); // preview
    await h.reconciler.reconcile("c2");
    assert.deepEqual(h.annotated, ["a=c2", "b=c2"]);
    assert.equal(h.statuses.at(-1)?.inFlight, 2);
    assert.ok(h.statuses.at(-1)?.startTime);

    // a's campaign build succeeds and a's status names it: c (next root) and kid may start.
    h.builds.put(
      build({ name: "a-b1", imageName: "a", uid: "uid-a", status: { phase: "Succeeded" } }) as ImageBuild,
    );
    const aBuild = h.builds.get("default/a-b1") as ImageBuild;
    aBuild.spec.campaign = "c2";
    aBuild.metadata = {
      ...aBuild.metadata,
      labels: { ...aBuild.metadata?.labels, [LABELS.imageUid]: "uid-a" },
    };
    h.builds.put(aBuild);
    h.images.put({
      ...built("a", "r2"),
      status: { ...built("a", "r2").status, lastSuccessfulBuild: "a-b1" },
    });
    await h.reconciler.reconcile("c2");
    assert.deepEqual(h.annotated, ["a=c2", "b=c2", "c=c2"], "one slot freed: the next in order is c");
    const targets = h.statuses.at(-1)?.targets ?? [];
    assert.equal(targets.find((t) => t.name === "a")?.state, "Succeeded");
    assert.equal(targets.find((t) => t.name === "kid")?.state, "Pending", "waits for a slot");
  });

  it("halts after maxFailures", async () => {
    const h = harness([built("a", "r1"), built("b", "r1"), built("c", "r1")], campaign({ maxInFlight: 1 }));
    await h.reconciler.reconcile("c2");
    await h.reconciler.reconcile("c2");
    const failed = build({
      name: "a-b1",
      imageName: "a",
      status: { phase: "Failed", message: "boom" },
    }) as ImageBuild;
    failed.spec.campaign = "c2";
    failed.metadata = {
      ...failed.metadata,
      labels: { ...failed.metadata?.labels, [LABELS.imageUid]: "uid-a" },
    };
    h.builds.put(failed);
    await h.reconciler.reconcile("c2");
    const last = h.statuses.at(-1);
    assert.equal(last?.phase, "Halted");
    assert.equal(last?.failed, 1);
    assert.equal(last?.pending, 2);
    assert.deepEqual(h.annotated, ["a=c2"]);
    assert.match(last?.targets?.[0]?.reason ?? "", /BuildFailed: boom/);
  });

  it("a newer campaign of the same base supersedes it", async () => {
    const newer: RebuildCampaign = {
      ...campaign(),
      metadata: { name: "c3", creationTimestamp: new Date("2026-12-01T11:00:00Z") },
      spec: { baseImage: BASE.metadata?.name ?? "", revision: "r3" },
    };
    const h = harness([built("a", "r1")], campaign({}, { phase: "Running", targets: [] }), [newer]);
    await h.reconciler.reconcile("c2");
    assert.equal(h.statuses.at(-1)?.phase, "Superseded");
    assert.equal(h.statuses.at(-1)?.supersededBy, "c3");
    assert.deepEqual(h.annotated, []);
  });
});
