import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GROUP, RESOURCES, VERSION } from "../../../src/api/visibility/v1alpha1/index.js";
import { OPENAPI_V3_DOCUMENT } from "../../../src/api/visibility/v1alpha1/openapi.js";
import { aggregatedDiscovery, apiGroupList, apiResourceList } from "../../../src/visibility/discovery.js";
import { wantsAggregatedDiscovery, wantsTable } from "../../../src/visibility/media.js";
import { openApiDocument, openApiIndex } from "../../../src/visibility/openapi.js";
import { route } from "../../../src/visibility/router.js";

const gv = { group: GROUP, version: VERSION, resources: RESOURCES };

describe("discovery", () => {
  it("lists pendingbuilds as a namespaced, read-only resource", () => {
    assert.deepEqual(apiResourceList(gv), {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: "visibility.golden.dev/v1alpha1",
      resources: [
        {
          name: "pendingbuilds",
          singularName: "pendingbuild",
          namespaced: true,
          kind: "PendingBuild",
          verbs: ["get", "list"],
          shortNames: ["pb"],
        },
      ],
    });
    assert.deepEqual(apiGroupList(gv).groups[0]?.preferredVersion, {
      groupVersion: "visibility.golden.dev/v1alpha1",
      version: "v1alpha1",
    });
  });

  it("serves aggregated discovery (apidiscovery.k8s.io/v2) with the same resource", () => {
    const doc = aggregatedDiscovery(gv);
    assert.equal(doc.apiVersion, "apidiscovery.k8s.io/v2");
    const r = doc.items[0]?.versions[0]?.resources[0];
    assert.deepEqual(r?.responseKind, { group: GROUP, version: VERSION, kind: "PendingBuild" });
    assert.equal(r?.scope, "Namespaced");
  });

  it("negotiates Table and aggregated discovery from Accept", () => {
    const kubectlGet =
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
    assert.equal(wantsTable(kubectlGet), true);
    assert.equal(wantsTable("application/json"), false);
    assert.equal(
      wantsAggregatedDiscovery(
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
      ),
      true,
    );
    assert.equal(
      wantsAggregatedDiscovery("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"),
      false,
    );
  });

  it("indexes the OpenAPI v3 document by its hash; kinds carry their GVK", () => {
    const doc = openApiDocument(GROUP, VERSION, OPENAPI_V3_DOCUMENT);
    assert.deepEqual(openApiIndex([doc]), {
      paths: {
        "apis/visibility.golden.dev/v1alpha1": {
          serverRelativeURL: `/openapi/v3/apis/visibility.golden.dev/v1alpha1?hash=${doc.hash}`,
        },
      },
    });
    const schemas = (
      JSON.parse(doc.body) as { components: { schemas: Record<string, Record<string, unknown>> } }
    ).components.schemas;
    assert.deepEqual(
      schemas["dev.golden.visibility.v1alpha1.PendingBuild"]?.["x-kubernetes-group-version-kind"],
      [{ group: GROUP, kind: "PendingBuild", version: VERSION }],
    );
  });
});

describe("routing", () => {
  it("names each endpoint", () => {
    const cases: [string, unknown][] = [
      ["/readyz", { kind: "health", check: "readyz" }],
      ["/apis", { kind: "apis" }],
      ["/apis/visibility.golden.dev", { kind: "group" }],
      ["/apis/visibility.golden.dev/v1alpha1", { kind: "version" }],
      ["/apis/visibility.golden.dev/v1alpha1/pendingbuilds", { kind: "list", resource: "pendingbuilds" }],
      [
        "/apis/visibility.golden.dev/v1alpha1/namespaces/team-a/pendingbuilds",
        { kind: "list", resource: "pendingbuilds", namespace: "team-a" },
      ],
      [
        "/apis/visibility.golden.dev/v1alpha1/namespaces/team-a/pendingbuilds/b1",
        { kind: "get", resource: "pendingbuilds", namespace: "team-a", name: "b1" },
      ],
      ["/openapi/v3", { kind: "openapiIndex" }],
      [
        "/openapi/v3/apis/visibility.golden.dev/v1alpha1",
        { kind: "openapiDocument", path: "apis/visibility.golden.dev/v1alpha1" },
      ],
      ["/apis/other.dev/v1", { kind: "unknown" }],
      ["/apis/visibility.golden.dev/v1alpha1/namespaces/team-a/pendingbuilds/b1/status", { kind: "unknown" }],
      ["/openapi/v2", { kind: "openapiV2" }],
      ["/openapi/v2/x", { kind: "unknown" }],
    ];
    for (const [path, want] of cases) assert.deepEqual(route(path, GROUP, VERSION), want, path);
  });
});
