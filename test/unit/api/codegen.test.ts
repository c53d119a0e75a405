import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";
import { repoRoot } from "../../support/repo-root.js";

type Schema = Record<string, unknown>;
interface Resource {
  kind: string;
  plural: string;
  schema: string;
  [key: string]: unknown;
}
interface Spec {
  components: { schemas: Record<string, Schema> };
  "x-golden-crds": { group: string; version: string; resources: Resource[] };
}
interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; plural: string; shortNames?: string[]; categories?: string[] };
    scope: string;
    versions: {
      name: string;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; jsonPath: string; priority?: number }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}
/** The parts of hack/codegen/schema.mjs under test. */
interface Codegen {
  inlineRefs(schema: Schema, components: Record<string, Schema>): Schema;
  toCrdSchema(schema: Schema): Schema;
  checkSchema(schema: Schema): string[];
  sortKeysDeep<T>(value: T): T;
  documentDefaults(schema: Schema): Schema;
  screamingSnake(name: string): string;
  buildCrd(spec: Spec, resource: Resource): Crd;
  buildTsSchema(spec: Spec): { anyOf: { $ref: string }[]; definitions: Record<string, Schema> };
  buildIndexTs(spec: Spec): string;
}

const root = repoRoot();
const codegen = (await import(pathToFileURL(join(root, "hack/codegen/schema.mjs")).href)) as Codegen;
const spec = parse(readFileSync(join(root, "api/spec/golden.dev_v1alpha1.yaml"), "utf8")) as Spec;
const resource = (kind: string): Resource => {
  const r = spec["x-golden-crds"].resources.find((x) => x.kind === kind);
  assert.ok(r, `no resource ${kind}`);
  return r;
};

/** The properties of a schema node (asserting it has some). */
function props(schema: Schema | undefined): Record<string, Schema> {
  assert.ok(schema?.properties, "schema has no properties");
  return schema.properties as Record<string, Schema>;
}

/** The openAPIV3Schema of a CRD's only version. */
function rootSchema(crd: Crd): Schema {
  const version = crd.spec.versions[0];
  assert.ok(version);
  return version.schema.openAPIV3Schema;
}

/** Calls `fn` on every schema node of a CRD schema, with its path. */
function walk(schema: Schema, fn: (s: Schema, path: string) => void, path = ""): void {
  fn(schema, path || "<root>");
  for (const [name, sub] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    walk(sub, fn, `${path}.${name}`);
  }
  if (schema.items) walk(schema.items as Schema, fn, `${path}[*]`);
}

describe("inlineRefs", () => {
  const components: Record<string, Schema> = {
    Leaf: { type: "string", description: "a leaf", enum: ["a", "b"] },
    Node: {
      type: "object",
      description: "a node",
      properties: {
        leaf: { $ref: "#/components/schemas/Leaf" },
        list: { type: "array", items: { $ref: "#/components/schemas/Leaf" } },
      },
    },
    Loop: {
      type: "object",
      description: "loops",
      properties: { self: { $ref: "#/components/schemas/Loop" } },
    },
  };

  it("replaces refs with copies of the component, recursively", () => {
    const out = codegen.inlineRefs({ $ref: "#/components/schemas/Node" }, components);
    assert.deepEqual(out, {
      type: "object",
      description: "a node",
      properties: {
        leaf: { type: "string", description: "a leaf", enum: ["a", "b"] },
        list: { type: "array", items: { type: "string", description: "a leaf", enum: ["a", "b"] } },
      },
    });
    assert.notEqual((out.properties as Schema).leaf, components.Leaf, "a copy, not the component itself");
  });

  it("lets keys next to a $ref override the component", () => {
    const out = codegen.inlineRefs(
      { $ref: "#/components/schemas/Leaf", description: "overridden", default: "a" },
      components,
    );
    assert.deepEqual(out, { type: "string", description: "overridden", enum: ["a", "b"], default: "a" });
  });

  it("does not treat data (defaults, enums) as schemas", () => {
    const out = codegen.inlineRefs(
      { type: "object", description: "d", default: { $ref: "not a schema" }, properties: {} },
      components,
    );
    assert.deepEqual(out.default, { $ref: "not a schema" });
  });

  it("rejects recursion, unknown components and foreign refs", () => {
    assert.throws(
      () => codegen.inlineRefs({ $ref: "#/components/schemas/Loop" }, components),
      /recursive \$ref Loop -> Loop/,
    );
    assert.throws(
      () => codegen.inlineRefs({ $ref: "#/components/schemas/Nope" }, components),
      /unknown schema "Nope"/,
    );
    assert.throws(() => codegen.inlineRefs({ $ref: "other.yaml#/Foo" }, components), /unsupported \$ref/);
  });
});

describe("toCrdSchema and checkSchema", () => {
  it("drops TypeScript-only keywords and sorts keys", () => {
    const out = codegen.toCrdSchema({
      type: "object",
      title: "T",
      description: "d",
      properties: {
        b: { type: "object", tsType: "X", description: "b" },
        a: { type: "string", description: "a" },
      },
    });
    assert.deepEqual(Object.keys(out), ["description", "properties", "type"]);
    assert.deepEqual(Object.keys(out.properties as Schema), ["a", "b"]);
    assert.deepEqual((out.properties as Record<string, Schema>).b, { description: "b", type: "object" });
  });

  it("documents scalar defaults for kubectl explain", () => {
    const out = codegen.documentDefaults({
      type: "object",
      description: "root",
      default: {},
      properties: {
        n: { type: "integer", description: "A number", default: 3 },
        s: { type: "string", description: "A string.", default: "x" },
        done: { type: "string", description: "Defaults to y.", default: "y" },
      },
    });
    assert.equal(out.description, "root");
    const p = out.properties as Record<string, Schema>;
    assert.equal(p.n?.description, "A number. Defaults to 3.");
    assert.equal(p.s?.description, "A string. Defaults to x.");
    assert.equal(p.done?.description, "Defaults to y.");
  });

  it("rejects keywords the apiserver does not accept", () => {
    assert.throws(() => codegen.toCrdSchema({ type: "string", readOnly: true }), /keyword "readOnly"/);
    assert.throws(
      () => codegen.toCrdSchema({ type: "object", additionalProperties: false }),
      /additionalProperties: false/,
    );
  });

  it("reports non-structural and unbounded schemas", () => {
    const problems = codegen.checkSchema({
      type: "object",
      description: "root",
      required: ["missing"],
      properties: {
        untyped: { description: "no type" },
        undocumented: { type: "integer" },
        list: { type: "array", description: "no maxItems", items: { type: "string", maxLength: 3 } },
        text: { type: "string", description: "no maxLength" },
        when: { type: "string", format: "date-time", description: "bounded by its format" },
        choice: { type: "string", enum: ["x"], description: "bounded by its enum" },
        map: {
          type: "array",
          description: "map list",
          maxItems: 2,
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["k"],
          items: { type: "object", properties: { k: { type: "string", maxLength: 1, description: "k" } } },
        },
        rule: { type: "object", description: "r", "x-kubernetes-validations": [{ rule: "true" }] },
      },
    });
    assert.deepEqual(problems.sort(), [
      "<root>: required property missing is not declared",
      "list: an array needs maxItems (CEL cost estimation)",
      "map: list map key k must be required or defaulted",
      "rule: x-kubernetes-validations[0] needs a message or messageExpression",
      "text: a string needs maxLength (CEL cost estimation)",
      "undocumented: description is required",
      "untyped: type is required in a structural schema",
    ]);
  });
});

describe("CRDs built from the spec", () => {
  for (const kind of ["Image", "ImageBuild"]) {
    const crd = codegen.buildCrd(spec, resource(kind));
    const version = crd.spec.versions[0];
    assert.ok(version);
    const schema = version.schema.openAPIV3Schema;

    it(`${kind}: is namespaced, in category golden, with a status subresource`, () => {
      assert.equal(crd.metadata.name, `${resource(kind).plural}.golden.dev`);
      assert.equal(crd.spec.scope, "Namespaced");
      assert.deepEqual(crd.spec.names.categories, ["golden"]);
      assert.deepEqual(version.subresources, { status: {} });
      assert.equal(version.name, "v1alpha1");
    });

    it(`${kind}: has a structural schema with descriptions everywhere`, () => {
      assert.doesNotMatch(JSON.stringify(schema), /"\$ref"|"tsType"|"title"/);
      assert.deepEqual(schema.properties && (schema.properties as Schema).metadata, { type: "object" });
      walk(schema, (s, path) => {
        assert.ok(s.type, `${path}: type`);
        if (path !== ".metadata") assert.ok(s.description || path.endsWith("[*]"), `${path}: description`);
        if (s.type === "array") assert.equal(typeof s.maxItems, "number", `${path}: maxItems`);
      });
    });

    it(`${kind}: printer columns point into the schema`, () => {
      for (const col of version.additionalPrinterColumns ?? []) {
        const fields = col.jsonPath
          .replace(/\[\?.*?\]/g, "")
          .split(".")
          .slice(1);
        if (fields[0] === "metadata") continue;
        let node: Schema | undefined = schema;
        for (const f of fields) {
          node = (
            (node?.properties ?? (node?.items as Schema | undefined)?.properties) as Record<string, Schema>
          )?.[f];
        }
        assert.ok(node, `${col.name}: ${col.jsonPath} is not in the schema`);
      }
    });
  }

  it("Image: short name img, columns and spec-level rules", () => {
    const crd = codegen.buildCrd(spec, resource("Image"));
    assert.deepEqual(crd.spec.names.shortNames, ["img"]);
    const cols = crd.spec.versions[0]?.additionalPrinterColumns ?? [];
    assert.deepEqual(
      cols.map((c) => c.name),
      [
        "OS",
        "Release",
        "Arch",
        "Formats",
        "Phase",
        "Ready",
        "Parent",
        "Base",
        "Base Revision",
        "Up To Date",
        "Latest Build",
        "Version",
        "Message",
        "Age",
      ],
    );
    assert.equal(
      cols.find((c) => c.name === "Ready")?.jsonPath,
      '.status.conditions[?(@.type=="Ready")].status',
    );
    const imageSpec = props(rootSchema(crd)).spec;
    assert.deepEqual(imageSpec?.required, ["base", "formats"]);
    const fields = props(imageSpec);
    assert.deepEqual(fields.build?.default, {}, "build defaults materialize");
    assert.equal(
      props(fields.base).arch?.default,
      undefined,
      "no default: a layered Image (base.image) sets no arch",
    );
    assert.equal(fields.formats?.["x-kubernetes-list-type"], "set");
  });

  it("ImageBuild: short name ib and an immutable spec", () => {
    const crd = codegen.buildCrd(spec, resource("ImageBuild"));
    assert.deepEqual(crd.spec.names.shortNames, ["ib"]);
    const ibSpec = props(rootSchema(crd)).spec;
    assert.deepEqual(ibSpec?.["x-kubernetes-validations"], [
      {
        message: "spec is immutable: an ImageBuild records the inputs of one build",
        rule: "self == oldSelf",
      },
    ]);
    const image = props(ibSpec).image;
    assert.match(
      String(image?.description),
      /^Snapshot of the Image's spec/,
      "description next to $ref wins",
    );
    assert.ok(image?.["x-kubernetes-validations"], "the ImageSpec rules apply to the snapshot too");
  });

  it("match the committed CRD files", () => {
    for (const r of spec["x-golden-crds"].resources) {
      const file = join(root, "config/crd/bases", `golden.dev_${r.plural}.yaml`);
      assert.deepEqual(
        parse(readFileSync(file, "utf8"), { version: "1.1" }),
        codegen.buildCrd(spec, r),
        file,
      );
    }
  });
});

describe("TypeScript generation", () => {
  it("keeps every component as a named definition and roots at the kinds", () => {
    const ts = codegen.buildTsSchema(spec);
    assert.deepEqual(Object.keys(ts.definitions), Object.keys(spec.components.schemas));
    assert.deepEqual(
      ts.anyOf.map((r) => r.$ref),
      [
        "#/definitions/Image",
        "#/definitions/ImageBuild",
        "#/definitions/BaseImage",
        "#/definitions/RebuildCampaign",
        "#/definitions/ImageVersion",
      ],
    );
    const image = ts.definitions.Image as { properties: Record<string, Schema> };
    assert.equal(image.properties.metadata?.tsType, "V1ObjectMeta");
    assert.doesNotMatch(JSON.stringify(ts), /x-kubernetes-|#\/components\//);
  });

  it("derives constant names", () => {
    assert.equal(codegen.screamingSnake("ImageBuild"), "IMAGE_BUILD");
    assert.equal(codegen.screamingSnake("OperatingSystem"), "OPERATING_SYSTEM");
    assert.equal(codegen.screamingSnake("HTTPServer"), "HTTP_SERVER");
    assert.equal(codegen.screamingSnake("Image"), "IMAGE");
  });

  it("index.ts names the group, version and every kind", () => {
    const src = codegen.buildIndexTs(spec);
    for (const line of [
      'export const GROUP = "golden.dev";',
      'export const VERSION = "v1alpha1";',
      'export const API_VERSION = "golden.dev/v1alpha1";',
      'export const IMAGE_PLURAL = "images";',
      'export const IMAGE_BUILD_PLURAL = "imagebuilds";',
    ]) {
      assert.ok(src.includes(line), line);
    }
  });
});

/** The parts of hack/codegen/aggregated.mjs under test. */
interface AggregatedCodegen {
  aggregatedApi(spec: unknown): { group: string; version: string; resources: Resource[] };
  buildOpenApiDocument(spec: unknown): {
    paths: Record<string, { get: Record<string, unknown> }>;
    components: { schemas: Record<string, Schema> };
  };
  buildAggregatedTsSchema(spec: unknown): { anyOf: { $ref: string }[]; definitions: Record<string, Schema> };
  buildAggregatedIndexTs(spec: unknown): string;
  buildOpenApiV2Document(spec: unknown): {
    swagger: string;
    paths: Record<string, { get: Record<string, unknown> & { parameters: Record<string, unknown>[] } }>;
    definitions: Record<string, Schema>;
  };
}

describe("aggregated API generation (visibility.golden.dev)", async () => {
  const aggregated = (await import(
    pathToFileURL(join(root, "hack/codegen/aggregated.mjs")).href
  )) as AggregatedCodegen;
  const visibility = parse(
    readFileSync(join(root, "api/spec/visibility.golden.dev_v1alpha1.yaml"), "utf8"),
  ) as Record<string, unknown> & { "x-golden-aggregated-api": { resources: Resource[] } };
  const withResource = (patch: Record<string, unknown>) => {
    const copy = structuredClone(visibility);
    Object.assign(copy["x-golden-aggregated-api"].resources[0] ?? {}, patch);
    return copy;
  };
  const gvk = { group: "visibility.golden.dev", kind: "PendingBuild", version: "v1alpha1" };

  it("serves every component under its qualified name, with references rewritten", () => {
    const doc = aggregated.buildOpenApiDocument(visibility);
    const schemas = doc.components.schemas;
    assert.deepEqual(Object.keys(schemas).sort(), [
      "dev.golden.visibility.v1alpha1.BlockedBy",
      "dev.golden.visibility.v1alpha1.ListMeta",
      "dev.golden.visibility.v1alpha1.ObjectMeta",
      "dev.golden.visibility.v1alpha1.PendingBuild",
      "dev.golden.visibility.v1alpha1.PendingBuildList",
    ]);
    const build = schemas["dev.golden.visibility.v1alpha1.PendingBuild"] as {
      properties: Record<string, Schema>;
    };
    // allOf around the reference, so its description is kept (kubectl explain).
    assert.equal(
      (build.properties.metadata?.allOf as Schema[] | undefined)?.[0]?.$ref,
      "#/components/schemas/dev.golden.visibility.v1alpha1.ObjectMeta",
    );
    assert.deepEqual(build["x-kubernetes-group-version-kind" as never], [gvk]);
    assert.deepEqual(
      schemas["dev.golden.visibility.v1alpha1.PendingBuildList"]?.["x-kubernetes-group-version-kind"],
      [{ ...gvk, kind: "PendingBuildList" }],
    );
  });

  it("lists the read-only operations kubectl explain resolves the kind through", () => {
    const doc = aggregated.buildOpenApiDocument(visibility);
    const base = "/apis/visibility.golden.dev/v1alpha1";
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      `${base}/namespaces/{namespace}/pendingbuilds`,
      `${base}/namespaces/{namespace}/pendingbuilds/{name}`,
      `${base}/pendingbuilds`,
    ]);
    for (const op of Object.values(doc.paths)) {
      assert.deepEqual(op.get["x-kubernetes-group-version-kind"], gvk);
      assert.deepEqual(Object.keys(op), ["get"], "read-only");
    }
  });

  it("serves the same API as Swagger 2.0 for the aggregator's v2 merge", () => {
    const v2 = aggregated.buildOpenApiV2Document(visibility);
    assert.equal(v2.swagger, "2.0");
    assert.doesNotMatch(JSON.stringify(v2), /#\/components\//);
    const get =
      v2.paths["/apis/visibility.golden.dev/v1alpha1/namespaces/{namespace}/pendingbuilds/{name}"]?.get;
    assert.deepEqual(get?.["x-kubernetes-group-version-kind"], gvk);
    assert.deepEqual(get?.parameters[0], {
      name: "namespace",
      in: "path",
      required: true,
      description: "Namespace of the objects.",
      type: "string",
    });
    assert.deepEqual(get?.responses, {
      200: {
        description: "OK",
        schema: { $ref: "#/definitions/dev.golden.visibility.v1alpha1.PendingBuild" },
      },
    });
  });

  it("types the kinds and their lists, and names them in index.ts with their printer columns", () => {
    const ts = aggregated.buildAggregatedTsSchema(visibility);
    assert.deepEqual(
      ts.anyOf.map((r) => r.$ref),
      ["#/definitions/PendingBuild", "#/definitions/PendingBuildList"],
    );
    const index = aggregated.buildAggregatedIndexTs(visibility);
    assert.ok(index.includes("export const PENDING_BUILD_RESOURCE = {"));
    assert.ok(index.includes('verbs: ["get","list"]'));
    assert.ok(index.includes('"jsonPath":".clusterPosition"'));
  });

  it("refuses resources without verbs and printer columns it cannot evaluate", () => {
    assert.throws(() => aggregated.aggregatedApi(withResource({ verbs: [] })), /verbs is required/);
    assert.throws(
      () =>
        aggregated.aggregatedApi(
          withResource({ printerColumns: [{ name: "X", type: "string", jsonPath: ".a[0].b" }] }),
        ),
      /only plain \.a\.b paths/,
    );
    assert.throws(
      () => aggregated.aggregatedApi(withResource({ listSchema: "Nope" })),
      /unknown schema Nope/,
    );
  });
});
