#!/usr/bin/env node
// golden-operator: reconciles Images into ImageBuilds and Jobs, schedules builds, and reports
// results into status. Every flag is also settable by environment variable (see --help).
import os from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import { OPERATOR_NAME } from "../build/names.js";
import { createLogger } from "../runtime/logger.js";
import { helpText, logLevel, parseFlags } from "./flags.js";
import { OPERATOR_FLAGS, operatorConfig } from "./operator/flags.js";
import { buildOperator } from "./operator/wiring.js";

async function main(): Promise<void> {
  const f = parseFlags(OPERATOR_FLAGS, process.argv.slice(2), process.env);
  if (f.help) {
    process.stdout.write(
      helpText(OPERATOR_NAME, "Reconciles golden.dev Images into builds.", OPERATOR_FLAGS),
    );
    return;
  }
  const log = createLogger({ level: logLevel(f), name: OPERATOR_NAME });
  const identity = `${process.env.POD_NAME ?? os.hostname()}_${process.pid}`;
  const cfg = operatorConfig(f, identity, process.env);
  // The visibility API's thread: its module sits beside this one, bundled (.mjs) or not (.js).
  if (cfg.visibility && f["visibility-thread"])
    cfg.visibility.thread = {
      entry: new URL(
        `./visibility-thread${import.meta.url.endsWith(".mjs") ? ".mjs" : ".js"}`,
        import.meta.url,
      ),
      logLevel: logLevel(f),
      loggerName: OPERATOR_NAME,
    };
  const kc = new KubeConfig();
  if (f.kubeconfig) kc.loadFromFile(f.kubeconfig as string);
  else kc.loadFromDefault();

  const { manager } = buildOperator(kc, cfg, log);
  log.info("starting", { identity, namespace: f.namespace || "(all)", leaderElection: f["leader-elect"] });
  await manager.start();
  log.info("stopped");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${OPERATOR_NAME}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
