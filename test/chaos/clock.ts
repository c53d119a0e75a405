// One clock for a chaos run's log lines and its violation reports, so both speak in the same
// "+seconds since start" and a violation can be placed among the faults around it.
const t0 = Date.now();

/** "+12.3s": how long after the run started `at` (epoch ms) was. */
export const sinceStart = (at: number): string => `+${((at - t0) / 1000).toFixed(1)}s`;

export const log = (msg: string): void =>
  console.log(`[chaos +${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
