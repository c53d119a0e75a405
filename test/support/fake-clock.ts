// A manually driven Clock for tests of the runtime and the controllers.
import type { Clock, TimerHandle } from "../../src/runtime/clock.js";

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * Manually driven clock for tests. Timers fire in deadline order (ties in creation order)
 * only when advance()/advanceAsync() moves time past them.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: FakeTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const i = this.#timers.indexOf(handle as FakeTimer);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Number of timers not yet fired. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward synchronously, firing due timers (including ones they schedule). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let t = this.#popDue(target); t; t = this.#popDue(target)) {
      this.#now = t.at;
      t.fn();
    }
    this.#now = target;
  }

  /**
   * Like advance(), but lets promise chains settle after each fired timer and at the end,
   * for code that awaits between timers (sleep loops, leader election).
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushAsync();
    for (let t = this.#popDue(target); t; t = this.#popDue(target)) {
      this.#now = t.at;
      t.fn();
      await flushAsync();
    }
    this.#now = target;
    await flushAsync();
  }

  #popDue(target: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (t.at <= target && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    if (best) this.#timers.splice(this.#timers.indexOf(best), 1);
    return best;
  }
}

/** Lets pending promise callbacks (several hops deep) run; setImmediate runs after microtasks. */
export function flushAsync(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
