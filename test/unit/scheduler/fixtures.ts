// ImageBuilds, Jobs and randomness for the scheduler's tests.
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { ImageBuild, ImageBuildPhase } from "../../../src/api/v1alpha1/index.js";
import { at, BASE_TIME, build as fixtureBuild, job as fixtureJob } from "../../support/fixtures.js";

/** Times in these tests count in seconds from T0. */
export const T0 = BASE_TIME;
export { at };

export interface BuildOpts {
  phase?: ImageBuildPhase;
  priority?: number;
  /** Seconds after T0, as are the other times. */
  created?: number;
  started?: number;
  completed?: number;
  heartbeat?: number;
  /** Default "1"; null leaves it out. */
  resourceVersion?: string | null;
}

/** A build of Image img-<name> in `namespace`, as the scheduler sees it. */
export function build(namespace: string, name: string, o: BuildOpts = {}): ImageBuild {
  return fixtureBuild({
    namespace,
    name,
    uid: `uid-${namespace}-${name}`,
    imageName: `img-${name}`,
    created: o.created ?? 0,
    ...(o.resourceVersion === null ? {} : { resourceVersion: o.resourceVersion ?? "1" }),
    spec: {
      base: { os: "debian", release: "12" },
      formats: ["raw"],
      ...(o.priority !== undefined ? { build: { priority: o.priority } } : {}),
    },
    status: {
      ...(o.phase ? { phase: o.phase } : {}),
      ...(o.started !== undefined ? { startTime: at(o.started) } : {}),
      ...(o.completed !== undefined ? { completionTime: at(o.completed) } : {}),
      ...(o.heartbeat !== undefined ? { heartbeatTime: at(o.heartbeat) } : {}),
    },
  });
}

export function job(namespace: string, name: string, finished = false): V1Job {
  return fixtureJob(name, {
    namespace,
    ...(finished ? { condition: { type: "Complete", status: "True" } } : {}),
  });
}

/**
 * The pod of build `name`'s Job, labelled as the Job template labels it and controlled by the Job
 * (uid as job() gives it, or `jobUid`; null: orphaned).
 */
export function pod(namespace: string, name: string, phase: string, jobUid?: string | null): V1Pod {
  const owner = jobUid === null ? undefined : (jobUid ?? `uid-job-${namespace}-${name}`);
  return {
    metadata: {
      namespace,
      name: `${name}-x7k2p`,
      uid: `uid-pod-${namespace}-${name}`,
      resourceVersion: "1",
      labels: { "app.kubernetes.io/component": "worker", "golden.dev/build": name },
      ...(owner !== undefined
        ? { ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name, uid: owner, controller: true }] }
        : {}),
    },
    spec: { serviceAccountName: "golden-worker", containers: [] },
    status: { phase },
  };
}

/** A tiny deterministic linear congruential generator (Numerical Recipes constants). */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function pick<T>(items: readonly T[], rand: () => number): T {
  return items[Math.floor(rand() * items.length)] as T;
}
