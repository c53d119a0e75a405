// golden-operator as a child process of the benchmark, scraped through its own /metrics.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../test/support/free-port.js";
import { Scrape } from "./prom.js";

export interface OperatorOptions {
  /** dist/bundle/operator.mjs (or a patched copy's). */
  script: string;
  kubeconfig: string;
  args: string[];
  logFile: string;
  /** Directory for --cpu-prof output; undefined = no profiling. */
  cpuProfDir?: string;
  cpuProfName?: string;
  /** Extra node flags (e.g. --max-old-space-size=128). */
  nodeArgs?: string[];
}

export class OperatorProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<number>;
  readonly args: string[];

  private constructor(child: ChildProcess, port: number, args: string[]) {
    this.child = child;
    this.port = port;
    this.args = args;
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGKILL" ? 137 : 143)));
    });
  }

  static async start(opts: OperatorOptions): Promise<OperatorProcess> {
    const port = await freePort();
    const nodeArgs: string[] = [...(opts.nodeArgs ?? [])];
    if (opts.cpuProfDir) {
      fs.mkdirSync(opts.cpuProfDir, { recursive: true });
      nodeArgs.push("--cpu-prof", "--cpu-prof-dir", opts.cpuProfDir);
      if (opts.cpuProfName) nodeArgs.push("--cpu-prof-name", opts.cpuProfName);
    }
    // The visibility API is not measured; its fixed port would collide with other runs on this host.
    const args = ["--visibility-port", "0", ...opts.args, "--health-port", String(port)];
    const out = fs.openSync(opts.logFile, "a");
    // GOLDEN_* variables of the caller (e.g. a developer's shell) must not leak into the flags.
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GOLDEN_")) env[k] = v;
    const child = spawn(
      process.execPath,
      [...nodeArgs, opts.script, "--kubeconfig", opts.kubeconfig, ...args],
      {
        stdio: ["ignore", out, out],
        env,
      },
    );
    fs.closeSync(out);
    const op = new OperatorProcess(child, port, args);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`operator exited ${child.exitCode}; see ${opts.logFile}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return op;
      if (Date.now() > deadline) {
        await op.stop();
        throw new Error(`operator not ready after 60 s; see ${opts.logFile}`);
      }
      await sleep(250);
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async scrape(): Promise<Scrape> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    if (!res.ok) throw new Error(`operator /metrics: HTTP ${res.status}`);
    return Scrape.parse(await res.text());
  }

  /** SIGTERM (graceful: the CPU profile is written on exit), SIGKILL after `graceMs`. */
  async stop(graceMs = 40_000): Promise<number> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Samples the operator's RSS (from /proc, cheap) and its /metrics while a phase runs. */
export class ResourceSampler {
  peakRssBytes = 0;
  peakHeapUsedBytes = 0;
  /** The longest event-loop delay of each scrape interval (ms): prom-client resets it per scrape. */
  eventLoopLagMaxMs: number[] = [];
  /** The same for the visibility API's thread (golden_visibility_thread_event_loop_lag_max_seconds). */
  visibilityThreadLagMaxMs: number[] = [];
  samples: { t: number; rssBytes: number }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #heapTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    /** The operator's /metrics, polled for its JS heap (every 2 s: collection costs it some CPU). */
    private readonly scrape?: () => Promise<Scrape>,
  ) {}

  start(everyMs = 500): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.#timer.unref();
    if (this.scrape) {
      const scrape = this.scrape;
      this.#heapTimer = setInterval(() => {
        scrape().then(
          (s) => {
            this.peakHeapUsedBytes = Math.max(this.peakHeapUsedBytes, s.sum("nodejs_heap_size_used_bytes"));
            const lag = s.sum("nodejs_eventloop_lag_max_seconds");
            if (Number.isFinite(lag) && lag > 0) this.eventLoopLagMaxMs.push(lag * 1000);
            const threadLag = s.sum("golden_visibility_thread_event_loop_lag_max_seconds");
            if (Number.isFinite(threadLag) && threadLag > 0)
              this.visibilityThreadLagMaxMs.push(threadLag * 1000);
          },
          () => {},
        );
      }, 2000);
      this.#heapTimer.unref();
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#heapTimer) clearInterval(this.#heapTimer);
    this.sample();
  }

  sample(): void {
    const rss = rssBytes(this.pid);
    if (rss === undefined) return;
    this.peakRssBytes = Math.max(this.peakRssBytes, rss);
    this.samples.push({ t: Date.now(), rssBytes: rss });
  }
}

export function rssBytes(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
