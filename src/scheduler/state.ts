// What a scheduler pass needs to know, kept current from informer events so that an event costs
// O(log n) instead of a walk over every build in the cluster: the waiting builds (also in admission
// order, in AdmissionLanes), the builds in flight per namespace, when each namespace was last
// served, the waiting builds whose Queued status is still to be written, and recent build durations.
// Everything here is a function of the informer caches plus the scheduler's own admissions
// (assume) and the Jobs it had to read itself (unconfirmed), so rebuild() restores it from the
// caches, and repairs it should an event ever be lost.
//
// Slots are counted conservatively, because the limit is checked against what really runs: a
// build pod that has not ended holds a slot whatever its build or Job says (even with both gone),
// and so does a Job that has not finished, until its pod is seen ended. A Job runs one pod
// (backoffLimit 0), so an ended pod frees the slot at once, not a second or more later when the
// Job controller has done its bookkeeping.
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { ImageBuild, ImageBuildPhase } from "../api/v1alpha1/index.js";
import { schedulingPriority } from "../build/defaults.js";
import { controllingBuildUid, isJobFinished } from "../build/job.js";
import { LABELS } from "../build/names.js";
import { createdAtMs } from "../build/order.js";
import { isTerminal } from "../build/phase.js";
import { controllerOwner, objectKey, splitKey } from "../runtime/keys.js";
import { AdmissionLanes } from "./lanes.js";
import type { InFlight, WaitingBuild } from "./policy.js";

/** Where a build stands: waiting for a slot, holding one, or neither (finished or unknown). */
export type Slot = "waiting" | "inFlight" | "none";

/** How many of the most recent successful builds start-time estimates learn from. */
export const RECENT_DURATIONS = 20;

interface BuildFacts {
  phase: ImageBuildPhase | undefined;
  terminal: boolean;
  /** The scheduler admitted it: the admission writes startTime. */
  admitted: boolean;
  /** Its Job has been in the Job cache at some point while this process watched. */
  jobSeen: boolean;
  /** The build as the policy sees it while it waits. */
  asWaiting: WaitingBuild;
}

/** An admission this process wrote (or may have written) that the cache has not shown yet. */
interface Assumption {
  /** The build's resourceVersion the admission was conditioned on. */
  resourceVersion: string | undefined;
  /** Only for an admission whose outcome is unknown (a timeout): when to stop holding the slot. */
  expiresAtMs?: number;
}

interface RecentDuration {
  key: string;
  endMs: number;
  ms: number;
}

export interface SchedulerStateOptions {
  /** A namespace's limit; undefined when only the cluster limit applies. Default: none. */
  namespaceLimit?: (namespace: string) => number | undefined;
  /**
   * Build pods run as this ServiceAccount, which admission lets only golden's Jobs use
   * (config/rbac/admission_policies.yaml); a pod running as another holds no slot, whatever its
   * labels say. Unset: every pod labelled as a build's counts.
   */
  workerServiceAccount?: string;
  /**
   * Whether an admitted build that ended or went with its Job never seen holds its slot until the
   * Job shows or a live read settles it (#unconfirmed). The scheduler does: a lagging Job cache must
   * not free a slot whose pod may run. A read-only view (the pending queue), which never reads live,
   * takes the caches' word as a fresh rebuild does. Default: true.
   */
  confirmEndings?: boolean;
}

export class SchedulerState {
  readonly #builds = new Map<string, BuildFacts>();
  /** Keys of Jobs that exist and have not finished (a build's Job carries the build's key). */
  readonly #activeJobs = new Set<string>();
  /** Key → uid of every Job in the cache, finished or not. */
  readonly #jobsPresent = new Map<string, string | undefined>();
  /** Per build key, the names of its pods that have not ended. */
  readonly #runningPods = new Map<string, Set<string>>();
  /**
   * Per build key, the uid of the Job whose pod was seen ended: that Job starts nothing more. By
   * uid, because a Job deleted and created again under the same name (the build's) is another Job:
   * the old one's pod ending says nothing of the new one's.
   */
  readonly #podEndedOfJob = new Map<string, string>();
  /**
   * Admitted builds that ended or went while their Job never showed in the Job cache: that cache
   * may be lagging (a watch reconnecting), so the Job may still run. They hold their slot until
   * the Job cache shows the Job, or a live read finds it finished or gone (settleUnconfirmed).
   */
  readonly #unconfirmed = new Set<string>();
  /** Builds this process admitted that the cache has not shown past Queued yet. */
  readonly #assumed = new Map<string, Assumption>();
  readonly #waiting = new Map<string, WaitingBuild>();
  /** Key → namespace of every build holding a slot. */
  readonly #inFlight = new Map<string, string>();
  readonly #inFlightByNamespace = new Map<string, number>();
  /** Per namespace, the start time of each started build: what lastServed is the max of. */
  readonly #starts = new Map<string, Map<string, number>>();
  readonly #lastServed = new Map<string, number>();
  /** Newest completion first, at most RECENT_DURATIONS. */
  #durations: RecentDuration[] = [];
  /** Waiting builds not shown as Queued yet → the resourceVersion to write that on. */
  readonly #queuedWritesDue = new Map<string, string | undefined>();
  /**
   * Those of them handed out to be written (takeQueuedWritesDue), until the write is done or
   * failed: a pass never looks at a write already under way, so a pass costs O(new due writes)
   * however many are queued behind the client budget.
   */
  readonly #queuedWritesTaken = new Map<string, string | undefined>();
  readonly #lanes: AdmissionLanes;

  readonly #workerServiceAccount: string | undefined;
  readonly #confirmEndings: boolean;

  constructor(opts: SchedulerStateOptions = {}) {
    this.#workerServiceAccount = opts.workerServiceAccount;
    this.#confirmEndings = opts.confirmEndings ?? true;
    const limit = opts.namespaceLimit ?? (() => undefined);
    this.#lanes = new AdmissionLanes({
      inFlight: (ns) => this.#inFlightByNamespace.get(ns) ?? 0,
      lastServed: (ns) => this.#lastServed.get(ns),
      limit,
    });
  }

  /** Records a build's current state; true when the change can alter a scheduling decision. */
  observeBuild(build: ImageBuild): boolean {
    const key = objectKey(build);
    const namespace = build.metadata?.namespace ?? "";
    const phase = build.status?.phase;
    const previous = this.#builds.get(key);
    // A build being deleted (its finalizer still held) will never need a slot.
    const terminal = isTerminal(build) || build.metadata?.deletionTimestamp !== undefined;
    const admitted = build.status?.startTime !== undefined;
    const jobSeen = (previous?.jobSeen ?? false) || this.#jobsPresent.has(key);
    // It ended while we watched, and its Job never showed up: see #unconfirmed.
    if (this.#confirmEndings && terminal && previous && !previous.terminal && admitted && !jobSeen)
      this.#unconfirmed.add(key);
    this.#builds.set(key, {
      phase,
      terminal,
      admitted,
      jobSeen,
      asWaiting: {
        key,
        namespace,
        priority: schedulingPriority(build),
        createdAt: createdAtMs(build),
      },
    });
    // The cache has caught up with our admission, or the build moved on without it; or it shows a
    // newer version still waiting, on which our conditional admission can no longer land.
    const assumption = this.#assumed.get(key);
    const rv = build.metadata?.resourceVersion;
    if (
      assumption &&
      (!mayBeAssumed(phase) ||
        (assumption.resourceVersion !== undefined && rv !== assumption.resourceVersion))
    )
      this.#assumed.delete(key);
    const served = this.#setStart(key, namespace, startMs(build));
    this.#recordDuration(key, build);
    const { before, after } = this.#reclassify(key);
    if (after === "waiting" && phase !== "Queued") {
      if (!this.#queuedWritesTaken.has(key) || this.#queuedWritesTaken.get(key) !== rv)
        this.#queuedWritesDue.set(key, rv);
    } else this.#dropQueuedWrite(key);
    // A waiting build's own fields are inputs too (priority, and whether its Queued status is
    // written), so any change to one counts; builds that stay in flight or done do not matter.
    return before !== after || after === "waiting" || served;
  }

  /** The build is gone from the cache. */
  forgetBuild(key: string): boolean {
    const facts = this.#builds.get(key);
    if (!facts) return false;
    // Deleted mid-build with its Job never seen: that Job may run until the GC gets to it.
    if (this.#confirmEndings && !facts.terminal && facts.admitted && !facts.jobSeen)
      this.#unconfirmed.add(key);
    this.#builds.delete(key);
    this.#assumed.delete(key);
    this.#dropQueuedWrite(key);
    const served = this.#setStart(key, facts.asWaiting.namespace, undefined);
    const { before, after } = this.#reclassify(key);
    return before !== after || served;
  }

  /** Records a Job's current state; true when the change can alter a scheduling decision. */
  observeJob(job: V1Job): boolean {
    const key = objectKey(job);
    // Anyone who may create Jobs can label one like golden's: only a build's own Job holds a slot.
    if (controllingBuildUid(job) === undefined) return this.forgetJob(key);
    this.#jobsPresent.set(key, job.metadata?.uid);
    const facts = this.#builds.get(key);
    if (facts) facts.jobSeen = true;
    this.#unconfirmed.delete(key); // The cache shows the Job now: its state decides.
    if (isJobFinished(job)) this.#activeJobs.delete(key);
    else this.#activeJobs.add(key);
    const { before, after } = this.#reclassify(key);
    return before !== after;
  }

  /** The Job is gone from the cache. */
  forgetJob(key: string): boolean {
    this.#jobsPresent.delete(key);
    this.#activeJobs.delete(key);
    this.#unconfirmed.delete(key);
    this.#podEndedOfJob.delete(key);
    const { before, after } = this.#reclassify(key);
    return before !== after;
  }

  /** Records a build pod's current state; true when the change can alter a scheduling decision. */
  observePod(pod: V1Pod): boolean {
    const key = buildKeyOf(pod);
    if (!key) return false;
    if (!this.#isBuildPod(pod)) return this.forgetPod(pod); // A look-alike (see workerServiceAccount).
    const name = pod.metadata?.name ?? "";
    const running = this.#runningPods.get(key) ?? new Set<string>();
    if (hasEnded(pod)) {
      running.delete(name);
      this.#recordEnded(key, pod);
    } else running.add(name);
    if (running.size > 0) this.#runningPods.set(key, running);
    else this.#runningPods.delete(key);
    const { before, after } = this.#reclassify(key);
    return before !== after;
  }

  /**
   * Remembers which Job's pod ended. A pod of a Job other than the one in the cache (an earlier Job
   * of the same name, still ending after it was replaced) is ignored; so is one with no controlling
   * Job (orphaned): it frees no Job's slot.
   */
  #recordEnded(key: string, pod: V1Pod): void {
    const jobUid = controllerOwner(pod, "Job", "batch")?.uid;
    if (jobUid === undefined) return;
    const present = this.#jobsPresent.get(key);
    if (present === undefined || present === jobUid) this.#podEndedOfJob.set(key, jobUid);
  }

  /** The Job in the cache under this key has not finished, and its pod was not seen ended. */
  #jobHoldsSlot(key: string): boolean {
    if (!this.#activeJobs.has(key)) return false;
    const uid = this.#jobsPresent.get(key);
    return uid === undefined || this.#podEndedOfJob.get(key) !== uid;
  }

  #isBuildPod(pod: V1Pod): boolean {
    const sa = this.#workerServiceAccount;
    return sa === undefined || pod.spec?.serviceAccountName === sa;
  }

  /**
   * The pod is gone from the cache. One deleted before it ended is not counted as ended: its Job
   * decides (the Job controller fails a Job whose only pod went).
   */
  forgetPod(pod: V1Pod): boolean {
    const key = buildKeyOf(pod);
    const running = key ? this.#runningPods.get(key) : undefined;
    if (!key || !running) return false;
    running.delete(pod.metadata?.name ?? "");
    if (running.size === 0) this.#runningPods.delete(key);
    const { before, after } = this.#reclassify(key);
    return before !== after;
  }

  /**
   * Counts a build this process is admitting as in flight until the cache shows the admission.
   * `resourceVersion` is the one the admission is conditioned on.
   */
  assume(key: string, resourceVersion?: string): void {
    const facts = this.#builds.get(key);
    // The cache may show the admission already, or the build gone: nothing to bridge then.
    if (!facts || !mayBeAssumed(facts.phase)) return;
    this.#assumed.set(key, { resourceVersion });
    this.#reclassify(key);
  }

  /**
   * The admission's write had no clear outcome (it timed out, the apiserver restarted mid-request):
   * its slot is held until the cache shows either outcome, or until `expiresAtMs`, after which the
   * write can no longer land.
   */
  assumeUncertain(key: string, resourceVersion: string | undefined, expiresAtMs: number): void {
    // Gone from #assumed: the cache showed the admission, or a newer version it cannot land on.
    const known = this.#assumed.get(key);
    if (!known || known.resourceVersion !== resourceVersion) return;
    this.#assumed.set(key, { resourceVersion, expiresAtMs });
  }

  /** The admission on that resourceVersion was refused: the build waits again. */
  unassume(key: string, resourceVersion: string | undefined): boolean {
    const known = this.#assumed.get(key);
    if (!known || known.resourceVersion !== resourceVersion) return false;
    this.#assumed.delete(key);
    const { before, after } = this.#reclassify(key);
    return before !== after;
  }

  /** Drops uncertain admissions past their expiry; true when that freed a slot. */
  expireAssumptions(nowMs: number): boolean {
    let changed = false;
    for (const [key, a] of this.#assumed) {
      if (a.expiresAtMs === undefined || a.expiresAtMs > nowMs) continue;
      this.#assumed.delete(key);
      const { before, after } = this.#reclassify(key);
      changed ||= before !== after;
    }
    return changed;
  }

  /** When the next uncertain admission expires (ms), if any. */
  nextExpiryMs(): number | undefined {
    let next: number | undefined;
    for (const a of this.#assumed.values())
      if (a.expiresAtMs !== undefined && (next === undefined || a.expiresAtMs < next)) next = a.expiresAtMs;
    return next;
  }

  /** Keys of the builds whose Job needs a live read (see #unconfirmed). */
  unconfirmed(): string[] {
    return [...this.#unconfirmed];
  }

  /** A live read of an unconfirmed build's Job: finished or gone frees the slot, running keeps it. */
  settleUnconfirmed(key: string, job: V1Job | undefined): boolean {
    if (!this.#unconfirmed.has(key) || (job && !isJobFinished(job))) return false;
    this.#unconfirmed.delete(key);
    const { before, after } = this.#reclassify(key);
    return before !== after;
  }

  slotOf(key: string): Slot {
    return this.#waiting.has(key) ? "waiting" : this.#inFlight.has(key) ? "inFlight" : "none";
  }

  waiting(): WaitingBuild[] {
    return [...this.#waiting.values()];
  }

  inFlight(): InFlight {
    return { total: this.#inFlight.size, byNamespace: new Map(this.#inFlightByNamespace) };
  }

  /** Builds holding a slot across the cluster. */
  inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Builds holding a slot in the namespace. */
  inFlightIn(namespace: string): number {
    return this.#inFlightByNamespace.get(namespace) ?? 0;
  }

  /**
   * Keys of the next waiting builds to admit, at most `count`, in the policy's order (the
   * admissions schedule() would make): O(count · log n).
   */
  nextAdmissions(count: number): string[] {
    return this.#lanes.nextAdmissions(count).map((w) => w.key);
  }

  /** The namespace's limit may have changed: its waiting builds may be parked or free to go. */
  namespaceChanged(namespace: string): void {
    this.#lanes.touch(namespace);
  }

  /** Waiting builds whose Queued status is still to be written, with the resourceVersion to write on. */
  queuedWritesDue(): Array<{ key: string; resourceVersion: string | undefined }> {
    return [...this.#queuedWritesDue].map(([key, resourceVersion]) => ({ key, resourceVersion }));
  }

  /** Hands out the Queued writes due and not yet handed out; report each back (done or failed). */
  takeQueuedWritesDue(): Array<{ key: string; resourceVersion: string | undefined }> {
    const taken = this.queuedWritesDue();
    for (const { key, resourceVersion } of taken) this.#queuedWritesTaken.set(key, resourceVersion);
    this.#queuedWritesDue.clear();
    return taken;
  }

  /**
   * The Queued write on that resourceVersion is done, or refused, or not needed any more: a newer
   * version decides. A newer version seen meanwhile keeps the write due.
   */
  queuedWriteDone(key: string, resourceVersion: string | undefined): void {
    if (this.#queuedWritesDue.get(key) === resourceVersion) this.#queuedWritesDue.delete(key);
    if (this.#queuedWritesTaken.get(key) === resourceVersion) this.#queuedWritesTaken.delete(key);
  }

  /** The Queued write on that resourceVersion failed: due again, unless the build has moved on. */
  queuedWriteFailed(key: string, resourceVersion: string | undefined): void {
    if (this.#queuedWritesTaken.get(key) !== resourceVersion) return;
    this.#queuedWritesTaken.delete(key);
    if (this.#waiting.has(key) && !this.#queuedWritesDue.has(key))
      this.#queuedWritesDue.set(key, resourceVersion);
  }

  #dropQueuedWrite(key: string): void {
    this.#queuedWritesDue.delete(key);
    this.#queuedWritesTaken.delete(key);
  }

  /** Per namespace, the latest start time of its builds in the cache (ms). */
  lastServed(): Map<string, number> {
    return new Map(this.#lastServed);
  }

  /** Durations (ms) of the most recent successful builds, newest first. */
  recentDurations(): number[] {
    return this.#durations.map((d) => d.ms);
  }

  /**
   * Recomputes everything from the caches' contents; keeps this process's admissions that the
   * cache has not caught up with, and the durations of builds deleted since. Returns true when
   * the incremental state had drifted from the caches, which only a lost event or a bug can do.
   */
  rebuild(builds: Iterable<ImageBuild>, jobs: Iterable<V1Job>, pods: Iterable<V1Pod> = []): boolean {
    const waitingBefore = new Map([...this.#waiting].map(([key, w]) => [key, waitingFingerprint(w)]));
    const inFlightBefore = new Map(this.#inFlight);
    const servedBefore = new Map(this.#lastServed);
    for (const map of [this.#builds, this.#waiting, this.#inFlight, this.#inFlightByNamespace]) map.clear();
    this.#lanes.clear();
    this.#queuedWritesDue.clear();
    // Writes under way stay handed out: observeBuild below does not make them due again.
    this.#starts.clear();
    this.#lastServed.clear();
    this.#activeJobs.clear();
    this.#jobsPresent.clear();
    this.#runningPods.clear();
    this.#podEndedOfJob.clear();

    for (const job of jobs) {
      if (controllingBuildUid(job) === undefined) continue; // Not a build's Job (see observeJob).
      const key = objectKey(job);
      this.#jobsPresent.set(key, job.metadata?.uid);
      if (!isJobFinished(job)) this.#activeJobs.add(key);
    }
    for (const pod of pods) {
      const key = buildKeyOf(pod);
      if (!key || !this.#isBuildPod(pod)) continue;
      if (hasEnded(pod)) this.#recordEnded(key, pod);
      else
        this.#runningPods.set(key, (this.#runningPods.get(key) ?? new Set()).add(pod.metadata?.name ?? ""));
    }
    for (const key of this.#unconfirmed) if (this.#jobsPresent.has(key)) this.#unconfirmed.delete(key);
    for (const build of builds) this.observeBuild(build);
    for (const key of this.#assumed.keys()) if (!this.#builds.has(key)) this.#assumed.delete(key);
    // Slots held with no build in the cache: running pods and Jobs, and Jobs still unconfirmed.
    for (const key of [...this.#runningPods.keys(), ...this.#activeJobs, ...this.#unconfirmed])
      this.#reclassify(key);

    const waitingAfter = new Map([...this.#waiting].map(([key, w]) => [key, waitingFingerprint(w)]));
    return (
      !sameEntries(waitingBefore, waitingAfter) ||
      !sameEntries(inFlightBefore, this.#inFlight) ||
      !sameEntries(servedBefore, this.#lastServed)
    );
  }

  /**
   * A build holds a slot from admission until its pod has ended (or, with no pod seen ended, its
   * Job has finished), whatever the build says.
   */
  #classify(key: string): Slot {
    // A running pod holds a slot even with its build and Job gone (a Job deleted with orphan
    // propagation leaves its pod running).
    if (this.#runningPods.has(key) || this.#unconfirmed.has(key)) return "inFlight";
    if (this.#jobHoldsSlot(key)) return "inFlight";
    const facts = this.#builds.get(key);
    if (!facts) return "none";
    if (this.#assumed.has(key) || facts.phase === "Building") return "inFlight";
    return facts.terminal ? "none" : "waiting";
  }

  #reclassify(key: string): { before: Slot; after: Slot } {
    const before = this.slotOf(key);
    const after = this.#classify(key);
    // Each change is followed by its lane's touch before the next one: the lanes' heap must never
    // hold a lane whose key changed behind its back.
    const waited = this.#waiting.get(key);
    if (waited) {
      this.#waiting.delete(key);
      this.#lanes.remove(waited);
    }
    if (after !== "waiting") this.#dropQueuedWrite(key);
    if (before === "inFlight" && after !== "inFlight") {
      const namespace = this.#inFlight.get(key) ?? "";
      this.#inFlight.delete(key);
      const left = (this.#inFlightByNamespace.get(namespace) ?? 0) - 1;
      if (left > 0) this.#inFlightByNamespace.set(namespace, left);
      else this.#inFlightByNamespace.delete(namespace);
      this.#lanes.touch(namespace);
    }
    const facts = this.#builds.get(key);
    if (after === "waiting" && facts) {
      this.#waiting.set(key, facts.asWaiting);
      this.#lanes.add(facts.asWaiting);
    }
    if (after === "inFlight" && before !== "inFlight") {
      const namespace = facts?.asWaiting.namespace ?? splitKey(key).namespace ?? "";
      this.#inFlight.set(key, namespace);
      this.#inFlightByNamespace.set(namespace, (this.#inFlightByNamespace.get(namespace) ?? 0) + 1);
      this.#lanes.touch(namespace);
    }
    return { before, after };
  }

  /** Sets or clears a build's start time; true when its namespace's lastServed changed. */
  #setStart(key: string, namespace: string, start: number | undefined): boolean {
    const starts = this.#starts.get(namespace) ?? new Map<string, number>();
    const previous = starts.get(key);
    if (previous === start) return false;
    if (start === undefined) starts.delete(key);
    else starts.set(key, start);
    if (starts.size > 0) this.#starts.set(namespace, starts);
    else this.#starts.delete(namespace);

    const before = this.#lastServed.get(namespace);
    let after = before;
    if (start !== undefined && (before === undefined || start > before)) after = start;
    // Only losing the latest start costs a scan of the namespace's starts; deletions are mostly
    // of old builds (history limits), so this is rare.
    else if (previous === before) after = maxOf(starts.values());
    if (after === undefined) this.#lastServed.delete(namespace);
    else this.#lastServed.set(namespace, after);
    if (after !== before) this.#lanes.touch(namespace);
    return after !== before;
  }

  #recordDuration(key: string, build: ImageBuild): void {
    const s = build.status;
    if (s?.phase !== "Succeeded" || !s.startTime || !s.completionTime) return;
    const endMs = new Date(s.completionTime).getTime();
    const ms = endMs - new Date(s.startTime).getTime();
    if (!Number.isFinite(ms)) return;
    // Each build counts once however many updates it gets after it finished.
    const recent = this.#durations.filter((d) => d.key !== key);
    const at = recent.findIndex((d) => d.endMs < endMs);
    recent.splice(at < 0 ? recent.length : at, 0, { key, endMs, ms });
    this.#durations = recent.slice(0, RECENT_DURATIONS);
  }
}

/** The key of the build a worker pod runs (its Job's labels carry the build's name). */
function buildKeyOf(pod: V1Pod): string | undefined {
  const name = pod.metadata?.labels?.[LABELS.build];
  return name ? `${pod.metadata?.namespace ?? ""}/${name}` : undefined;
}

function hasEnded(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/** Until the cache shows an admitted build past Queued, only this process knows it holds a slot. */
function mayBeAssumed(phase: ImageBuildPhase | undefined): boolean {
  return phase === undefined || phase === "Pending" || phase === "Queued";
}

function startMs(build: ImageBuild): number | undefined {
  const t = build.status?.startTime;
  const ms = t ? new Date(t).getTime() : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function maxOf(values: Iterable<number>): number | undefined {
  let max: number | undefined;
  for (const v of values) if (max === undefined || v > max) max = v;
  return max;
}

function waitingFingerprint(w: WaitingBuild): string {
  return `${w.namespace}|${w.priority}|${w.createdAt}`;
}

function sameEntries<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (!b.has(key) || b.get(key) !== value) return false;
  return true;
}
