// The ImageBuild reconciler: turns builds the scheduler admitted into Jobs, and settles builds
// whose Job failed, timed out, vanished or finished without a word from the worker. The worker
// owns progress and the happy-path result; this reconciler owns every other ending.
//
// An admission's Job is created the moment the scheduler's write lands (admitting), not when its
// event reaches this reconciler: under load that round trip (the watch, then this controller's
// queue) took about 0.2 s at a steady 20 builds a second, and a freed slot stays idle for all of it. Reconciles of the
// build meanwhile leave the Job to that create; after a restart (or should it fail) the reconcile
// creates it, as it always could.
import type { BatchV1Api, V1Job } from "@kubernetes/client-node";
import type { GoldenClient } from "../api/client.js";
import { boundedMessage, findCondition, setCondition } from "../api/conditions.js";
import type { ImageBuild, ImageBuildStatus } from "../api/v1alpha1/index.js";
import { timeoutSeconds } from "../build/defaults.js";
import { controllingBuildUid, jobOutcome } from "../build/job.js";
import { ANNOTATIONS } from "../build/names.js";
import { isTerminal } from "../build/phase.js";
import { apiErrorCode, apiErrorMessage, isAlreadyExists, isNotFound } from "../runtime/api-errors.js";
import type { Informer } from "../runtime/informer.js";
import { objectKey } from "../runtime/keys.js";
import type { Logger } from "../runtime/logger.js";
import type { Result } from "../runtime/workqueue.js";
import type { JobStart } from "../scheduler/loop.js";
import type { EventSink } from "./events.js";
import { holdsFinalizer, releaseFinalizer } from "./finalizer.js";
import { buildJob, type WorkerConfig } from "./job-template.js";
import type { WorkerAccess } from "./worker-access.js";

export interface ImageBuildReconcilerDeps {
  builds: Pick<Informer<ImageBuild>, "get">;
  /** Jobs carry their build's name. */
  jobs: Pick<Informer<V1Job>, "get">;
  client: GoldenClient;
  batch: Pick<BatchV1Api, "createNamespacedJob" | "deleteNamespacedJob">;
  workerAccess: Pick<WorkerAccess, "ensure">;
  worker: WorkerConfig;
  events: EventSink;
  log: Logger;
  /** Observes each finished build once: its phase and seconds from admission to end. */
  onFinished?: (build: ImageBuild, seconds: number | undefined) => void;
  /**
   * Hands a build back to this reconciler's queue: a Job the admission started (admitting) was
   * created, or failed to be, and the reconcile takes it from there.
   */
  requeue?: (key: string) => void;
  /** Fail a running build whose worker has not heartbeat for this long; 0 disables. */
  workerLostAfterMs: number;
  now?: () => Date;
}

/**
 * How long a reconcile leaves a build's Job to the create its admission started before it creates
 * the Job itself (then answered AlreadyExists if that create landed): the create has answered and
 * the Job's event is late, or the create has hung.
 */
export const ADMISSION_JOB_GRACE_MS = 30_000;

export class ImageBuildReconciler {
  private readonly now: () => Date;
  private readonly startedAt: number;
  private readonly observed = new Set<string>();
  /** Builds whose Job their admission creates (admitting), by key: the build's uid, and since when. */
  private readonly admissionJobs = new Map<string, { uid: string | undefined; sinceMs: number }>();

  constructor(private readonly deps: ImageBuildReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.startedAt = this.now().getTime();
  }

  /**
   * The scheduler is about to admit `build` (before its write is sent, so no reconcile of the
   * admitted build can start a create of its own meanwhile): once the admission lands, its Job is
   * created at once.
   */
  admitting(build: ImageBuild): JobStart {
    const key = objectKey(build);
    this.admissionJobs.set(key, { uid: build.metadata?.uid, sinceMs: this.now().getTime() });
    return {
      admitted: (written) => void this.startAdmittedJob(key, written),
      // A reconcile that left the Job to this admission meanwhile (its write landed, the answer
      // was lost) must not wait out the grace.
      abandoned: () => {
        this.admissionJobs.delete(key);
        this.deps.requeue?.(key);
      },
    };
  }

  private async startAdmittedJob(key: string, build: ImageBuild): Promise<void> {
    try {
      // One there already may be another's (an earlier build's of the same name): the reconcile decides.
      if (!(await this.createJob(build))) this.admissionJobs.delete(key);
    } catch (err) {
      // The reconcile retries it, with the queue's backoff.
      this.admissionJobs.delete(key);
      this.deps.log.info("could not create an admitted build's Job; retrying", { build: key, err });
    }
    this.deps.requeue?.(key);
  }

  /**
   * If the build's Job is its admission's to create (that create is out, or has answered and the
   * Job is not in the cache yet; the cache may not show the admission yet either), how much longer
   * it is left to it, in ms.
   */
  private admissionJobGraceLeftMs(
    key: string,
    build: ImageBuild,
    job: V1Job | undefined,
  ): number | undefined {
    const started = this.admissionJobs.get(key);
    if (!started) return undefined;
    const leftMs = started.sinceMs + ADMISSION_JOB_GRACE_MS - this.now().getTime();
    const pending =
      !job && started.uid === build.metadata?.uid && !isTerminal(build) && !build.metadata?.deletionTimestamp;
    if (pending && leftMs > 0) return leftMs;
    this.admissionJobs.delete(key);
    return undefined;
  }

  async reconcile(key: string): Promise<Result> {
    const build = this.deps.builds.get(key);
    if (!build) return;
    // A build's Job carries the build's name, and the build controls it: another Job of that name
    // (a user's, or an earlier build's of the same name not yet collected) is never adopted.
    const found = this.deps.jobs.get(key);
    const ownerUid = found && controllingBuildUid(found);
    const job = ownerUid !== undefined && ownerUid === build.metadata?.uid ? found : undefined;
    const admissionJobLeftMs = this.admissionJobGraceLeftMs(key, build, job);
    if (build.metadata?.deletionTimestamp) return this.finalize(build, job);

    if (isTerminal(build)) {
      this.observeFinished(build);
      // A cancelled build's worker must stop; other endings let the pod exit on its own.
      if (build.status?.phase === "Cancelled" && job && jobOutcome(job).state === "active")
        await this.deleteJob(job);
      await this.recordOutcome(build);
      return;
    }
    if (build.metadata?.annotations?.[ANNOTATIONS.cancel] === "true") {
      await this.cancel(build, job);
      return;
    }
    if (build.status?.phase !== "Building") return; // Waiting builds are the scheduler's.

    const timeoutMs = this.timeoutMs(build);
    const startedMs = new Date(build.status.startTime ?? this.now()).getTime();
    const overdueMs = startedMs + timeoutMs - this.now().getTime();
    if (overdueMs <= 0) {
      const seconds = timeoutSeconds(build.spec.image);
      await this.fail(build, "TimedOut", `build exceeded spec.build.timeoutSeconds (${seconds}s)`);
      if (job) await this.deleteJob(job);
      return;
    }

    if (found && !job) {
      if (ownerUid !== undefined) return { requeueAfterMs: 5000 }; // The garbage collector's to remove.
      await this.fail(
        build,
        "JobConflict",
        `Job ${found.metadata?.name} exists and is not this build's (no ImageBuild controls it): golden does not adopt it`,
      );
      return;
    }
    if (!job) {
      // Its admission is creating it: the Job's event (or that create's failure) brings it back.
      if (admissionJobLeftMs !== undefined) return { requeueAfterMs: admissionJobLeftMs };
      // Not created yet, or deleted mid-build: (re)create it; the worker resumes the build. A
      // build whose worker has run may have ended meanwhile (cancelled, failed) where the cache
      // does not show it yet: read it first, or its Job would run again beside the builds the
      // scheduler admitted into its freed slot.
      if (build.status.heartbeatTime !== undefined) {
        const fresh = await this.deps.client.imageBuilds.get(
          build.metadata?.namespace ?? "",
          build.metadata?.name ?? "",
        );
        if (fresh?.status?.phase !== "Building" || fresh.metadata?.uid !== build.metadata?.uid) return;
      }
      await this.createJob(build);
      return { requeueAfterMs: overdueMs };
    }

    const outcome = jobOutcome(job);
    if (outcome.state === "active") {
      const silentMs = this.silentMs(build, job);
      const limit = this.deps.workerLostAfterMs;
      if (limit > 0 && silentMs > limit) {
        const started = (job.status?.ready ?? 0) > 0 || build.status.heartbeatTime !== undefined;
        const why = started ? "the worker may be stuck" : "the worker pod never started (unschedulable?)";
        await this.fail(build, "WorkerLost", `no heartbeat for ${Math.round(silentMs / 1000)}s: ${why}`);
        await this.deleteJob(job);
        return;
      }
      return { requeueAfterMs: Math.min(overdueMs, limit > 0 ? limit - silentMs + 1000 : overdueMs) };
    }
    // The worker writes its result before it exits, but the Job may reach us first: re-read.
    const fresh = await this.deps.client.imageBuilds.get(
      build.metadata?.namespace ?? "",
      build.metadata?.name ?? "",
    );
    if (!fresh || isTerminal(fresh)) return;
    if (outcome.state === "failed") {
      const reason = outcome.reason === "DeadlineExceeded" ? "TimedOut" : "WorkerFailed";
      await this.fail(fresh, reason, `Job ${job.metadata?.name}: ${outcome.message}`);
    } else {
      await this.fail(fresh, "WorkerFailed", "the worker exited without reporting a result");
    }
    return;
  }

  /** Creates the build's Job; true when it did (false: one of its name exists, or it was refused). */
  private async createJob(build: ImageBuild): Promise<boolean> {
    try {
      await this.deps.workerAccess.ensure(build.metadata?.namespace ?? "");
      await this.deps.batch.createNamespacedJob({
        namespace: build.metadata?.namespace ?? "",
        body: buildJob(build, this.deps.worker),
      });
      return true;
    } catch (err) {
      // Admission refused it for good (a namespace that opted out of builds, a protected one):
      // say so on the build instead of retrying forever.
      if (apiErrorCode(err) === 403) {
        await this.fail(build, "JobRefused", `the build's Job was refused: ${apiErrorMessage(err)}`);
        return false;
      }
      if (!isAlreadyExists(err)) throw err;
      return false;
    }
  }

  /** Time since the last sign of life: a heartbeat, the admission, or the Job's creation. */
  private silentMs(build: ImageBuild, job: V1Job): number {
    const signs = [build.status?.heartbeatTime, build.status?.startTime, job.metadata?.creationTimestamp]
      .filter((t) => t !== undefined)
      .map((t) => new Date(t as string | Date).getTime());
    return this.now().getTime() - Math.max(0, ...signs);
  }

  private async cancel(build: ImageBuild, job: V1Job | undefined): Promise<void> {
    const message = `cancelled on request (annotation ${ANNOTATIONS.cancel})`;
    const now = this.now();
    const written = await this.deps.client.imageBuilds.patchStatusIfCurrent(build, {
      phase: "Cancelled",
      message,
      completionTime: now.toISOString(),
      conditions: setCondition(
        build.status?.conditions,
        { type: "Succeeded", status: "False", reason: "Cancelled", message },
        now,
      ),
    });
    if (!written) return;
    if (job) await this.deleteJob(job);
    this.deps.events.record(build, {
      type: "Normal",
      reason: "Cancelled",
      action: "CancelBuild",
      note: message,
    });
  }

  private timeoutMs(build: ImageBuild): number {
    return (timeoutSeconds(build.spec.image) + this.deps.worker.timeoutGraceSeconds) * 1000;
  }

  /** resourceVersion-guarded: if the worker reported meanwhile, its result stands. */
  private async fail(build: ImageBuild, reason: string, detail: string): Promise<void> {
    const now = this.now();
    const message = boundedMessage(detail);
    const status: ImageBuildStatus = {
      phase: "Failed",
      message,
      completionTime: now.toISOString(),
      conditions: setCondition(
        build.status?.conditions,
        { type: "Succeeded", status: "False", reason, message },
        now,
      ),
    };
    // Gone, or moved on (the worker reported meanwhile): the next event decides.
    if (!(await this.deps.client.imageBuilds.patchStatusIfCurrent(build, status))) return;
    this.deps.events.record(build, { type: "Warning", reason, action: "FailBuild", note: message });
  }

  /** Once per terminal build: the Succeeded condition that `kubectl wait` and describe show. */
  private async recordOutcome(build: ImageBuild): Promise<void> {
    if (findCondition(build.status?.conditions, "Succeeded")) return;
    const phase = build.status?.phase;
    const ok = phase === "Succeeded";
    const reason = ok ? "BuildSucceeded" : phase === "Cancelled" ? "Cancelled" : "BuildFailed";
    const message = build.status?.message ?? `build ${phase}`;
    const conditions = setCondition(
      build.status?.conditions,
      { type: "Succeeded", status: ok ? "True" : "False", reason, message },
      this.now(),
    );
    if (!(await this.deps.client.imageBuilds.patchStatusIfCurrent(build, { conditions }))) return;
    this.deps.events.record(build, {
      type: ok ? "Normal" : "Warning",
      reason,
      action: "Build",
      note: message,
    });
  }

  /**
   * Reports each build that finished while this process ran, once: the worker may have written
   * the outcome itself, so this cannot hang off our own status write.
   */
  private observeFinished(build: ImageBuild): void {
    const uid = build.metadata?.uid ?? "";
    const { startTime, completionTime } = build.status ?? {};
    if (!completionTime || this.observed.has(uid)) return;
    if (new Date(completionTime).getTime() < this.startedAt) return; // Finished before we started.
    this.observed.add(uid);
    const seconds = startTime
      ? (new Date(completionTime).getTime() - new Date(startTime).getTime()) / 1000
      : undefined;
    this.deps.onFinished?.(build, seconds);
  }

  /** Forget a deleted build's uid, so the set of observed builds stays bounded. */
  forget(build: ImageBuild): void {
    this.observed.delete(build.metadata?.uid ?? "");
    if (this.admissionJobs.get(objectKey(build))?.uid === build.metadata?.uid)
      this.admissionJobs.delete(objectKey(build));
  }

  /**
   * Deleting (by hand, by history pruning, or by the garbage collector after its Image): stop the
   * worker, unpublish the build's (mocked) artifacts, then let go. The Job would only be collected
   * once the build is gone, and its worker could publish meanwhile.
   */
  private async finalize(build: ImageBuild, job: V1Job | undefined): Promise<void> {
    if (!holdsFinalizer(build)) return;
    if (job && jobOutcome(job).state === "active") await this.deleteJob(job);
    const artifacts = build.status?.artifacts ?? [];
    if (artifacts.length > 0) {
      this.deps.log.info("unpublishing artifacts", {
        build: build.metadata?.name,
        namespace: build.metadata?.namespace,
        locations: artifacts.map((a) => a.location),
      });
    }
    await releaseFinalizer(this.deps.client.imageBuilds, build);
  }

  private async deleteJob(job: V1Job): Promise<void> {
    try {
      await this.deps.batch.deleteNamespacedJob({
        name: job.metadata?.name ?? "",
        namespace: job.metadata?.namespace ?? "",
        propagationPolicy: "Background",
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
