// WarmSnapshot: a list takes the last snapshot while it is young, computes its own when it is not,
// and while someone reads the queue a change recomputes it in the background, once per refresh.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { PendingQueueSource } from "../../../src/scheduler/pending.js";
import { WarmSnapshot } from "../../../src/visibility/warm-snapshot.js";

/** A source whose snapshots are numbered by resourceVersion, so each computation shows. */
function counting(): PendingQueueSource & { computed: number; isReady: boolean } {
  return {
    computed: 0,
    isReady: true,
    ready() {
      return this.isReady;
    },
    snapshot() {
      this.computed++;
      return { resourceVersion: String(this.computed), items: [] };
    },
  };
}

describe("WarmSnapshot", () => {
  it("gives a list the last snapshot up to maxAgeMs old, and computes a new one after", () => {
    const source = counting();
    let now = 1_000;
    const warm = new WarmSnapshot(source, {
      maxAgeMs: 1_000,
      refreshMs: 10,
      readersWithinMs: 60_000,
      now: () => now,
    });
    assert.equal(warm.snapshot().resourceVersion, "1");
    now += 1_000;
    assert.equal(warm.snapshot().resourceVersion, "1", "1 s old: still served");
    now += 1;
    assert.equal(warm.snapshot().resourceVersion, "2", "older: computed afresh");
    assert.equal(source.computed, 2);
  });

  it("recomputes in the background after changes while someone reads, once per refresh", async () => {
    const source = counting();
    const warm = new WarmSnapshot(source, { maxAgeMs: 60_000, refreshMs: 20, readersWithinMs: 60_000 });
    warm.snapshot();
    warm.changed();
    warm.changed();
    warm.changed();
    await sleep(60);
    assert.equal(source.computed, 2, "three changes in one refresh, one recomputation");
    assert.equal(warm.snapshot().resourceVersion, "2", "the list takes the recomputed one");
    warm.stop();
  });

  it("computes nothing in the background when nobody listed lately, or before the caches synced", async () => {
    const source = counting();
    let now = 0;
    const warm = new WarmSnapshot(source, {
      maxAgeMs: 60_000,
      refreshMs: 5,
      readersWithinMs: 1_000,
      now: () => now,
    });
    warm.changed();
    await sleep(20);
    assert.equal(source.computed, 0, "never listed");
    warm.snapshot();
    now += 2_000;
    warm.changed();
    await sleep(20);
    assert.equal(source.computed, 1, "the last list was 2 s ago, the window 1 s");
    now = 0;
    source.isReady = false;
    warm.changed();
    await sleep(20);
    assert.equal(source.computed, 1, "not synced");
  });
});
