#!/usr/bin/env node
// golden-operator: reconciles Images into ImageBuilds and Jobs, schedules builds, and reports
// results into status. Every flag is also settable by environment variable (see --help).
import os from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import { ARM64_PLACEMENTS, type Arm64Placement } from "../controllers/job-template.js";
import { buildOperator } from "../controllers/setup.js";
import { DEFAULT_BURST, DEFAULT_QPS } from "../runtime/kube.js";
import { createLogger, isLogLevel } from "../runtime/logger.js";
import { type FlagSpec, helpText, parseFlags, parseSelector, parseTolerations } from "./flags.js";

const FLAGS: FlagSpec[] = [
  {
    name: "kubeconfig",
    type: "string",
    help: "Path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config or in-cluster",
  },
  {
    name: "namespace",
    type: "string",
    default: "",
    help: "Watch only this namespace (default: all namespaces)",
  },
  {
    name: "max-concurrent-reconciles",
    type: "number",
    default: 4,
    help: "Parallel reconciles per controller",
  },
  {
    name: "kube-api-qps",
    type: "number",
    default: DEFAULT_QPS,
    help: "Client-side API request rate limit (requests/s)",
  },
  { name: "kube-api-burst", type: "number", default: DEFAULT_BURST, help: "Client-side API request burst" },
  { name: "health-port", type: "number", default: 8081, help: "Port of /healthz, /readyz and /metrics" },
  {
    name: "leader-elect",
    type: "boolean",
    default: false,
    help: "Elect a leader on a Lease so only one replica reconciles",
  },
  {
    name: "leader-election-namespace",
    type: "string",
    default: "golden-system",
    help: "Namespace of the leader Lease",
  },
  {
    name: "leader-election-id",
    type: "string",
    default: "golden-operator",
    help: "Name of the leader Lease",
  },
  {
    name: "lease-duration",
    type: "number",
    default: 15,
    help: "Seconds a non-leader waits before taking over a silent lease",
  },
  {
    name: "renew-deadline",
    type: "number",
    default: 10,
    help: "Seconds the leader keeps trying to renew before giving up",
  },
  { name: "retry-period", type: "number", default: 2, help: "Seconds between lease acquire/renew attempts" },
  {
    name: "graceful-shutdown-timeout",
    type: "number",
    default: 30,
    help: "Seconds to drain in-flight work on SIGTERM",
  },
  {
    name: "max-concurrent-builds",
    type: "number",
    default: 10,
    help: "Builds running at once in the cluster",
  },
  {
    name: "max-builds-per-namespace",
    type: "number",
    default: 0,
    help: "Builds running at once per namespace (0: no limit); a namespace annotation golden.dev/max-concurrent-builds overrides it",
  },
  {
    name: "worker-image",
    type: "string",
    default: "golden:dev",
    help: "Container image of build pods (serves golden-worker)",
  },
  {
    name: "worker-service-account",
    type: "string",
    default: "golden-worker",
    help: "ServiceAccount of build pods",
  },
  {
    name: "worker-node-selector",
    type: "string",
    default: "",
    help: "Extra nodeSelector of build pods, as key=value,key=value (kubernetes.io/arch is always set from the Image)",
  },
  {
    name: "worker-tolerations",
    type: "string",
    default: "",
    help: "Tolerations of build pods, as key=value:Effect or key:Effect, comma-separated",
  },
  {
    name: "arm64-placement",
    type: "string",
    default: "native",
    help: "Where arm64 Images build: native (arm64 nodes) or emulated (amd64 nodes, as CI emulates foreign arches; the build's status message says so)",
  },
  { name: "worker-cpu", type: "string", default: "250m", help: "CPU request and limit of build pods" },
  { name: "worker-memory", type: "string", default: "256Mi", help: "Memory request and limit of build pods" },
  {
    name: "worker-heartbeat-seconds",
    type: "number",
    default: 10,
    help: "How often workers heartbeat into status",
  },
  {
    name: "build-timeout-grace",
    type: "number",
    default: 30,
    help: "Seconds past spec.build.timeoutSeconds before the operator fails a build itself",
  },
  {
    name: "retry-base-seconds",
    type: "number",
    default: 10,
    help: "First delay between build attempts; doubles per attempt, capped at 10 min",
  },
  {
    name: "worker-lost-after",
    type: "number",
    default: 120,
    help: "Seconds without a worker heartbeat before a running build fails as WorkerLost (0: never)",
  },
  { name: "log-level", type: "string", default: "info", help: "debug, info, warn or error" },
  {
    name: "visibility-port",
    type: "number",
    default: 8443,
    help: "HTTPS port of the visibility.golden.dev aggregated API (0: not served)",
  },
  {
    name: "visibility-bind-address",
    type: "string",
    default: "0.0.0.0",
    help: "Address the visibility API listens on",
  },
  {
    name: "visibility-cert-dir",
    type: "string",
    default: "",
    help: "Directory with tls.crt and tls.key for the visibility API (e.g. a cert-manager Secret); empty: golden manages its own certificate",
  },
  {
    name: "visibility-cert-secret",
    type: "string",
    default: "golden-visibility-serving-cert",
    help: "Secret holding the managed CA and serving certificate",
  },
  {
    name: "visibility-cert-secret-namespace",
    type: "string",
    default: "",
    help: "Namespace of that Secret (default: $POD_NAMESPACE, else golden-system)",
  },
  {
    name: "visibility-service-name",
    type: "string",
    default: "golden-visibility",
    help: "Service in front of the operator pods; the managed certificate is for <service>.<namespace>.svc",
  },
  {
    name: "visibility-apiservice",
    type: "string",
    default: "v1alpha1.visibility.golden.dev",
    help: "APIService whose spec.caBundle golden keeps in sync with the managed CA (empty: leave it alone)",
  },
];

async function main(): Promise<void> {
  const f = parseFlags(FLAGS, process.argv.slice(2), process.env);
  if (f.help) {
    process.stdout.write(helpText("golden-operator", "Reconciles golden.dev Images into builds.", FLAGS));
    return;
  }
  const level = f["log-level"];
  if (!isLogLevel(level))
    throw new Error(`--log-level: want debug, info, warn or error, got ${JSON.stringify(level)}`);
  const arm64Placement = f["arm64-placement"] as Arm64Placement;
  if (!ARM64_PLACEMENTS.includes(arm64Placement))
    throw new Error(`--arm64-placement: want native or emulated, got ${JSON.stringify(arm64Placement)}`);
  const log = createLogger({ level, name: "golden-operator" });
  const kc = new KubeConfig();
  if (f.kubeconfig) kc.loadFromFile(f.kubeconfig as string);
  else kc.loadFromDefault();

  const identity = `${process.env.POD_NAME ?? os.hostname()}_${process.pid}`;
  const num = (name: string) => f[name] as number;
  const { manager } = buildOperator(
    kc,
    {
      namespace: f.namespace as string,
      maxConcurrentReconciles: num("max-concurrent-reconciles"),
      qps: num("kube-api-qps"),
      burst: num("kube-api-burst"),
      healthPort: num("health-port"),
      gracefulShutdownMs: num("graceful-shutdown-timeout") * 1000,
      maxConcurrentBuilds: num("max-concurrent-builds"),
      maxBuildsPerNamespace: num("max-builds-per-namespace"),
      identity,
      retryBaseMs: num("retry-base-seconds") * 1000,
      workerLostAfterMs: num("worker-lost-after") * 1000,
      visibility: {
        port: num("visibility-port"),
        bindAddress: f["visibility-bind-address"] as string,
        certDir: f["visibility-cert-dir"] as string,
        certSecretName: f["visibility-cert-secret"] as string,
        certSecretNamespace:
          (f["visibility-cert-secret-namespace"] as string) || process.env.POD_NAMESPACE || "golden-system",
        serviceName: f["visibility-service-name"] as string,
        apiService: f["visibility-apiservice"] as string,
      },
      ...(f["leader-elect"]
        ? {
            leaderElection: {
              namespace: f["leader-election-namespace"] as string,
              name: f["leader-election-id"] as string,
              identity,
              leaseDurationMs: num("lease-duration") * 1000,
              renewDeadlineMs: num("renew-deadline") * 1000,
              retryPeriodMs: num("retry-period") * 1000,
            },
          }
        : {}),
      worker: {
        image: f["worker-image"] as string,
        serviceAccount: f["worker-service-account"] as string,
        nodeSelector: parseSelector(f["worker-node-selector"] as string),
        tolerations: parseTolerations(f["worker-tolerations"] as string),
        resources: {
          requests: { cpu: f["worker-cpu"] as string, memory: f["worker-memory"] as string },
          limits: { cpu: f["worker-cpu"] as string, memory: f["worker-memory"] as string },
        },
        heartbeatSeconds: num("worker-heartbeat-seconds"),
        timeoutGraceSeconds: num("build-timeout-grace"),
        arm64Placement,
      },
    },
    log,
  );
  log.info("starting", { identity, namespace: f.namespace || "(all)", leaderElection: f["leader-elect"] });
  await manager.start();
  log.info("stopped");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`golden-operator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
