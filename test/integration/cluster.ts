// Shared helpers for integration tests: the local cluster's clients, scratch namespaces and
// waiting for watched state. Tests talk to the real kube-apiserver started by `make cluster-up`.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  type V1Pod,
} from "@kubernetes/client-node";
import { GoldenClient } from "../../src/api/client.js";

export const repo = new URL("../../../", import.meta.url).pathname;
/** State directory of the local cluster (hack/cluster/common.sh honours the same variable). */
export const clusterDir = process.env.GOLDEN_CLUSTER_DIR ?? `${repo}.cluster`;
export const kubeconfigPath = process.env.KUBECONFIG ?? `${clusterDir}/kubeconfig`;
/** The local cluster's real node (kubelet + containerd; hack/cluster/node-up.sh), where build pods run. */
export const realNode = process.env.GOLDEN_NODE_NAME ?? "golden-node-0";

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

export const kc = kubeConfig();
export const core = kc.makeApiClient(CoreV1Api);
export const batch = kc.makeApiClient(BatchV1Api);
export const eventsApi = kc.makeApiClient(EventsV1Api);
export const golden = new GoldenClient(kc.makeApiClient(CustomObjectsApi));

const run = promisify(execFile);

/** KWOK's fake nodes are tainted (hack/cluster/up.sh): a pod meant for one tolerates it. */
export const KWOK_TOLERATION = {
  key: "kwok.x-k8s.io/node",
  operator: "Equal",
  value: "fake",
  effect: "NoSchedule",
};

/** Runs kubectl against the local cluster; resolves with stdout, rejects with stderr. */
export async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run("kubectl", ["--kubeconfig", kubeconfigPath, ...args], { maxBuffer: 16 << 20 });
  return stdout;
}

/** kubectl that is expected to fail: resolves with its stderr. */
export async function kubectlFails(...args: string[]): Promise<string> {
  try {
    await kubectl(...args);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`kubectl ${args.join(" ")} succeeded, expected it to fail`);
}

/** A fresh namespace per test file, deleted at the end. */
export async function scratchNamespace(
  prefix: string,
): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await core.createNamespace({ body: { metadata: { name, labels: { "golden.dev/test": "true" } } } });
  return {
    name,
    /** Deletes the namespace and waits until it is gone (call before stopping its operator: finalizers). */
    remove: async () => {
      await core.deleteNamespace({ name }).catch(() => undefined);
      await eventually(
        `namespace ${name} to be deleted`,
        async () => !(await core.readNamespace({ name }).catch(() => undefined)),
        120_000,
        500,
      );
    },
  };
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** A build's pod once it succeeded: the worker reports before it exits, the pod's status follows. */
export async function succeededBuildPod(namespace: string, buildName: string): Promise<V1Pod> {
  return eventually("the build pod to finish", async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: `golden.dev/build=${buildName}` });
    const p = pods.items[0];
    return p?.status?.phase === "Succeeded" ? p : undefined;
  });
}
