// Per-namespace build limits: the namespace annotation, else --max-builds-per-namespace. Shared by
// the scheduler loop and the pending-queue view, which must agree on them.
import type { V1Namespace } from "@kubernetes/client-node";
import type { Informer } from "../runtime/informer.js";

/** Namespace annotation overriding --max-builds-per-namespace for that namespace. */
export const NAMESPACE_LIMIT_ANNOTATION = "golden.dev/max-concurrent-builds";

/** A namespace's limit, or undefined when only the cluster limit applies (0 = none). */
export function namespaceLimits(
  namespaces: Pick<Informer<V1Namespace>, "get"> | undefined,
  maxBuildsPerNamespace: number,
): (namespace: string) => number | undefined {
  return (namespace) => {
    const annotated = namespaces?.get(namespace)?.metadata?.annotations?.[NAMESPACE_LIMIT_ANNOTATION];
    const value = annotated !== undefined ? Number(annotated) : maxBuildsPerNamespace;
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
}
