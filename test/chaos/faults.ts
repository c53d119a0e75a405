// The faults a chaos run injects, each a small async action that reports what it did. Control-
// plane components are stopped by the pid that cluster-up recorded and brought back by the
// idempotent hack/cluster/up.sh; golden's Jobs and pods are deleted through the API.
import { setTimeout as sleep } from "node:timers/promises";
import { batch, core } from "../integration/cluster.js";
import { startMissingComponents, stopComponent } from "../integration/control-plane.js";
import type { OperatorFleet } from "./operators.js";
import type { Rng } from "./prng.js";
import type { ConflictStorm } from "./storm.js";

export type FaultKind =
  | "leader-kill"
  | "apiserver-restart"
  | "etcd-restart"
  | "kubelet-restart"
  | "job-delete"
  | "pod-delete"
  | "conflict-storm";

export const CONTROL_PLANE_FAULTS: ReadonlySet<FaultKind> = new Set([
  "apiserver-restart",
  "etcd-restart",
  "kubelet-restart",
]);

export interface FaultRecord {
  kind: FaultKind;
  /** ms since the chaos phase started. */
  at: number;
  durationMs: number;
  detail: string;
  error?: string;
}

export interface FaultContext {
  rng: Rng;
  fleet: OperatorFleet;
  storm: ConflictStorm;
  namespaces: string[];
  images: { namespace: string; name: string }[];
  stormMs: number;
}

const WORKER_SELECTOR = "app.kubernetes.io/managed-by=golden";

/** Runs up.sh until every component is back (it fails fast if one cannot start; try again). */
export async function restoreControlPlane(): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      await startMissingComponents();
      return;
    } catch (err) {
      last = err;
      const stderr = String((err as { stderr?: string }).stderr ?? err);
      console.log(
        `[chaos] hack/cluster/up.sh failed (attempt ${i + 1}): ${stderr.trim().split("\n").slice(-3).join(" | ")}`,
      );
      await sleep(2_000);
    }
  }
  throw new Error(
    `hack/cluster/up.sh failed 3 times: ${String((last as { stderr?: string }).stderr ?? last)}`,
  );
}

export async function injectFault(kind: FaultKind, ctx: FaultContext): Promise<string> {
  const { rng } = ctx;
  switch (kind) {
    case "leader-kill":
      return `SIGKILL leader ${await ctx.fleet.killLeader()}`;
    case "apiserver-restart": {
      await stopComponent("kube-apiserver");
      const downMs = rng.int(0, 4_000);
      await sleep(downMs);
      await restoreControlPlane();
      return `kube-apiserver stopped (SIGTERM), down ≥ ${downMs} ms, restarted by up.sh`;
    }
    case "etcd-restart": {
      await stopComponent("etcd");
      const downMs = rng.int(0, 3_000);
      await sleep(downMs);
      await restoreControlPlane();
      return `etcd stopped (SIGTERM), down ≥ ${downMs} ms, restarted by up.sh`;
    }
    case "kubelet-restart": {
      // The real node's kubelet dies; its containers keep running under containerd, and the
      // restarted kubelet picks them up again (and catches up on pods deleted meanwhile).
      const signal = rng.chance(0.6) ? "SIGKILL" : "SIGTERM";
      await stopComponent("kubelet", signal);
      await sleep(rng.int(0, 2_000));
      await restoreControlPlane();
      return `kubelet killed (${signal}), restarted by up.sh`;
    }
    case "job-delete": {
      const jobs = (
        await Promise.all(
          ctx.namespaces.map((namespace) =>
            batch.listNamespacedJob({ namespace, labelSelector: WORKER_SELECTOR }),
          ),
        )
      )
        .flatMap((l) => l.items)
        .filter((j) => !j.metadata?.deletionTimestamp)
        .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
      const active = jobs.filter((j) => !(j.status?.conditions ?? []).some((c) => c.status === "True"));
      const pool = active.length > 0 && rng.chance(0.8) ? active : jobs;
      if (pool.length === 0) return "no Job to delete";
      const victims = rng.sample(pool, rng.int(1, Math.min(3, pool.length)));
      const policy = rng.pick(["Background", "Background", "Foreground", "Orphan"] as const);
      for (const job of victims) {
        await batch
          .deleteNamespacedJob({
            name: job.metadata?.name ?? "",
            namespace: job.metadata?.namespace ?? "",
            propagationPolicy: policy,
          })
          .catch(() => undefined);
      }
      return `deleted Job(s) ${victims.map((j) => j.metadata?.name).join(", ")} (${policy})`;
    }
    case "pod-delete": {
      const pods = (
        await Promise.all(
          ctx.namespaces.map((namespace) =>
            core.listNamespacedPod({ namespace, labelSelector: WORKER_SELECTOR }),
          ),
        )
      )
        .flatMap((l) => l.items)
        .filter((p) => !p.metadata?.deletionTimestamp)
        .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
      const running = pods.filter((p) => p.status?.phase === "Running" || p.status?.phase === "Pending");
      if (running.length === 0) return "no running build pod to delete";
      const victims = rng.sample(running, rng.int(1, Math.min(3, running.length)));
      const grace = rng.pick([undefined, 0, 1]);
      for (const pod of victims) {
        await core
          .deleteNamespacedPod({
            name: pod.metadata?.name ?? "",
            namespace: pod.metadata?.namespace ?? "",
            ...(grace !== undefined ? { body: { gracePeriodSeconds: grace } } : {}),
          })
          .catch(() => undefined);
      }
      return `deleted pod(s) ${victims.map((p) => p.metadata?.name).join(", ")} (grace ${grace ?? "default"})`;
    }
    case "conflict-storm": {
      // A few hot Images, so the clients really collide.
      const targets = rng.sample(ctx.images, Math.min(ctx.images.length, rng.int(2, 4)));
      return await ctx.storm.run(rng, targets, ctx.stormMs);
    }
  }
}
