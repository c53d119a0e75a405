// Delegated authorization: a SubjectAccessReview per distinct request, its answer cached for a
// short while as k8s.io/apiserver's delegating authorizer does (10 s either way by default), so a
// burst of kubectl pages costs one review. An answer still in use in the second half of its life is
// renewed in the background, and requests arriving while a review is out share it, so a user
// paging through a long queue waits on a review once, not every 10 s: under load a review takes as
// long as any apiserver write (hundreds of ms). No answer is ever used past its 10 s.
// Non-resource requests (discovery, OpenAPI) are allowed for any authenticated user, as the
// apiserver's system:discovery role does.
import type { V1SubjectAccessReviewSpec } from "@kubernetes/client-node";
import type { UserInfo } from "./authn.js";
import { StatusError } from "./status.js";

export interface ResourceAttributes {
  group: string;
  version: string;
  resource: string;
  verb: "get" | "list";
  namespace?: string;
  name?: string;
}

export interface Review {
  allowed: boolean;
  reason?: string;
}

/** Sends a SubjectAccessReview; the apiserver's answer. */
export type SubjectAccessReviewer = (spec: V1SubjectAccessReviewSpec) => Promise<Review>;

export interface AuthorizerOptions {
  review: SubjectAccessReviewer;
  allowedTtlMs?: number;
  deniedTtlMs?: number;
  /** A cached answer used when it has less than this share of its life left is renewed. */
  renewShare?: number;
  /** Entries kept at most; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

export const DEFAULT_AUTHZ_TTL_MS = 10_000;

/** The apiserver's Forbidden message, e.g. `User "alice" cannot list resource "pendingbuilds" in …`. */
export function forbidden(user: UserInfo, attrs: ResourceAttributes, reason?: string): StatusError {
  const qualified = `${attrs.resource}.${attrs.group}`;
  const subject = attrs.name ? `${qualified} ${JSON.stringify(attrs.name)}` : qualified;
  const scope = attrs.namespace
    ? `in the namespace ${JSON.stringify(attrs.namespace)}`
    : "at the cluster scope";
  const why = `User ${JSON.stringify(user.name)} cannot ${attrs.verb} resource ${JSON.stringify(attrs.resource)} in API group ${JSON.stringify(attrs.group)} ${scope}`;
  return new StatusError(403, "Forbidden", `${subject} is forbidden: ${why}${reason ? `: ${reason}` : ""}`, {
    ...(attrs.name ? { name: attrs.name } : {}),
    group: attrs.group,
    kind: attrs.resource,
  });
}

export function reviewSpec(user: UserInfo, attrs: ResourceAttributes): V1SubjectAccessReviewSpec {
  return {
    user: user.name,
    groups: user.groups,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(Object.keys(user.extra).length ? { extra: user.extra } : {}),
    resourceAttributes: {
      group: attrs.group,
      version: attrs.version,
      resource: attrs.resource,
      verb: attrs.verb,
      ...(attrs.namespace ? { namespace: attrs.namespace } : {}),
      ...(attrs.name ? { name: attrs.name } : {}),
    },
  };
}

interface CachedReview {
  review: Review;
  reviewedAtMs: number;
  expiresAtMs: number;
}

export class DelegatingAuthorizer {
  readonly #cache = new Map<string, CachedReview>();
  /** Reviews out now, by key: requests for the same key wait on the same one. */
  readonly #inFlight = new Map<string, Promise<CachedReview>>();
  readonly #opts: Required<AuthorizerOptions>;

  constructor(opts: AuthorizerOptions) {
    this.#opts = {
      allowedTtlMs: DEFAULT_AUTHZ_TTL_MS,
      deniedTtlMs: DEFAULT_AUTHZ_TTL_MS,
      // Half its life: a user paging at least every 5 s never waits on a review after the first.
      renewShare: 0.5,
      maxEntries: 10_000,
      now: Date.now,
      ...opts,
    };
  }

  /** Resolves when allowed; throws the Forbidden Status otherwise. */
  async authorize(user: UserInfo, attrs: ResourceAttributes): Promise<void> {
    const spec = reviewSpec(user, attrs);
    const key = JSON.stringify(spec);
    const now = this.#opts.now();
    let entry = this.#cache.get(key);
    if (entry && entry.expiresAtMs > now) {
      const life = entry.expiresAtMs - entry.reviewedAtMs;
      // Renewed in the background; a failed renewal leaves the entry to expire as it would have.
      if (entry.expiresAtMs - now < life * this.#opts.renewShare) this.#review(key, spec).catch(() => {});
    } else entry = await this.#review(key, spec);
    if (!entry.review.allowed) throw forbidden(user, attrs, entry.review.reason);
  }

  /** One review per key at a time; its answer goes into the cache. */
  #review(key: string, spec: V1SubjectAccessReviewSpec): Promise<CachedReview> {
    let pending = this.#inFlight.get(key);
    if (pending) return pending;
    pending = (async () => {
      const reviewedAtMs = this.#opts.now();
      const review = await this.#opts.review(spec);
      const ttl = review.allowed ? this.#opts.allowedTtlMs : this.#opts.deniedTtlMs;
      const entry = { review, reviewedAtMs, expiresAtMs: reviewedAtMs + ttl };
      this.#cache.delete(key);
      this.#cache.set(key, entry);
      for (const k of this.#cache.keys()) {
        if (this.#cache.size <= this.#opts.maxEntries) break;
        this.#cache.delete(k);
      }
      return entry;
    })().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, pending);
    return pending;
  }
}
