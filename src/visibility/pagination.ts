// limit/continue for lists of views computed on demand. The first page takes a snapshot of the
// whole (filtered) list and keeps it for a short while under an id carried in the continue token,
// so the following pages come from the same snapshot, as pages of the apiserver come from one
// resourceVersion. A token older than the snapshot lifetime is 410 Expired, as the apiserver's are
// after compaction. Snapshots live in one replica's memory: a page asked of another replica (the
// Service spreads requests) or of a snapshot evicted early continues after the last item returned,
// in that replica's current view.
import { randomBytes } from "node:crypto";
import { badRequest, StatusError } from "./status.js";

export interface PaginationOptions {
  /** How long a snapshot, and so a continue token, stays valid. */
  ttlMs?: number;
  /** Snapshots kept at once; the oldest goes first. */
  maxSnapshots?: number;
  now?: () => number;
}

export interface ListQuery {
  /** Identifies what was asked (namespace, selectors): a token only continues the same query. */
  key: string;
  /** 0 or absent: everything. */
  limit?: number;
  continueToken?: string;
}

export interface Snapshot<T> {
  resourceVersion: string;
  items: readonly T[];
}

export interface Page<T> {
  resourceVersion: string;
  items: T[];
  continueToken?: string;
  remainingItemCount?: number;
}

interface Token {
  /** The replica that issued it. */
  r: string;
  /** Snapshot id. */
  s: string;
  /** Offset of the next item. */
  o: number;
  /** Key of the last item returned. */
  k: string;
  /** Issued at (ms). */
  t: number;
  /** Query key. */
  q: string;
}

interface Stored<T> extends Snapshot<T> {
  takenAtMs: number;
  query: string;
}

export const DEFAULT_SNAPSHOT_TTL_MS = 60_000;
export const DEFAULT_MAX_SNAPSHOTS = 8;

export const expired = () =>
  new StatusError(
    410,
    "Expired",
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
  );

export class Paginator<T> {
  readonly #replica = randomBytes(6).toString("base64url");
  readonly #snapshots = new Map<string, Stored<T>>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  #counter = 0;

  constructor(
    private readonly keyOf: (item: T) => string,
    opts: PaginationOptions = {},
  ) {
    this.#ttlMs = opts.ttlMs ?? DEFAULT_SNAPSHOT_TTL_MS;
    this.#max = opts.maxSnapshots ?? DEFAULT_MAX_SNAPSHOTS;
    this.#now = opts.now ?? Date.now;
  }

  /** One page; `take` computes the filtered list now and is called only when no snapshot serves. */
  page(query: ListQuery, take: () => Snapshot<T>): Page<T> {
    const limit = query.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0)
      throw badRequest(`limit must be a non-negative integer, got ${limit}`);
    this.#evictExpired();
    if (!query.continueToken) return this.#slice(this.#remember(take(), query.key), 0, limit);

    const token = decodeToken(query.continueToken);
    if (token.q !== query.key)
      throw badRequest("continue key is not valid: it was issued for a different list request");
    if (this.#now() - token.t > this.#ttlMs) throw expired();
    const stored = token.r === this.#replica ? this.#snapshots.get(token.s) : undefined;
    if (stored) return this.#slice({ id: token.s, ...stored }, token.o, limit);
    // Not ours, or evicted early: carry on after the last item the client has.
    const fresh = this.#remember(take(), query.key);
    const after = fresh.items.findIndex((item) => this.keyOf(item) === token.k);
    if (after < 0) throw expired();
    return this.#slice(fresh, after + 1, limit);
  }

  #remember(snapshot: Snapshot<T>, query: string): Stored<T> & { id: string } {
    return { id: "", ...snapshot, takenAtMs: this.#now(), query };
  }

  #slice(s: Stored<T> & { id: string }, offset: number, limit: number): Page<T> {
    const end = limit > 0 ? Math.min(s.items.length, offset + limit) : s.items.length;
    const items = s.items.slice(offset, end);
    const page: Page<T> = { resourceVersion: s.resourceVersion, items };
    const last = items.at(-1);
    if (end >= s.items.length || last === undefined) return page;
    // Only a list that continues needs its snapshot kept.
    const id = s.id || this.#store(s);
    const token: Token = { r: this.#replica, s: id, o: end, k: this.keyOf(last), t: this.#now(), q: s.query };
    page.continueToken = Buffer.from(JSON.stringify(token)).toString("base64url");
    page.remainingItemCount = s.items.length - end;
    return page;
  }

  #store(s: Stored<T>): string {
    const id = String(++this.#counter);
    this.#snapshots.set(id, {
      resourceVersion: s.resourceVersion,
      items: s.items,
      takenAtMs: s.takenAtMs,
      query: s.query,
    });
    while (this.#snapshots.size > this.#max) {
      const oldest = this.#snapshots.keys().next().value;
      if (oldest === undefined) break;
      this.#snapshots.delete(oldest);
    }
    return id;
  }

  #evictExpired(): void {
    const now = this.#now();
    for (const [id, s] of this.#snapshots) if (now - s.takenAtMs > this.#ttlMs) this.#snapshots.delete(id);
  }

  /** Snapshots held now (for tests and metrics). */
  get size(): number {
    return this.#snapshots.size;
  }
}

function decodeToken(raw: string): Token {
  const invalid = (why: string) => badRequest(`continue key is not valid: ${why}`);
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw invalid("not base64url");
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw invalid("not a token this server issued");
  }
  const ok =
    typeof t === "object" &&
    t !== null &&
    ["r", "s", "k", "q"].every((f) => typeof (t as Record<string, unknown>)[f] === "string") &&
    ["o", "t"].every((f) => Number.isInteger((t as Record<string, unknown>)[f]));
  if (!ok) throw invalid("not a token this server issued");
  return t as Token;
}
