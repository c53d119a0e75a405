import type { KubernetesObject, V1OwnerReference } from "@kubernetes/client-node";

/** Cache/queue key of an object: 'namespace/name', or 'name' for cluster-scoped objects. */
export function objectKey(obj: KubernetesObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`object of kind ${obj.kind ?? "?"} has no metadata.name`);
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

export function makeKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Queue key of the object's controller owner of `kind` (and `group`), if it has one. */
export function ownerKey(obj: KubernetesObject, kind: string, group?: string): string | undefined {
  const owner = controllerOwner(obj, kind, group);
  return owner ? makeKey(obj.metadata?.namespace, owner.name) : undefined;
}

/** Inverse of objectKey. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** API group of an apiVersion: 'batch/v1' → 'batch', 'v1' → ''. */
export function apiGroup(apiVersion: string | undefined): string {
  if (!apiVersion) return "";
  const i = apiVersion.indexOf("/");
  return i < 0 ? "" : apiVersion.slice(0, i);
}

/**
 * The owner reference with controller=true, if it is of `kind` (and of `group`, when given:
 * matching on group, not version, so owners survive API version bumps).
 */
export function controllerOwner(
  obj: KubernetesObject,
  kind: string,
  group?: string,
): V1OwnerReference | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (!ref || ref.kind !== kind) return undefined;
  if (group !== undefined && apiGroup(ref.apiVersion) !== group) return undefined;
  return ref;
}
