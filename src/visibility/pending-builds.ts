// The pendingbuilds resource: PendingEntry (src/scheduler/pending.ts) as PendingBuild objects,
// listed in the source's (admission) order, filtered by namespace and field selector, paginated.
import {
  API_VERSION,
  PENDING_BUILD_RESOURCE,
  type PendingBuild,
  type PendingBuildList,
} from "../api/visibility/v1alpha1/index.js";
import type { PendingEntry, PendingQueueSource, PendingRef } from "../scheduler/pending.js";
import { type Page, type PaginationOptions, Paginator } from "./pagination.js";
import { checkLabelSelector, matchesFields, parseFieldSelector } from "./selectors.js";
import { badRequest, notFound, StatusError } from "./status.js";

export function toPendingBuild(e: PendingEntry): PendingBuild {
  return {
    apiVersion: API_VERSION,
    kind: PENDING_BUILD_RESOURCE.kind,
    metadata: { name: e.name, namespace: e.namespace, uid: e.uid, creationTimestamp: e.waitingSince },
    clusterPosition: e.clusterPosition,
    namespacePosition: e.namespacePosition,
    priority: e.priority,
    imageName: e.imageName,
    waitingSince: e.waitingSince,
    blockedBy: e.blockedBy,
    reason: e.reason,
    ...(e.estimatedStartTime ? { estimatedStartTime: e.estimatedStartTime } : {}),
  };
}

export interface ListRequest {
  namespace?: string;
  query: URLSearchParams;
}

const keyOf = (e: PendingRef) => `${e.namespace}/${e.name}`;

function parseLimit(raw: string | null): number {
  if (raw === null || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw badRequest(`limit must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

export class PendingBuilds {
  /** Pages of entries: only the items of the page asked for become PendingBuild objects. */
  readonly #pages: Paginator<PendingRef>;

  constructor(
    private readonly source: PendingQueueSource,
    pagination: PaginationOptions = {},
  ) {
    this.#pages = new Paginator(keyOf, pagination);
  }

  #snapshot() {
    if (!this.source.ready())
      throw new StatusError(
        503,
        "ServiceUnavailable",
        "the build queue is not known yet: the operator's caches are syncing",
      );
    return this.source.snapshot();
  }

  list(req: ListRequest): Page<PendingBuild> {
    const q = req.query;
    checkLabelSelector(q.get("labelSelector"));
    const fields = parseFieldSelector(q.get("fieldSelector"));
    const page = this.#pages.page(
      {
        key: JSON.stringify([req.namespace ?? "", fields]),
        limit: parseLimit(q.get("limit")),
        continueToken: q.get("continue") ?? undefined,
      },
      () => {
        const { resourceVersion, items } = this.#snapshot();
        const selected = items.filter(
          (e) => (!req.namespace || e.namespace === req.namespace) && matchesFields(fields, e),
        );
        return { resourceVersion, items: selected };
      },
    );
    return { ...page, items: page.items.map((ref) => toPendingBuild(ref.entry())) };
  }

  get(namespace: string, name: string): PendingBuild {
    const ref = this.#snapshot().items.find((e) => e.namespace === namespace && e.name === name);
    if (!ref)
      throw notFound(
        `${PENDING_BUILD_RESOURCE.plural}.${PENDING_BUILD_RESOURCE.group} ${JSON.stringify(name)} not found`,
        {
          name,
          group: PENDING_BUILD_RESOURCE.group,
          kind: PENDING_BUILD_RESOURCE.plural,
        },
      );
    return toPendingBuild(ref.entry());
  }
}

export function listObject(page: Page<PendingBuild>): PendingBuildList {
  return {
    apiVersion: API_VERSION,
    kind: PENDING_BUILD_RESOURCE.listKind,
    metadata: listMetadata(page),
    items: page.items,
  };
}

export function listMetadata(page: Page<unknown>) {
  return {
    resourceVersion: page.resourceVersion,
    ...(page.continueToken
      ? { continue: page.continueToken, remainingItemCount: page.remainingItemCount }
      : {}),
  };
}
