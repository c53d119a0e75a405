// A fleet of golden-operator replicas with leader election, supervised like a Deployment would:
// a replica that exits is restarted after a short delay. Every exit is recorded and classified,
// so the run can tell exits it caused (SIGKILL of the leader), exits golden is designed to make
// (a leader that lost its lease during a control-plane outage exits 1, like controller-runtime)
// and anything else (a crash), which fails the run.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CoordinationV1Api, type V1Lease } from "@kubernetes/client-node";
import { clusterDir, kc, kubeconfigPath, repo } from "../integration/cluster.js";
import { freePort } from "../support/free-port.js";

const coordination = kc.makeApiClient(CoordinationV1Api);
export const LEASE_NAME = "golden-operator";

export interface FleetOptions {
  /** Namespace the operators watch; "" for every namespace. */
  namespace: string;
  leaseNamespace: string;
  replicas: number;
  maxConcurrentBuilds: number;
  maxBuildsPerNamespace?: number;
  extraArgs?: string[];
  /** Prefix of log file names. */
  name: string;
  logLevel?: string;
  log: (msg: string) => void;
}

export type ExitKind = "killed-by-chaos" | "stopped" | "lease-lost" | "unexpected";

export interface ExitRecord {
  replica: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
  kind: ExitKind;
  logFile: string;
  tail: string;
}

interface Replica {
  name: string;
  child: ChildProcess;
  pid: number;
  port: number;
  logFile: string;
  exited: Promise<void>;
  /** Set when the fleet itself kills or stops the process, so its exit is expected. */
  expected?: "killed-by-chaos" | "stopped";
}

export class OperatorFleet {
  readonly exits: ExitRecord[] = [];
  readonly logDir = path.join(clusterDir, "logs", "chaos");
  private readonly replicas = new Map<number, Replica>();
  private stopping = false;
  private seq = 0;
  private readonly pendingRestarts = new Set<Promise<void>>();

  constructor(private readonly opts: FleetOptions) {
    fs.mkdirSync(this.logDir, { recursive: true });
    // Never leave operators behind, even if the test process ends without a teardown.
    process.once("exit", () => {
      for (const r of this.replicas.values()) r.child.kill("SIGKILL");
    });
  }

  get args(): string[] {
    const o = this.opts;
    return [
      "--namespace",
      o.namespace,
      "--leader-elect",
      "--leader-election-namespace",
      o.leaseNamespace,
      "--leader-election-id",
      LEASE_NAME,
      "--lease-duration",
      "4",
      "--renew-deadline",
      "3",
      "--retry-period",
      "1",
      "--max-concurrent-builds",
      String(o.maxConcurrentBuilds),
      "--max-builds-per-namespace",
      String(o.maxBuildsPerNamespace ?? 0),
      "--worker-node-selector",
      "golden.dev/real-node=true",
      "--arm64-placement",
      "emulated",
      "--log-level",
      o.logLevel ?? "info",
      ...(o.extraArgs ?? []),
    ];
  }

  /** Starts the replicas and waits until one of them holds the lease and is ready. */
  async start(): Promise<void> {
    for (let i = 0; i < this.opts.replicas; i++) await this.spawnReplica();
    await this.waitForLeader(60_000);
  }

  private async spawnReplica(): Promise<Replica> {
    const port = await freePort();
    const name = `${this.opts.name}-${++this.seq}`;
    const logFile = path.join(this.logDir, `${name}.log`);
    const out = fs.openSync(logFile, "w");
    // Every flag is settable as GOLDEN_<FLAG>: keep the test's own GOLDEN_* settings out.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GOLDEN_")));
    const child = spawn(
      process.execPath,
      [
        path.join(repo, "dist/src/cmd/operator.js"),
        "--kubeconfig",
        kubeconfigPath,
        "--health-port",
        String(port),
        // Replicas share this host: the visibility API's fixed port is not for them.
        "--visibility-port",
        "0",
        ...this.args,
      ],
      { stdio: ["ignore", out, out], env },
    );
    fs.closeSync(out);
    const pid = child.pid ?? -1;
    const replica: Replica = {
      name,
      child,
      pid,
      port,
      logFile,
      exited: new Promise<void>((resolve) => child.once("exit", () => resolve())),
    };
    child.once("exit", (code, signal) => this.onExit(replica, code, signal));
    this.replicas.set(pid, replica);
    this.opts.log(`operator ${name} started (pid ${pid}, health port ${port})`);
    return replica;
  }

  private onExit(r: Replica, code: number | null, signal: NodeJS.Signals | null): void {
    this.replicas.delete(r.pid);
    let tail = "";
    try {
      tail = fs.readFileSync(r.logFile, "utf8").split("\n").slice(-15).join("\n");
    } catch {
      // The log is gone with the cluster directory; the exit still counts.
    }
    const kind: ExitKind =
      r.expected ??
      (code === 1 && /leader election lost|leader lease lost/.test(tail) ? "lease-lost" : "unexpected");
    this.exits.push({
      replica: r.name,
      pid: r.pid,
      code,
      signal,
      at: Date.now(),
      kind,
      logFile: r.logFile,
      tail,
    });
    this.opts.log(`operator ${r.name} (pid ${r.pid}) exited code=${code} signal=${signal}: ${kind}`);
    if (this.stopping) return;
    // Like a Deployment: bring the replica count back.
    const restart = sleep(1_000).then(async () => {
      if (!this.stopping) await this.spawnReplica();
    });
    this.pendingRestarts.add(restart);
    void restart.finally(() => this.pendingRestarts.delete(restart));
  }

  async lease(): Promise<V1Lease | undefined> {
    return coordination
      .readNamespacedLease({ name: LEASE_NAME, namespace: this.opts.leaseNamespace })
      .catch(() => undefined);
  }

  /** The replica holding the lease, if the holder is one of ours and alive. */
  async leader(): Promise<Replica | undefined> {
    const holder = (await this.lease())?.spec?.holderIdentity;
    const pid = Number(holder?.split("_").at(-1));
    const r = this.replicas.get(pid);
    return r && r.child.exitCode === null ? r : undefined;
  }

  async waitForLeader(timeoutMs: number): Promise<Replica> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await this.leader();
      if (r) {
        const ready = await fetch(`http://127.0.0.1:${r.port}/readyz`).catch(() => undefined);
        if (ready?.ok) return r;
      }
      await sleep(250);
    }
    throw new Error(`no ready leader among the operator replicas after ${timeoutMs} ms`);
  }

  /** SIGKILLs the leader; the fleet restarts it as a standby. Returns the killed replica's name. */
  async killLeader(): Promise<string> {
    const r = await this.waitForLeader(30_000);
    r.expected = "killed-by-chaos";
    r.child.kill("SIGKILL");
    await r.exited;
    return `${r.name} (pid ${r.pid})`;
  }

  /** Replicas that are running now. */
  alive(): number {
    return [...this.replicas.values()].filter((r) => r.child.exitCode === null).length;
  }

  /** Leader election metrics: how often the lease changed hands. */
  async leaseTransitions(): Promise<number> {
    return (await this.lease())?.spec?.leaseTransitions ?? 0;
  }

  exitsSince(t: number): ExitRecord[] {
    return this.exits.filter((e) => e.at >= t);
  }

  /** SIGTERM every replica (they drain and release the lease), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.pendingRestarts]);
    const all = [...this.replicas.values()];
    for (const r of all) {
      r.expected ??= "stopped";
      r.child.kill("SIGTERM");
    }
    await Promise.all(
      all.map(async (r) => {
        const t = setTimeout(() => r.child.kill("SIGKILL"), 20_000);
        await r.exited;
        clearTimeout(t);
      }),
    );
  }
}
