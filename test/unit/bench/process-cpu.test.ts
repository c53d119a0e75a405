import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cpuBetween, parseMachineCpu, parseProcStatCpuSeconds } from "../../../bench/lib/process-cpu.js";

describe("parseProcStatCpuSeconds", () => {
  it("adds utime and stime, in 1/100 s ticks", () => {
    const stat = "4242 (kube-apiserver) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 566 0 0 20 0 12 0";
    assert.equal(parseProcStatCpuSeconds(stat), 18);
  });

  it("reads past a command name holding spaces and parentheses", () => {
    const stat = "7 (node (x) y) R 1 7 7 0 -1 0 0 0 0 0 50 25 0 0 20 0 1 0";
    assert.equal(parseProcStatCpuSeconds(stat), 0.75);
  });

  it("gives nothing for a line it cannot read", () => {
    assert.equal(parseProcStatCpuSeconds("garbage"), undefined);
    assert.equal(parseProcStatCpuSeconds("1 (x) S 1"), undefined);
  });
});

describe("parseMachineCpu", () => {
  it("counts iowait as idle and steal, irq and softirq as busy", () => {
    const stat = "cpu  100 10 50 800 40 5 5 10 0 0\ncpu0 50 5 25 400 20 2 3 5 0 0\n";
    assert.deepEqual(parseMachineCpu(stat), { busySeconds: 1.8, idleSeconds: 8.4 });
  });
});

describe("cpuBetween", () => {
  it("gives each process's share of all cores, the busy time nobody listed, and idle", () => {
    const before = {
      atMs: 0,
      processes: { apiserver: 10, etcd: 5, gone: 1 },
      machine: { busySeconds: 100, idleSeconds: 100 },
    };
    const after = {
      atMs: 10_000,
      processes: { apiserver: 18, etcd: 7, started: 3 },
      machine: { busySeconds: 116, idleSeconds: 104 },
    };
    const cpu = cpuBetween(before, after, 2);
    // 20 core-seconds in 10 s on 2 cores: apiserver 8 s, etcd 2 s; 16 busy, so 6 s unlisted.
    assert.deepEqual(cpu, {
      seconds: 10,
      cores: 2,
      share: { apiserver: 0.4, etcd: 0.1 },
      otherShare: 0.3,
      idleShare: 0.2,
    });
  });

  it("leaves out a process whose counter went back (it restarted)", () => {
    const cpu = cpuBetween({ atMs: 0, processes: { kwok: 50 } }, { atMs: 1000, processes: { kwok: 2 } }, 1);
    assert.deepEqual(cpu.share, {});
    assert.equal(cpu.otherShare, undefined);
  });
});
