// The scheduler loop: one level-triggered pass over every build in the cluster. It admits the
// builds the policy picks (phase Building; the ImageBuild reconciler then creates their Jobs)
// and tells waiting builds where they stand (phase Queued, position, reason, estimated start).
import type { V1Job, V1Namespace } from "@kubernetes/client-node";
import type { GoldenClient } from "../api/client.js";
import { isConflict, isNotFound } from "../api/client.js";
import { findCondition, setCondition } from "../api/conditions.js";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { createdAtMs, isTerminal } from "../controllers/build-order.js";
import { isJobFinished } from "../controllers/job-state.js";
import type { Informer } from "../runtime/informer.js";
import type { Logger } from "../runtime/logger.js";
import type { Result } from "../runtime/workqueue.js";
import {
  estimateStart,
  type Limits,
  type QueuedPlacement,
  type RunningBuild,
  schedule,
  type WaitingBuild,
} from "./policy.js";

/** Namespace annotation overriding --max-builds-per-namespace for that namespace. */
export const NAMESPACE_LIMIT_ANNOTATION = "golden.dev/max-concurrent-builds";
/** The scheduler has one work item: the whole queue. */
export const SCHEDULER_KEY = "queue";
const RECENT_DURATIONS = 20;
/** Admission writes in flight at once. */
const ADMIT_CONCURRENCY = 16;
/** Refresh queue positions and estimates this often while builds wait. */
const REFRESH_MS = 30_000;

export interface SchedulerOptions {
  builds: Informer<ImageBuild>;
  jobs: Informer<V1Job>;
  namespaces?: Informer<V1Namespace>;
  client: GoldenClient;
  /** Observes how long each admitted build waited, in seconds. */
  onAdmitted?: (build: ImageBuild, waitedSeconds: number) => void;
  maxConcurrentBuilds: number;
  /** 0 = no per-namespace limit unless a namespace sets the annotation. */
  maxBuildsPerNamespace: number;
  log: Logger;
  now?: () => Date;
}

export class BuildScheduler {
  private readonly now: () => Date;
  /** Builds admitted by this process that the informer has not shown as Building yet. */
  private readonly assumed = new Map<string, string>();

  constructor(private readonly opts: SchedulerOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  async reconcile(): Promise<Result> {
    const builds = this.opts.builds.list();
    const byKey = new Map(builds.map((b) => [keyOf(b), b]));
    for (const [key] of this.assumed) {
      const phase = byKey.get(key)?.status?.phase;
      if (!byKey.has(key) || (phase !== undefined && phase !== "Pending" && phase !== "Queued"))
        this.assumed.delete(key);
    }

    const waiting: WaitingBuild[] = [];
    const running: RunningBuild[] = [];
    const lastServed = new Map<string, number>();
    for (const b of builds) {
      const started = b.status?.startTime ? new Date(b.status.startTime).getTime() : undefined;
      const ns = b.metadata?.namespace ?? "";
      if (started !== undefined && started > (lastServed.get(ns) ?? Number.NEGATIVE_INFINITY))
        lastServed.set(ns, started);
    }
    for (const b of builds) {
      const key = keyOf(b);
      const namespace = b.metadata?.namespace ?? "";
      if (this.occupiesSlot(b, key)) running.push({ key, namespace });
      else if (!isTerminal(b)) {
        waiting.push({
          key,
          namespace,
          priority: b.spec.image.build?.priority ?? 0,
          createdAt: createdAtMs(b),
        });
      }
    }

    const limits: Limits = {
      cluster: this.opts.maxConcurrentBuilds,
      namespace: (ns) => this.namespaceLimit(ns),
    };
    const decision = schedule(waiting, running, limits, lastServed);
    // Only queued builds need estimates: a sort of every finished build per pass is O(N log N),
    // and a burst runs thousands of passes.
    const durations = decision.queued.length > 0 ? recentDurations(builds) : [];
    const now = this.now();

    // Admissions go out several at a time, in the policy's order: one at a time, each waits its
    // turn on the shared client budget, and a burst of builds would be admitted at 1/wait per second.
    const admit = decision.admit.flatMap((key) => byKey.get(key) ?? []);
    let next = 0;
    const admitter = async () => {
      while (next < admit.length) await this.admit(admit[next++] as ImageBuild, now);
    };
    await Promise.all(Array.from({ length: Math.min(ADMIT_CONCURRENCY, admit.length) }, admitter));
    for (const placement of decision.queued) {
      const build = byKey.get(placement.key);
      if (build) await this.markQueued(build, placement, durations, now);
    }
    return decision.queued.length > 0 ? { requeueAfterMs: REFRESH_MS } : undefined;
  }

  /** A build holds a slot from admission until its Job has finished, whatever the build says. */
  private occupiesSlot(build: ImageBuild, key: string): boolean {
    if (this.assumed.has(key) || build.status?.phase === "Building") return true;
    const job = this.opts.jobs.get(key);
    return job !== undefined && !isJobFinished(job);
  }

  private namespaceLimit(namespace: string): number | undefined {
    const annotated =
      this.opts.namespaces?.get(namespace)?.metadata?.annotations?.[NAMESPACE_LIMIT_ANNOTATION];
    const value = annotated !== undefined ? Number(annotated) : this.opts.maxBuildsPerNamespace;
    return Number.isInteger(value) && value > 0 ? value : undefined;
  }

  private async admit(build: ImageBuild, now: Date): Promise<void> {
    const name = build.metadata?.name ?? "";
    const conditions = setCondition(
      build.status?.conditions,
      {
        type: "Scheduled",
        status: "True",
        reason: "Admitted",
        message: "capacity available; the build's Job is starting",
      },
      now,
    );
    const ok = await this.patch(build, {
      phase: "Building",
      jobName: name,
      startTime: now.toISOString(),
      queuePosition: null,
      estimatedStartTime: null,
      conditions,
    });
    if (ok) {
      this.assumed.set(keyOf(build), name);
      this.opts.onAdmitted?.(build, Math.max(0, (now.getTime() - createdAtMs(build)) / 1000));
    }
  }

  private async markQueued(
    build: ImageBuild,
    placement: QueuedPlacement,
    durations: number[],
    now: Date,
  ): Promise<void> {
    const reason = placement.blockedBy === "namespace" ? "NamespaceLimitReached" : "ClusterLimitReached";
    const eta = estimateStart(placement.ahead, this.opts.maxConcurrentBuilds, durations, now.getTime());
    const etaText = eta !== undefined ? `; estimated start ${new Date(eta).toISOString()}` : "";
    const message = `${placement.reason}${etaText}`;
    const s = build.status;
    const previous = findCondition(s?.conditions, "Scheduled");
    // Skip the write when nothing a user sees changed but the estimate's drift.
    if (
      s?.phase === "Queued" &&
      s.queuePosition === placement.position &&
      previous?.reason === reason &&
      previous.message?.split("; estimated")[0] === placement.reason
    ) {
      return;
    }
    await this.patch(build, {
      phase: "Queued",
      queuePosition: placement.position,
      estimatedStartTime: eta !== undefined ? new Date(eta).toISOString() : null,
      conditions: setCondition(s?.conditions, { type: "Scheduled", status: "False", reason, message }, now),
    });
  }

  /** resourceVersion-guarded so a stale view never overwrites a newer decision. */
  private async patch(build: ImageBuild, status: Record<string, unknown>): Promise<boolean> {
    try {
      await this.opts.client.imageBuilds.patchStatus(
        build.metadata?.namespace ?? "",
        build.metadata?.name ?? "",
        {
          metadata: { resourceVersion: build.metadata?.resourceVersion },
          status,
        },
      );
      return true;
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return false; // The next pass sees the newer state.
      throw err;
    }
  }
}

function keyOf(build: ImageBuild): string {
  return `${build.metadata?.namespace}/${build.metadata?.name}`;
}

/** Durations of the most recent successful builds, for start-time estimates. */
function recentDurations(builds: ImageBuild[]): number[] {
  return builds
    .filter((b) => b.status?.phase === "Succeeded" && b.status.startTime && b.status.completionTime)
    .map((b) => ({
      end: new Date(b.status?.completionTime ?? 0).getTime(),
      ms: new Date(b.status?.completionTime ?? 0).getTime() - new Date(b.status?.startTime ?? 0).getTime(),
    }))
    .sort((a, b) => b.end - a.end)
    .slice(0, RECENT_DURATIONS)
    .map((d) => d.ms);
}
