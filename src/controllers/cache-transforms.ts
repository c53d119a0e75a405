// What golden keeps of each object in its informer caches. The operator reads Images whole but for
// client bookkeeping (managedFields, kubectl's last-applied copy); of Jobs, whose they are and how
// they ended; of build pods, whose they are and whether they run; of an ImageBuild, all but the
// spec snapshot's customizations (the worker reads the full build from the API) and the worker's
// progress report. Everything else would cost memory per build (bench/cache-memory.ts measures it).
import type {
  KubernetesObject,
  V1Container,
  V1Job,
  V1JobCondition,
  V1OwnerReference,
  V1Pod,
  V1PodSpec,
  V1PodStatus,
} from "@kubernetes/client-node";
import type { Image, ImageBuild } from "../api/v1alpha1/index.js";
import { LABELS } from "../build/names.js";
import { stripManagedFields } from "../runtime/informer.js";
import { intern } from "../runtime/intern.js";

/** What `kubectl apply` (client-side) stores on an object: a second copy of its spec, read by no controller. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/** Drops managedFields and kubectl's last-applied copy, which only clients read. */
function stripClientBookkeeping<T extends KubernetesObject>(obj: T): T {
  stripManagedFields(obj);
  const annotations = obj.metadata?.annotations;
  if (annotations && LAST_APPLIED_ANNOTATION in annotations) {
    const { [LAST_APPLIED_ANNOTATION]: _, ...rest } = annotations;
    if (obj.metadata) obj.metadata.annotations = Object.keys(rest).length > 0 ? rest : undefined;
  }
  return obj;
}

/**
 * An Image as the reconciler reads it: all of its spec (copied into each build) and status (diffed
 * before each write), its metadata but for what only clients read. The status write is a PUT of
 * the status subresource, which takes nothing but status from its body, so the stored object
 * keeps what the cache drops.
 */
export function slimImage(image: Image): Image {
  return stripClientBookkeeping(image);
}

/**
 * A Job as the build reconciler and the scheduler read it (src/build/job.ts): its key, the build
 * that controls it (the controller ownerReference), when it was created or is being deleted, its
 * ready pods and its conditions (how it ended). Its pod template, labels and counters are not kept.
 */
export function slimJob(job: V1Job): V1Job {
  const m = job.metadata ?? {};
  const owner = m.ownerReferences?.find((r) => r.controller === true);
  const s = job.status;
  return {
    apiVersion: job.apiVersion,
    kind: job.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(owner ? { ownerReferences: [slimOwner(owner)] } : {}),
    },
    ...(s
      ? {
          status: {
            ...(s.ready !== undefined ? { ready: s.ready } : {}),
            ...(s.conditions ? { conditions: s.conditions.map(slimJobCondition) } : {}),
          },
        }
      : {}),
  };
}

function slimOwner(r: V1OwnerReference): V1OwnerReference {
  return { apiVersion: r.apiVersion, kind: r.kind, name: r.name, uid: r.uid, controller: r.controller };
}

/** What jobOutcome() reads of a condition (the probe and transition times are not). */
function slimJobCondition(c: V1JobCondition): V1JobCondition {
  return {
    type: c.type,
    status: c.status,
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    ...(c.message !== undefined ? { message: c.message } : {}),
  };
}

/**
 * Pods' spec and status as cached take a handful of values (the ServiceAccount, the phase): each
 * is one shared object, frozen so that no reader can change it under the others. At most
 * SHARED_MAX of each; past that, objects of their own.
 */
const SHARED_MAX = 64;
const podSpecs = new Map<string | undefined, V1PodSpec>();
const podStatuses = new Map<string | undefined, V1PodStatus>();

function shared<K, V extends object>(pool: Map<K, V>, key: K, make: () => V): V {
  const found = pool.get(key);
  if (found) return found;
  const made = Object.freeze(make());
  if (pool.size < SHARED_MAX) pool.set(key, made);
  return made;
}

/**
 * A build pod as the scheduler sees it (src/scheduler/state.ts): whose it is (its build label and
 * ServiceAccount, and which Job controls it) and whether it still runs (phase).
 */
export function slimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const build = m.labels?.[LABELS.build];
  const controller = m.ownerReferences?.find((r) => r.controller === true);
  const serviceAccountName = pod.spec?.serviceAccountName;
  const phase = pod.status?.phase;
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      ...(build !== undefined ? { labels: { [LABELS.build]: build } } : {}),
      ...(controller ? { ownerReferences: [slimOwner(controller)] } : {}),
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    // Only build pods run as the worker ServiceAccount: the scheduler counts no other.
    spec: shared(podSpecs, serviceAccountName, () => ({
      serviceAccountName: serviceAccountName && intern(serviceAccountName),
      containers: Object.freeze([]) as unknown as V1Container[],
    })),
    status: shared(podStatuses, phase, () => ({ phase: phase && intern(phase) })),
  };
}

export function slimImageBuild(build: ImageBuild): ImageBuild {
  stripClientBookkeeping(build);
  if (build.spec?.image?.customizations) build.spec.image.customizations = undefined;
  // The worker's step-by-step report, for users: no controller reads it, and status writes of
  // builds are merge patches, which leave it as it is.
  if (build.status?.progress) build.status.progress = undefined;
  return build;
}
