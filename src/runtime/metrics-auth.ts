// Authentication and authorization of /metrics, as controller-runtime's metrics filter does
// (WithAuthenticationAndAuthorization): the caller's bearer token goes to a TokenReview, the user
// it names to a SubjectAccessReview for `get` on the non-resource URL /metrics. Answers are cached
// briefly per token, so a scraper costs two reviews per TTL, not per scrape.
import { createHash } from "node:crypto";

export interface ReviewedUser {
  name: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** TokenReview: the user a token authenticates, or undefined. */
export type TokenReviewer = (token: string) => Promise<ReviewedUser | undefined>;
/** SubjectAccessReview for a non-resource `verb` on `path`. */
export type AccessReviewer = (
  user: ReviewedUser,
  path: string,
  verb: string,
) => Promise<{ allowed: boolean; reason?: string }>;

export type MetricsAuthResult = { ok: true } | { ok: false; status: 401 | 403; message: string };
export type MetricsAuth = (authorization: string | undefined) => Promise<MetricsAuthResult>;

export interface MetricsAuthOptions {
  tokenReview: TokenReviewer;
  accessReview: AccessReviewer;
  path?: string;
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export function metricsAuth(opts: MetricsAuthOptions): MetricsAuth {
  const path = opts.path ?? "/metrics";
  const ttlMs = opts.ttlMs ?? 10_000;
  const maxEntries = opts.maxEntries ?? 1024;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { result: MetricsAuthResult; expiresAtMs: number }>();

  return async (authorization) => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
    if (!token)
      return { ok: false, status: 401, message: `${path} needs a bearer token (Authorization: Bearer …)` };
    const key = createHash("sha256").update(token).digest("hex"); // Never keep tokens themselves.
    const hit = cache.get(key);
    if (hit && hit.expiresAtMs > now()) return hit.result;

    const user = await opts.tokenReview(token);
    let result: MetricsAuthResult;
    if (!user)
      result = { ok: false, status: 401, message: `the bearer token for ${path} did not authenticate` };
    else {
      const review = await opts.accessReview(user, path, "get");
      result = review.allowed
        ? { ok: true }
        : {
            ok: false,
            status: 403,
            message: `user ${JSON.stringify(user.name)} may not get ${path}${review.reason ? `: ${review.reason}` : ""} (bind the ClusterRole golden-metrics-reader)`,
          };
    }
    cache.delete(key);
    cache.set(key, { result, expiresAtMs: now() + ttlMs });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    return result;
  };
}
