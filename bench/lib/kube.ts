// Cluster plumbing for the benchmark: clients, namespaces, fake nodes and the apiserver's /metrics.
import { setTimeout as sleep } from "node:timers/promises";
import { BatchV1Api, CoreV1Api, KubeConfig, type V1Node } from "@kubernetes/client-node";
import { WORKER_CONTAINER } from "../../src/controllers/job-template.js";
import { isAlreadyExists, isNotFound } from "../../src/runtime/api-errors.js";
import { mergePatchOptions, RestClient } from "../../src/runtime/kube.js";
import { Metrics } from "../../src/runtime/metrics.js";
import { Scrape } from "./prom.js";

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** A client of the harness itself: its own request counters, a rate far above golden's budget. */
export function harnessClient(kc: KubeConfig, qps = 0, burst = 1000): { rest: RestClient; metrics: Metrics } {
  const metrics = new Metrics({ defaultMetrics: false });
  return {
    rest: new RestClient(kc, { qps, burst, metrics, userAgent: "golden-bench", timeoutMs: 60_000 }),
    metrics,
  };
}

/** Requests a harness client made, by method (GET, LIST, WATCH, POST, PATCH, …). */
export async function requestsByMethod(metrics: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.rest.requests.get()).values) {
    const m = String(v.labels.method);
    out[m] = (out[m] ?? 0) + v.value;
  }
  return out;
}

export async function scrapeApiserver(rest: RestClient): Promise<Scrape> {
  const res = await rest.request({ method: "GET", path: "/metrics", headers: { Accept: "text/plain" } });
  const text = await res.body.text();
  if (res.httpStatusCode !== 200) throw new Error(`apiserver /metrics: HTTP ${res.httpStatusCode}`);
  return Scrape.parse(text);
}

export async function serverVersion(rest: RestClient): Promise<string> {
  try {
    const v = await rest.requestJson<{ gitVersion?: string }>({ method: "GET", path: "/version" });
    return v.gitVersion ?? "unknown";
  } catch {
    return "unknown";
  }
}

export async function createNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({
    body: { metadata: { name, labels: { "golden.dev/bench": "true" } } },
  });
}

/**
 * Deletes a namespace and waits until it is gone; returns the seconds it took. The namespace
 * controller and the garbage collector would take minutes for thousands of Job pods (each
 * carries the Job controller's tracking finalizer, removed at its QPS), so once the namespace is
 * terminating (no new pods) the harness strips those finalizers and deletes the pods at once.
 * Everything else (Images and their finalizer included) goes the normal way.
 */
export async function deleteNamespace(core: CoreV1Api, name: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  try {
    await core.deleteNamespace({ name });
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
  await purgePods(core, name).catch(() => undefined);
  while (Date.now() - start < timeoutMs) {
    try {
      await core.readNamespace({ name });
    } catch (err) {
      if (isNotFound(err)) return (Date.now() - start) / 1000;
      throw err;
    }
    await sleep(1000);
  }
  throw new Error(`namespace ${name} still terminating after ${timeoutMs / 1000}s`);
}

/**
 * Deletes every Image of a namespace and waits until the operator has released their finalizers
 * and they are gone; returns the seconds it took. Done before deleting the namespace, whose
 * controller would otherwise poll for them with a backoff of up to a minute.
 */
export async function deleteImages(rest: RestClient, namespace: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  const path = `/apis/golden.dev/v1alpha1/namespaces/${encodeURIComponent(namespace)}/images`;
  // One DELETE per Image, not a DELETECOLLECTION: the apiserver cuts a long one off at its request
  // timeout (60 s) and leaves the rest of the collection undeleted.
  const names: string[] = [];
  let cont: string | undefined;
  do {
    const page = await rest.requestJson<{
      items?: { metadata?: { name?: string } }[];
      metadata?: { continue?: string };
    }>({
      method: "GET",
      path,
      query: { limit: 500, continue: cont },
    });
    for (const i of page.items ?? []) if (i.metadata?.name) names.push(i.metadata.name);
    cont = page.metadata?.continue || undefined;
  } while (cont);
  await pool(names, 32, async (name) => {
    await rest
      .requestJson({ method: "DELETE", path: `${path}/${encodeURIComponent(name)}` })
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
  });
  // The garbage collector then deletes their builds, whose finalizers the operator releases.
  const builds = path.replace(/images$/, "imagebuilds");
  const empty = async (p: string) =>
    (
      (await rest.requestJson<{ items?: unknown[] }>({ method: "GET", path: p, query: { limit: 1 } }))
        .items ?? []
    ).length === 0;
  while (Date.now() - start < timeoutMs) {
    if ((await empty(path)) && (await empty(builds))) return (Date.now() - start) / 1000;
    await sleep(500);
  }
  throw new Error(
    `Images or ImageBuilds in ${namespace} still there after ${timeoutMs / 1000}s: is the operator running?`,
  );
}

async function purgePods(core: CoreV1Api, namespace: string): Promise<void> {
  const pods = await core.listNamespacedPod({ namespace });
  await pool(pods.items, 32, async (p) => {
    const name = p.metadata?.name ?? "";
    try {
      if (p.metadata?.finalizers?.length) {
        await core.patchNamespacedPod(
          { name, namespace, body: { metadata: { finalizers: null } } },
          mergePatchOptions(),
        );
      }
      await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  });
}

/** Leftovers of an interrupted earlier run (namespaces labelled golden.dev/bench). */
export async function deleteStaleNamespaces(core: CoreV1Api, timeoutMs: number): Promise<string[]> {
  const list = await core.listNamespace({ labelSelector: "golden.dev/bench=true" });
  const names = list.items.map((n) => n.metadata?.name ?? "").filter(Boolean);
  await Promise.all(names.map((n) => deleteNamespace(core, n, timeoutMs)));
  return names;
}

export const BENCH_NODE_PREFIX = "golden-bench-kwok-";

/**
 * Fake nodes with room for thousands of build pods, managed by KWOK (annotation
 * kwok.x-k8s.io/node=fake) and labelled type=kwok like the cluster's own KWOK nodes. The default
 * three (64 CPUs, 1000 pods) hold ≈ 500 worker pods of 250m, too few for N = 5000.
 */
export async function ensureBenchNodes(core: CoreV1Api, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const node: V1Node = {
      metadata: {
        name: `${BENCH_NODE_PREFIX}${i}`,
        annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
        labels: {
          type: "kwok",
          "kubernetes.io/arch": "amd64",
          "kubernetes.io/os": "linux",
          "kubernetes.io/hostname": `${BENCH_NODE_PREFIX}${i}`,
          "golden.dev/bench": "true",
        },
      },
      status: {
        allocatable: { cpu: "10000", memory: "10000Gi", pods: "10000" },
        capacity: { cpu: "10000", memory: "10000Gi", pods: "10000" },
      },
    };
    try {
      await core.createNode({ body: node });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  // KWOK marks them Ready within a second or two.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const nodes = await core.listNode({ labelSelector: "golden.dev/bench=true" });
    const ready = nodes.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    ).length;
    if (ready >= count) return;
    if (Date.now() > deadline)
      throw new Error(`KWOK did not make the bench nodes Ready (${ready}/${count}); is KWOK running?`);
    await sleep(500);
  }
}

export async function deleteBenchNodes(core: CoreV1Api): Promise<void> {
  const nodes = await core.listNode({ labelSelector: "golden.dev/bench=true" });
  for (const n of nodes.items) {
    try {
      await core.deleteNode({ name: n.metadata?.name ?? "" });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

export function apis(rest: RestClient): { core: CoreV1Api; batch: BatchV1Api } {
  return { core: rest.api(CoreV1Api), batch: rest.api(BatchV1Api) };
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight. */
export async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** What the kubelet reports when the worker's container exits 0 after its result. */
export async function completeWorkerPod(rest: RestClient, namespace: string, podName: string): Promise<void> {
  const finishedAt = new Date().toISOString();
  await rest.requestJson({
    method: "PATCH",
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}/status`,
    headers: { "Content-Type": "application/merge-patch+json" },
    body: {
      status: {
        phase: "Succeeded",
        conditions: [
          { type: "Ready", status: "False", reason: "PodCompleted", lastTransitionTime: finishedAt },
        ],
        containerStatuses: [
          {
            name: WORKER_CONTAINER,
            image: "golden:dev",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: "Completed", finishedAt } },
          },
        ],
      },
    },
  });
}
