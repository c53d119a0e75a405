// The two references golden's throughput is compared with, on the same apiserver:
//  1. kube-controller-manager's Job controller: N bare Jobs (the same pod template golden's Jobs
//     have) → their Pods; latency Job created → Pod seen, and Pods/s.
//  2. The client-side limit: a bare client creating N Jobs as fast as golden's own QPS budget
//     allows (the same token bucket, createThrottle), suspended so no Pods follow.
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Job, type V1Pod } from "@kubernetes/client-node";
import type { ImageBuild } from "../../src/api/v1alpha1/index.js";
import { buildJob, type WorkerConfig } from "../../src/controllers/job-template.js";
import { Informer, stripManagedFields } from "../../src/runtime/informer.js";
import { createThrottle, RestClient } from "../../src/runtime/kube.js";
import { Metrics } from "../../src/runtime/metrics.js";
import { benchImageSpec } from "./golden.js";
import { pool } from "./kube.js";
import { type Percentiles, type Rate, rate, summarize } from "./stats.js";

export interface ReferenceOptions {
  kc: KubeConfig;
  rest: RestClient;
  namespace: string;
  n: number;
  worker: WorkerConfig;
  stepSeconds: number;
  timeoutMs: number;
  log: (msg: string) => void;
}

/** A Job exactly like the one golden makes for a build, minus its owner (an ImageBuild) and golden's labels. */
export function referenceJob(namespace: string, name: string, o: ReferenceOptions, suspend = false): V1Job {
  const fakeBuild: ImageBuild = {
    apiVersion: "golden.dev/v1alpha1",
    kind: "ImageBuild",
    metadata: { name, namespace, uid: "00000000-0000-0000-0000-000000000000" },
    spec: {
      imageName: name,
      imageGeneration: 1,
      attempt: 1,
      trigger: "Created",
      image: benchImageSpec(o.stepSeconds),
    },
  };
  const job = buildJob(fakeBuild, o.worker);
  const labels = { "golden.dev/bench": "reference" };
  job.metadata = { name, namespace, labels };
  if (job.spec?.template.metadata) job.spec.template.metadata.labels = labels;
  if (suspend && job.spec) job.spec.suspend = true;
  return job;
}

async function ensureServiceAccount(core: CoreV1Api, namespace: string, name: string): Promise<void> {
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
  // The ServiceAccount admission plugin refuses pods until the account exists in its cache.
  for (let i = 0; i < 50; i++) {
    try {
      await core.readNamespacedServiceAccount({ namespace, name });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface JobControllerResult {
  n: number;
  podsSeen: number;
  createSeconds: number;
  latencyMs: { jobToPod: Percentiles };
  throughput: { jobsCreated: Rate; pods: Rate };
  start: number;
  end: number;
}

export async function runJobControllerReference(o: ReferenceOptions): Promise<JobControllerResult> {
  const core = o.rest.api(CoreV1Api);
  const batch = o.rest.api(BatchV1Api);
  await ensureServiceAccount(core, o.namespace, o.worker.serviceAccount);
  const created = new Map<string, number>();
  const podSeen = new Map<string, number>();
  let resolveDone: () => void = () => {};
  const allDone = new Promise<void>((r) => {
    resolveDone = r;
  });
  const pods = new Informer<V1Pod>(o.kc, {
    client: o.rest,
    transform: stripManagedFields,
    name: "ref-pods",
    path: `/api/v1/namespaces/${encodeURIComponent(o.namespace)}/pods`,
  });
  pods.on("add", (p) => {
    const job = p.metadata?.labels?.["job-name"] ?? p.metadata?.labels?.["batch.kubernetes.io/job-name"];
    if (job && !podSeen.has(job)) {
      podSeen.set(job, Date.now());
      if (podSeen.size === o.n) resolveDone();
    }
  });
  await pods.start();
  const names = Array.from({ length: o.n }, (_, i) => `ref-${String(i).padStart(5, "0")}`);
  const start = Date.now();
  try {
    await pool(names, 32, async (name) => {
      await batch.createNamespacedJob({ namespace: o.namespace, body: referenceJob(o.namespace, name, o) });
      created.set(name, Date.now());
    });
    const createSeconds = (Date.now() - start) / 1000;
    const timer = setTimeout(resolveDone, o.timeoutMs);
    await allDone;
    clearTimeout(timer);
    if (podSeen.size < o.n)
      o.log(`  job controller: only ${podSeen.size}/${o.n} pods after ${o.timeoutMs / 1000}s`);
    const lat: number[] = [];
    for (const [job, t] of podSeen) {
      const c = created.get(job);
      if (c !== undefined) lat.push(t - c);
    }
    return {
      n: o.n,
      podsSeen: podSeen.size,
      createSeconds,
      latencyMs: { jobToPod: summarize(lat) },
      throughput: {
        jobsCreated: rate([...created.values()], start),
        pods: rate([...podSeen.values()], start),
      },
      start,
      end: Date.now(),
    };
  } finally {
    await pods.stop();
  }
}

export interface BareClientResult {
  n: number;
  created: number;
  qps: number;
  burst: number;
  throughput: { jobs: Rate };
  start: number;
  end: number;
}

export async function runBareClientReference(
  o: ReferenceOptions & { qps: number; burst: number },
): Promise<BareClientResult> {
  const core = o.rest.api(CoreV1Api);
  await ensureServiceAccount(core, o.namespace, o.worker.serviceAccount);
  const client = new RestClient(o.kc, {
    throttle: createThrottle({ qps: o.qps, burst: o.burst }),
    metrics: new Metrics({ defaultMetrics: false }),
    userAgent: "golden-bench-bare",
  });
  const batch = client.api(BatchV1Api);
  const names = Array.from({ length: o.n }, (_, i) => `bare-${String(i).padStart(5, "0")}`);
  const done: number[] = [];
  const start = Date.now();
  // Enough in flight that the token bucket, not the loop, sets the pace.
  await pool(names, 200, async (name) => {
    await batch.createNamespacedJob({
      namespace: o.namespace,
      body: referenceJob(o.namespace, name, o, true),
    });
    done.push(Date.now());
  });
  await client.auth.close();
  return {
    n: o.n,
    created: done.length,
    qps: o.qps,
    burst: o.burst,
    throughput: { jobs: rate(done, start) },
    start,
    end: Date.now(),
  };
}
