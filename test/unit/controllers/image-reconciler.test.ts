// ImageReconciler as a unit: fake informers hold the Image and its builds, a recording API takes
// the writes, and each case checks the writes the reconciler sends (and the Events it records).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  Image,
  ImageBuild,
  ImageBuildStatus,
  ImageStatus,
  ImageVersion,
  RebuildCampaign,
  RebuildCampaignStatus,
} from "../../../src/api/v1alpha1/index.js";
import { ANNOTATIONS, buildName, FINALIZER, LABELS } from "../../../src/build/names.js";
import type { EventInput } from "../../../src/controllers/events.js";
import {
  BUILDS_BY_IMAGE_UID,
  CREATED_BUILD_GRACE_MS,
  IMAGE_QUEUE_PRIORITY,
  ImageReconciler,
  imageOutcomePriority,
  imageQueuePriority,
  VERSION_WAIT_MS,
} from "../../../src/controllers/image-reconciler.js";
import { VERSIONS_BY_IMAGE_UID, versionIndexers } from "../../../src/controllers/version-reconciler.js";
import { objectKey } from "../../../src/runtime/keys.js";
import { nopLogger } from "../../../src/runtime/logger.js";
import { lookupOf, shippedCatalog } from "../../support/catalog.js";
import { FakeInformer } from "../../support/fake-informer.js";
import { BASE_TIME, build, image } from "../../support/fixtures.js";
import { RecordingApi, type Write } from "../../support/recording-api.js";

const NOW = new Date(BASE_TIME + 3_600_000);

/** What a recorded write sent. */
function bodyOf<T>(write: Write | undefined): T {
  assert.ok(write, "the write was sent");
  return write.body as T;
}

/** A reconciler over fake caches; `sync` copies what the API holds back into them (the watch). */
function harness(opts: { now?: () => Date } = {}) {
  const api = new RecordingApi();
  const images = new FakeInformer<Image>();
  const builds = new FakeInformer<ImageBuild>({
    [BUILDS_BY_IMAGE_UID]: (b) => [b.metadata?.labels?.[LABELS.imageUid] ?? ""],
  });
  const versions = new FakeInformer<ImageVersion>(versionIndexers);
  const events: EventInput[] = [];
  const campaigns = new FakeInformer<RebuildCampaign>();
  const reconciler = new ImageReconciler({
    images,
    builds,
    versions,
    versionsByImageIndex: VERSIONS_BY_IMAGE_UID,
    client: api.golden,
    events: { record: (_obj, event) => events.push(event) },
    log: nopLogger,
    catalog: lookupOf(shippedCatalog()),
    campaigns,
    now: opts.now ?? (() => NOW),
  });
  const add = {
    image(img: Image): Image {
      api.seed("images", img);
      return images.put(
        api.get<Image>("images", img.metadata?.namespace ?? "", img.metadata?.name ?? "") as Image,
      );
    },
    build(b: ImageBuild): ImageBuild {
      api.seed("imagebuilds", b);
      const stored = api.get<ImageBuild>("imagebuilds", b.metadata?.namespace ?? "", b.metadata?.name ?? "");
      return builds.put(stored as ImageBuild);
    },
  };
  const sync = () => {
    for (const img of images.list()) {
      const stored = api.get<Image>("images", img.metadata?.namespace ?? "", img.metadata?.name ?? "");
      if (stored) images.put(structuredClone(stored));
    }
    for (const w of api.sent()) {
      if (w.resource !== "imagebuilds") continue;
      const stored = api.get<ImageBuild>("imagebuilds", w.namespace, w.name);
      if (stored) builds.put(structuredClone(stored));
      else builds.remove({ metadata: { namespace: w.namespace, name: w.name } } as ImageBuild);
    }
  };
  const reconcile = (img: Image) => reconciler.reconcile(objectKey(img), nopLogger);
  return { api, images, builds, versions, events, add, sync, reconcile, reconciler, campaigns };
}

/** A build of `img` as the reconciler names and labels it. */
function buildOf(
  img: Image,
  o: { attempt?: number; minutesAgo: number; status?: ImageBuildStatus; triggerId?: string },
) {
  const meta = img.metadata ?? {};
  const created = new Date(NOW.getTime() - o.minutesAgo * 60_000);
  return build({
    name: buildName({
      imageName: meta.name ?? "",
      imageUid: meta.uid ?? "",
      generation: meta.generation ?? 1,
      attempt: o.attempt ?? 1,
      triggerId: o.triggerId,
    }),
    namespace: meta.namespace,
    imageName: meta.name,
    generation: meta.generation,
    attempt: o.attempt ?? 1,
    created,
    labels: { [LABELS.imageUid]: meta.uid ?? "" },
    annotations: {
      [ANNOTATIONS.queuedAt]: created.toISOString(),
      ...(o.triggerId ? { [ANNOTATIONS.trigger]: o.triggerId } : {}),
    },
    status: o.status,
  });
}

const succeeded: ImageBuildStatus = {
  phase: "Succeeded",
  message: "built 1 artifact: qcow2",
  artifacts: [
    { format: "qcow2", location: "oci://x/ubuntu-24.04-amd64.qcow2", digest: "sha256:ab", sizeBytes: 1 },
  ],
};

describe("ImageReconciler", () => {
  it("creates one build for a new Image: named, labelled, owned, with the artifacts finalizer", async () => {
    const h = harness();
    const img = h.add.image(image({ name: "web", uid: "uid-web" }));
    const result = await h.reconcile(img);

    const [create, status, ...rest] = h.api.sent();
    assert.deepEqual(rest, [], "two writes: the build with its inputs, then the Image's status naming it");
    assert.deepEqual(bodyOf<ImageBuild>(create).spec.inputs, {
      baseImage: "ubuntu-24.04-amd64",
      baseRevision: "20261201",
    });
    assert.equal(create?.verb, "create");
    assert.equal(create?.resource, "imagebuilds");
    const created = create?.body as ImageBuild;
    assert.equal(
      created.metadata?.name,
      buildName({ imageName: "web", imageUid: "uid-web", generation: 1, attempt: 1 }),
    );
    assert.equal(created.metadata?.labels?.[LABELS.imageUid], "uid-web");
    assert.equal(created.metadata?.annotations?.[ANNOTATIONS.queuedAt], NOW.toISOString());
    assert.deepEqual(created.metadata?.finalizers, [FINALIZER]);
    assert.equal(created.metadata?.ownerReferences?.[0]?.uid, "uid-web");
    assert.equal(created.metadata?.ownerReferences?.[0]?.controller, true);
    assert.deepEqual(created.spec, {
      imageName: "web",
      imageGeneration: 1,
      attempt: 1,
      trigger: "Created",
      image: img.spec,
      inputs: { baseImage: "ubuntu-24.04-amd64", baseRevision: "20261201" },
    });
    // The Image says Building at once, whether the scheduler admits the build or queues it: the
    // queue never costs the Image a write.
    assert.equal(status?.verb, "replaceStatus");
    const written = bodyOf<Image>(status).status;
    assert.equal(written?.phase, "Building");
    assert.equal(written?.latestBuild, created.metadata?.name);
    assert.deepEqual(h.events, [], "a start is in status; Events are for outcomes and problems");
    assert.equal(result, undefined, "nothing to come back for");
  });

  it("never creates a generation's build twice: a second pass over the same caches writes nothing new", async () => {
    const h = harness();
    const img = h.add.image(image());
    await h.reconcile(img);
    h.sync();
    const before = h.api.sent().length;
    await h.reconcile(img);
    assert.deepEqual(
      h.api
        .sent()
        .slice(before)
        .filter((w) => w.verb === "create"),
      [],
    );
  });

  it("a pass before its new build reaches the cache neither creates it again nor rewrites the status", async () => {
    const h = harness();
    const img = h.add.image(image({ name: "web" }));
    await h.reconcile(img);
    assert.equal(h.api.sent().length, 2, "the build, then the Image's status naming it");
    // The Image's update event (its status) comes first: the build cache does not have the build yet.
    const written = h.images.put(structuredClone(h.api.get<Image>("images", "default", "web") as Image));
    await h.reconcile(written);
    assert.equal(h.api.sent().length, 2, "no second create (409), no status written without the build");
    h.sync(); // The build's add event.
    await h.reconcile(h.images.get("default/web") as Image);
    assert.equal(h.api.sent().length, 2);
  });

  it("stops standing in for its new build once the build is deleted or the grace has passed", async () => {
    let now = NOW;
    const h = harness({ now: () => now });
    const img = h.add.image(image({ name: "web" }));
    await h.reconcile(img);
    const created = h.api.get<ImageBuild>(
      "imagebuilds",
      "default",
      h.api.sent()[0]?.name ?? "",
    ) as ImageBuild;
    const stored = () => h.images.put(structuredClone(h.api.get<Image>("images", "default", "web") as Image));
    // Deleted (by hand) before the cache ever had it: its delete event forgets it.
    h.api.remove("imagebuilds", "default", created.metadata?.name ?? "");
    h.reconciler.forgetBuild(created);
    await h.reconcile(stored());
    assert.equal(h.api.sent("create").length, 2, "the generation's build is made again");
    // One the cache never shows (its add and delete both missed by a relist) counts for the grace only.
    h.api.remove("imagebuilds", "default", created.metadata?.name ?? "");
    await h.reconcile(stored());
    assert.equal(h.api.sent("create").length, 2, "within the grace, the build it created still counts");
    now = new Date(NOW.getTime() + CREATED_BUILD_GRACE_MS);
    await h.reconcile(stored());
    assert.equal(h.api.sent("create").length, 3);
  });

  it("mirrors a succeeded build into status with a guarded replace, and records one Event", async () => {
    const h = harness();
    const img = h.add.image(image({ status: { phase: "Building" } }));
    const b = h.add.build(buildOf(img, { minutesAgo: 5, status: succeeded }));
    await h.reconcile(img);

    const [write, ...rest] = h.api.sent();
    assert.deepEqual(rest, []);
    assert.equal(write?.verb, "replaceStatus");
    const sent = write?.body as Image;
    assert.equal(sent.metadata?.resourceVersion, img.metadata?.resourceVersion, "guarded by what was read");
    const status = sent.status as ImageStatus;
    assert.equal(status.phase, "Succeeded");
    assert.equal(status.latestBuild, b.metadata?.name);
    assert.equal(status.lastSuccessfulBuild, b.metadata?.name);
    assert.deepEqual(status.artifacts, succeeded.artifacts);
    assert.equal(status.observedGeneration, 1);
    assert.equal(status.conditions?.find((c) => c.type === "Ready")?.status, "True");
    assert.deepEqual(
      h.events.map((e) => [e.type, e.reason]),
      [["Normal", "BuildSucceeded"]],
    );

    h.sync();
    await h.reconcile(h.images.list()[0] as Image);
    assert.equal(h.api.sent().length, 1, "status already says it: no second write");
    assert.equal(h.events.length, 1);
  });

  it("writes a success and its version in one status write, with one Event naming both", async () => {
    const h = harness();
    const img = h.add.image(
      image({
        name: "web",
        spec: { channels: [{ name: "dev", promotion: "Auto" }] },
        status: { phase: "Building" },
      }),
    );
    const b = h.add.build(
      buildOf(img, { minutesAgo: 0, status: { ...succeeded, completionTime: NOW.toISOString() } }),
    );
    // The build's version is not made yet: the success waits for it instead of being written twice.
    const waiting = await h.reconcile(img);
    assert.deepEqual(h.api.sent(), [], "no write before the version");
    assert.deepEqual(waiting, { requeueAfterMs: VERSION_WAIT_MS });
    assert.equal(h.events.length, 0);

    h.versions.put(versionOf(img, b, "1.0.0"));
    await h.reconcile(img);
    const [write, ...rest] = h.api.sent();
    assert.deepEqual(rest, [], "one write: the success, its version and the channel that follows it");
    const status = bodyOf<Image>(write).status as ImageStatus;
    assert.equal(status.phase, "Succeeded");
    assert.equal(status.lastSuccessfulBuild, b.metadata?.name);
    assert.equal(status.latestVersion, "1.0.0");
    assert.deepEqual(
      status.channels?.map((c) => [c.name, c.version]),
      [["dev", "1.0.0"]],
    );
    assert.deepEqual(
      h.events.map((e) => e.reason),
      ["BuildSucceeded", "ChannelFollowed"],
      "the channel's move is recorded once the status holding it is written",
    );
    const built = h.events.filter((e) => e.reason === "BuildSucceeded");
    assert.equal(built.length, 1);
    assert.match(
      built[0]?.note ?? "",
      new RegExp(`ImageBuild ${b.metadata?.name} .*ImageVersion web-1\\.0\\.0: 1\\.0\\.0`),
    );
    assert.ok(!h.events.some((e) => e.reason === "VersionCreated"), "the version is in the build's Event");

    h.sync();
    await h.reconcile(h.images.get("default/web") as Image);
    assert.equal(h.api.sent().length, 1, "converged: no second write");
  });

  it("does not decide again on a cached Image its own status write has not reached yet (no 409 to retry)", async () => {
    const h = harness();
    const img = h.add.image(image({ name: "web", status: { phase: "Building" } }));
    h.add.build(buildOf(img, { minutesAgo: 1, status: succeeded }));
    await h.reconcile(img);
    assert.equal(h.api.sent().length, 1);
    // A build event comes back before the Image's update: the cache still has the old Image.
    h.builds.put({ ...(h.builds.list()[0] as ImageBuild), status: { ...succeeded, message: "changed" } });
    await h.reconcile(img);
    assert.equal(h.api.sent().length, 1, "no replace over the resourceVersion it already wrote over");
    h.sync(); // The update event: the cache has the written Image, and the pass runs again.
    await h.reconcile(h.images.get("default/web") as Image);
    assert.equal(h.api.sent().length, 2);
    assert.match(bodyOf<Image>(h.api.sent()[1]).status?.message ?? "", /changed/);
  });

  it("records a success without its version once the version is late, and the version in a later write", async () => {
    const h = harness();
    const img = h.add.image(image({ name: "web", status: { phase: "Building" } }));
    const finished = new Date(NOW.getTime() - VERSION_WAIT_MS - 1).toISOString();
    const b = h.add.build(
      buildOf(img, { minutesAgo: 1, status: { ...succeeded, completionTime: finished } }),
    );
    await h.reconcile(img);
    const first = bodyOf<Image>(h.api.sent()[0]).status;
    assert.equal(first?.phase, "Succeeded", "not held past VERSION_WAIT_MS");
    assert.equal(first?.latestVersion, undefined);
    h.sync();
    h.versions.put(versionOf(img, b, "1.0.0"));
    await h.reconcile(h.images.get("default/web") as Image);
    assert.equal(h.api.sent().length, 2);
    assert.equal(bodyOf<Image>(h.api.sent()[1]).status?.latestVersion, "1.0.0");
    assert.deepEqual(
      h.events.map((e) => e.reason),
      ["BuildSucceeded", "VersionCreated"],
    );
  });

  it("cancels a running build of an older generation (resourceVersion-guarded) and builds the new one", async () => {
    const h = harness();
    const old = image({ generation: 1 });
    const running = h.add.build(buildOf(old, { minutesAgo: 2, status: { phase: "Building" } }));
    const img = h.add.image(image({ generation: 2 }));
    await h.reconcile(img);

    const [cancel, create] = h.api.sent();
    assert.equal(cancel?.verb, "patchStatus");
    assert.equal(cancel?.name, running.metadata?.name);
    const patch = cancel?.body as { metadata: { resourceVersion: string }; status: ImageBuildStatus };
    assert.equal(patch.metadata.resourceVersion, running.metadata?.resourceVersion);
    assert.equal(patch.status.phase, "Cancelled");
    assert.match(patch.status.message ?? "", /generation 2 supersedes/);
    assert.equal(create?.verb, "create");
    assert.equal(bodyOf<ImageBuild>(create).spec.imageGeneration, 2);
    assert.equal(bodyOf<ImageBuild>(create).spec.trigger, "SpecChanged");
    assert.deepEqual(
      h.events.map((e) => e.reason),
      ["Superseded"],
    );
  });

  it("a build that moved on before the cancel (409) is left alone, without an Event", async () => {
    const h = harness();
    const old = image({ generation: 1 });
    h.add.build(buildOf(old, { minutesAgo: 2, status: { phase: "Building" } }));
    const img = h.add.image(image({ generation: 2 }));
    h.api.failNext("patchStatus", RecordingApi.error(409, "Conflict", "the object has been modified"));
    await h.reconcile(img);
    const cancels = h.api
      .sent("patchStatus")
      .filter((w) => bodyOf<ImageBuild>(w).status?.phase === "Cancelled");
    assert.equal(cancels.length, 1);
    assert.deepEqual(h.events, [], "no Superseded Event for a build that moved on");
  });

  it("retries a failed attempt after the backoff, as a new build with trigger Retry", async () => {
    let now = NOW;
    const h = harness({ now: () => now });
    const img = h.add.image(image({ spec: { build: { retries: 1 } } }));
    const failedAt = new Date(NOW.getTime() - 1_000).toISOString();
    h.add.build(
      buildOf(img, { minutesAgo: 3, status: { phase: "Failed", completionTime: failedAt, message: "boom" } }),
    );

    const wait = await h.reconcile(img);
    assert.equal(h.api.sent("create").length, 0, "not before the backoff");
    assert.equal(wait?.requeueAfterMs, 9_000, "10 s after the failure");
    const status = bodyOf<Image>(h.api.sent("replaceStatus")[0]).status;
    assert.equal(status?.phase, "Queued");
    assert.equal(status?.conditions?.[0]?.reason, "RetryPending");

    now = new Date(NOW.getTime() + 9_000);
    h.sync();
    await h.reconcile(h.images.list()[0] as Image);
    const [retry] = h.api.sent("create");
    assert.equal(bodyOf<ImageBuild>(retry).spec.attempt, 2);
    assert.equal(bodyOf<ImageBuild>(retry).spec.trigger, "Retry");
  });

  it("prunes finished builds past spec.historyLimits, oldest first, guarded by uid", async () => {
    const h = harness();
    const img = h.add.image(image({ spec: { historyLimits: { successful: 1 } } }));
    const triggers = ["rebuild:1", "rebuild:2", "rebuild:3"];
    const olds = triggers.map((t, i) =>
      h.add.build(buildOf(img, { minutesAgo: 30 - i, status: succeeded, triggerId: t })),
    );
    h.images.put({ ...img, metadata: { ...img.metadata, annotations: { [ANNOTATIONS.rebuild]: "3" } } });
    await h.reconcile(img);
    const deletes = h.api.sent("delete");
    assert.deepEqual(
      deletes.map((d) => d.name),
      [olds[1]?.metadata?.name, olds[0]?.metadata?.name],
    );
    assert.deepEqual(deletes[0]?.body, {
      propagationPolicy: "Background",
      preconditions: { uid: olds[1]?.metadata?.uid },
    });
  });

  it("records handled rebuild tokens and schedule slots in status, so pruning cannot bring them back", async () => {
    const h = harness();
    const slot = new Date(Date.UTC(2026, 0, 1, 3, 0));
    const img = h.add.image(
      image({ spec: { historyLimits: { successful: 1 }, rebuild: { schedule: "0 3 * * *" } } }),
    );
    const meta = img.metadata ?? {};
    // A rebuild "t1" and the schedule's 03:00 slot were built; only the newest build is kept.
    const withMarks = (status: ImageStatus | undefined, token: string): Image => ({
      ...img,
      metadata: { ...meta, creationTimestamp: new Date(0), annotations: { [ANNOTATIONS.rebuild]: token } },
      status,
    });
    const latest = h.add.build(buildOf(img, { minutesAgo: 1, status: succeeded, triggerId: `rebuild:t1` }));
    h.images.put(withMarks({ handledScheduleTime: slot.toISOString() }, "t1"));
    const clock = new Date(slot.getTime() + 30 * 60_000);
    const r = new ImageReconciler({
      images: h.images,
      builds: h.builds,
      versions: h.versions,
      versionsByImageIndex: VERSIONS_BY_IMAGE_UID,
      client: h.api.golden,
      events: { record: () => undefined },
      log: nopLogger,
      catalog: lookupOf(shippedCatalog()),
      campaigns: h.campaigns,
      now: () => clock,
    });
    await r.reconcile(objectKey(img), nopLogger);
    assert.deepEqual(h.api.sent("create"), [], "the 03:00 slot was built: its pruned build is not redone");
    const written = h.api.sent().find((w) => w.resource === "images");
    const status = bodyOf<Image>(written).status;
    assert.equal(status?.handledRebuild, "t1");
    assert.equal(status?.handledScheduleTime, slot.toISOString());
    // A newer build came later and the rebuild's own build was pruned: the mark in status keeps
    // the rebuild from running again.
    h.add.build(
      buildOf(img, { minutesAgo: 0, status: succeeded, triggerId: `schedule:${slot.toISOString()}` }),
    );
    h.builds.remove(latest);
    h.sync(); // The Image as written, marks included.
    await r.reconcile(objectKey(img), nopLogger);
    assert.deepEqual(h.api.sent("create"), [], "a handled rebuild token is not rebuilt");
  });

  it("an Image golden cannot build fails in status with the reason, and no build starts", async () => {
    const h = harness();
    const img = h.add.image(image({ spec: { base: { os: "ubuntu", release: "14.04" } } }));
    await h.reconcile(img);
    assert.equal(h.api.sent("create").length, 0);
    const status = bodyOf<Image>(h.api.sent("replaceStatus")[0]).status;
    assert.equal(status?.phase, "Failed");
    assert.equal(h.events[0]?.type, "Warning");
  });

  it("writes nothing for an Image being deleted, or gone from the cache", async () => {
    const h = harness();
    const img = h.add.image(image({ metadata: { deletionTimestamp: NOW } }));
    await h.reconcile(img);
    assert.deepEqual(h.api.sent(), []);
    assert.equal(await h.reconcile(image({ name: "never-there" })), undefined);
    assert.deepEqual(h.api.sent(), []);
  });
});

describe("ImageReconciler: catalog, layered Images and campaigns", () => {
  const CATALOG_REVISION = "20261201";
  const parentStatus = (lastSuccessfulBuild: string): ImageStatus => ({
    phase: "Succeeded",
    lastSuccessfulBuild,
    baseImage: "rocky-9-arm64",
    baseRevision: "r7",
  });

  it("a layered Image waits for its parent's first success, without a build", async () => {
    const h = harness();
    h.add.image(image({ name: "hardened", spec: { base: { os: "rocky", release: "9", arch: "arm64" } } }));
    const app = h.add.image(image({ name: "app", spec: { base: { image: "hardened" } } }));
    await h.reconcile(app);
    assert.equal(h.api.sent("create").length, 0);
    const status = bodyOf<Image>(h.api.sent("replaceStatus")[0]).status;
    assert.equal(status?.phase, "Pending");
    assert.equal(status?.conditions?.find((c) => c.type === "Ready")?.reason, "WaitingForParent");
  });

  it("a layered Image builds on its parent's newest success, on its root's OS and arch", async () => {
    const h = harness();
    h.add.image(
      image({
        name: "hardened",
        spec: { base: { os: "rocky", release: "9", arch: "arm64" } },
        status: parentStatus("hardened-g1-x"),
      }),
    );
    const app = h.add.image(image({ name: "app", spec: { base: { image: "hardened" } } }));
    await h.reconcile(app);
    const [create] = h.api.sent();
    const created = bodyOf<ImageBuild>(create);
    assert.deepEqual(created.spec.rootBase, { os: "rocky", release: "9", arch: "arm64" });
    assert.deepEqual(created.spec.inputs, {
      parentImage: "hardened",
      parentBuild: "hardened-g1-x",
      baseImage: "rocky-9-arm64",
      baseRevision: "r7",
    });
  });

  it("a layered Image does not build on a revoked parent version: the newest usable one, else it waits", async () => {
    /** Parent "hardened" whose newest success is g2-y, with versions 1.0.0 (g1-x) and 1.1.0 (g2-y). */
    const scene = (revoked: string[]) => {
      const h = harness();
      const parent = h.add.image(
        image({
          name: "hardened",
          spec: { base: { os: "rocky", release: "9", arch: "arm64" } },
          status: parentStatus("hardened-g2-y"),
        }),
      );
      for (const [b, v] of [
        ["hardened-g1-x", "1.0.0"],
        ["hardened-g2-y", "1.1.0"],
      ] as const) {
        const version = versionOf(parent, build({ name: b }), v);
        if (v === "1.0.0")
          version.spec.inputs = { ...version.spec.inputs, baseImage: "rocky-9-arm64", baseRevision: "r6" };
        if (revoked.includes(v)) version.revocation = { reason: `CVE in ${v}` };
        h.versions.put(version);
      }
      return { h, app: h.add.image(image({ name: "app", spec: { base: { image: "hardened" } } })) };
    };

    const newestRevoked = scene(["1.1.0"]);
    await newestRevoked.h.reconcile(newestRevoked.app);
    assert.deepEqual(bodyOf<ImageBuild>(newestRevoked.h.api.sent("create")[0]).spec.inputs, {
      parentImage: "hardened",
      parentBuild: "hardened-g1-x",
      baseImage: "rocky-9-arm64",
      baseRevision: "r6",
    });

    // Every version revoked: no build, and the Image says why.
    const allRevoked = scene(["1.0.0", "1.1.0"]);
    await allRevoked.h.reconcile(allRevoked.app);
    assert.equal(allRevoked.h.api.sent("create").length, 0);
    const status = bodyOf<Image>(allRevoked.h.api.sent("replaceStatus")[0]).status;
    const ready = status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.reason, "WaitingForParent");
    assert.match(ready?.message ?? "", /parent Image hardened: its newest, 1\.1\.0, is revoked/);
  });

  it("refuses a cycle the apiserver could not see, and a missing parent", async () => {
    const h = harness();
    const a = h.add.image(image({ name: "a", spec: { base: { image: "b" } } }));
    h.add.image(image({ name: "b", spec: { base: { image: "a" } } }));
    const orphan = h.add.image(image({ name: "orphan", spec: { base: { image: "gone" } } }));
    await h.reconcile(a);
    await h.reconcile(orphan);
    assert.equal(h.api.sent("create").length, 0);
    const [cycle, missing] = h.api.sent("replaceStatus").map((w) => bodyOf<Image>(w).status);
    assert.equal(cycle?.conditions?.find((c) => c.type === "Ready")?.reason, "BaseCycle");
    assert.match(cycle?.message ?? "", /spec\.base\.image: .*a -> b -> a/);
    assert.equal(missing?.conditions?.find((c) => c.type === "Ready")?.reason, "ParentNotFound");
    assert.equal(missing?.message, "spec.base.image: parent Image gone does not exist in namespace default");
  });

  it("UpToDate follows the catalog: False with BaseUpdated once the revision moved on", async () => {
    const h = harness();
    const img = h.add.image(image());
    h.add.build(
      buildOf(img, {
        minutesAgo: 5,
        status: { ...succeeded, inputs: { baseImage: "ubuntu-24.04-amd64", baseRevision: "old" } },
      }),
    );
    await h.reconcile(img);
    const status = bodyOf<Image>(h.api.sent("replaceStatus")[0]).status;
    const upToDate = status?.conditions?.find((c) => c.type === "UpToDate");
    assert.equal(upToDate?.status, "False");
    assert.equal(upToDate?.reason, "BaseUpdated");
    assert.match(upToDate?.message ?? "", new RegExp(`revision old.*at revision ${CATALOG_REVISION}`));
    assert.equal(status?.baseRevision, "old");
  });

  it("rebuilds for a running campaign that annotated it, as a background build; not for a finished one", async () => {
    const h = harness();
    const campaign = (phase: RebuildCampaignStatus["phase"]): RebuildCampaign => ({
      apiVersion: "golden.dev/v1alpha1",
      kind: "RebuildCampaign",
      metadata: { name: "ubuntu-c1" },
      spec: { baseImage: "ubuntu-24.04-amd64", revision: CATALOG_REVISION },
      status: { phase },
    });
    h.campaigns.put(campaign("Halted"));
    const img = h.add.image(image({ annotations: { [ANNOTATIONS.campaign]: "ubuntu-c1" } }));
    h.add.build(buildOf(img, { minutesAgo: 5, status: succeeded }));
    await h.reconcile(img);
    assert.equal(h.api.sent("create").length, 0, "a halted campaign starts nothing");

    h.campaigns.put(campaign("Running"));
    h.sync();
    await h.reconcile(h.images.list()[0] as Image);
    const created = bodyOf<ImageBuild>(h.api.sent("create")[0]);
    assert.equal(created.spec.trigger, "BaseUpdate");
    assert.equal(created.spec.campaign, "ubuntu-c1");
    assert.equal(created.spec.background, true);
    assert.equal(created.metadata?.labels?.[LABELS.campaign], "ubuntu-c1");
    h.sync();
    await h.reconcile(h.images.list()[0] as Image);
    assert.equal(h.api.sent("create").length, 1, "one build per campaign");
  });
});

describe("imageQueuePriority", () => {
  const campaign = (name: string, phase?: string, priority?: string): RebuildCampaign =>
    ({
      metadata: { name },
      spec: { priority },
      status: phase ? { phase } : {},
    }) as unknown as RebuildCampaign;
  const campaigns = new FakeInformer<RebuildCampaign>();
  campaigns.put(
    campaign("running", "Running"),
    campaign("done", "Completed"),
    campaign("normal", "Running", "Normal"),
  );
  const annotated = (name?: string) => image(name ? { annotations: { [ANNOTATIONS.campaign]: name } } : {});

  it("puts an Image a running campaign rebuilds behind every other", () => {
    assert.equal(imageQueuePriority(annotated("running"), campaigns), -1);
    assert.equal(imageQueuePriority(annotated(), campaigns), 0, "a user's Image");
    assert.equal(imageQueuePriority(annotated("done"), campaigns), 0, "the campaign has finished");
    assert.equal(imageQueuePriority(annotated("gone"), campaigns), 0, "the campaign is gone");
    assert.equal(imageQueuePriority(undefined, campaigns), 0, "the Image is gone");
    assert.equal(imageQueuePriority(annotated("normal"), campaigns), 0, "a campaign of Normal priority");
  });

  it("ranks users' outcomes, users' work, then campaigns, then catalog refreshes", () => {
    assert.ok(IMAGE_QUEUE_PRIORITY.outcome > IMAGE_QUEUE_PRIORITY.user);
    assert.ok(IMAGE_QUEUE_PRIORITY.user > IMAGE_QUEUE_PRIORITY.campaign);
    assert.ok(IMAGE_QUEUE_PRIORITY.campaign > IMAGE_QUEUE_PRIORITY.catalogRefresh);
  });

  it("records a user's build outcome ahead of users' other work, a background campaign's behind it", () => {
    assert.equal(imageOutcomePriority(annotated(), campaigns), IMAGE_QUEUE_PRIORITY.outcome);
    assert.equal(imageOutcomePriority(annotated("done"), campaigns), IMAGE_QUEUE_PRIORITY.outcome);
    assert.equal(imageOutcomePriority(annotated("normal"), campaigns), IMAGE_QUEUE_PRIORITY.outcome);
    assert.equal(imageOutcomePriority(undefined, campaigns), IMAGE_QUEUE_PRIORITY.outcome);
    assert.equal(imageOutcomePriority(annotated("running"), campaigns), IMAGE_QUEUE_PRIORITY.campaign);
  });
});

/** The ImageVersion the version reconciler makes of `b`. */
function versionOf(img: Image, b: ImageBuild, version: string): ImageVersion {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "ImageVersion",
    metadata: {
      name: `${img.metadata?.name}-${version}`,
      namespace: img.metadata?.namespace,
      labels: { [LABELS.imageUid]: img.metadata?.uid ?? "" },
    },
    spec: {
      imageName: img.metadata?.name ?? "",
      version,
      bump: "Initial",
      build: b.metadata?.name ?? "",
      inputs: {
        os: "ubuntu",
        release: "24.04",
        arch: "amd64",
        baseRevision: "20261201",
        customizationDigest: `sha256:${"0".repeat(64)}`,
      },
      manifest: { digest: `sha256:${"1".repeat(64)}` },
    },
  };
}
