// The scheduler loop: one level-triggered pass. It admits the builds the policy picks (phase
// Building; each Job is created as its admission lands, see startJob) and marks each build that
// starts to wait as Queued, with a reason that stays true while the queue moves, so a waiting build
// is written twice whatever the length of the queue: when it starts to wait and when it is admitted.
// Positions and estimated starts are computed on demand instead (pending.ts). What a pass needs is
// kept current from informer events (SchedulerState), so a pass costs O(log n) per admission plus
// its writes, and is rebuilt from the caches every few minutes in case an event was ever lost.
//
// A pass does not wait for its writes. Its admissions count as in flight from the moment they are
// decided (SchedulerState.assume), and its writes join one queue shared by every pass (admissions
// first), so the next event is decided on at once: a user's build that arrives while a campaign's
// admissions are being written is seen by the very next pass, not after them.
import type { V1Job, V1Namespace, V1Pod } from "@kubernetes/client-node";
import PQueue from "p-queue";
import type { GoldenClient } from "../api/client.js";
import { setCondition } from "../api/conditions.js";
import type { ImageBuild, ImageBuildStatus } from "../api/v1alpha1/index.js";
import { schedulingPriority } from "../build/defaults.js";
import { isJobFinished } from "../build/job.js";
import { createdAtMs } from "../build/order.js";
import { apiErrorCode } from "../runtime/api-errors.js";
import type { Informer } from "../runtime/informer.js";
import { objectKey, splitKey } from "../runtime/keys.js";
import type { Logger } from "../runtime/logger.js";
import type { Result } from "../runtime/workqueue.js";
import { namespaceLimits } from "./limits.js";
import { waitReason } from "./policy.js";
import { SchedulerState } from "./state.js";

export { NAMESPACE_LIMIT_ANNOTATION } from "./limits.js";
/** The scheduler has one work item: the whole queue. */
export const SCHEDULER_KEY = "queue";
/** Admission writes (and live Job reads) in flight at once. */
const ADMIT_CONCURRENCY = 16;
/** In the shared write queue, admissions go before Queued writes, each kind in the order it came. */
const WRITE_PRIORITY = { admission: 1, queued: 0 } as const;
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
/**
 * How long a build this process announced (creating) counts in the queue without the build cache
 * showing it: past the apiserver's 60 s request timeout, after which its create can no longer land.
 */
export const ANNOUNCED_BUILD_MS = 90_000;
/**
 * How long the builds after an announced one (in the policy's order) wait for its create to answer
 * before they go ahead of it: a create answers in milliseconds, but a struggling apiserver must not
 * stop every admission for a minute.
 */
export const ANNOUNCED_HOLD_MS = 2_000;

/** The outcome of a create announced with BuildScheduler.creating(). */
export interface CreatingBuild {
  /** The apiserver's answer: the build as created, with its resourceVersion. */
  created(build: ImageBuild): void;
  /** The create failed, or found the build already there (the cache has or will have it). */
  failed(): void;
}

/** An admitted build's Job, created as soon as its admission lands (SchedulerOptions.startJob). */
export interface JobStart {
  /** The admission landed: `build` as written (phase Building). */
  admitted(build: ImageBuild): void;
  /** The admission did not land, or may not have: the build's events decide. */
  abandoned(): void;
}

export interface SchedulerOptions {
  builds: Pick<Informer<ImageBuild>, "get" | "list">;
  jobs: Pick<Informer<V1Job>, "list">;
  /** Build pods (label component=worker): a slot is held until its build's pod has ended. */
  pods: Pick<Informer<V1Pod>, "list">;
  /** A live read of a Job (undefined when it does not exist), for when the Job cache may lag. */
  readJob: (namespace: string, name: string) => Promise<V1Job | undefined>;
  /** A live read of a build's pods, for when the pod cache may lag (a Job gone, its pod still ending). */
  readPods?: (namespace: string, buildName: string) => Promise<V1Pod[]>;
  namespaces?: Pick<Informer<V1Namespace>, "get">;
  client: Pick<GoldenClient, "imageBuilds">;
  /**
   * Told of each admission before its write is sent, and of the write's outcome: the build's Job
   * is created the moment the admission lands, not a watch round trip later. Unset: the ImageBuild
   * reconciler creates it when the admission's event arrives.
   */
  startJob?: (build: ImageBuild) => JobStart;
  /** Observes how long each admitted build waited, in seconds. */
  onAdmitted?: (build: ImageBuild, waitedSeconds: number) => void;
  /**
   * Asks for another pass: a write this process made settled in a way its events may not show
   * (it failed, or found the build moved on). Unset: the next event's pass picks it up.
   */
  wake?: () => void;
  maxConcurrentBuilds: number;
  /** 0 = no per-namespace limit unless a namespace sets the annotation. */
  maxBuildsPerNamespace: number;
  /** Build pods' ServiceAccount: pods running as another hold no slot (SchedulerState). */
  workerServiceAccount?: string;
  log: Logger;
  now?: () => Date;
}

/**
 * Feed it every ImageBuild and Job informer event (observe…/forget…); each returns whether the
 * event can change a decision, that is whether a pass is worth running.
 */
export class BuildScheduler {
  private readonly now: () => Date;
  private readonly namespaceLimit: (namespace: string) => number | undefined;
  private readonly state: SchedulerState;
  private lastRebuildMs = Number.NEGATIVE_INFINITY;
  /** Every pass's writes, ADMIT_CONCURRENCY at a time. */
  private readonly writes = new PQueue({ concurrency: ADMIT_CONCURRENCY });
  /** The first write failure since the last pass, which that pass reports (for the queue's backoff). */
  private writeError: unknown;
  /**
   * Builds this process is creating, or has created, that the build cache does not show yet: the
   * object to admit (once its create answered), and until when it counts without the cache.
   */
  private readonly announced = new Map<string, { build: ImageBuild; sinceMs: number; untilMs: number }>();
  /**
   * This process's last write of each build, until the cache shows a version other than the one it
   * was written on: a build marked Queued and admitted before the watch shows the Queued write is
   * admitted on the version that write made, not on the cache's (a 409, and a slot lost meanwhile).
   */
  private readonly written = new Map<string, { over: string | undefined; build: ImageBuild }>();
  /** Queued writes being sent, by build: since when, and whether a pass waits for one. */
  private readonly queuedWritesOut = new Map<string, { sinceMs: number; awaited: boolean }>();
  /** Builds whose slow create or Queued write was logged, so a pass does not log it again. */
  private readonly reportedSlow = new Set<string>();

  constructor(private readonly opts: SchedulerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.namespaceLimit = namespaceLimits(opts.namespaces, opts.maxBuildsPerNamespace);
    this.state = new SchedulerState({
      namespaceLimit: this.namespaceLimit,
      ...(opts.workerServiceAccount ? { workerServiceAccount: opts.workerServiceAccount } : {}),
    });
  }

  observeBuild(build: ImageBuild): boolean {
    const key = objectKey(build);
    this.announced.delete(key); // The cache shows it: its events decide from now on.
    this.reportedSlow.delete(key);
    if (this.written.get(key)?.over !== build.metadata?.resourceVersion) this.written.delete(key);
    return this.state.observeBuild(build);
  }

  forgetBuild(build: ImageBuild): boolean {
    this.announced.delete(objectKey(build));
    this.reportedSlow.delete(objectKey(build));
    this.written.delete(objectKey(build));
    return this.state.forgetBuild(objectKey(build));
  }

  /**
   * This process is about to create `build` (the Image controller). It joins the queue at once,
   * not when its watch event arrives, which under load can be a second or more after the create
   * answered: meanwhile a pass would give the slot it wins to a lower build (a campaign's). Until
   * the create answers it cannot be admitted, and the slot it would win stays free.
   */
  creating(build: ImageBuild): CreatingBuild {
    const key = objectKey(build);
    const announce = (b: ImageBuild) => {
      if (this.opts.builds.get(key)) return; // Its event came first: the cache decides.
      const sinceMs = this.announced.get(key)?.sinceMs ?? this.now().getTime();
      this.announced.set(key, { build: b, sinceMs, untilMs: sinceMs + ANNOUNCED_BUILD_MS });
      if (this.state.observeBuild(b)) this.opts.wake?.();
    };
    announce(build);
    return {
      created: announce,
      failed: () => {
        if (this.forgetIfOnlyAnnounced(key)) this.opts.wake?.();
      },
    };
  }

  /**
   * The build by key as this process knows it best: its own last write while the cache still shows
   * the version before it, else the cache's, else the one it announced.
   */
  private buildOf(key: string): ImageBuild | undefined {
    const cached = this.opts.builds.get(key);
    const own = this.written.get(key);
    if (own && (cached ? cached.metadata?.resourceVersion === own.over : this.announced.has(key)))
      return own.build;
    return cached ?? this.announced.get(key)?.build;
  }

  /** Forgets announced builds the cache never showed in time (created, then deleted unseen). */
  private expireAnnounced(nowMs: number): void {
    for (const [key, { untilMs }] of this.announced) if (untilMs <= nowMs) this.forgetIfOnlyAnnounced(key);
  }

  /** Forgets an announced build the cache does not show; true when that can change a decision. */
  private forgetIfOnlyAnnounced(key: string): boolean {
    this.reportedSlow.delete(key);
    if (!this.announced.delete(key) || this.opts.builds.get(key)) return false;
    this.written.delete(key);
    return this.state.forgetBuild(key);
  }

  /**
   * The apiserver refused a write on version `refused` of a build. If this process knows a newer
   * one (its own Queued write landed while the admission was out), the next pass writes on that.
   * Otherwise what it knows is stale: an announced build keeps its place and slot, and the cache
   * (or the announcement's end) decides; retrying on the same stale object would fail pass after pass.
   */
  private awaitCache(key: string, refused: string | undefined): void {
    if (this.buildOf(key)?.metadata?.resourceVersion !== refused) return;
    this.written.delete(key);
    const entry = this.announced.get(key);
    if (!entry || this.opts.builds.get(key)) return;
    const { resourceVersion: _stale, ...metadata } = entry.build.metadata ?? {};
    entry.build = { ...entry.build, metadata };
  }

  observeJob(job: V1Job): boolean {
    return this.state.observeJob(job);
  }

  forgetJob(job: V1Job): boolean {
    return this.state.forgetJob(objectKey(job));
  }

  observePod(pod: V1Pod): boolean {
    return this.state.observePod(pod);
  }

  forgetPod(pod: V1Pod): boolean {
    return this.state.forgetPod(pod);
  }

  /** A namespace was added, changed or removed: its limit may have changed. */
  observeNamespace(namespace: V1Namespace): boolean {
    this.state.namespaceChanged(namespace.metadata?.name ?? "");
    return true;
  }

  async reconcile(): Promise<Result> {
    const failed = this.writeError;
    if (failed !== undefined) {
      this.writeError = undefined;
      throw failed;
    }
    const now = this.now();
    if (now.getTime() - this.lastRebuildMs >= REBUILD_MS) this.rebuild(now);
    this.state.expireAssumptions(now.getTime());
    this.expireAnnounced(now.getTime());
    const unsettled = await this.settleUnconfirmed();
    // The decision is made from here on, after the live reads: its time is the admissions' start.
    const decidedAt = this.now();

    // A full cluster looks at no lane: the pass is then O(1) plus the writes due. An admission
    // counts as in flight from here (assume), so no later pass hands its slot out again.
    const free = this.opts.maxConcurrentBuilds - this.state.inFlightCount();
    const admitting: ImageBuild[] = [];
    /** Builds below this priority wait: one above them is being created. */
    let holdBelow = Number.NEGATIVE_INFINITY;
    for (const key of free > 0 ? this.state.nextAdmissions(free) : []) {
      const build = this.buildOf(key);
      const queuedWriteOut = this.queuedWritesOut.get(key);
      if (!build?.metadata?.resourceVersion || queuedWriteOut) {
        // Announced, its create not answered yet; or its Queued write is out, and an admission
        // now would be on the version that write replaces (a 409, and the slot lost meanwhile).
        // It keeps its slot. Builds of lower priority wait for that answer (milliseconds; it
        // wakes a pass) rather than start ahead of it, a campaign's behind a user's; past
        // ANNOUNCED_HOLD_MS they go. Builds of its own priority go: holding them would slow
        // every burst by its slowest create, for no order gained.
        if (queuedWriteOut) queuedWriteOut.awaited = true;
        const since = queuedWriteOut?.sinceMs ?? this.announced.get(key)?.sinceMs ?? 0;
        if (build && decidedAt.getTime() < since + ANNOUNCED_HOLD_MS)
          holdBelow = Math.max(holdBelow, schedulingPriority(build));
        else if (!this.reportedSlow.has(key)) {
          this.reportedSlow.add(key);
          this.opts.log.info("a build's create or Queued write is slow to answer; lower builds go ahead", {
            build: key,
          });
        }
        continue;
      }
      if (schedulingPriority(build) < holdBelow) break; // The rest come in priority order: lower still.
      this.state.assume(key, build.metadata.resourceVersion);
      admitting.push(build);
    }
    // Why each waits is decided now, before any admission lands and changes the counts.
    const whyWaiting = this.whyWaiting(slotsTakenBy(admitting.map(objectKey)));
    for (const build of admitting) this.write(WRITE_PRIORITY.admission, () => this.admit(build, decidedAt));
    // The Queued writes of the builds that wait on (an admission above took a build off this list).
    for (const { key, resourceVersion } of this.state.takeQueuedWritesDue()) {
      const why = whyWaiting(splitKey(key).namespace ?? "");
      this.write(WRITE_PRIORITY.queued, async () => {
        this.queuedWritesOut.set(key, { sinceMs: this.now().getTime(), awaited: false });
        try {
          await this.markQueued(key, resourceVersion, why, decidedAt);
        } catch (err) {
          this.state.queuedWriteFailed(key, resourceVersion);
          throw err;
        } finally {
          // A pass that held the build back for this write is owed another.
          if (this.queuedWritesOut.get(key)?.awaited) this.opts.wake?.();
          this.queuedWritesOut.delete(key);
          this.reportedSlow.delete(key);
        }
        this.state.queuedWriteDone(key, resourceVersion);
        return true;
      });
    }
    // Come back for the next rebuild even if no event does: it is what recovers a lost one.
    const nowMs = this.now().getTime();
    const comeBack = [Math.max(1, this.lastRebuildMs + REBUILD_MS - nowMs)];
    if (unsettled > 0) comeBack.push(UNCONFIRMED_RECHECK_MS);
    const expiry = this.state.nextExpiryMs();
    if (expiry !== undefined) comeBack.push(Math.max(1, expiry - nowMs));
    for (const { build, sinceMs, untilMs } of this.announced.values()) {
      const holdEndsMs = sinceMs + ANNOUNCED_HOLD_MS;
      const next = !build.metadata?.resourceVersion && holdEndsMs > nowMs ? holdEndsMs : untilMs;
      comeBack.push(Math.max(1, next - nowMs));
    }
    return { requeueAfterMs: Math.min(...comeBack) };
  }

  /**
   * Resolves when every write queued so far has settled; rejects with the first failure, as the
   * next pass would report it.
   */
  async writesSettled(): Promise<void> {
    await this.writes.onIdle();
    const failed = this.writeError;
    if (failed === undefined) return;
    this.writeError = undefined;
    throw failed;
  }

  /** Queues a write; its outcome reaches the state (and, failing, the next pass). */
  private write(priority: number, run: () => Promise<boolean>): void {
    this.writes.add(run, { priority }).then(
      (landed) => {
        if (!landed) this.opts.wake?.();
      },
      (err: unknown) => {
        this.writeError ??= err;
        this.opts.wake?.();
      },
    );
  }

  /** Reads the Job of each unconfirmed build, several at a time; returns how many still hold a slot. */
  private async settleUnconfirmed(): Promise<number> {
    const read = async (key: string) => {
      const { namespace, name } = splitKey(key);
      const job = await this.opts.readJob(namespace ?? "", name);
      // A Job gone or finished can leave its pod still running (terminating) where the pod cache
      // does not show it yet: count what a live read finds before the slot is given away.
      if ((!job || isJobFinished(job)) && this.opts.readPods)
        for (const pod of await this.opts.readPods(namespace ?? "", name)) this.state.observePod(pod);
      this.state.settleUnconfirmed(key, job);
    };
    await new PQueue({ concurrency: ADMIT_CONCURRENCY }).addAll(
      this.state.unconfirmed().map((key) => () => read(key)),
    );
    return this.state.unconfirmed().length;
  }

  private rebuild(now: Date): void {
    // Drift means an informer event was lost or the incremental bookkeeping has a bug.
    const announced = [...this.announced.values()].map(({ build }) => build);
    const builds = [...this.opts.builds.list(), ...announced];
    if (this.state.rebuild(builds, this.opts.jobs.list(), this.opts.pods.list()))
      this.opts.log.warn("scheduler state had drifted from the informer caches; rebuilt it");
    this.lastRebuildMs = now.getTime();
  }

  /** The admission's write; false when it did not land (the build moved on or went). */
  private async admit(build: ImageBuild, now: Date): Promise<boolean> {
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
    const job = this.opts.startJob?.(build);
    let written: ImageBuild | undefined;
    try {
      written = await this.patch(build, {
        phase: "Building",
        jobName: name,
        startTime: now.toISOString(),
        conditions,
      });
    } catch (err) {
      job?.abandoned();
      // No answer, or a server error: the write may have landed all the same. Hold the slot until
      // the cache shows either way. A 4xx answer means it did not.
      const code = apiErrorCode(err);
      if (code === undefined || code >= 500)
        this.state.assumeUncertain(key, resourceVersion, this.now().getTime() + UNCERTAIN_ADMISSION_MS);
      else this.state.unassume(key, resourceVersion);
      throw err;
    }
    if (!written) {
      job?.abandoned();
      // Rare (someone else wrote the build, or deleted it): the slot goes to the next pass.
      this.opts.log.info("admission refused: the build moved on or went; deciding again", {
        build: key,
        resourceVersion,
      });
      this.state.unassume(key, resourceVersion);
      this.awaitCache(key, resourceVersion);
      return false;
    }
    job?.admitted(written);
    this.opts.onAdmitted?.(build, Math.max(0, (now.getTime() - createdAtMs(build)) / 1000));
    return true;
  }

  /** Why a build of a namespace waits, once `admitting` (per namespace) has been admitted. */
  private whyWaiting(admitting: ReadonlyMap<string, number>): (namespace: string) => WhyWaiting {
    return (namespace) => {
      const limit = this.namespaceLimit(namespace);
      if (limit !== undefined && this.state.inFlightIn(namespace) + (admitting.get(namespace) ?? 0) >= limit)
        return { reason: "NamespaceLimitReached", message: waitReason("namespace", limit, namespace) };
      return {
        reason: "ClusterLimitReached",
        message: waitReason("cluster", this.opts.maxConcurrentBuilds, namespace),
      };
    };
  }

  /** Written once, when the build starts to wait: nothing in it changes as the queue moves. */
  private async markQueued(
    key: string,
    resourceVersion: string | undefined,
    why: WhyWaiting,
    now: Date,
  ): Promise<void> {
    const build = this.buildOf(key);
    // The cache moved on since the pass began (the event that moved it decides), or the build
    // was admitted since (that admission supersedes this write). An announced build whose create
    // has not answered has nothing to write on yet: its answer makes the write due again.
    if (!build?.metadata?.resourceVersion || build.metadata.resourceVersion !== resourceVersion) return;
    if (this.state.slotOf(key) !== "waiting") return;
    // Done, or refused (409: a newer version, whose event makes the write due again if needed).
    await this.patch(build, {
      phase: "Queued",
      conditions: setCondition(build.status?.conditions, { type: "Scheduled", status: "False", ...why }, now),
    });
  }

  /**
   * resourceVersion-guarded so a stale view never overwrites a newer decision. The build as
   * written, or undefined when it was gone or had moved on (404, 409: the next pass sees the newer
   * state).
   */
  private async patch(build: ImageBuild, status: ImageBuildStatus): Promise<ImageBuild | undefined> {
    const written = await this.opts.client.imageBuilds.patchStatusIfCurrent(build, status);
    // Its next write goes on this version until the cache shows it (see `written`).
    if (written)
      this.written.set(objectKey(written), { over: build.metadata?.resourceVersion, build: written });
    return written;
  }
}

/** The Scheduled=False condition of a waiting build. */
interface WhyWaiting {
  reason: "ClusterLimitReached" | "NamespaceLimitReached";
  message: string;
}

/** Per namespace, how many of these builds (keys) take a slot. */
function slotsTakenBy(keys: string[]): Map<string, number> {
  const byNamespace = new Map<string, number>();
  for (const key of keys) {
    const namespace = splitKey(key).namespace ?? "";
    byNamespace.set(namespace, (byNamespace.get(namespace) ?? 0) + 1);
  }
  return byNamespace;
}
