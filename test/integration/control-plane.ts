// Fault injection on the local control plane: stop and restart components by the pids that
// cluster-up recorded, and compact etcd's history.
import { execFile } from "node:child_process";
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { clusterDir, repo } from "./cluster.js";

const run = promisify(execFile);
const pidFile = (component: string) => `${clusterDir}/pids/${component}.pid`;
const etcd = `http://127.0.0.1:${process.env.GOLDEN_ETCD_PORT ?? "23790"}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops one component (SIGTERM, or the given signal) and waits until its process is gone, with
 * SIGKILL after graceMs. The default grace is short on purpose: kube-apiserver stops listening at
 * once on SIGTERM but then waits for its open watches (the operators') for 20 s or more, time in
 * which it serves nothing, like a pod past its grace period.
 */
export async function stopComponent(
  component: string,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 3_000,
): Promise<void> {
  const pid = Number(fs.readFileSync(pidFile(component), "utf8"));
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && alive(pid)) await sleep(100);
  if (alive(pid)) process.kill(pid, "SIGKILL");
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
}

/** cluster-up is idempotent: it starts whatever is not running and waits for readiness. */
export async function startMissingComponents(): Promise<void> {
  await run(`${repo}hack/cluster/up.sh`, [], { cwd: repo, maxBuffer: 16 << 20 });
}

/** Compacts etcd to its current revision, so any older resourceVersion is gone (410 on watch). */
export async function compactEtcd(): Promise<number> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${etcd}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { header?: { revision?: string } };
  };
  const { header } = await post("/v3/kv/range", { key: Buffer.from("/").toString("base64") });
  const revision = Number(header?.revision);
  await post("/v3/kv/compaction", { revision, physical: true });
  return revision;
}
