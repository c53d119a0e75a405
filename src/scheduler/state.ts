// What a scheduler pass needs to know, kept current from informer events so that a pass costs
// O(waiting builds) instead of a walk over every build in the cluster: the waiting builds, the
// builds in flight per namespace, when each namespace was last served, and recent build durations.
// Everything here is a function of the informer caches plus the scheduler's own admissions
// (assume), so rebuild() restores it from the caches, and repairs it should an event ever be lost.
import type { V1Job } from "@kubernetes/client-node";
import type { ImageBuild, ImageBuildPhase } from "../api/v1alpha1/index.js";
import { createdAtMs, isTerminal } from "../controllers/build-order.js";
import { isJobFinished } from "../controllers/job-state.js";
import { objectKey } from "../runtime/keys.js";
import type { InFlight, WaitingBuild } from "./policy.js";

/** Where a build stands: waiting for a slot, holding one, or neither (finished or unknown). */
export type Slot = "waiting" | "inFlight" | "none";

/** How many of the most recent successful builds start-time estimates learn from. */
export const RECENT_DURATIONS = 20;

interface BuildFacts {
  phase: ImageBuildPhase | undefined;
  terminal: boolean;
  /** The build as the policy sees it while it waits. */
  asWaiting: WaitingBuild;
}

interface RecentDuration {
  key: string;
  endMs: number;
  ms: number;
}

export class SchedulerState {
  readonly #builds = new Map<string, BuildFacts>();
  /** Keys of Jobs that exist and have not finished (a build's Job carries the build's key). */
  readonly #activeJobs = new Set<string>();
  /** Builds this process admitted that the cache has not shown past Queued yet. */
  readonly #assumed = new Set<string>();
  readonly #waiting = new Map<string, WaitingBuild>();
  /** Key → namespace of every build holding a slot. */
  readonly #inFlight = new Map<string, string>();
  readonly #inFlightByNamespace = new Map<string, number>();
  /** Per namespace, the start time of each started build: what lastServed is the max of. */
  readonly #starts = new Map<string, Map<string, number>>();
  readonly #lastServed = new Map<string, number>();
  /** Newest completion first, at most RECENT_DURATIONS. */
  #durations: RecentDuration[] = [];

  /** Records a build's current state; true when the change can alter a scheduling decision. */
  observeBuild(build: ImageBuild): boolean {
    const key = objectKey(build);
    const namespace = build.metadata?.namespace ?? "";
    const phase = build.status?.phase;
    this.#builds.set(key, {
      phase,
      // A build being deleted (its finalizer still held) will never need a slot.
      terminal: isTerminal(build) || build.metadata?.deletionTimestamp !== undefined,
      asWaiting: {
        key,
        namespace,
        priority: build.spec.image.build?.priority ?? 0,
        createdAt: createdAtMs(build),
      },
    });
    // The cache has caught up with our admission, or the build moved on without it.
    if (!mayBeAssumed(phase)) this.#assumed.delete(key);
    const served = this.#setStart(key, namespace, startMs(build));
    this.#recordDuration(key, build);
    const { before, after } = this.#reclassify(key);
    // A waiting build's own fields are inputs too (priority, and the queue status the pass keeps
    // up to date), so any change to one counts; builds that stay in flight or done do not matter.
    return before !== after || after === "waiting" || served;
  }

  /** The build is gone from the cache. */
  forgetBuild(key: string): boolean {
    const facts = this.#builds.get(key);
    if (!facts) return false;
    this.#builds.delete(key);
    this.#assumed.delete(key);
    const served = this.#setStart(key, facts.asWaiting.namespace, undefined);
    const { before } = this.#reclassify(key);
    return before !== "none" || served;
  }

  /** Records a Job's current state; true when the change can alter a scheduling decision. */
  observeJob(job: V1Job): boolean {
    return this.#setJobActive(objectKey(job), !isJobFinished(job));
  }

  /** The Job is gone from the cache. */
  forgetJob(key: string): boolean {
    return this.#setJobActive(key, false);
  }

  /** Counts a build this process just admitted as in flight until the cache shows the admission. */
  assume(key: string): void {
    const facts = this.#builds.get(key);
    // The cache may show the admission already, or the build gone: nothing to bridge then.
    if (!facts || !mayBeAssumed(facts.phase)) return;
    this.#assumed.add(key);
    this.#reclassify(key);
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
  rebuild(builds: Iterable<ImageBuild>, jobs: Iterable<V1Job>): boolean {
    const waitingBefore = new Map([...this.#waiting].map(([key, w]) => [key, waitingFingerprint(w)]));
    const inFlightBefore = new Map(this.#inFlight);
    const servedBefore = new Map(this.#lastServed);
    for (const map of [this.#builds, this.#waiting, this.#inFlight, this.#inFlightByNamespace]) map.clear();
    this.#starts.clear();
    this.#lastServed.clear();
    this.#activeJobs.clear();

    for (const job of jobs) if (!isJobFinished(job)) this.#activeJobs.add(objectKey(job));
    for (const build of builds) this.observeBuild(build);
    for (const key of this.#assumed) if (!this.#builds.has(key)) this.#assumed.delete(key);

    const waitingAfter = new Map([...this.#waiting].map(([key, w]) => [key, waitingFingerprint(w)]));
    return (
      !sameEntries(waitingBefore, waitingAfter) ||
      !sameEntries(inFlightBefore, this.#inFlight) ||
      !sameEntries(servedBefore, this.#lastServed)
    );
  }

  #setJobActive(key: string, active: boolean): boolean {
    if (active === this.#activeJobs.has(key)) return false;
    if (active) this.#activeJobs.add(key);
    else this.#activeJobs.delete(key);
    const { before, after } = this.#reclassify(key);
    return before !== after;
  }

  /** A build holds a slot from admission until its Job has finished, whatever the build says. */
  #classify(key: string): Slot {
    const facts = this.#builds.get(key);
    if (!facts) return "none"; // A Job without its build holds nothing.
    if (this.#assumed.has(key) || facts.phase === "Building" || this.#activeJobs.has(key)) return "inFlight";
    return facts.terminal ? "none" : "waiting";
  }

  #reclassify(key: string): { before: Slot; after: Slot } {
    const before = this.slotOf(key);
    const after = this.#classify(key);
    if (before === "waiting") this.#waiting.delete(key);
    if (before === "inFlight" && after !== "inFlight") {
      const namespace = this.#inFlight.get(key) ?? "";
      this.#inFlight.delete(key);
      const left = (this.#inFlightByNamespace.get(namespace) ?? 0) - 1;
      if (left > 0) this.#inFlightByNamespace.set(namespace, left);
      else this.#inFlightByNamespace.delete(namespace);
    }
    const facts = this.#builds.get(key);
    if (after === "waiting" && facts) this.#waiting.set(key, facts.asWaiting);
    if (after === "inFlight" && before !== "inFlight" && facts) {
      const namespace = facts.asWaiting.namespace;
      this.#inFlight.set(key, namespace);
      this.#inFlightByNamespace.set(namespace, (this.#inFlightByNamespace.get(namespace) ?? 0) + 1);
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
