// Content negotiation: the few Accept variants Kubernetes clients send to the visibility server.

interface MediaRange {
  type: string;
  params: Map<string, string>;
}

function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(",").map((part) => {
    const [type = "", ...params] = part.split(";").map((s) => s.trim());
    return {
      type: type.toLowerCase(),
      params: new Map(
        params.map((p) => {
          const eq = p.indexOf("=");
          return [p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim()] as [string, string];
        }),
      ),
    };
  });
}

/** The first acceptable application/json variant naming `as`, `g` and a version in `versions`. */
function asks(accept: string | undefined, as: string, group: string, versions: string[]): string | undefined {
  for (const m of parseAccept(accept)) {
    if (m.type !== "application/json" || m.params.get("as") !== as || m.params.get("g") !== group) continue;
    const v = m.params.get("v") ?? "";
    if (versions.includes(v)) return v;
  }
  return undefined;
}

/** kubectl get asks for `application/json;as=Table;v=v1;g=meta.k8s.io`. */
export function wantsTable(accept: string | undefined): boolean {
  return asks(accept, "Table", "meta.k8s.io", ["v1"]) !== undefined;
}

/** The aggregator and kubectl ask /apis for aggregated discovery (apidiscovery.k8s.io/v2). */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return asks(accept, "APIGroupDiscoveryList", "apidiscovery.k8s.io", ["v2"]) !== undefined;
}

export const AGGREGATED_DISCOVERY_TYPE =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
