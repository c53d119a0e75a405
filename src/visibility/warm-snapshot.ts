// The queue's snapshot kept warm while someone reads it. A snapshot orders every waiting build by
// the policy (8 ms at 5 000 on an idle machine from the thread's live state, several times that
// while a burst keeps 2 cores busy), and each list's first page needs one. While lists keep coming, the thread recomputes the
// snapshot in the background after the caches change (at most once per refreshMs), and a list takes
// the last one if it is no older than maxAgeMs: its page then costs only its rendering. Nobody
// listing for a while, nothing is computed.
import type { PendingQueueSource } from "../scheduler/pending.js";

type Snapshot = ReturnType<PendingQueueSource["snapshot"]>;

export interface WarmSnapshotOptions {
  /** A list takes a snapshot at most this old; older, it computes its own. */
  maxAgeMs: number;
  /** After a change, the background recomputation waits this long (changes meanwhile join it). */
  refreshMs: number;
  /** Background recomputation only while a list came within this long. */
  readersWithinMs: number;
  now?: () => number;
}

export class WarmSnapshot implements PendingQueueSource {
  #last: { atMs: number; snapshot: Snapshot } | undefined;
  #lastReadMs = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  readonly #now: () => number;

  constructor(
    private readonly source: PendingQueueSource,
    private readonly opts: WarmSnapshotOptions,
  ) {
    this.#now = opts.now ?? Date.now;
  }

  ready(): boolean {
    return this.source.ready();
  }

  snapshot(): Snapshot {
    const now = this.#now();
    this.#lastReadMs = now;
    const last = this.#last;
    if (last && now - last.atMs <= this.opts.maxAgeMs) return last.snapshot;
    return this.#compute(now);
  }

  /** The caches changed: recompute soon, off any request, if someone is reading the queue. */
  changed(): void {
    if (this.#timer || this.#now() - this.#lastReadMs > this.opts.readersWithinMs) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.source.ready()) this.#compute(this.#now());
    }, this.opts.refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #compute(now: number): Snapshot {
    const snapshot = this.source.snapshot();
    this.#last = { atMs: now, snapshot };
    return snapshot;
  }
}
