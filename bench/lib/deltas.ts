// What a phase of the benchmark cost, from two scrapes of /metrics (before and after): the
// apiserver's requests by resource and verb with their latency, and the operator's own client,
// throttle, reconcile and process figures.
import { EVENT_REPORTER, METRICS_PREFIX } from "../../src/build/names.js";
import type { RestClient } from "../../src/runtime/kube.js";
import { diffBuckets, diffMaps, histogramQuantile, type Labels, type Scrape } from "./prom.js";
import { round } from "./stats.js";

export const READ_VERBS = new Set(["GET", "LIST", "WATCH", "WATCHLIST"]);
export const WRITE_VERBS = new Set(["POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY"]);

export interface ApiRow {
  group: string;
  resource: string;
  subresource: string;
  verb: string;
  count: number;
}

export interface ApiDelta {
  reads: number;
  writes: number;
  rows: ApiRow[];
  /** apiserver-side latency of mutating requests (not WATCH), ms. */
  writeLatencyMs: { p50?: number; p99?: number };
  readLatencyMs: { p50?: number; p99?: number };
}

export function apiDelta(before: Scrape, after: Scrape): ApiDelta {
  const by = ["group", "resource", "subresource", "verb"];
  const d = diffMaps(
    after.groupSum("apiserver_request_total", by),
    before.groupSum("apiserver_request_total", by),
  );
  const rows: ApiRow[] = [];
  for (const [k, count] of d) {
    const [group = "", resource = "", subresource = "", verb = ""] = k.split("|");
    if (!resource) continue; // /metrics, /healthz, discovery
    rows.push({ group, resource, subresource, verb, count });
  }
  rows.sort((a, b) => b.count - a.count);
  const lat = (verbs: Set<string>) => {
    const f = (l: Record<string, string>) => verbs.has(l.verb ?? "") && (l.resource ?? "") !== "";
    const b = diffBuckets(
      after.buckets("apiserver_request_duration_seconds", f),
      before.buckets("apiserver_request_duration_seconds", f),
    );
    const q = (x: number) => {
      const v = histogramQuantile(x, b);
      return v === undefined ? undefined : round(v * 1000);
    };
    return { p50: q(0.5), p99: q(0.99) };
  };
  return {
    reads: rows.filter((r) => READ_VERBS.has(r.verb)).reduce((a, r) => a + r.count, 0),
    writes: rows.filter((r) => WRITE_VERBS.has(r.verb)).reduce((a, r) => a + r.count, 0),
    rows,
    writeLatencyMs: lat(WRITE_VERBS),
    readLatencyMs: lat(new Set(["GET", "LIST"])),
  };
}

export function sumRows(rows: ApiRow[], f: (r: ApiRow) => boolean): number {
  return rows.filter(f).reduce((a, r) => a + r.count, 0);
}

export interface OperatorDelta {
  cpuSeconds: number;
  requestsByMethod: Record<string, number>;
  conflicts: number;
  errors: number;
  /** pendingbuilds list requests as golden's server timed them (its histogram's buckets: coarse). */
  /** golden's own time per pendingbuilds page, and the TLS connections its API accepted meanwhile. */
  visibilityListMs?: {
    count: number;
    p50?: number;
    p99?: number;
    connections: number;
    /** Every request the aggregated API answered meanwhile, by verb (list, discovery, health…). */
    requestsByVerb: Record<string, number>;
    /** Of those, the ones that came on a new connection (a TLS handshake before them), by verb. */
    newConnectionRequestsByVerb: Record<string, number>;
  };
  reads: number;
  writes: number;
  throttle: {
    requests: number;
    meanWaitMs: number;
    p50Ms?: number;
    p99Ms?: number;
    totalWaitSeconds: number;
    waitedShare: number;
  };
  requestLatencyMs: { mean: number; p50?: number; p99?: number };
  reconciles: Record<string, number>;
  /** Seconds spent in each controller's reconciles over the phase, and its worker count. */
  reconcileSeconds: Record<string, number>;
  workers: Record<string, number>;
  heapUsedMB?: number;
  rssMB?: number;
}

/** A histogram's change between two scrapes, over its matching series: buckets, count and sum. */
export function histogramDelta(
  before: Scrape,
  after: Scrape,
  name: string,
  match: Labels | ((l: Labels) => boolean) = {},
): { buckets: Map<number, number>; count: number; sum: number } {
  const delta = (suffix: string) =>
    after.sum(`${name}_${suffix}`, match) - before.sum(`${name}_${suffix}`, match);
  return {
    buckets: diffBuckets(after.buckets(name, match), before.buckets(name, match)),
    count: delta("count"),
    sum: delta("sum"),
  };
}

export function operatorDelta(before: Scrape, after: Scrape): OperatorDelta {
  const byMethod = diffMaps(
    after.groupSum(`${METRICS_PREFIX}rest_client_requests_total`, ["method"]),
    before.groupSum(`${METRICS_PREFIX}rest_client_requests_total`, ["method"]),
  );
  const requests: Record<string, number> = Object.fromEntries(byMethod);
  const code = (c: string) =>
    after.sum(`${METRICS_PREFIX}rest_client_requests_total`, { code: c }) -
    before.sum(`${METRICS_PREFIX}rest_client_requests_total`, { code: c });
  const throttle = histogramDelta(
    before,
    after,
    `${METRICS_PREFIX}rest_client_rate_limiter_duration_seconds`,
  );
  const waitedUnder1ms = throttle.buckets.get(0.001) ?? 0;
  const notWatch = (l: Labels) => l.method !== "WATCH";
  const latency = histogramDelta(
    before,
    after,
    `${METRICS_PREFIX}rest_client_request_duration_seconds`,
    notWatch,
  );
  const ms = (v: number | undefined) => (v === undefined ? undefined : round(v * 1000));
  const reconciles = Object.fromEntries(
    diffMaps(
      after.groupSum("controller_runtime_reconcile_total", ["controller"]),
      before.groupSum("controller_runtime_reconcile_total", ["controller"]),
    ),
  );
  // Seconds each controller spent reconciling, to divide by the phase and its worker count.
  const reconcileSeconds = Object.fromEntries(
    [
      ...diffMaps(
        after.groupSum("controller_runtime_reconcile_time_seconds_sum", ["controller"]),
        before.groupSum("controller_runtime_reconcile_time_seconds_sum", ["controller"]),
      ),
    ].map(([c, v]) => [c, round(v, 1)]),
  );
  const workers = Object.fromEntries(
    after.groupSum("controller_runtime_max_concurrent_reconciles", ["controller"]),
  );
  // golden's own share of each pendingbuilds list page: arrival to the last byte written.
  const visibility = histogramDelta(
    before,
    after,
    `${METRICS_PREFIX}visibility_request_duration_seconds`,
    (l) => l.verb === "list",
  );
  const reads = (requests.GET ?? 0) + (requests.LIST ?? 0) + (requests.WATCH ?? 0);
  const writes = (requests.POST ?? 0) + (requests.PUT ?? 0) + (requests.PATCH ?? 0) + (requests.DELETE ?? 0);
  return {
    cpuSeconds: round(after.sum("process_cpu_seconds_total") - before.sum("process_cpu_seconds_total"), 2),
    requestsByMethod: requests,
    conflicts: code("409"),
    errors: code("<error>") + code("500") + code("429") + code("503"),
    reads,
    writes,
    throttle: {
      requests: throttle.count,
      meanWaitMs: round(throttle.count ? (1000 * throttle.sum) / throttle.count : 0),
      p50Ms: ms(histogramQuantile(0.5, throttle.buckets)),
      p99Ms: ms(histogramQuantile(0.99, throttle.buckets)),
      totalWaitSeconds: round(throttle.sum, 1),
      waitedShare: round(throttle.count ? 1 - waitedUnder1ms / throttle.count : 0, 3),
    },
    requestLatencyMs: {
      mean: round(latency.count ? (1000 * latency.sum) / latency.count : 0),
      p50: ms(histogramQuantile(0.5, latency.buckets)),
      p99: ms(histogramQuantile(0.99, latency.buckets)),
    },
    ...(visibility.count > 0
      ? {
          visibilityListMs: {
            count: visibility.count,
            p50: ms(histogramQuantile(0.5, visibility.buckets)),
            p99: ms(histogramQuantile(0.99, visibility.buckets)),
            connections:
              after.sum(`${METRICS_PREFIX}visibility_connections_total`) -
              before.sum(`${METRICS_PREFIX}visibility_connections_total`),
            requestsByVerb: Object.fromEntries(
              diffMaps(
                after.groupSum(`${METRICS_PREFIX}visibility_request_duration_seconds_count`, ["verb"]),
                before.groupSum(`${METRICS_PREFIX}visibility_request_duration_seconds_count`, ["verb"]),
              ),
            ),
            newConnectionRequestsByVerb: Object.fromEntries(
              diffMaps(
                after.groupSum(`${METRICS_PREFIX}visibility_request_duration_seconds_count`, ["verb"], {
                  connection: "new",
                }),
                before.groupSum(`${METRICS_PREFIX}visibility_request_duration_seconds_count`, ["verb"], {
                  connection: "new",
                }),
              ),
            ),
          },
        }
      : {}),
    reconciles,
    reconcileSeconds,
    workers,
    heapUsedMB: round(after.sum("nodejs_heap_size_used_bytes") / 2 ** 20),
    rssMB: round(after.sum("process_resident_memory_bytes") / 2 ** 20),
  };
}

/** Events golden recorded in a namespace (its reportingController). */
export async function countGoldenEvents(
  rest: RestClient,
  namespace: string,
): Promise<{ objects: number; occurrences: number }> {
  let objects = 0;
  let occurrences = 0;
  let cont: string | undefined;
  do {
    const page = await rest.requestJson<{
      items?: { reportingController?: string; series?: { count?: number } }[];
      metadata?: { continue?: string };
    }>({
      method: "GET",
      path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      query: { limit: 1000, continue: cont },
    });
    for (const e of page.items ?? []) {
      if (e.reportingController !== EVENT_REPORTER) continue;
      objects++;
      occurrences += e.series?.count ?? 1;
    }
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return { objects, occurrences };
}
