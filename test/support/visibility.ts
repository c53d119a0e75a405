// Serving visibility.golden.dev from an operator that runs on this host (tests, bench): the
// aggregator routes to a Service's endpoints, which cannot be loopback, so the operator listens
// on the node bridge's address and a selector-less Service with an EndpointSlice points there.
// The APIService starts without a caBundle: the operator injects its managed CA.

export const VISIBILITY_APISERVICE = "v1alpha1.visibility.golden.dev";
export const VISIBILITY_SERVICE = "golden-visibility";

export interface HostVisibility {
  /** Namespace of the Service, EndpointSlice and the operator's certificate Secret. */
  namespace: string;
  /** The node bridge's address (hack/cluster/common.sh NODE_IP). */
  nodeIp: string;
  port: number;
}

/** The node bridge's address of the cluster the tests run against. */
export const nodeIp = (): string => process.env.GOLDEN_NODE_IP ?? "10.88.0.1";

/** Service, EndpointSlice and APIService routing visibility.golden.dev to nodeIp:port. */
export function hostVisibilityManifests(v: HostVisibility): object[] {
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: VISIBILITY_SERVICE, namespace: v.namespace },
      spec: { ports: [{ name: "https", port: 443, targetPort: v.port, protocol: "TCP" }] },
    },
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: `${VISIBILITY_SERVICE}-host`,
        namespace: v.namespace,
        labels: { "kubernetes.io/service-name": VISIBILITY_SERVICE },
      },
      addressType: "IPv4",
      endpoints: [{ addresses: [v.nodeIp], conditions: { ready: true } }],
      ports: [{ name: "https", port: v.port, protocol: "TCP" }],
    },
    {
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: VISIBILITY_APISERVICE },
      spec: {
        group: "visibility.golden.dev",
        version: "v1alpha1",
        groupPriorityMinimum: 100,
        versionPriority: 100,
        service: { name: VISIBILITY_SERVICE, namespace: v.namespace, port: 443 },
      },
    },
  ];
}

/** Operator flags that serve the API where hostVisibilityManifests route it. */
export function hostVisibilityFlags(v: HostVisibility): string[] {
  return [
    "--visibility-port",
    String(v.port),
    "--visibility-bind-address",
    v.nodeIp,
    "--visibility-cert-secret-namespace",
    v.namespace,
    "--visibility-service-name",
    VISIBILITY_SERVICE,
    "--visibility-apiservice",
    VISIBILITY_APISERVICE,
  ];
}
