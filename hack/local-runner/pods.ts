// Runs golden's worker pods bound to the runner's nodes as local processes and reports their
// status through the API the way a kubelet does. The stand-in for the kubelet's container
// runtime on machines without one; in a real cluster the kubelet runs the real image.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  type CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1ContainerStatus,
  type V1Pod,
  type V1PodCondition,
  type V1PodStatus,
} from "@kubernetes/client-node";
import { isNotFound } from "../../src/runtime/api-errors.js";
import { containerEnv, isGoldenImage, localCommand } from "./command.js";

export interface PodRunnerOptions {
  core: CoreV1Api;
  repo: string;
  stateDir: string;
  /** The apiserver and CA the workers' kubeconfigs point at. */
  server: string;
  caFile: string;
  nodeBinary: string;
  imagePattern?: RegExp;
  log: (msg: string, fields?: object) => void;
}

interface RunningPod {
  child: ChildProcess;
  startedAt: Date;
  killTimer?: NodeJS.Timeout;
}

const TOKEN_SECONDS = 3600;
const strategicMerge = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);

export class PodRunner {
  private readonly running = new Map<string, RunningPod>();
  /** Pods seen by this runner; guards against starting a pod twice while its status write lags. */
  private readonly handled = new Set<string>();

  constructor(private readonly opts: PodRunnerOptions) {
    const pids = path.join(opts.stateDir, "pids");
    fs.mkdirSync(pids, { recursive: true });
    fs.mkdirSync(path.join(opts.stateDir, "pods"), { recursive: true });
    // Processes a previous runner left behind: their pods are reported lost (sync), so the
    // processes must go too, or a stale worker would race the build's next attempt.
    for (const file of fs.readdirSync(pids)) {
      const pid = Number(fs.readFileSync(path.join(pids, file), "utf8"));
      try {
        if (pid > 0) process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      fs.rmSync(path.join(pids, file), { force: true });
    }
  }

  /** Level-triggered: called with the pod's latest state on every add/update. */
  async sync(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    if (pod.metadata?.deletionTimestamp) {
      await this.terminate(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed" || this.handled.has(uid)) return;
    this.handled.add(uid);
    if (phase === "Running") {
      // Running but not ours: the runner restarted and the process (and its exit code) is gone.
      await this.writeTerminated(
        pod,
        new Date(),
        137,
        "ContainerLost",
        "the local runner restarted while this pod ran",
      );
      return;
    }
    await this.start(pod);
  }

  /** The pod object is gone from the API: make sure its process is too. */
  forget(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? "";
    this.running.get(uid)?.child.kill("SIGKILL");
    this.handled.delete(uid);
  }

  stopAll(): void {
    for (const run of this.running.values()) run.child.kill("SIGTERM");
  }

  private async start(pod: V1Pod): Promise<void> {
    const { opts } = this;
    const meta = pod.metadata ?? {};
    const container = pod.spec?.containers[0];
    if (!container) return;
    if (!isGoldenImage(container.image, opts.imagePattern)) {
      await this.writeWaiting(
        pod,
        "ErrImageNeverPull",
        `the local runner only runs golden's worker image, not ${container.image}`,
      );
      return;
    }
    const command = localCommand(container, opts.repo, opts.nodeBinary);
    if (typeof command === "string") {
      await this.writeTerminated(pod, new Date(), 128, "StartError", command);
      return;
    }
    const podDir = path.join(opts.stateDir, "pods", meta.uid ?? "unknown");
    fs.mkdirSync(podDir, { recursive: true });
    const kubeconfig = path.join(podDir, "kubeconfig");
    const terminationLog = path.join(podDir, "termination-log");
    try {
      fs.writeFileSync(kubeconfig, await this.serviceAccountKubeconfig(pod), { mode: 0o600 });
    } catch (err) {
      await this.writeTerminated(pod, new Date(), 128, "StartError", `TokenRequest failed: ${String(err)}`);
      return;
    }
    const logFile = fs.openSync(path.join(opts.stateDir, `${meta.namespace}_${meta.name}.log`), "a");
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOSTNAME: meta.name ?? "",
      ...containerEnv(pod, container),
      // The pod's own identity: a kubeconfig holding the ServiceAccount token from TokenRequest.
      KUBECONFIG: kubeconfig,
      GOLDEN_TERMINATION_LOG: terminationLog,
    };
    const startedAt = new Date();
    const child = spawn(command.file, command.args, {
      cwd: opts.repo,
      env,
      stdio: ["ignore", logFile, logFile],
    });
    fs.closeSync(logFile);
    const pidFile = path.join(opts.stateDir, "pids", `${meta.uid}.pid`);
    if (child.pid !== undefined) fs.writeFileSync(pidFile, String(child.pid));
    this.running.set(meta.uid ?? "", { child, startedAt });
    opts.log("started pod", { pod: `${meta.namespace}/${meta.name}`, pid: child.pid, args: command.args });

    child.on("exit", (code, signal) => {
      const run = this.running.get(meta.uid ?? "");
      clearTimeout(run?.killTimer);
      this.running.delete(meta.uid ?? "");
      fs.rmSync(pidFile, { force: true });
      const exitCode = code ?? 128 + signalNumber(signal);
      const message = readTerminationMessage(terminationLog);
      opts.log("pod exited", { pod: `${meta.namespace}/${meta.name}`, exitCode });
      this.writeTerminated(pod, startedAt, exitCode, exitCode === 0 ? "Completed" : "Error", message)
        .then(() => (pod.metadata?.deletionTimestamp ? this.confirmDeletion(pod) : undefined))
        .catch((err: unknown) => opts.log("status write failed", { pod: meta.name, err: String(err) }))
        .finally(() => fs.rmSync(podDir, { recursive: true, force: true }));
    });
    child.on("error", (err) => opts.log("spawn failed", { pod: meta.name, err: String(err) }));
    await this.writeRunning(pod, startedAt, child.pid);
  }

  /** Deletion requested: SIGTERM, SIGKILL after the grace period, then confirm as the kubelet does. */
  private async terminate(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    const run = this.running.get(uid);
    if (!run) {
      await this.confirmDeletion(pod);
      return;
    }
    if (run.killTimer) return;
    const graceMs = (pod.metadata?.deletionGracePeriodSeconds ?? 30) * 1000;
    run.child.kill("SIGTERM");
    run.killTimer = setTimeout(() => run.child.kill("SIGKILL"), graceMs);
    // Once the process exits, the exit handler writes status; confirm deletion then.
    run.child.once("exit", () => {
      this.confirmDeletion(pod).catch((err: unknown) => this.opts.log("delete failed", { err: String(err) }));
    });
  }

  /** The kubelet's final delete, once the process is gone: grace period 0, guarded by uid. */
  private async confirmDeletion(pod: V1Pod): Promise<void> {
    try {
      await this.opts.core.deleteNamespacedPod({
        name: pod.metadata?.name ?? "",
        namespace: pod.metadata?.namespace ?? "",
        // In the body: client-node drops a query parameter whose value is 0.
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } },
      });
    } catch (err) {
      if (!isNotFound(err) && !isConflictOnUid(err)) throw err;
    }
  }

  private async serviceAccountKubeconfig(pod: V1Pod): Promise<string> {
    const namespace = pod.metadata?.namespace ?? "default";
    const serviceAccount = pod.spec?.serviceAccountName ?? "default";
    const request = await this.opts.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: {
        spec: {
          audiences: [],
          expirationSeconds: TOKEN_SECONDS,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name, uid: pod.metadata?.uid },
        },
      },
    });
    const token = request.status?.token ?? "";
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: in-cluster\n  cluster:\n    server: ${this.opts.server}\n    certificate-authority: ${this.opts.caFile}`,
      "users:",
      `- name: ${serviceAccount}\n  user:\n    token: ${token}`,
      "contexts:",
      `- name: in-cluster\n  context:\n    cluster: in-cluster\n    user: ${serviceAccount}\n    namespace: ${namespace}`,
      "current-context: in-cluster",
      "",
    ].join("\n");
  }

  private async writeRunning(pod: V1Pod, startedAt: Date, pid: number | undefined): Promise<void> {
    const container = pod.spec?.containers[0];
    await this.patchStatus(pod, {
      phase: "Running",
      hostIP: "127.0.0.1",
      podIP: "127.0.0.1",
      podIPs: [{ ip: "127.0.0.1" }],
      startTime: startedAt,
      conditions: conditions(startedAt, true, true),
      containerStatuses: [
        {
          name: container?.name ?? "",
          image: container?.image ?? "",
          imageID: `local://${container?.image}`,
          containerID: `local://${pid}`,
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt } },
        },
      ],
    });
  }

  private async writeWaiting(pod: V1Pod, reason: string, message: string): Promise<void> {
    const container = pod.spec?.containers[0];
    await this.patchStatus(pod, {
      phase: "Pending",
      conditions: conditions(new Date(), false, false),
      containerStatuses: [
        {
          name: container?.name ?? "",
          image: container?.image ?? "",
          imageID: "",
          ready: false,
          restartCount: 0,
          state: { waiting: { reason, message } },
        },
      ],
    });
  }

  private async writeTerminated(
    pod: V1Pod,
    startedAt: Date,
    exitCode: number,
    reason: string,
    message: string | undefined,
  ): Promise<void> {
    const container = pod.spec?.containers[0];
    const finishedAt = new Date();
    const status: V1ContainerStatus = {
      name: container?.name ?? "",
      image: container?.image ?? "",
      imageID: `local://${container?.image}`,
      ready: false,
      started: false,
      restartCount: 0,
      state: { terminated: { exitCode, reason, startedAt, finishedAt, ...(message ? { message } : {}) } },
    };
    await this.patchStatus(pod, {
      phase: exitCode === 0 ? "Succeeded" : "Failed",
      hostIP: "127.0.0.1",
      podIP: "127.0.0.1",
      startTime: startedAt,
      conditions: conditions(startedAt, true, false, "PodCompleted"),
      containerStatuses: [status],
    });
  }

  private async patchStatus(pod: V1Pod, status: V1PodStatus): Promise<void> {
    try {
      await this.opts.core.patchNamespacedPodStatus(
        { name: pod.metadata?.name ?? "", namespace: pod.metadata?.namespace ?? "", body: { status } },
        strategicMerge,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function conditions(
  at: Date,
  initialized: boolean,
  ready: boolean,
  notReadyReason?: string,
): V1PodCondition[] {
  const condition = (type: string, ok: boolean, reason?: string): V1PodCondition => ({
    type,
    status: ok ? "True" : "False",
    lastTransitionTime: at,
    ...(reason && !ok ? { reason } : {}),
  });
  return [
    condition("PodScheduled", true),
    condition("PodReadyToStartContainers", initialized),
    condition("Initialized", initialized),
    condition("ContainersReady", ready, notReadyReason),
    condition("Ready", ready, notReadyReason),
  ];
}

/** The container's termination message, capped like the kubelet's 4 KiB. */
function readTerminationMessage(file: string): string | undefined {
  try {
    const text = fs.readFileSync(file, "utf8").trim();
    return text ? text.slice(0, 4096) : undefined;
  } catch {
    return undefined;
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 1;
}

function isConflictOnUid(err: unknown): boolean {
  return (err as { code?: number }).code === 409;
}
