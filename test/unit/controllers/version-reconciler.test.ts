// VersionReconciler as a unit: fake informers hold the Image, its builds and versions, a recording
// API takes the writes; `sync` plays the watch, copying what the API holds back into the caches.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Image, ImageBuild, ImageVersion } from "../../../src/api/v1alpha1/index.js";
import { ANNOTATIONS, LABELS } from "../../../src/build/names.js";
import type { EventInput } from "../../../src/controllers/events.js";
import { BUILDS_BY_IMAGE_UID } from "../../../src/controllers/image-reconciler.js";
import { VersionReconciler, versionIndexers } from "../../../src/controllers/version-reconciler.js";
import { objectKey } from "../../../src/runtime/keys.js";
import { nopLogger } from "../../../src/runtime/logger.js";
import { FakeInformer } from "../../support/fake-informer.js";
import { BASE_TIME, build, image } from "../../support/fixtures.js";
import { RecordingApi } from "../../support/recording-api.js";

const NOW = new Date(BASE_TIME + 3_600_000);

function harness() {
  const api = new RecordingApi();
  const images = new FakeInformer<Image>();
  const builds = new FakeInformer<ImageBuild>({
    [BUILDS_BY_IMAGE_UID]: (b) => [b.metadata?.labels?.[LABELS.imageUid] ?? ""],
  });
  const versions = new FakeInformer<ImageVersion>(versionIndexers);
  const events: { name: string; event: EventInput }[] = [];
  const reconciler = new VersionReconciler({
    images,
    builds,
    buildsByImageIndex: BUILDS_BY_IMAGE_UID,
    versions,
    client: api.golden,
    events: { record: (obj, event) => events.push({ name: obj.metadata?.name ?? "", event }) },
    log: nopLogger,
    now: () => NOW,
  });
  const add = {
    image(img: Image): Image {
      api.seed("images", img);
      return images.put(api.get<Image>("images", "default", img.metadata?.name ?? "") as Image);
    },
    build(
      img: Image,
      name: string,
      o: { minutesAgo: number; packages?: string[]; inputs?: object },
    ): ImageBuild {
      const b = build({
        name,
        imageName: img.metadata?.name ?? "",
        labels: { [LABELS.imageUid]: img.metadata?.uid ?? "" },
        spec: { customizations: { packages: o.packages ?? ["curl"] } },
        status: {
          phase: "Succeeded",
          completionTime: new Date(NOW.getTime() - o.minutesAgo * 60_000).toISOString(),
          artifacts: [{ format: "qcow2", location: "s3://x/web.qcow2" }],
          ...(o.inputs ? { inputs: o.inputs } : {}),
        },
      });
      api.seed("imagebuilds", b);
      return builds.put(api.get<ImageBuild>("imagebuilds", "default", name) as ImageBuild);
    },
  };
  const sync = () => {
    for (const img of images.list())
      images.put(structuredClone(api.get<Image>("images", "default", img.metadata?.name ?? "") as Image));
    for (const w of api.sent()) {
      if (w.resource !== "imageversions") continue;
      const stored = api.get<ImageVersion>("imageversions", w.namespace, w.name);
      if (stored) versions.put(structuredClone(stored));
    }
  };
  const reconcile = (img: Image) => reconciler.reconcile(objectKey(img), nopLogger);
  const version = (name: string) => api.get<ImageVersion>("imageversions", "default", name);
  return { api, images, builds, versions, events, add, sync, reconcile, version };
}

describe("VersionReconciler", () => {
  it("makes each succeeded build a version, in the order the builds finished, once", async () => {
    const h = harness();
    const web = h.add.image(image({ name: "web" }));
    h.add.build(web, "web-g2-bbbbbb", { minutesAgo: 5, packages: ["curl", "nginx"] });
    h.add.build(web, "web-g1-aaaaaa", { minutesAgo: 10 });
    await h.reconcile(web);
    const v1 = h.version("web-1.0.0");
    const v2 = h.version("web-1.1.0");
    assert.equal(v1?.spec.build, "web-g1-aaaaaa");
    assert.equal(v1?.spec.bump, "Initial");
    assert.equal(v1?.spec.inputs.baseRevision, "ubuntu-24.04-unversioned", "the stand-in without a catalog");
    assert.deepEqual(
      v1?.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.controller]),
      [["Image", "web", true]],
    );
    assert.equal(v1?.metadata?.labels?.[LABELS.build], "web-g1-aaaaaa");
    assert.equal(v2?.spec.bump, "Minor");
    // Everything known at creation is in the one create: no status write follows it.
    assert.deepEqual(
      v2?.spec.changelog?.packagesAdded?.map((p) => p.name),
      ["nginx"],
    );
    assert.equal(v2?.spec.previousVersion, "1.0.0");
    assert.equal(v1?.spec.previousVersion, undefined);
    assert.equal(v1?.spec.changelog?.summary, h.version("web-1.0.0")?.spec.changelog?.summary);
    assert.deepEqual(
      h.api.sent().map((w) => [w.verb, w.resource]),
      [
        ["create", "imageversions"],
        ["create", "imageversions"],
      ],
      "two versions, two writes: no status write after a create, and the Image is not written (the Image reconciler records latestVersion)",
    );
    assert.deepEqual(h.events, [], "the Image reconciler's BuildSucceeded Event names the version");
    h.sync();
    await h.reconcile(h.images.get("default/web") as Image);
    h.sync();
    const creates = () => h.api.sent("create").filter((w) => w.resource === "imageversions").length;
    assert.equal(creates(), 2);
    assert.equal(h.version("web-1.1.0")?.status, undefined, "nothing has happened to it: no status");
    // Converged: another pass writes nothing.
    const before = h.api.sent().length;
    await h.reconcile(h.images.get("default/web") as Image);
    assert.equal(h.api.sent().length, before);
  });

  it("waits for a version the cache does not show yet instead of numbering a build twice", async () => {
    const h = harness();
    const web = h.add.image(image({ name: "web" }));
    h.add.build(web, "web-g1-aaaaaa", { minutesAgo: 10 });
    await h.reconcile(web); // Creates web-1.0.0; the cache does not see it (no sync).
    h.add.build(web, "web-g2-bbbbbb", { minutesAgo: 5, packages: ["jq"] });
    const result = await h.reconcile(web);
    assert.ok(result && "requeueAfterMs" in result, "looks again later");
    assert.equal(h.version("web-1.0.0")?.spec.build, "web-g1-aaaaaa");
    assert.equal(h.version("web-1.1.0"), undefined, "the second build is not numbered against a stale cache");
    h.sync();
    await h.reconcile(web);
    assert.equal(h.version("web-1.1.0")?.spec.build, "web-g2-bbbbbb");
  });

  it("builds a layered child's version on its parent's, and waits for the parent's version first", async () => {
    const h = harness();
    const base = h.add.image(image({ name: "base" }));
    const app = h.add.image(image({ name: "app" }));
    h.add.build(base, "base-g1-aaaaaa", { minutesAgo: 10 });
    h.add.build(app, "app-g1-cccccc", {
      minutesAgo: 1,
      packages: ["postgresql"],
      inputs: { parentImage: "base", parentBuild: "base-g1-aaaaaa", baseRevision: "r7" },
    });
    const waiting = await h.reconcile(app);
    assert.ok(waiting && "requeueAfterMs" in waiting);
    assert.equal(h.version("app-1.0.0"), undefined, "no version before the parent's");
    await h.reconcile(base);
    h.sync();
    await h.reconcile(app);
    const child = h.version("app-1.0.0");
    assert.equal(child?.spec.inputs.parentVersion, "1.0.0");
    assert.equal(child?.spec.inputs.baseRevision, "r7");
    assert.ok(
      child?.spec.manifest.packages?.some((p) => p.name === "curl"),
      "the parent's packages",
    );
    assert.equal(
      h.api.get<ImageBuild>("imagebuilds", "default", "app-g1-cccccc")?.status?.inputs?.parentVersion,
      "1.0.0",
    );
  });

  it("versions a layered build without its parent once the parent's version has not come for 2 minutes", async () => {
    const h = harness();
    const app = h.add.image(image({ name: "app" }));
    h.add.build(app, "app-g1-cccccc", {
      minutesAgo: 3,
      inputs: { parentImage: "gone", parentBuild: "gone-g1-aaaaaa" },
    });
    await h.reconcile(app);
    const v = h.version("app-1.0.0");
    assert.equal(v?.spec.inputs.parentImage, "gone");
    assert.equal(v?.spec.inputs.parentVersion, undefined);
    assert.ok(h.events.some((e) => e.event.reason === "ParentVersionUnknown"));
  });

  it("marks versions built on a revoked parent, and rebuilds the child unless its policy says Mark", async () => {
    for (const policy of ["Rebuild", "Mark"] as const) {
      const h = harness();
      const base = h.add.image(image({ name: "base" }));
      const app = h.add.image(image({ name: "app", spec: { versioning: { onParentRevoked: policy } } }));
      h.add.build(base, "base-g1-aaaaaa", { minutesAgo: 10 });
      h.add.build(app, "app-g1-cccccc", {
        minutesAgo: 5,
        inputs: { parentImage: "base", parentBuild: "base-g1-aaaaaa" },
      });
      await h.reconcile(base);
      h.sync();
      await h.reconcile(app);
      h.sync();
      const parent = h.versions.get("default/base-1.0.0") as ImageVersion;
      h.versions.put({ ...parent, revocation: { reason: "CVE-1" } });
      await h.reconcile(app);
      const mark = h.version("app-1.0.0")?.status?.conditions?.find((c) => c.type === "ParentRevoked");
      assert.equal(mark?.status, "True", policy);
      assert.match(mark?.message ?? "", /built on base 1\.0\.0, revoked: CVE-1/);
      const token = h.api.get<Image>("images", "default", "app")?.metadata?.annotations?.[
        ANNOTATIONS.rebuild
      ];
      assert.equal(token, policy === "Rebuild" ? "parent-revoked:base:1.0.0" : undefined, policy);
    }
  });

  it("revokes at the set time: Scheduled until then, and looks again when it is due", async () => {
    const h = harness();
    const web = h.add.image(image({ name: "web" }));
    h.add.build(web, "web-g1-aaaaaa", { minutesAgo: 10 });
    await h.reconcile(web);
    h.sync();
    const v = h.versions.get("default/web-1.0.0") as ImageVersion;
    const at = new Date(NOW.getTime() + 90_000).toISOString();
    h.versions.put({ ...v, revocation: { reason: "EOL", at } });
    const result = await h.reconcile(web);
    assert.deepEqual(result, { requeueAfterMs: 90_000 });
    const c = h.version("web-1.0.0")?.status?.conditions?.find((x) => x.type === "Revoked");
    assert.equal(c?.status, "False");
    assert.equal(c?.reason, "Scheduled");
  });
});
