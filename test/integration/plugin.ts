// Runs the kubectl plugin the way users do: `kubectl golden …`, with kubectl finding
// kubectl-golden on PATH (a launcher like the one `make plugin` writes, in a temporary directory).
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { kubeconfigPath, repo } from "./cluster.js";

const run = promisify(execFile);

let binDir: string | undefined;
function launcherDir(): string {
  if (binDir) return binDir;
  binDir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-plugin-"));
  const launcher = path.join(binDir, "kubectl-golden");
  fs.writeFileSync(
    launcher,
    `#!/bin/sh\nexec "${process.execPath}" "${path.join(repo, "dist/src/cmd/kubectl-golden.js")}" "$@"\n`,
  );
  fs.chmodSync(launcher, 0o755);
  return binDir;
}

export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kubectl golden ARGS --kubeconfig <the local cluster's>`; resolves with the exit code and output. */
export async function kubectlGolden(...args: string[]): Promise<PluginRun> {
  const env = { ...process.env, PATH: `${launcherDir()}:${process.env.PATH ?? ""}` };
  try {
    const { stdout, stderr } = await run("kubectl", ["golden", ...args, "--kubeconfig", kubeconfigPath], {
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
