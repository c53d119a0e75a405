// ImageBuilds, Jobs and randomness for the scheduler's tests.
import type { V1Job } from "@kubernetes/client-node";
import type { ImageBuild, ImageBuildPhase } from "../../../src/api/v1alpha1/index.js";

export const T0 = Date.parse("2025-03-01T00:00:00.000Z");
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

export interface BuildOpts {
  phase?: ImageBuildPhase;
  priority?: number;
  /** Seconds after T0, as are the other times. */
  created?: number;
  started?: number;
  completed?: number;
  resourceVersion?: string;
}

export function build(namespace: string, name: string, o: BuildOpts = {}): ImageBuild {
  return {
    metadata: {
      name,
      namespace,
      uid: `uid-${namespace}-${name}`,
      creationTimestamp: new Date(T0 + (o.created ?? 0) * 1000),
      resourceVersion: o.resourceVersion ?? "1",
    },
    spec: {
      imageName: `img-${name}`,
      imageGeneration: 1,
      trigger: "Created",
      image: {
        base: { os: "debian", release: "12" },
        formats: ["raw"],
        ...(o.priority !== undefined ? { build: { priority: o.priority } } : {}),
      },
    },
    status: {
      ...(o.phase ? { phase: o.phase } : {}),
      ...(o.started !== undefined ? { startTime: at(o.started) } : {}),
      ...(o.completed !== undefined ? { completionTime: at(o.completed) } : {}),
    },
  };
}

export function job(namespace: string, name: string, finished = false): V1Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace },
    ...(finished ? { status: { conditions: [{ type: "Complete", status: "True" }] } } : {}),
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
