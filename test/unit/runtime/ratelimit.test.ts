import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Backoff,
  defaultControllerRateLimiter,
  ExponentialBackoff,
  MaxOf,
  TokenBucket,
} from "../../../src/runtime/index.js";
import { FakeClock } from "../../support/fake-clock.js";
import { settle } from "./helpers.js";

describe("ExponentialBackoff", () => {
  it("doubles per failure from the base and caps", () => {
    const l = new ExponentialBackoff(5, 100);
    assert.deepEqual(
      Array.from({ length: 7 }, () => l.when("a")),
      [5, 10, 20, 40, 80, 100, 100],
    );
    assert.equal(l.retries("a"), 7);
  });

  it("tracks keys independently and forget resets one key", () => {
    const l = new ExponentialBackoff(5, 1_000_000);
    l.when("a");
    l.when("a");
    assert.equal(l.when("b"), 5);
    l.forget("a");
    assert.equal(l.retries("a"), 0);
    assert.equal(l.when("a"), 5);
    assert.equal(l.retries("b"), 1);
  });

  it("defaults to 5 ms → 1000 s", () => {
    const l = new ExponentialBackoff();
    let last = 0;
    for (let i = 0; i < 40; i++) last = l.when("k");
    assert.equal(last, 1_000_000);
  });
});

describe("TokenBucket", () => {
  it("allows a burst, then spaces reservations at 1/qps", () => {
    const clock = new FakeClock();
    const b = new TokenBucket(10, 5, clock);
    for (let i = 0; i < 5; i++) assert.equal(b.reserve(), 0);
    assert.equal(b.reserve(), 100);
    assert.equal(b.reserve(), 200);
    clock.advance(200); // the two reservations are now paid for
    assert.equal(b.reserve(), 100);
  });

  it("refills at qps up to burst", () => {
    const clock = new FakeClock();
    const b = new TokenBucket(2, 3, clock);
    for (let i = 0; i < 3; i++) b.reserve();
    clock.advance(10_000);
    assert.equal(b.available(), 3);
  });

  it("take() waits on the clock", async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(10, 1, clock);
    await b.take();
    let done = false;
    void b.take().then(() => {
      done = true;
    });
    await settle();
    assert.equal(done, false);
    await clock.advanceAsync(99);
    assert.equal(done, false);
    await clock.advanceAsync(1);
    assert.equal(done, true);
  });

  it("take() returns early when aborted and refunds the token", async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(1, 1, clock);
    await b.take();
    const ac = new AbortController();
    const p = b.take(ac.signal);
    ac.abort();
    await p;
    assert.equal(b.available(), 0);
  });

  it("throughput over time matches qps", () => {
    const clock = new FakeClock();
    const b = new TokenBucket(50, 10, clock);
    let granted = 0;
    for (let t = 0; t < 10_000; t += 1) {
      while (b.tryTake()) granted++;
      clock.advance(1);
    }
    // burst + 10 s * 50 qps (±1 for rounding)
    assert.ok(Math.abs(granted - 510) <= 1, `granted ${granted}`);
  });

  it("is unlimited when qps <= 0", () => {
    const b = new TokenBucket(0, 1, new FakeClock());
    for (let i = 0; i < 1000; i++) assert.equal(b.reserve(), 0);
  });
});

describe("MaxOf / default controller limiter", () => {
  it("returns the longest delay, forgets and counts via all limiters", () => {
    const clock = new FakeClock();
    const l = new MaxOf(new ExponentialBackoff(5, 1_000_000), new TokenBucket(10, 2, clock));
    assert.equal(l.when("a"), 5); // bucket has tokens
    assert.equal(l.when("a"), 10);
    assert.equal(l.when("b"), 100); // bucket exhausted → 100 ms > 5 ms
    assert.equal(l.retries("a"), 2);
    l.forget("a");
    assert.equal(l.retries("a"), 0);
  });

  it("default: per-item exponential dominates once the bucket has tokens", () => {
    const l = defaultControllerRateLimiter(new FakeClock());
    const delays = Array.from({ length: 12 }, () => l.when("x"));
    assert.deepEqual(delays.slice(0, 4), [5, 10, 20, 40]);
    assert.equal(delays[11], 5 * 2 ** 11);
  });
});

describe("Backoff", () => {
  it("grows, caps and resets (no jitter)", () => {
    const b = new Backoff({ initialMs: 200, maxMs: 1000, jitter: 0 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [200, 400, 800, 1000, 1000]);
    b.reset();
    assert.equal(b.next(), 200);
  });

  it("jitters within ±jitter", () => {
    const lo = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
    const hi = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.999999 });
    assert.equal(lo.next(), 800);
    assert.equal(hi.next(), 1200);
  });
});
