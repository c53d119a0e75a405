import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExponentialBackoff, Metrics, WorkQueue, type WorkQueueOptions } from "../../../src/runtime/index.js";
import { FakeClock } from "../../support/fake-clock.js";
import { type Deferred, deferred, settle } from "./helpers.js";

function newQueue(opts: { concurrency?: number; clock?: FakeClock; baseMs?: number; capMs?: number } = {}) {
  const clock = opts.clock ?? new FakeClock();
  const q = new WorkQueue({
    name: "test",
    concurrency: opts.concurrency ?? 1,
    clock,
    rateLimiter: new ExponentialBackoff(opts.baseMs ?? 10, opts.capMs ?? 1000),
  });
  return { q, clock };
}

describe("WorkQueue", () => {
  it("deduplicates keys while they wait", async () => {
    const { q } = newQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    q.add("a");
    assert.equal(q.len(), 2);
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
    });
    await settle();
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(q.len(), 0);
  });

  it("processes in FIFO order", async () => {
    const { q } = newQueue();
    const keys = ["d", "a", "c", "b", "e"];
    for (const k of keys) q.add(k);
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
    });
    await settle();
    assert.deepEqual(seen, keys);
  });

  it("processes higher-priority keys first (priorityOf), FIFO within a priority", async () => {
    const q = new WorkQueue({
      name: "test",
      concurrency: 1,
      clock: new FakeClock(),
      priorityOf: (k) => (k.startsWith("campaign/") ? -1 : 0),
    });
    for (const k of ["campaign/1", "campaign/2", "user/a", "campaign/3", "user/b"]) q.add(k);
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
    });
    await settle();
    assert.deepEqual(seen, ["user/a", "user/b", "campaign/1", "campaign/2", "campaign/3"]);
  });

  it("takes an add's own priority over priorityOf", async () => {
    const q = new WorkQueue({ name: "test", concurrency: 1, clock: new FakeClock(), priorityOf: () => 0 });
    for (const k of ["refresh/1", "refresh/2"]) q.add(k, { priority: -2 });
    q.add("user/a");
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
    });
    await settle();
    assert.deepEqual(seen, ["user/a", "refresh/1", "refresh/2"]);
  });

  it("moves a waiting key up when it is added again at a higher priority, never down", async () => {
    const q = new WorkQueue({ name: "test", concurrency: 1, clock: new FakeClock() });
    q.add("a", { priority: -1 });
    q.add("b", { priority: -1 });
    q.add("c");
    q.add("b", { priority: 1 }); // raised: ahead of c
    q.add("c", { priority: -5 }); // a lower add leaves c where it is
    assert.equal(q.len(), 3, "an add of a waiting key never queues it twice");
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
    });
    await settle();
    assert.deepEqual(seen, ["b", "c", "a"]);
  });

  it("re-queues a key added during its run at the highest priority it was added with", async () => {
    const q = new WorkQueue({ name: "test", concurrency: 1, clock: new FakeClock() });
    const gate = deferred();
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
      if (seen.length === 1) await gate.promise;
    });
    q.add("a");
    await settle();
    q.add("x", { priority: -1 });
    q.add("a", { priority: -1 }); // dirty while running...
    q.add("a", { priority: 2 }); // ...and then wanted urgently
    gate.resolve();
    await settle();
    assert.deepEqual(seen, ["a", "a", "x"]);
  });

  it("keeps the priority of a delayed add, the higher one when two are pending", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: "test", concurrency: 1, clock, priorityOf: () => 0 });
    q.addAfter("late", 100, { priority: -1 });
    q.addAfter("late", 50, { priority: -3 }); // earlier deadline wins, the higher priority stays
    q.addAfter("other", 50);
    q.addAfter("mid", 50, { priority: -2 });
    const seen: string[] = [];
    const gate = deferred();
    q.start(async (k) => {
      seen.push(k);
      if (k === "blocker") await gate.promise;
    });
    q.add("blocker");
    await settle();
    clock.advance(50);
    await settle();
    gate.resolve();
    await settle();
    assert.deepEqual(seen, ["blocker", "other", "late", "mid"]);
  });

  /** A queue whose handler records each key it starts and holds it until released. */
  function gatedQueue(opts: Omit<WorkQueueOptions, "name" | "clock">) {
    const q = new WorkQueue({ name: "test", clock: new FakeClock(), ...opts });
    const gates = new Map<string, Deferred>();
    const started: string[] = [];
    q.start(async (k) => {
      started.push(k);
      const d = deferred();
      gates.set(k, d);
      await d.promise;
    });
    const release = async (...keys: string[]) => {
      for (const k of keys) gates.get(k)?.resolve();
      await settle();
    };
    return { q, started, release };
  }

  describe("reserve: workers kept for keys of a priority", () => {
    /** 3 workers, one kept for priority ≥ 0. */
    const reservedQueue = () => gatedQueue({ concurrency: 3, reserve: { workers: 1, forPriority: 0 } });

    it("runs background keys on the other workers only, so an urgent key starts at once", async () => {
      const { q, started, release } = reservedQueue();
      for (const k of ["bg/1", "bg/2", "bg/3", "bg/4"]) q.add(k, { priority: -1 });
      await settle();
      assert.deepEqual(started, ["bg/1", "bg/2"], "two of three workers for background keys");
      assert.equal(q.len(), 2);
      q.add("user/a");
      await settle();
      assert.deepEqual(started, ["bg/1", "bg/2", "user/a"], "the kept worker takes the user's key");
      await release("bg/1");
      assert.deepEqual(started.slice(3), ["bg/3"], "a background key's end lets the next one in");
      await release("user/a");
      assert.deepEqual(started.slice(4), [], "the kept worker stays free of background keys");
      await release("bg/2");
      assert.deepEqual(started.slice(4), ["bg/4"]);
    });

    it("takes waiting background keys by priority, then in order; a raised one goes at once", async () => {
      const { q, started, release } = reservedQueue();
      q.add("bg/1", { priority: -1 });
      q.add("bg/2", { priority: -1 });
      q.add("low/1", { priority: -2 });
      q.add("bg/3", { priority: -1 });
      q.add("low/2", { priority: -2 });
      await settle();
      assert.deepEqual(started, ["bg/1", "bg/2"]);
      q.add("low/2", { priority: 5 }); // the user now wants it: no longer background
      await settle();
      assert.deepEqual(started, ["bg/1", "bg/2", "low/2"]);
      await release("bg/1");
      await release("bg/2");
      assert.deepEqual(started.slice(3), ["bg/3", "low/1"]);
    });

    it("a background key added again while it runs waits behind the other background keys", async () => {
      const { q, started, release } = reservedQueue();
      for (const k of ["bg/1", "bg/2", "bg/3"]) q.add(k, { priority: -1 });
      await settle();
      q.add("bg/1", { priority: -1 }); // dirty while running
      await release("bg/1");
      assert.deepEqual(started, ["bg/1", "bg/2", "bg/3"]);
      await release("bg/2");
      assert.deepEqual(started, ["bg/1", "bg/2", "bg/3", "bg/1"]);
    });

    it("leaves a background worker even when the reserve is as large as the queue", async () => {
      const q = new WorkQueue({
        name: "test",
        concurrency: 1,
        clock: new FakeClock(),
        reserve: { workers: 1, forPriority: 0 },
      });
      const seen: string[] = [];
      q.start(async (k) => {
        seen.push(k);
      });
      q.add("bg/1", { priority: -1 });
      await settle();
      assert.deepEqual(seen, ["bg/1"]);
    });
  });

  describe("urgent: keys that go first, on at most some of the workers", () => {
    /** 4 workers: priority ≥ 1 first, on at most 2 of them; one kept for priority ≥ 0. */
    const urgentQueue = () =>
      gatedQueue({
        concurrency: 4,
        urgent: { fromPriority: 1, workers: 2 },
        reserve: { workers: 1, forPriority: 0 },
      });

    it("goes ahead of waiting work, but never takes more than its workers from it", async () => {
      const { q, started, release } = urgentQueue();
      for (const k of ["new/1", "new/2", "new/3", "new/4", "new/5", "new/6"]) q.add(k);
      await settle();
      assert.deepEqual(started, ["new/1", "new/2", "new/3", "new/4"]);
      for (const k of ["done/1", "done/2", "done/3"]) q.add(k, { priority: 1 });
      await release("new/1");
      assert.deepEqual(started.slice(4), ["done/1"], "ahead of new/5, which came first");
      await release("new/2", "new/3");
      assert.deepEqual(started.slice(5), ["done/2", "new/5"], "two urgent at once, then the rest");
      await release("done/1");
      assert.deepEqual(started.slice(7), ["done/3"], "an urgent key's end lets the next one in");
      await release("new/4", "new/5");
      assert.deepEqual(started.slice(8), ["new/6"]);
    });

    it("a waiting key raised to urgent goes first if there is room, else keeps its place", async () => {
      const { q, started, release } = urgentQueue();
      for (const k of ["new/1", "new/2", "new/3", "new/4", "new/5", "new/6", "new/7"]) q.add(k);
      await settle();
      q.add("new/7", { priority: 1 }); // its build ended while it waited for its first pass
      await release("new/1");
      assert.deepEqual(started.slice(4), ["new/7"]);
      for (const k of ["done/1", "done/2"]) q.add(k, { priority: 1 });
      q.add("new/6", { priority: 1 }); // no room among the urgent: it stays where it was
      await release("new/2");
      assert.deepEqual(started.slice(5), ["done/1"]);
      await release("new/3");
      assert.deepEqual(started.slice(6), ["new/5"], "done/2 waits for an urgent worker");
      await release("new/7");
      assert.deepEqual(started.slice(7), ["done/2"]);
      await release("new/4");
      assert.deepEqual(started.slice(8), ["new/6"]);
    });

    it("a background key raised to urgent leaves the background's workers to the background", async () => {
      const { q, started, release } = urgentQueue();
      for (const k of ["bg/1", "bg/2", "bg/3", "bg/4", "bg/5"]) q.add(k, { priority: -1 });
      await settle();
      assert.deepEqual(started, ["bg/1", "bg/2", "bg/3"], "one worker kept for users");
      q.add("bg/5", { priority: 1 }); // parked in the background: straight to an urgent worker
      await settle();
      assert.deepEqual(started.slice(3), ["bg/5"]);
      q.add("bg/4", { priority: 1 }); // the urgent have room, but no worker is free
      await release("bg/1");
      assert.deepEqual(started.slice(4), ["bg/4"], "it took bg/1's worker, ahead of the background");
      await release("bg/2");
      assert.deepEqual(started.slice(5), [], "nothing left");
    });
  });

  it("never runs one key on two workers; an add during processing re-queues it at the back", async () => {
    const { q } = newQueue({ concurrency: 4 });
    const gates = new Map<string, Deferred[]>();
    const running = new Map<string, number>();
    let maxSameKey = 0;
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
      running.set(k, (running.get(k) ?? 0) + 1);
      maxSameKey = Math.max(maxSameKey, running.get(k) ?? 0);
      const d = deferred();
      gates.set(k, [...(gates.get(k) ?? []), d]);
      await d.promise;
      running.set(k, (running.get(k) ?? 0) - 1);
    });
    q.add("a");
    await settle();
    assert.equal(q.inFlight(), 1);
    q.add("a"); // dirty while processing
    q.add("a"); // still one pending re-run
    await settle();
    assert.equal(seen.length, 1, "a must not start twice concurrently");
    assert.equal(q.len(), 0, "a is dirty but not queued while processing");
    gates.get("a")?.[0]?.resolve();
    await settle();
    assert.deepEqual(seen, ["a", "a"]);
    gates.get("a")?.[1]?.resolve();
    await settle();
    assert.deepEqual(seen, ["a", "a"]);
    assert.equal(maxSameKey, 1);
  });

  it("re-queued dirty key goes behind keys already waiting", async () => {
    const { q } = newQueue({ concurrency: 1 });
    const gate = deferred();
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
      if (seen.length === 1) await gate.promise;
    });
    q.add("a");
    await settle();
    q.add("b");
    q.add("a");
    gate.resolve();
    await settle();
    assert.deepEqual(seen, ["a", "b", "a"]);
  });

  it("respects the concurrency bound", async () => {
    const { q } = newQueue({ concurrency: 3 });
    let active = 0;
    let maxActive = 0;
    const gates: Deferred[] = [];
    q.start(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      const d = deferred();
      gates.push(d);
      await d.promise;
      active--;
    });
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    await settle();
    assert.equal(q.inFlight(), 3);
    assert.equal(q.len(), 7);
    while (gates.length < 10) {
      for (const g of gates) g.resolve();
      await settle();
    }
    for (const g of gates) g.resolve();
    await settle();
    assert.equal(maxActive, 3);
    assert.equal(q.inFlight(), 0);
  });

  it("retries a throwing handler with growing per-key backoff, then forgets on success", async () => {
    const clock = new FakeClock();
    const { q } = newQueue({ clock, baseMs: 10, capMs: 40 });
    const attempts: number[] = [];
    const t0 = clock.now();
    q.start(async () => {
      attempts.push(clock.now() - t0);
      if (attempts.length <= 5) throw new Error("boom");
    });
    q.add("a");
    await settle();
    for (let i = 0; i < 60; i++) await clock.advanceAsync(5);
    // delays after each failure: 10, 20, 40, 40 (capped), 40
    assert.deepEqual(attempts, [0, 10, 30, 70, 110, 150]);
    assert.equal(q.numRequeues("a"), 0, "success forgets the failure history");
  });

  it("handler errors never become unhandled rejections", async () => {
    let unhandled = 0;
    const onUnhandled = () => {
      unhandled++;
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      const { q, clock } = newQueue();
      q.start(async () => {
        throw new Error("nope");
      });
      q.add("x");
      await settle();
      await clock.advanceAsync(100);
      await settle();
      assert.ok(q.numRequeues("x") >= 1);
      await q.shutdown({ drainMs: 0 });
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    assert.equal(unhandled, 0);
  });

  it("addAfter: the earliest deadline wins", async () => {
    const { q, clock } = newQueue();
    const seen: number[] = [];
    const t0 = clock.now();
    q.start(async () => {
      seen.push(clock.now() - t0);
    });
    q.addAfter("a", 100);
    q.addAfter("a", 50);
    q.addAfter("a", 200);
    assert.equal(q.delayed(), 1);
    await clock.advanceAsync(49);
    assert.deepEqual(seen, []);
    await clock.advanceAsync(1);
    assert.deepEqual(seen, [50]);
    await clock.advanceAsync(500);
    assert.deepEqual(seen, [50], "later deadlines were dropped");
  });

  it("requeueAfterMs re-adds after the delay; success without it does not", async () => {
    const { q, clock } = newQueue();
    const seen: number[] = [];
    const t0 = clock.now();
    q.start(async () => {
      seen.push(clock.now() - t0);
      return seen.length < 3 ? { requeueAfterMs: 1000 } : undefined;
    });
    q.add("a");
    await settle();
    await clock.advanceAsync(5000);
    assert.deepEqual(seen, [0, 1000, 2000]);
  });

  it("keys added before start wait for it", async () => {
    const { q } = newQueue();
    q.add("a");
    await settle();
    assert.equal(q.len(), 1);
    let ran = false;
    q.start(async () => {
      ran = true;
    });
    await settle();
    assert.equal(ran, true);
  });

  it("shutdown drains in-flight work, drops waiting/delayed keys and ignores new adds", async () => {
    const { q, clock } = newQueue({ concurrency: 1 });
    const gate = deferred();
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
      if (k === "a") await gate.promise;
    });
    q.add("a");
    q.add("b");
    q.addAfter("c", 10);
    await settle();
    let resolved: boolean | undefined;
    const done = q.shutdown({ drainMs: 1000 }).then((v) => {
      resolved = v;
    });
    q.add("d");
    q.addRateLimited("e");
    await settle();
    assert.equal(resolved, undefined, "waits for the in-flight key");
    gate.resolve();
    await done;
    assert.equal(resolved, true);
    await clock.advanceAsync(100);
    assert.deepEqual(seen, ["a"]);
    assert.equal(q.len(), 0);
  });

  it("shutdown gives up after drainMs and aborts the handler signal", async () => {
    const { q, clock } = newQueue();
    let signal: AbortSignal | undefined;
    q.start(async (_k, s) => {
      signal = s;
      await new Promise(() => {}); // never finishes
    });
    q.add("stuck");
    await settle();
    let resolved: boolean | undefined;
    const done = q.shutdown({ drainMs: 500 }).then((v) => {
      resolved = v;
    });
    await clock.advanceAsync(499);
    assert.equal(resolved, undefined);
    await clock.advanceAsync(1);
    await done;
    assert.equal(resolved, false);
    assert.equal(signal?.aborted, true);
  });

  it("reports metrics", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const clock = new FakeClock();
    const q = new WorkQueue({ name: "m", clock, metrics, rateLimiter: new ExponentialBackoff(10, 10) });
    q.add("a");
    q.add("a");
    q.add("b");
    let fail = true;
    q.start(async () => {
      clock.advance(0);
      if (fail) {
        fail = false;
        throw new Error("x");
      }
    });
    await settle();
    await clock.advanceAsync(20);
    const text = await metrics.registry.metrics();
    assert.match(text, /workqueue_adds_total\{name="m"\} 3/);
    assert.match(text, /workqueue_retries_total\{name="m"\} 1/);
    assert.match(text, /workqueue_depth\{name="m"\} 0/);
    assert.match(text, /workqueue_work_duration_seconds_count\{name="m"\} 3/);
  });
});
