// The waiting builds kept in admission order as they come and go, so that picking the next builds
// to admit costs O(log n) each instead of ordering the whole queue (schedule() in policy.ts).
//
// Each namespace has a lane: its waiting builds in a heap, best first (byArrival). The lanes that
// can take a build now sit in a heap keyed by their head, compared as schedule() compares them
// (compareCandidates). A lane whose namespace is at its limit is parked outside that heap until a
// slot in the namespace frees or its limit changes (touch). This admits exactly the builds
// schedule() admits: schedule() also orders the builds of full namespaces, but only to queue them,
// and ordering them changes neither the relative order of the other lanes (their usage is their
// own, and serving raises only the served lane's tick) nor anyone's slots.
import { IndexedHeap } from "./heap.js";
import { byArrival, compareCandidates, type FairShare, type WaitingBuild } from "./policy.js";

/** What the lanes read, kept elsewhere (SchedulerState); call touch() whenever it changes. */
export interface LaneInputs {
  /** Builds holding a slot in the namespace. */
  inFlight(namespace: string): number;
  /** When the namespace last had a build start (ms); undefined when never. */
  lastServed(namespace: string): number | undefined;
  /** The namespace's limit; undefined when only the cluster limit applies. */
  limit(namespace: string): number | undefined;
}

interface Lane {
  namespace: string;
  builds: IndexedHeap<WaitingBuild>;
}

/** Later than any Date (±8.64e15 ms) and still an exact integer: serves within a pass rank last. */
const AFTER_ANY_DATE_MS = 8.64e15 + 1;

export class AdmissionLanes {
  readonly #lanes = new Map<string, Lane>();
  /** Lanes with waiting builds whose namespace has a free slot, best head first. */
  readonly #open: IndexedHeap<Lane>;
  /** While nextAdmissions() decides: per namespace, builds picked and when last picked. */
  #pass: { picked: Map<string, number>; served: Map<string, number> } | undefined;
  readonly #share: FairShare;

  constructor(private readonly inputs: LaneInputs) {
    this.#share = {
      usage: (ns) => inputs.inFlight(ns) + (this.#pass?.picked.get(ns) ?? 0),
      served: (ns) => this.#pass?.served.get(ns) ?? inputs.lastServed(ns) ?? Number.NEGATIVE_INFINITY,
    };
    this.#open = new IndexedHeap<Lane>((a, b) => compareCandidates(headOf(a), headOf(b), this.#share) < 0);
  }

  /** `build` must be the same object later given to remove(). */
  add(build: WaitingBuild): void {
    let lane = this.#lanes.get(build.namespace);
    if (!lane) {
      lane = { namespace: build.namespace, builds: new IndexedHeap((a, b) => byArrival(a, b) < 0) };
      this.#lanes.set(build.namespace, lane);
    }
    lane.builds.push(build);
    this.touch(build.namespace);
  }

  remove(build: WaitingBuild): void {
    const lane = this.#lanes.get(build.namespace);
    if (!lane?.builds.remove(build)) return;
    if (lane.builds.size === 0) {
      this.#open.remove(lane);
      this.#lanes.delete(build.namespace);
    } else this.touch(build.namespace);
  }

  /** Re-places the namespace's lane after its head, inputs or limit changed. */
  touch(namespace: string): void {
    const lane = this.#lanes.get(namespace);
    if (!lane) return;
    if (lane.builds.size === 0 || this.#atLimit(namespace)) this.#open.remove(lane);
    else if (this.#open.has(lane)) this.#open.update(lane);
    else this.#open.push(lane);
  }

  clear(): void {
    this.#lanes.clear();
    this.#open.clear();
  }

  /**
   * The next builds to admit, at most `count`, in admission order: O(count · log n). Leaves the
   * lanes as they were; the builds leave them when the caller's admissions take effect.
   */
  nextAdmissions(count: number): WaitingBuild[] {
    const picked = new Map<string, number>();
    const served = new Map<string, number>();
    const taken: WaitingBuild[] = [];
    this.#pass = { picked, served };
    try {
      while (taken.length < count) {
        const lane = this.#open.peek();
        if (!lane) break;
        // A limit lowered without a touch() yet: park the lane rather than overfill the namespace.
        if (this.#atLimit(lane.namespace)) {
          this.#open.remove(lane);
          continue;
        }
        const build = lane.builds.pop() as WaitingBuild;
        taken.push(build);
        picked.set(lane.namespace, (picked.get(lane.namespace) ?? 0) + 1);
        served.set(lane.namespace, AFTER_ANY_DATE_MS + taken.length);
        this.touch(lane.namespace);
      }
    } finally {
      // Take the picked lanes out while their keys are still the pass's, so that no lane sits in
      // the heap under a key that changed behind its back; then put them back under their own.
      const lanes = [...picked.keys()].flatMap((ns) => this.#lanes.get(ns) ?? []);
      for (const lane of lanes) this.#open.remove(lane);
      this.#pass = undefined;
      for (const build of taken) this.#lanes.get(build.namespace)?.builds.push(build);
      for (const lane of lanes) this.touch(lane.namespace);
    }
    return taken;
  }

  #atLimit(namespace: string): boolean {
    const limit = this.inputs.limit(namespace);
    const used = this.inputs.inFlight(namespace) + (this.#pass?.picked.get(namespace) ?? 0);
    return limit !== undefined && used >= limit;
  }
}

function headOf(lane: Lane): WaitingBuild {
  return lane.builds.peek() as WaitingBuild;
}
