// The two sizes of a chaos run. Numbers can be overridden by environment variables
// (CHAOS_IMAGES, CHAOS_DURATION_SECONDS, CHAOS_FUZZ, CHAOS_FUZZ_REAL, CHAOS_SEED).
import type { ChaosConfig } from "./scenario.js";

const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`${name}: want a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
};

/** `make test`: about 2 minutes; one of each fault, in one namespace-scoped operator pair. */
export function subsetConfig(seed: number): ChaosConfig {
  return {
    label: "subset",
    seed,
    namespaces: 1,
    scope: "namespace",
    images: 10,
    replicas: 2,
    maxConcurrentBuilds: 4,
    maxBuildsPerNamespace: 0,
    required: ["leader-kill", "apiserver-restart", "etcd-restart", "conflict-storm", "kubelet-restart"],
    filler: [
      { kind: "job-delete", weight: 1 },
      { kind: "pod-delete", weight: 1 },
    ],
    chaosMs: 0,
    gapMs: [1_000, 3_000],
    stormClients: 5,
    stormMs: 8_000,
    // Short: a fault that finds no build mid-steps 10 s after the churn hits the builds starting.
    busyWaitMs: 10_000,
    convergeTimeoutMs: 240_000,
    // Fuzzing changes nothing cluster-wide: test/integration/fuzz.test.ts does it beside the
    // other files instead of in this exclusive run.
    fuzzCases: 0,
    fuzzReal: 0,
    fuzzTimeoutMs: 0,
  };
}

/** `make chaos`: several minutes; 60 Images over 3 namespaces, faults every few seconds. */
export function fullConfig(seed: number): ChaosConfig {
  return {
    label: "full",
    seed,
    namespaces: 3,
    scope: "cluster",
    images: num("CHAOS_IMAGES", 60),
    replicas: 2,
    maxConcurrentBuilds: 5,
    maxBuildsPerNamespace: 3,
    lastNamespaceLimit: 2,
    required: ["leader-kill", "apiserver-restart", "etcd-restart", "conflict-storm", "kubelet-restart"],
    filler: [
      { kind: "job-delete", weight: 4 },
      { kind: "pod-delete", weight: 4 },
      { kind: "conflict-storm", weight: 2 },
      { kind: "leader-kill", weight: 2 },
      { kind: "kubelet-restart", weight: 1 },
      { kind: "apiserver-restart", weight: 1 },
      { kind: "etcd-restart", weight: 1 },
    ],
    chaosMs: num("CHAOS_DURATION_SECONDS", 180) * 1000,
    gapMs: [1_000, 4_000],
    stormClients: 5,
    stormMs: 6_000,
    busyWaitMs: 20_000,
    convergeTimeoutMs: 600_000,
    fuzzCases: num("CHAOS_FUZZ", 3000),
    fuzzReal: num("CHAOS_FUZZ_REAL", 30),
    fuzzTimeoutMs: 300_000,
  };
}
