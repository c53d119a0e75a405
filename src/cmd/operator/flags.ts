// golden-operator's flags, and the OperatorConfig they make: every flag is also settable by an
// environment variable (GOLDEN_<FLAG>), and --help lists them.
import { OPERATOR_NAME } from "../../build/names.js";
import { DEFAULT_CATALOG_WARNINGS_CONFIGMAP, parseConfigMapRef } from "../../controllers/catalog-warnings.js";
import { ARM64_PLACEMENTS, type Arm64Placement } from "../../controllers/job-template.js";
import { DEFAULT_BURST, DEFAULT_QPS } from "../../runtime/kube.js";
import {
  bool,
  type FlagSpec,
  type FlagValues,
  LOG_LEVEL_FLAG,
  num,
  parseSelector,
  parseTolerations,
  str,
} from "../flags.js";
import type { OperatorConfig } from "./wiring.js";

export const OPERATOR_FLAGS: FlagSpec[] = [
  str("kubeconfig", undefined, "Path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config or in-cluster"),
  str("namespace", "", "Watch only these namespaces, comma-separated (default: all namespaces)"),
  // 16: a reconcile mostly waits on the apiserver (~50 ms a request), so 4 workers made the Image
  // controller the pipeline's narrowest stage (busy 94 % in a burst of 1 000); 16 gave +40 % Jobs/s
  // on the same load. The client budget (--kube-api-qps), not the worker count, bounds the rate.
  num("max-concurrent-reconciles", 16, "Parallel reconciles per controller"),
  num("kube-api-qps", DEFAULT_QPS, "Client-side API request rate limit (requests/s)"),
  num("kube-api-burst", DEFAULT_BURST, "Client-side API request burst"),
  num("health-port", 8081, "Port of /healthz, /readyz and /metrics"),
  bool(
    "metrics-auth",
    false,
    "Serve /metrics only to callers whose bearer token may get /metrics (TokenReview and SubjectAccessReview); config/manager turns it on",
  ),
  bool("leader-elect", false, "Elect a leader on a Lease so only one replica reconciles"),
  str("leader-election-namespace", "golden-system", "Namespace of the leader Lease"),
  str("leader-election-id", OPERATOR_NAME, "Name of the leader Lease"),
  num("lease-duration", 15, "Seconds a non-leader waits before taking over a silent lease"),
  num("renew-deadline", 10, "Seconds the leader keeps trying to renew before giving up"),
  num("retry-period", 2, "Seconds between lease acquire/renew attempts"),
  num("graceful-shutdown-timeout", 30, "Seconds to drain in-flight work on SIGTERM"),
  num("max-concurrent-builds", 10, "Builds running at once in the cluster"),
  num(
    "max-builds-per-namespace",
    0,
    "Builds running at once per namespace (0: no limit); a namespace annotation golden.dev/max-concurrent-builds overrides it",
  ),
  str("worker-image", "golden:dev", "Container image of build pods (serves golden-worker)"),
  str("worker-service-account", "golden-worker", "ServiceAccount of build pods"),
  str(
    "worker-node-selector",
    "",
    "Extra nodeSelector of build pods, as key=value,key=value (kubernetes.io/arch is always set from the Image)",
  ),
  str(
    "worker-tolerations",
    "",
    "Tolerations of build pods, as key=value:Effect or key:Effect, comma-separated",
  ),
  str(
    "arm64-placement",
    "native",
    "Where arm64 Images build: native (arm64 nodes) or emulated (amd64 nodes, as CI emulates foreign arches; the build's status message says so)",
  ),
  str("worker-cpu", "250m", "CPU request and limit of build pods"),
  str("worker-memory", "256Mi", "Memory request and limit of build pods"),
  num("worker-heartbeat-seconds", 10, "How often workers heartbeat into status"),
  num(
    "finished-job-ttl",
    3600,
    "Seconds a finished build Job (and its pod, whose token stays valid while it exists) is kept; the ImageBuild keeps the history",
  ),
  num(
    "build-timeout-grace",
    30,
    "Seconds past spec.build.timeoutSeconds before the operator fails a build itself",
  ),
  num("retry-base-seconds", 10, "First delay between build attempts; doubles per attempt, capped at 10 min"),
  num(
    "worker-lost-after",
    120,
    "Seconds without a worker heartbeat before a running build fails as WorkerLost (0: never)",
  ),
  str(
    "campaigns",
    "auto",
    "Run the catalog's controllers (BaseImage revisions open RebuildCampaigns, which rebuild Images): true, false, or auto (true when watching every namespace)",
  ),
  str(
    "catalog-selector",
    "",
    "Label selector (key=value, key!=value, key; comma-separated) of the BaseImages whose campaigns this operator runs; empty: all",
  ),
  str(
    "catalog-warnings-configmap",
    DEFAULT_CATALOG_WARNINGS_CONFIGMAP,
    "namespace/name of the ConfigMap the deprecated-base admission warning reads, kept by the catalog's controllers (empty: not kept)",
  ),
  LOG_LEVEL_FLAG,
  num("visibility-port", 8443, "HTTPS port of the visibility.golden.dev aggregated API (0: not served)"),
  str("visibility-bind-address", "0.0.0.0", "Address the visibility API listens on"),
  str(
    "visibility-cert-dir",
    "",
    "Directory with tls.crt and tls.key for the visibility API (e.g. a cert-manager Secret); empty: golden manages its own certificate",
  ),
  str(
    "visibility-cert-secret",
    "golden-visibility-serving-cert",
    "Secret holding the managed CA and serving certificate",
  ),
  str(
    "visibility-cert-secret-namespace",
    "",
    "Namespace of that Secret (default: $POD_NAMESPACE, else golden-system)",
  ),
  str(
    "visibility-service-name",
    "golden-visibility",
    "Service in front of the operator pods; the managed certificate is for <service>.<namespace>.svc",
  ),
  bool(
    "visibility-thread",
    true,
    "Serve the visibility API from a thread of its own, fed copies of the caches it reads, so no reconcile delays a page (false: in the operator's thread, ~25 MB less RSS)",
  ),
  str(
    "visibility-apiservice",
    "v1alpha1.visibility.golden.dev",
    "APIService whose spec.caBundle golden keeps in sync with the managed CA (empty: leave it alone)",
  ),
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `a,b` → ["a", "b"]; "" → [] (all namespaces). */
export function namespaceList(value: string): string[] {
  const names = [...new Set(value.split(",").map((n) => n.trim()))].filter((n) => n !== "");
  for (const name of names)
    if (!DNS_LABEL.test(name))
      throw new Error(`--namespace: ${JSON.stringify(name)} is not a namespace name (a DNS-1123 label)`);
  return names;
}

function arm64Placement(value: string): Arm64Placement {
  const placement = value as Arm64Placement;
  if (!ARM64_PLACEMENTS.includes(placement))
    throw new Error(`--arm64-placement: want native or emulated, got ${JSON.stringify(value)}`);
  return placement;
}

/**
 * --campaigns: auto runs them only in an operator that watches every namespace, since a campaign
 * spans namespaces and one operator per namespace would each preview a part of it.
 */
function campaignsEnabled(value: string, namespace: string): boolean {
  if (value === "auto") return namespace === "";
  if (value === "true" || value === "false") return value === "true";
  throw new Error(`--campaigns: want true, false or auto, got ${JSON.stringify(value)}`);
}

/** The OperatorConfig of parsed flags. `identity` names this replica (leader election, Events). */
export function operatorConfig(f: FlagValues, identity: string, env: NodeJS.ProcessEnv): OperatorConfig {
  const n = (name: string) => f[name] as number;
  const s = (name: string) => f[name] as string;
  const seconds = (name: string) => n(name) * 1000;
  return {
    namespaces: namespaceList(s("namespace")),
    maxConcurrentReconciles: n("max-concurrent-reconciles"),
    qps: n("kube-api-qps"),
    burst: n("kube-api-burst"),
    healthPort: n("health-port"),
    metricsAuth: f["metrics-auth"] === true,
    gracefulShutdownMs: seconds("graceful-shutdown-timeout"),
    maxConcurrentBuilds: n("max-concurrent-builds"),
    maxBuildsPerNamespace: n("max-builds-per-namespace"),
    identity,
    retryBaseMs: seconds("retry-base-seconds"),
    workerLostAfterMs: seconds("worker-lost-after"),
    campaigns: campaignsEnabled(s("campaigns"), s("namespace")),
    catalogSelector: s("catalog-selector"),
    catalogWarnings: parseConfigMapRef(s("catalog-warnings-configmap"), "catalog-warnings-configmap"),
    visibility: {
      port: n("visibility-port"),
      bindAddress: s("visibility-bind-address"),
      certDir: s("visibility-cert-dir"),
      certSecretName: s("visibility-cert-secret"),
      certSecretNamespace: s("visibility-cert-secret-namespace") || env.POD_NAMESPACE || "golden-system",
      serviceName: s("visibility-service-name"),
      apiService: s("visibility-apiservice"),
    },
    ...(f["leader-elect"]
      ? {
          leaderElection: {
            namespace: s("leader-election-namespace"),
            name: s("leader-election-id"),
            identity,
            leaseDurationMs: seconds("lease-duration"),
            renewDeadlineMs: seconds("renew-deadline"),
            retryPeriodMs: seconds("retry-period"),
          },
        }
      : {}),
    worker: {
      image: s("worker-image"),
      serviceAccount: s("worker-service-account"),
      nodeSelector: parseSelector(s("worker-node-selector")),
      tolerations: parseTolerations(s("worker-tolerations")),
      resources: {
        requests: { cpu: s("worker-cpu"), memory: s("worker-memory") },
        limits: { cpu: s("worker-cpu"), memory: s("worker-memory") },
      },
      heartbeatSeconds: n("worker-heartbeat-seconds"),
      timeoutGraceSeconds: n("build-timeout-grace"),
      finishedJobTtlSeconds: n("finished-job-ttl"),
      arm64Placement: arm64Placement(s("arm64-placement")),
    },
  };
}
