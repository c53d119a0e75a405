import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { BaseImage } from "../../../src/api/v1alpha1/index.js";
import { resolveCatalogBase } from "../../../src/controllers/catalog.js";
import {
  CATALOG_WARNINGS_RESYNC_MS,
  CatalogWarningsReconciler,
  DEFAULT_CATALOG_WARNINGS_CONFIGMAP,
  deprecationWarnings,
  parseConfigMapRef,
  warningKey,
} from "../../../src/controllers/catalog-warnings.js";
import { nopLogger } from "../../../src/runtime/logger.js";
import { baseImage, lookupOf, shippedCatalog } from "../../support/catalog.js";
import { repoRoot } from "../../support/repo-root.js";

const NOW = new Date("2026-12-01T12:00:00Z");

/** The warnings of a catalog of exactly these BaseImages. */
const warningsOf = (bases: BaseImage[]) => deprecationWarnings(bases, lookupOf(bases));

describe("deprecationWarnings", () => {
  it("has a key per name an Image may use (release and aliases) of each deprecated entry", () => {
    const focal = baseImage("ubuntu", "20.04", "r1", { deprecated: true, aliases: ["focal"] });
    const noble = baseImage("ubuntu", "24.04", "r1", { aliases: ["noble"] });
    const arm = baseImage("ubuntu", "20.04", "r1", {
      arch: "arm64",
      deprecated: true,
      endOfLife: "2030-04-30",
    });
    assert.deepEqual(warningsOf([noble, focal, arm]), {
      "ubuntu_amd64_20.04": "BaseImage ubuntu-20.04-amd64 (ubuntu 20.04, amd64) is deprecated",
      ubuntu_amd64_focal: "BaseImage ubuntu-20.04-amd64 (ubuntu focal, amd64) is deprecated",
      "ubuntu_arm64_20.04":
        "BaseImage ubuntu-20.04-arm64 (ubuntu 20.04, arm64) is deprecated; end of life on 2030-04-30",
    });
  });

  it("says what the Image controller says: the first entry by name decides a name two entries answer", () => {
    const deprecated = baseImage("debian", "12", "r1", { deprecated: true });
    const current = { ...baseImage("debian", "12", "r2"), metadata: { name: "a-debian-12" } };
    assert.deepEqual(warningsOf([deprecated, current]), {});
    const later = { ...current, metadata: { name: "z-debian-12" } };
    assert.deepEqual(Object.keys(warningsOf([deprecated, later])), ["debian_amd64_12"]);
  });

  it("leaves out an entry being deleted", () => {
    const going = baseImage("fedora", "41", "r1", { deprecated: true });
    going.metadata = { ...going.metadata, deletionTimestamp: new Date(NOW) };
    assert.deepEqual(warningsOf([going]), {});
  });

  it("warns for exactly the shipped catalog's deprecated bases, in the words of the Image's condition", () => {
    const catalog = shippedCatalog();
    const warnings = warningsOf(catalog);
    const lookup = lookupOf(catalog);
    let deprecatedNames = 0;
    for (const base of catalog) {
      const { os, arch, release, aliases = [] } = base.spec;
      for (const r of [release, ...aliases]) {
        const resolved = resolveCatalogBase({ os, arch, release: r }, lookup, NOW);
        const note = resolved.base && resolved.deprecated;
        assert.equal(warnings[warningKey(os, arch, r)], note || undefined, `${os} ${r} ${arch}`);
        if (note) deprecatedNames++;
      }
    }
    assert.ok(deprecatedNames >= 11, `the shipped catalog deprecates some bases (${deprecatedNames})`);
    assert.equal(Object.keys(warnings).length, deprecatedNames);
    for (const key of Object.keys(warnings)) assert.match(key, /^[-._a-zA-Z0-9]+$/, "a ConfigMap key");
  });
});

describe("parseConfigMapRef", () => {
  it("reads namespace/name, and empty as none", () => {
    assert.deepEqual(parseConfigMapRef("golden-system/golden-deprecated-bases", "f"), {
      namespace: "golden-system",
      name: "golden-deprecated-bases",
    });
    assert.equal(parseConfigMapRef("", "f"), undefined);
  });

  it("refuses anything else, naming the flag", () => {
    for (const bad of ["golden-deprecated-bases", "a/b/c", "Golden/x", "/x", "x/"])
      assert.throws(
        () => parseConfigMapRef(bad, "catalog-warnings-configmap"),
        /--catalog-warnings-configmap/,
      );
  });
});

/** The ConfigMap API as the reconciler uses it: reads, and replaces guarded by resourceVersion. */
class FakeConfigMaps {
  stored: V1ConfigMap | undefined;
  replaced: V1ConfigMap[] = [];
  constructor(data?: Record<string, string>) {
    if (data !== undefined)
      this.stored = {
        metadata: { name: "warnings", namespace: "golden-system", resourceVersion: "1", labels: { a: "b" } },
        data,
      };
  }
  async readNamespacedConfigMap(_: { name: string; namespace: string }): Promise<V1ConfigMap> {
    if (!this.stored) throw Object.assign(new Error("not found"), { code: 404 });
    return structuredClone(this.stored);
  }
  async replaceNamespacedConfigMap(p: { name: string; namespace: string; body: V1ConfigMap }) {
    if (p.body.metadata?.resourceVersion !== this.stored?.metadata?.resourceVersion)
      throw Object.assign(new Error("conflict"), { code: 409 });
    this.replaced.push(p.body);
    this.stored = {
      ...p.body,
      metadata: { ...p.body.metadata, resourceVersion: String(this.replaced.length + 1) },
    };
    return this.stored;
  }
}

function reconciler(configMaps: FakeConfigMaps, bases: BaseImage[]) {
  return new CatalogWarningsReconciler({
    bases: { list: () => bases },
    catalog: lookupOf(bases),
    configMaps: configMaps as never,
    ref: { namespace: "golden-system", name: "warnings" },
    log: nopLogger,
  });
}

describe("CatalogWarningsReconciler", () => {
  const deprecated = baseImage("rhel", "8", "r1", { deprecated: true, aliases: ["8.10"] });

  it("replaces the data with the catalog's, keeping the rest of the ConfigMap", async () => {
    const cms = new FakeConfigMaps({ stale_key: "x" });
    const result = await reconciler(cms, [deprecated]).reconcile();
    assert.equal(cms.replaced.length, 1);
    assert.deepEqual(cms.stored?.data, warningsOf([deprecated]));
    assert.deepEqual(Object.keys(cms.stored?.data ?? {}), ["rhel_amd64_8", "rhel_amd64_8.10"]);
    assert.deepEqual(cms.stored?.metadata?.labels, { a: "b" });
    assert.deepEqual(result, { requeueAfterMs: CATALOG_WARNINGS_RESYNC_MS });
  });

  it("writes nothing when the data already says it, and again after a hand edit", async () => {
    const cms = new FakeConfigMaps(warningsOf([deprecated]));
    const r = reconciler(cms, [deprecated]);
    await r.reconcile();
    assert.equal(cms.replaced.length, 0);
    if (cms.stored) cms.stored.data = {};
    await r.reconcile();
    assert.equal(cms.replaced.length, 1);
    assert.deepEqual(cms.stored?.data, warningsOf([deprecated]));
  });

  it("empties it when nothing is deprecated any more", async () => {
    const cms = new FakeConfigMaps(warningsOf([deprecated]));
    await reconciler(cms, [{ ...deprecated, spec: { ...deprecated.spec, deprecated: false } }]).reconcile();
    assert.deepEqual(cms.stored?.data, {});
  });

  it("creates no ConfigMap (the operator may not): looks again later", async () => {
    const cms = new FakeConfigMaps();
    const result = await reconciler(cms, [deprecated]).reconcile();
    assert.equal(cms.stored, undefined);
    assert.deepEqual(result, { requeueAfterMs: CATALOG_WARNINGS_RESYNC_MS });
  });

  it("lets a concurrent write's 409 through, for the controller to retry", async () => {
    const cms = new FakeConfigMaps({});
    const read = cms.readNamespacedConfigMap.bind(cms);
    cms.readNamespacedConfigMap = async (p) => {
      const cm = await read(p);
      if (cms.stored?.metadata) cms.stored.metadata.resourceVersion = "2"; // someone else wrote meanwhile
      return cm;
    };
    await assert.rejects(reconciler(cms, [deprecated]).reconcile(), /conflict/);
  });
});

describe("the shipped manifests name the ConfigMap the operator keeps by default", () => {
  const docs = (file: string) =>
    parseAllDocuments(readFileSync(join(repoRoot(), file), "utf8")).map(
      (d) =>
        d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown },
    );
  const want = parseConfigMapRef(DEFAULT_CATALOG_WARNINGS_CONFIGMAP, "default");
  const policy = docs("config/catalog/base_warning_policy.yaml");

  it("the binding's paramRef, and the ConfigMap itself, shipped with no data to clobber the operator's", () => {
    const binding = policy.find((d) => d.kind === "ValidatingAdmissionPolicyBinding") as unknown as {
      spec: { paramRef: { name: string; namespace: string; parameterNotFoundAction: string } };
    };
    assert.deepEqual(
      { name: binding.spec.paramRef.name, namespace: binding.spec.paramRef.namespace },
      { name: want?.name, namespace: want?.namespace },
    );
    assert.equal(
      binding.spec.paramRef.parameterNotFoundAction,
      "Allow",
      "a missing ConfigMap only loses warnings",
    );
    const cm = policy.find((d) => d.kind === "ConfigMap");
    assert.deepEqual({ name: cm?.metadata.name, namespace: cm?.metadata.namespace }, want);
    assert.equal(cm?.data, undefined);
  });

  it("the operator's Role: get and update of that ConfigMap only, no create", () => {
    const role = docs("config/rbac/catalog_warnings_role.yaml").find((d) => d.kind === "Role") as unknown as {
      metadata: { namespace: string };
      rules: { resources: string[]; resourceNames?: string[]; verbs: string[] }[];
    };
    assert.equal(role.metadata.namespace, want?.namespace);
    assert.deepEqual(role.rules, [
      { apiGroups: [""], resources: ["configmaps"], resourceNames: [want?.name], verbs: ["get", "update"] },
    ]);
  });
});
