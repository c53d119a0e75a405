/** Options for a single retrying loop's backoff (not per-key; see ratelimit.ts for that). */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter?: number;
  random?: () => number;
}

/** Jittered exponential backoff for reconnect loops; jitter spreads out herds of replicas. */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #current: number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 200;
    this.maxMs = opts.maxMs ?? 30_000;
    this.#factor = opts.factor ?? 2;
    this.#jitter = opts.jitter ?? 0.2;
    this.#random = opts.random ?? Math.random;
    this.#current = this.initialMs;
  }

  /** Returns the next delay and grows the base for the one after. */
  next(): number {
    const base = this.#current;
    this.#current = Math.min(this.maxMs, this.#current * this.#factor);
    const scale = 1 + this.#jitter * (2 * this.#random() - 1);
    return Math.max(0, Math.round(Math.min(this.maxMs, base * scale)));
  }

  reset(): void {
    this.#current = this.initialMs;
  }
}
