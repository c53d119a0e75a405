// golden's local runner: the stand-in for the kubelet's container runtime on machines without
// one. It registers one node per architecture, tainted so that only golden's worker pods land
// there, and runs each such pod's container command as a local process of this repo's worker.
import http from "node:http";
import { parseArgs } from "node:util";
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { Informer } from "../../src/runtime/informer.js";
import { NodeHeartbeat, parseNodes } from "./nodes.js";
import { PodRunner } from "./pods.js";

const { values: flags } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    repo: { type: "string", default: process.cwd() },
    "state-dir": { type: "string", default: ".cluster/runner" },
    nodes: { type: "string", default: "golden-local-amd64:amd64,golden-local-arm64:arm64" },
    "health-port": { type: "string", default: "20250" },
  },
});

function log(msg: string, fields: object = {}): void {
  process.stdout.write(
    `${JSON.stringify({ ts: new Date().toISOString(), logger: "local-runner", msg, ...fields })}\n`,
  );
}

const kc = new KubeConfig();
if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
else kc.loadFromDefault();
const cluster = kc.getCurrentCluster();
if (!cluster?.caFile) throw new Error("the runner's kubeconfig must name the cluster's CA file");

const core = kc.makeApiClient(CoreV1Api);
const nodes = parseNodes(flags.nodes);
const heartbeat = new NodeHeartbeat(core, kc.makeApiClient(CoordinationV1Api), nodes, log);
const runner = new PodRunner({
  core,
  repo: flags.repo,
  stateDir: flags["state-dir"],
  server: cluster.server,
  caFile: cluster.caFile,
  nodeBinary: process.execPath,
  log,
});

await heartbeat.register();
heartbeat.start();

const informers = nodes.map((node) => {
  const informer = new Informer<V1Pod>(kc, {
    path: "/api/v1/pods",
    fieldSelector: `spec.nodeName=${node.name}`,
  });
  const sync = (pod: V1Pod) => {
    runner
      .sync(pod)
      .catch((err: unknown) => log("pod sync failed", { pod: pod.metadata?.name, err: String(err) }));
  };
  informer.on("add", sync);
  informer.on("update", sync);
  informer.on("delete", (pod: V1Pod) => runner.forget(pod));
  return informer;
});
await Promise.all(informers.map((i) => i.start()));

const health = http
  .createServer((_req, res) => {
    const ok = informers.every((i) => i.hasSynced());
    res.writeHead(ok ? 200 : 503).end(ok ? "ok" : "informers not synced");
  })
  .listen(Number(flags["health-port"]), "127.0.0.1");
log("local runner ready", { nodes: nodes.map((n) => n.name) });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log("shutting down", { signal });
    heartbeat.stop();
    for (const i of informers) i.stop();
    runner.stopAll();
    health.close();
    setTimeout(() => process.exit(0), 500).unref();
  });
}
