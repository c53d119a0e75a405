/** A BENCH_*_N list: "1000,5000" → [1000, 5000]; "none" or "" → []; anything not a positive integer is dropped. */
export function burstSizes(raw: string): number[] {
  if (raw === "none" || raw === "") return [];
  return raw
    .split(",")
    .map((s) => Number(s.trim()))
    .filter((v) => Number.isInteger(v) && v > 0);
}
