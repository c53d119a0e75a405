// Where a run's CPU went, process by process: the control plane's components (their pids are in
// the cluster directory's pids/, written by hack/cluster/up.sh), the operator, this harness, and
// the machine's idle time. On a 2-core machine every process shares the cores with the apiserver,
// so a slow answer is only explained once it is known who else was running.

import fs from "node:fs";
import path from "node:path";

/** Linux's USER_HZ: /proc's CPU times are in these ticks (100 on every Linux ABI Node runs on). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) of one process from its /proc/<pid>/stat line; undefined if unparsable. */
export function parseProcStatCpuSeconds(stat: string): number | undefined {
  // The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(" ");
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / TICKS_PER_SECOND;
}

export interface MachineCpu {
  busySeconds: number;
  idleSeconds: number;
}

/** The machine's busy and idle seconds, summed over its cores, from /proc/stat's first line. */
export function parseMachineCpu(procStat: string): MachineCpu | undefined {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const values = [user, nice, system, idle, iowait, irq, softirq, steal];
  if (values.some((v) => v === undefined || !Number.isFinite(v))) return undefined;
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return {
    busySeconds: busy / TICKS_PER_SECOND,
    idleSeconds: ((idle ?? 0) + (iowait ?? 0)) / TICKS_PER_SECOND,
  };
}

export interface CpuSnapshot {
  atMs: number;
  /** CPU seconds so far, per process name. */
  processes: Record<string, number>;
  machine?: MachineCpu;
}

export interface CpuByProcess {
  seconds: number;
  cores: number;
  /** Each process's CPU over the interval, as a share of the machine (all cores = 1). */
  share: Record<string, number>;
  /** Busy time no listed process accounts for (kubectl, the kernel, other programs). */
  otherShare?: number;
  idleShare?: number;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** The interval between two snapshots; a process missing from either is left out. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot, cores: number): CpuByProcess {
  const seconds = Math.max((after.atMs - before.atMs) / 1000, 1e-3);
  const capacity = seconds * cores;
  const share: Record<string, number> = {};
  let listed = 0;
  for (const [name, end] of Object.entries(after.processes)) {
    const start = before.processes[name];
    if (start === undefined || end < start) continue; // a restarted process: its counter began again
    share[name] = round3((end - start) / capacity);
    listed += end - start;
  }
  const result: CpuByProcess = { seconds: round3(seconds), cores, share };
  if (before.machine && after.machine) {
    const busy = after.machine.busySeconds - before.machine.busySeconds;
    const idle = after.machine.idleSeconds - before.machine.idleSeconds;
    const total = busy + idle;
    if (total > 0) {
      result.otherShare = round3(Math.max(busy - listed, 0) / total);
      result.idleShare = round3(idle / total);
    }
  }
  return result;
}

const readOr = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

/** The cluster's components by name: each pids/<name>.pid under the cluster directory. */
export function clusterPids(clusterDir: string | undefined): Record<string, number> {
  if (!clusterDir) return {};
  const dir = path.join(clusterDir, "pids");
  const pids: Record<string, number> = {};
  for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!file.endsWith(".pid")) continue;
    const pid = Number((readOr(path.join(dir, file)) ?? "").trim());
    if (Number.isInteger(pid) && pid > 0) pids[file.slice(0, -".pid".length)] = pid;
  }
  return pids;
}

/** Now: the CPU seconds of each named process, this harness's own, and the machine's. */
export function cpuSnapshot(pids: Record<string, number>): CpuSnapshot {
  const processes: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const stat = readOr(`/proc/${pid}/stat`);
    const s = stat === undefined ? undefined : parseProcStatCpuSeconds(stat);
    if (s !== undefined) processes[name] = s;
  }
  const own = process.cpuUsage();
  processes["bench harness"] = (own.user + own.system) / 1e6;
  const machineStat = readOr("/proc/stat");
  const machine = machineStat === undefined ? undefined : parseMachineCpu(machineStat);
  return { atMs: Date.now(), processes, ...(machine ? { machine } : {}) };
}
