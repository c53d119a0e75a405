// Registers the local runner's nodes and keeps them Ready with status and Lease heartbeats,
// as a kubelet does, so the node lifecycle controller never marks them unreachable.
import {
  type CoordinationV1Api,
  type CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type V1Node,
} from "@kubernetes/client-node";
import { isAlreadyExists, isNotFound } from "../../src/runtime/api-errors.js";

export const RUNNER_NODE_LABEL = "golden.dev/local-runner";
export const RUNNER_TAINT_KEY = "golden.dev/local-runner";
const LEASE_NAMESPACE = "kube-node-lease";
const LEASE_SECONDS = 40;

export interface RunnerNode {
  name: string;
  arch: string;
}

export function parseNodes(spec: string): RunnerNode[] {
  return spec
    .split(",")
    .filter(Boolean)
    .map((entry) => {
      const [name, arch] = entry.split(":");
      if (!name || !arch) throw new Error(`--nodes entry ${entry}: want name:arch`);
      return { name, arch };
    });
}

export function nodeObject(node: RunnerNode): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: node.name,
      labels: {
        "kubernetes.io/arch": node.arch,
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": node.name,
        [RUNNER_NODE_LABEL]: "true",
      },
    },
    spec: { taints: [{ key: RUNNER_TAINT_KEY, value: "true", effect: "NoSchedule" }] },
  };
}

function nodeStatus(node: RunnerNode, now: Date): V1Node["status"] {
  const resources = { cpu: "4", memory: "8Gi", pods: "16" };
  return {
    capacity: resources,
    allocatable: resources,
    addresses: [
      { type: "InternalIP", address: "127.0.0.1" },
      { type: "Hostname", address: node.name },
    ],
    nodeInfo: {
      architecture: node.arch,
      operatingSystem: "linux",
      kubeletVersion: "golden-local-runner",
      kubeProxyVersion: "",
      containerRuntimeVersion: "local-process://node",
      osImage: "golden local runner (pods run as local processes)",
      kernelVersion: "",
      bootID: "",
      machineID: "",
      systemUUID: "",
    },
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "LocalRunnerReady",
        message: "golden's local runner runs worker pods as local processes",
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
  };
}

export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly core: CoreV1Api,
    private readonly coordination: CoordinationV1Api,
    private readonly nodes: RunnerNode[],
    private readonly log: (msg: string, fields?: object) => void,
  ) {}

  async register(): Promise<void> {
    for (const node of this.nodes) {
      try {
        await this.core.createNode({ body: nodeObject(node) });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      await this.beat(node);
    }
  }

  start(intervalMs = 10_000): void {
    this.timer = setInterval(() => {
      for (const node of this.nodes) {
        this.beat(node).catch((err: unknown) =>
          this.log("heartbeat failed", { node: node.name, err: String(err) }),
        );
      }
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async beat(node: RunnerNode): Promise<void> {
    await this.core.patchNodeStatus(
      { name: node.name, body: { status: nodeStatus(node, new Date()) } },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    await this.renewLease(node);
  }

  private async renewLease(node: RunnerNode): Promise<void> {
    const spec = {
      holderIdentity: node.name,
      leaseDurationSeconds: LEASE_SECONDS,
      renewTime: new V1MicroTime(),
    };
    try {
      await this.coordination.patchNamespacedLease(
        { name: node.name, namespace: LEASE_NAMESPACE, body: { spec } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.coordination.createNamespacedLease({
        namespace: LEASE_NAMESPACE,
        body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: node.name }, spec },
      });
    }
  }
}
