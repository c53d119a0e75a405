// Controller owner references: garbage collection deletes owned objects with their owner.
import type { KubernetesObject, V1OwnerReference } from "@kubernetes/client-node";

export function ownerReference(owner: KubernetesObject): V1OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? "",
    kind: owner.kind ?? "",
    name: owner.metadata?.name ?? "",
    uid: owner.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}
