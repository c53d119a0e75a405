// The results of one run of N Images, as results/*.json keeps them and the report prints them.

import type { ApiserverProfile } from "./apiserver-profile.js";
import type { ApiDelta, OperatorDelta } from "./deltas.js";
import type { GoldenScenarioResult } from "./golden.js";
import type { CpuByProcess } from "./process-cpu.js";
import type { ProfileSummary } from "./profile.js";
import type { PendingListSample, QueueAtDefaultCapTargets, QueuedTargets } from "./queued.js";
import type { BareClientResult, JobControllerResult } from "./references.js";
import type { Percentiles } from "./stats.js";

/**
 * burst: nothing waits (--max-concurrent-builds 100000); queued: most of the burst waits for a cap;
 * queue-at-default-cap: a burst against the operator's default cap, listed for a while, not drained.
 */
export type ScenarioKind = "burst" | "queued" | "steady" | "queue-at-default-cap";

export interface RunForN {
  n: number;
  /** burst: --max-concurrent-builds 100000, nothing waits; queued: a cap most of the burst waits for. */
  scenario: ScenarioKind;
  /** The queued scenario's cap, and its targets. */
  cap?: number;
  pendingList?: PendingListSample;
  queuedTargets?: QueuedTargets;
  queueAtDefaultCapTargets?: QueueAtDefaultCapTargets;
  golden: Omit<GoldenScenarioResult, "timeline"> & { timeline: GoldenScenarioResult["timeline"] };
  operator: {
    pid: number;
    args: string[];
    idleRssMB: number;
    peakRssMB: number;
    peakHeapUsedMB: number;
    eventLoopLagMaxMs?: Percentiles;
    visibilityThreadLagMaxMs?: Percentiles;
    endRssMB?: number;
    heapUsedMB?: number;
    cpuSeconds: number;
    cpuUtilization: number;
    requestRatePerSecond: number;
    delta: OperatorDelta;
    profile?: ProfileSummary;
  };
  requestsPerBuild: {
    operator: {
      reads: number;
      writes: number;
      writesExceptJob: number;
      writesExceptJobAndEvents: number;
      /** Reads and writes on the client budget (--kube-api-qps): Events have a budget of their own. */
      onClientBudget?: number;
    };
    byResource: Record<string, number>;
    events: { objects: number; occurrences: number };
    apiserverAllComponents: { reads: number; writes: number };
    harness: Record<string, number>;
  };
  apiserver: ApiDelta;
  teardownSeconds: number;
  /** Deleting the N Images, and their builds (the operator releases each build's finalizer). */
  imagesDeleted: { seconds: number; perSecond: number };
  bottleneck: string;
  /** Share of each controller's worker time spent reconciling during the burst. */
  controllerBusy: Record<string, number>;
  jobController?: JobControllerResult & MeasuredExtras;
  bareClient?: BareClientResult & MeasuredExtras;
  ratios: {
    jobsVsJobController?: number;
    admittedVsJobController?: number;
    jobsVsBareClient?: number;
    /** Jobs/s the client budget allows: qps ÷ requests per build on that budget. */
    budgetLimitJobsPerSecond?: number;
    /** Sustained Jobs/s ÷ budgetLimitJobsPerSecond (target ≥ 0.9 at N ≥ 1000). */
    jobsVsBudgetLimit?: number;
  };
  loadavg: { before: number[]; after: number[] };
  /** Who used the machine's CPU during golden's phase (absent in results older than this field). */
  cpuByProcess?: CpuByProcess;
  /** Where the kube-apiserver's CPU went (BENCH_APISERVER_PROFILE_SECONDS). */
  apiserverProfile?: ApiserverProfile;
}

/** What the run adds to each reference's own figures. */
export interface MeasuredExtras {
  apiserver: ApiDelta;
  teardownSeconds: number;
}

/**
 * The keys of requestsPerBuild.byResource: the operator's writes per build by resource. Results
 * before 2026-12-01 said "images (finalizer, status)" (an Image has no finalizer of golden's) and
 * counted the ImageVersion create and status writes in "other (ServiceAccount, Role, RoleBinding,
 * event series)"; LEGACY_BY_RESOURCE names those keys for replots of old results.
 */
export const BY_RESOURCE = {
  images: "images (status)",
  imageBuilds: "imagebuilds (create, status)",
  imageVersions: "imageversions (create, status)",
  jobs: "jobs (create)",
  events: "events (create)",
  other: "other (ServiceAccount, Role, RoleBinding)",
} as const;

export const LEGACY_BY_RESOURCE = { images: "images (finalizer, status)" } as const;

/** A run's writes per build on Images, whichever key its results file used. */
export function imageWritesPerBuild(byResource: Record<string, number>): number | undefined {
  return byResource[BY_RESOURCE.images] ?? byResource[LEGACY_BY_RESOURCE.images];
}
