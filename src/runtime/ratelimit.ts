import { type Clock, realClock, sleep } from "./clock.js";

/** Per-key retry delay policy, same contract as client-go's workqueue.RateLimiter. */
export interface RateLimiter {
  /** Records a failure of `key` and returns how long (ms) to wait before retrying it. */
  when(key: string): number;
  /** Clears the failure history of `key` (call after a success). */
  forget(key: string): void;
  /** How many failures of `key` are on record. */
  retries(key: string): number;
}

/** Something that paces outgoing work, e.g. API requests. */
export interface Throttle {
  /** Resolves when the caller may proceed (or early, without throwing, if `signal` aborts). */
  take(signal?: AbortSignal): Promise<void>;
}

/** Per-key exponential backoff: baseMs * 2^failures, capped (client-go ItemExponentialFailureRateLimiter). */
export class ExponentialBackoff implements RateLimiter {
  readonly #failures = new Map<string, number>();

  constructor(
    readonly baseMs = 5,
    readonly capMs = 1_000_000,
  ) {}

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return Math.min(this.baseMs * 2 ** failures, this.capMs);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  retries(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * Token bucket with reservations (golang.org/x/time/rate semantics): a reservation always
 * succeeds and tokens may go negative, so the returned delay grows with the backlog.
 * qps <= 0 or Infinity means unlimited.
 */
export class TokenBucket implements RateLimiter, Throttle {
  readonly qps: number;
  readonly burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps = 10, burst = 100, clock: Clock = realClock) {
    this.qps = qps;
    this.burst = Math.max(1, Math.floor(burst));
    this.#clock = clock;
    this.#tokens = this.burst;
    this.#last = clock.now();
  }

  get unlimited(): boolean {
    return !(this.qps > 0) || this.qps === Number.POSITIVE_INFINITY;
  }

  /** Reserves one token and returns the wait in ms before using it (0 = now). */
  reserve(): number {
    if (this.unlimited) return 0;
    this.#refill();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.qps) * 1000);
  }

  /** Takes a token only if one is available right now. */
  tryTake(): boolean {
    if (this.unlimited) return true;
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Tokens available now (may be negative while reservations are outstanding). */
  available(): number {
    if (this.unlimited) return Number.POSITIVE_INFINITY;
    this.#refill();
    return this.#tokens;
  }

  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait <= 0) return;
    await sleep(this.#clock, wait, signal);
    // An abandoned reservation gives its token back, like rate.Reservation.Cancel.
    if (signal?.aborted) this.#tokens = Math.min(this.burst, this.#tokens + 1);
  }

  when(_key: string): number {
    return this.reserve();
  }

  forget(_key: string): void {}

  retries(_key: string): number {
    return 0;
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed / 1000) * this.qps);
      this.#last = now;
    }
  }
}

/** Combines limiters: the longest delay wins (client-go MaxOfRateLimiter). */
export class MaxOf implements RateLimiter {
  readonly #limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    let max = 0;
    // Every limiter must see the failure (each keeps its own state), so no short-circuit.
    for (const l of this.#limiters) max = Math.max(max, l.when(key));
    return max;
  }

  forget(key: string): void {
    for (const l of this.#limiters) l.forget(key);
  }

  retries(key: string): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.retries(key));
    return max;
  }
}

/** client-go's DefaultControllerRateLimiter: max(per-key 5 ms → 1000 s, overall 10 qps / 100 burst). */
export function defaultControllerRateLimiter(clock: Clock = realClock): RateLimiter {
  return new MaxOf(new ExponentialBackoff(5, 1_000_000), new TokenBucket(10, 100, clock));
}
