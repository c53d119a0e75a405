// Discovery documents of the aggregated API: the legacy ones (/apis, /apis/<group>,
// /apis/<group>/<version>) and aggregated discovery (apidiscovery.k8s.io/v2), which the aggregator
// asks /apis for first. All are fixed by the generated resource list.
import type { AggregatedResource } from "../api/visibility/v1alpha1/index.js";

export interface GroupVersionInfo {
  group: string;
  version: string;
  resources: readonly AggregatedResource[];
}

function groupVersion(gv: GroupVersionInfo) {
  return { groupVersion: `${gv.group}/${gv.version}`, version: gv.version };
}

/** metav1.APIGroup of /apis/<group>. */
export function apiGroup(gv: GroupVersionInfo) {
  return {
    kind: "APIGroup",
    apiVersion: "v1",
    name: gv.group,
    versions: [groupVersion(gv)],
    preferredVersion: groupVersion(gv),
  };
}

/** metav1.APIGroupList of /apis. */
export function apiGroupList(gv: GroupVersionInfo) {
  const { kind: _kind, apiVersion: _apiVersion, ...group } = apiGroup(gv);
  return { kind: "APIGroupList", apiVersion: "v1", groups: [group] };
}

/** metav1.APIResourceList of /apis/<group>/<version>. */
export function apiResourceList(gv: GroupVersionInfo) {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${gv.group}/${gv.version}`,
    resources: gv.resources.map((r) => ({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...r.verbs],
      ...(r.shortNames.length ? { shortNames: [...r.shortNames] } : {}),
      ...(r.categories.length ? { categories: [...r.categories] } : {}),
    })),
  };
}

/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList of /apis. */
export function aggregatedDiscovery(gv: GroupVersionInfo) {
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: "apidiscovery.k8s.io/v2",
    metadata: {},
    items: [
      {
        metadata: { name: gv.group },
        versions: [
          {
            version: gv.version,
            resources: gv.resources.map((r) => ({
              resource: r.plural,
              responseKind: { group: gv.group, version: gv.version, kind: r.kind },
              scope: r.namespaced ? "Namespaced" : "Cluster",
              singularResource: r.singular,
              verbs: [...r.verbs],
              ...(r.shortNames.length ? { shortNames: [...r.shortNames] } : {}),
              ...(r.categories.length ? { categories: [...r.categories] } : {}),
            })),
            freshness: "Current",
          },
        ],
      },
    ],
  };
}
