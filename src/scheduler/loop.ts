// The scheduler loop: one level-triggered pass over the waiting builds. It admits the builds the
// policy picks (phase Building; the ImageBuild reconciler then creates their Jobs) and tells
// waiting builds where they stand (phase Queued, position, reason, estimated start). What a pass
// needs is kept current from informer events (SchedulerState), so a pass costs O(waiting builds
// + admissions), and is rebuilt from the caches every few minutes in case an event was ever lost.
import type { V1Job, V1Namespace } from "@kubernetes/client-node";
import PQueue from "p-queue";
import type { GoldenClient } from "../api/client.js";
import { isConflict, isNotFound, statusCode } from "../api/client.js";
import { findCondition, setCondition } from "../api/conditions.js";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { createdAtMs } from "../controllers/build-order.js";
import type { Informer } from "../runtime/informer.js";
import { objectKey, splitKey } from "../runtime/keys.js";
import type { Logger } from "../runtime/logger.js";
import type { Result } from "../runtime/workqueue.js";
import { estimateStart, type Limits, type QueuedPlacement, schedule } from "./policy.js";
import { SchedulerState } from "./state.js";

/** Namespace annotation overriding --max-builds-per-namespace for that namespace. */
export const NAMESPACE_LIMIT_ANNOTATION = "golden.dev/max-concurrent-builds";
/** The scheduler has one work item: the whole queue. */
export const SCHEDULER_KEY = "queue";
/** Admission writes (and live Job reads) in flight at once. */
const ADMIT_CONCURRENCY = 16;
/** Refresh queue positions and estimates this often while builds wait. */
const REFRESH_MS = 30_000;
/** Rebuild the incremental state from the informer caches this often: an O(all builds) safety net. */
export const REBUILD_MS = 5 * 60_000;
/**
 * How long an admission whose outcome is unknown (the request timed out, the apiserver restarted
 * mid-request) holds its slot unless the cache settles it first: past the apiserver's own 60 s
 * request timeout, after which the write can no longer land.
 */
export const UNCERTAIN_ADMISSION_MS = 90_000;
/** Read an unconfirmed build's Job again this often while it runs. */
export const UNCONFIRMED_RECHECK_MS = 2_000;

export interface SchedulerOptions {
  builds: Pick<Informer<ImageBuild>, "get" | "list">;
  jobs: Pick<Informer<V1Job>, "list">;
  /** A live read of a Job (undefined when it does not exist), for when the Job cache may lag. */
  readJob: (namespace: string, name: string) => Promise<V1Job | undefined>;
  namespaces?: Pick<Informer<V1Namespace>, "get">;
  client: Pick<GoldenClient, "imageBuilds">;
  /** Observes how long each admitted build waited, in seconds. */
  onAdmitted?: (build: ImageBuild, waitedSeconds: number) => void;
  maxConcurrentBuilds: number;
  /** 0 = no per-namespace limit unless a namespace sets the annotation. */
  maxBuildsPerNamespace: number;
  log: Logger;
  now?: () => Date;
}

/**
 * Feed it every ImageBuild and Job informer event (observe…/forget…); each returns whether the
 * event can change a decision, that is whether a pass is worth running.
 */
export class BuildScheduler {
  private readonly now: () => Date;
  private readonly state = new SchedulerState();
  private lastRebuildMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: SchedulerOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  observeBuild(build: ImageBuild): boolean {
    return this.state.observeBuild(build);
  }

  forgetBuild(build: ImageBuild): boolean {
    return this.state.forgetBuild(objectKey(build));
  }

  observeJob(job: V1Job): boolean {
    return this.state.observeJob(job);
  }

  forgetJob(job: V1Job): boolean {
    return this.state.forgetJob(objectKey(job));
  }

  async reconcile(): Promise<Result> {
    const now = this.now();
    if (now.getTime() - this.lastRebuildMs >= REBUILD_MS) this.rebuild(now);
    this.state.expireAssumptions(now.getTime());
    const unsettled = await this.settleUnconfirmed();

    const limits: Limits = {
      cluster: this.opts.maxConcurrentBuilds,
      namespace: (ns) => this.namespaceLimit(ns),
    };
    const decision = schedule(this.state.waiting(), this.state.inFlight(), limits, this.state.lastServed());
    const durations = this.state.recentDurations();

    // Admissions go out several at a time, in the policy's order: one at a time, each waits its
    // turn on the shared client budget, and a burst of builds would be admitted at 1/wait per second.
    const admit = decision.admit.flatMap((key) => this.opts.builds.get(key) ?? []);
    await new PQueue({ concurrency: ADMIT_CONCURRENCY }).addAll(
      admit.map((build) => () => this.admit(build, now)),
    );
    for (const placement of decision.queued) {
      const build = this.opts.builds.get(placement.key);
      if (build) await this.markQueued(build, placement, durations, now);
    }
    // Come back for the next rebuild even if no event does: it is what recovers a lost one.
    const nowMs = this.now().getTime();
    const comeBack = [Math.max(1, this.lastRebuildMs + REBUILD_MS - nowMs)];
    if (decision.queued.length > 0) comeBack.push(REFRESH_MS);
    if (unsettled > 0) comeBack.push(UNCONFIRMED_RECHECK_MS);
    const expiry = this.state.nextExpiryMs();
    if (expiry !== undefined) comeBack.push(Math.max(1, expiry - nowMs));
    return { requeueAfterMs: Math.min(...comeBack) };
  }

  /** Reads the Job of each unconfirmed build, several at a time; returns how many still hold a slot. */
  private async settleUnconfirmed(): Promise<number> {
    const read = async (key: string) => {
      const { namespace, name } = splitKey(key);
      this.state.settleUnconfirmed(key, await this.opts.readJob(namespace ?? "", name));
    };
    await new PQueue({ concurrency: ADMIT_CONCURRENCY }).addAll(
      this.state.unconfirmed().map((key) => () => read(key)),
    );
    return this.state.unconfirmed().length;
  }

  private rebuild(now: Date): void {
    // Drift means an informer event was lost or the incremental bookkeeping has a bug.
    if (this.state.rebuild(this.opts.builds.list(), this.opts.jobs.list()))
      this.opts.log.warn("scheduler state had drifted from the informer caches; rebuilt it");
    this.lastRebuildMs = now.getTime();
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
    const key = objectKey(build);
    const resourceVersion = build.metadata?.resourceVersion;
    let ok: boolean;
    try {
      ok = await this.patch(build, {
        phase: "Building",
        jobName: name,
        startTime: now.toISOString(),
        queuePosition: null,
        estimatedStartTime: null,
        conditions,
      });
    } catch (err) {
      // No answer, or a server error: the write may have landed all the same. Hold the slot until
      // the cache shows either way. A 4xx answer means it did not.
      const code = statusCode(err);
      if (code === undefined || code >= 500)
        this.state.assume(key, resourceVersion, this.now().getTime() + UNCERTAIN_ADMISSION_MS);
      throw err;
    }
    if (ok) {
      this.state.assume(key, resourceVersion);
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
