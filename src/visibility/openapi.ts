// /openapi/v3: the index of group-versions, and each group-version's document, addressed by a
// content hash as the apiserver does, so the aggregator and kubectl can cache it for good.
// /openapi/v2 is one document, with the same hash as its ETag.
import { createHash } from "node:crypto";

export interface OpenApiDocument {
  /** Path under /openapi/v3/, e.g. apis/visibility.golden.dev/v1alpha1 (unused for v2). */
  path: string;
  body: string;
  /** Upper-case hex SHA-512 of body, the apiserver's ETag for OpenAPI v3 documents. */
  hash: string;
}

export function openApiDocument(group: string, version: string, document: unknown): OpenApiDocument {
  const body = JSON.stringify(document);
  return {
    path: `apis/${group}/${version}`,
    body,
    hash: createHash("sha512").update(body).digest("hex").toUpperCase(),
  };
}

/** The body of /openapi/v3. */
export function openApiIndex(docs: readonly OpenApiDocument[]) {
  return {
    paths: Object.fromEntries(
      docs.map((d) => [d.path, { serverRelativeURL: `/openapi/v3/${d.path}?hash=${d.hash}` }]),
    ),
  };
}
