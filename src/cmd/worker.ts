#!/usr/bin/env node
// golden-worker: runs inside a build Job's pod; mocks the build of one ImageBuild and reports
// progress and results through the API under the pod's own ServiceAccount.
import fs from "node:fs";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { GoldenClient } from "../api/client.js";
import { WORKER_NAME } from "../build/names.js";
import { RestClient } from "../runtime/kube.js";
import { createLogger } from "../runtime/logger.js";
import { runBuild } from "../worker/build.js";
import { helpText, logLevel, parseFlags } from "./flags.js";
import { WORKER_FLAGS } from "./worker/flags.js";

async function main(): Promise<number> {
  const flags = parseFlags(WORKER_FLAGS, process.argv.slice(2), process.env);
  if (flags.help) {
    process.stdout.write(
      helpText("golden-worker", "Builds (mocks) one ImageBuild and reports into its status.", WORKER_FLAGS),
    );
    return 0;
  }
  const name = flags["build-name"] as string | undefined;
  const namespace = flags["build-namespace"] as string | undefined;
  if (!name || !namespace) throw new Error("--build-name and --build-namespace are required");
  const log = createLogger({ level: logLevel(flags), name: "golden-worker" }).child({
    build: name,
    namespace,
  });

  const kc = new KubeConfig();
  kc.loadFromDefault();
  const controller = new AbortController();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      log.info("cancelled", { signal });
      controller.abort(new Error(`cancelled by ${signal}`));
    });
  }

  // The flag, else GOLDEN_TERMINATION_LOG, else the default: parseFlags keeps that precedence.
  const terminationLog = flags["termination-log"] as string;
  const writeTermination = (message: string) => {
    try {
      fs.writeFileSync(terminationLog, message);
    } catch {
      // Outside a pod there may be no termination log; the status already says it all.
    }
  };
  try {
    const outcome = await runBuild({
      client: new GoldenClient(new RestClient(kc, { userAgent: WORKER_NAME }).api(CustomObjectsApi)),
      target: { namespace, name },
      repository: flags["artifact-repository"] as string,
      heartbeatMs: (flags["heartbeat-seconds"] as number) * 1000,
      emulatedOn: (flags["emulated-on"] as string) || undefined,
      signal: controller.signal,
      log: (msg, fields) => log.info(msg, fields),
    });
    log.info(outcome.ok ? "build succeeded" : "build failed", { message: outcome.message });
    writeTermination(outcome.message);
    return outcome.ok ? 0 : 1;
  } catch (err) {
    const message = controller.signal.aborted ? "build cancelled" : `worker error: ${String(err)}`;
    log.error(message, { err });
    writeTermination(message);
    return controller.signal.aborted ? 143 : 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`golden-worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
