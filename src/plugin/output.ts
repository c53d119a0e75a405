// What the plugin prints: kubectl-like tables for people, JSON or YAML for scripts.
import YAML from "yaml";
import type { Output } from "./args.js";

/** Columns padded to their widest cell, three spaces apart, as kubectl prints them. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("   ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export function structured(value: unknown, output: Exclude<Output, "table">): string {
  return output === "json" ? JSON.stringify(value, null, 2) : YAML.stringify(value).trimEnd();
}

/** kubectl's AGE: 45s, 12m, 3h, 5d. */
/** How long until a time, in age()'s units ("in 2m"); "now" once it has passed, "-" when unknown. */
export function until(at: string | undefined, now: Date): string {
  if (!at) return "-";
  const ms = new Date(at).getTime() - now.getTime();
  if (!Number.isFinite(ms)) return "-";
  return ms <= 0 ? "now" : `in ${age(new Date(now.getTime() - ms), now)}`;
}

export function age(since: string | Date | undefined, now: Date): string {
  if (!since) return "<unknown>";
  const s = Math.max(0, Math.floor((now.getTime() - new Date(since).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
