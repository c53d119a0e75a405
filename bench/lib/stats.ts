// Small statistics helpers for latency samples (milliseconds) and event times.

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function summarize(values: number[]): Percentiles {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    mean: round(sorted.length ? sum / sorted.length : Number.NaN),
  };
}

export interface Rate {
  /** Events per second between the first and the last event (needs ≥ 2 events). */
  overall: number;
  /** Events per second between the 10th and the 90th percentile event: the sustained rate, no ramps. */
  sustained: number;
  /**
   * Least-squares slope of the event count over time, fitted to the 10th–90th percentile events.
   * Unlike `sustained` it is not fooled by events that come in waves (a capped queue's builds
   * finish a cap at a time): two percentile events picked at the ends of two waves count the
   * waves between them but a span that covers one more gap, which reads 801 builds in 9 waves'
   * time at N=1000 (−6 % at 10 waves), whereas a line through the staircase finds its true slope.
   */
  steady: number;
  /** Seconds from `since` (e.g. the first submission) to the last event. */
  spanSeconds: number;
}

/** Throughput of a set of event times (ms since epoch). */
export function rate(times: number[], since?: number): Rate {
  const t = times.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (t.length < 2)
    return { overall: Number.NaN, sustained: Number.NaN, steady: Number.NaN, spanSeconds: Number.NaN };
  const first = t[0] as number;
  const last = t.at(-1) as number;
  const i10 = Math.floor(0.1 * (t.length - 1));
  const i90 = Math.ceil(0.9 * (t.length - 1));
  const sustainedSpan = ((t[i90] as number) - (t[i10] as number)) / 1000;
  return {
    overall: round((t.length - 1) / Math.max((last - first) / 1000, 1e-3), 2),
    sustained: round((i90 - i10) / Math.max(sustainedSpan, 1e-3), 2),
    steady: round(linearFit(t.slice(i10, i90 + 1).map((ms, i) => [ms / 1000, i]))?.slope ?? Number.NaN, 2),
    spanSeconds: round((last - (since ?? first)) / 1000, 2),
  };
}

export function round(v: number, digits = 1): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Least-squares slope and intercept of y against x. */
export function linearFit(points: [number, number][]): { slope: number; intercept: number } | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}
