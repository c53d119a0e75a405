// Scheduled rebuilds (spec.rebuild.schedule): which cron slot is due now, and when the next one is.
import { CronExpressionParser } from "cron-parser";

export type ScheduleState = { ok: true; due?: Date; next: Date } | { ok: false; message: string };

/**
 * The most recent slot at or before `now` (only if it is not before the Image existed, so a new
 * Image does not fire for the past) and the next slot after `now`. After downtime only the most
 * recent missed slot is due: one catch-up build, not one per missed slot. Times are UTC.
 */
export function scheduleState(expression: string, now: Date, createdAt: Date): ScheduleState {
  const parse = (from: Date) => CronExpressionParser.parse(expression, { currentDate: from, tz: "UTC" });
  try {
    // prev() is strictly before its start, at whole seconds: a slot at 09:17:00 seen at
    // 09:17:00.003 would count as the next one. Start a second later, and step back if that
    // slot is still in the future.
    let prev = parse(new Date(now.getTime() + 1000))
      .prev()
      .toDate();
    if (prev.getTime() > now.getTime()) prev = parse(prev).prev().toDate();
    const next = parse(now).next().toDate();
    return prev.getTime() >= createdAt.getTime() ? { ok: true, due: prev, next } : { ok: true, next };
  } catch (err) {
    return {
      ok: false,
      message: `spec.rebuild.schedule: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

export function scheduleTriggerId(slot: Date): string {
  return `schedule:${slot.toISOString()}`;
}
