// Which endpoint a request path names. Pure; the server decides what each costs (authn, authz).

export type Route =
  | { kind: "health"; check: "healthz" | "livez" | "readyz" }
  | { kind: "apis" }
  | { kind: "group" }
  | { kind: "version" }
  | { kind: "openapiIndex" }
  | { kind: "openapiDocument"; path: string }
  | { kind: "openapiV2" }
  | { kind: "list"; resource: string; namespace?: string }
  | { kind: "get"; resource: string; namespace: string; name: string }
  | { kind: "unknown" };

const HEALTH = new Set(["healthz", "livez", "readyz"]);

/** `group`/`version` are the API's; resources are matched by the caller. */
export function route(pathname: string, group: string, version: string): Route {
  const parts = pathname.split("/").filter((p) => p !== "");
  const segs = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const [first, second, third, fourth, fifth, sixth, seventh, ...rest] = segs;
  if (segs.length === 1 && first && HEALTH.has(first))
    return { kind: "health", check: first as "healthz" | "livez" | "readyz" };
  // /healthz/ping, /readyz/log and the like: the named check of a group of checks.
  if (segs.length === 2 && first && HEALTH.has(first))
    return { kind: "health", check: first as "healthz" | "livez" | "readyz" };
  if (first === "openapi" && second === "v2" && segs.length === 2) return { kind: "openapiV2" };
  if (first === "openapi" && second === "v3") {
    if (segs.length === 2) return { kind: "openapiIndex" };
    return { kind: "openapiDocument", path: segs.slice(2).join("/") };
  }
  if (first !== "apis") return { kind: "unknown" };
  if (segs.length === 1) return { kind: "apis" };
  if (second !== group) return { kind: "unknown" };
  if (segs.length === 2) return { kind: "group" };
  if (third !== version) return { kind: "unknown" };
  if (segs.length === 3) return { kind: "version" };
  if (segs.length === 4 && fourth) return { kind: "list", resource: fourth };
  if (fourth === "namespaces" && fifth && sixth && rest.length === 0) {
    if (segs.length === 6) return { kind: "list", resource: sixth, namespace: fifth };
    if (segs.length === 7 && seventh)
      return { kind: "get", resource: sixth, namespace: fifth, name: seventh };
  }
  return { kind: "unknown" };
}
