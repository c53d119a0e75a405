// Starts golden-operator as a child process for a test: scoped to one namespace, its own health
// port, build pods steered to the real node
// (arm64 builds emulated on it). Each test file runs its own operator(s).
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort } from "../support/free-port.js";
import { eventually, kubeconfigPath, repo } from "./cluster.js";

export interface OperatorProcess {
  child: ChildProcess;
  port: number;
  logFile: string;
  /** Resolves with the exit code (or 128+signal). */
  exited: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
  logs(): string;
  metrics(): Promise<string>;
}

export async function startOperator(
  namespace: string,
  extraArgs: string[] = [],
  opts: { kubeconfig?: string; waitReady?: boolean; name?: string } = {},
): Promise<OperatorProcess> {
  const port = await freePort();
  const logDir = path.join(repo, ".cluster", "logs", "tests");
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${opts.name ?? "operator"}-${namespace}-${port}.log`);
  const out = fs.openSync(logFile, "w");
  const child = spawn(
    process.execPath,
    [
      // The bundle, as the image runs it (make build makes it; hack/bundle.mjs).
      path.join(repo, "dist/bundle/operator.mjs"),
      "--kubeconfig",
      opts.kubeconfig ?? kubeconfigPath,
      "--namespace",
      namespace,
      "--health-port",
      String(port),
      "--worker-node-selector",
      "golden.dev/real-node=true",
      "--arm64-placement",
      "emulated",
      "--log-level",
      "debug",
      // Operators of one test share this host; a test that wants the visibility API passes a port.
      "--visibility-port",
      "0",
      ...extraArgs,
    ],
    { stdio: ["ignore", out, out], env: { ...process.env, GOLDEN_HEALTH_PORT: undefined } },
  );
  fs.closeSync(out);
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGKILL" ? 137 : 143)));
  });
  const handle: OperatorProcess = {
    child,
    port,
    logFile,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    logs: () => fs.readFileSync(logFile, "utf8"),
    metrics: async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
  };
  if (opts.waitReady !== false) {
    await eventually(
      `operator on port ${port} to be ready`,
      async () => {
        if (child.exitCode !== null)
          throw new Error(`operator exited ${child.exitCode}: ${handle.logs().slice(-2000)}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return res?.ok;
      },
      60_000,
    );
  }
  return handle;
}
