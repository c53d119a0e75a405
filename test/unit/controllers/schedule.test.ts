import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scheduleState, scheduleTriggerId } from "../../../src/controllers/schedule.js";

const at = (iso: string) => new Date(iso);

describe("scheduleState", () => {
  it("counts a slot as due the moment it passes, even within its first second", () => {
    const s = scheduleState("* * * * *", at("2026-11-26T09:17:00.003Z"), at("2026-11-26T09:16:03Z"));
    assert.ok(s.ok);
    assert.equal(s.due?.toISOString(), "2026-11-26T09:17:00.000Z");
    assert.equal(s.next.toISOString(), "2026-11-26T09:18:00.000Z");
  });

  it("does not count a slot that is still ahead, even by less than a second", () => {
    const s = scheduleState("* * * * *", at("2026-11-26T09:16:59.600Z"), at("2026-11-26T09:10:00Z"));
    assert.ok(s.ok);
    assert.equal(s.due?.toISOString(), "2026-11-26T09:16:00.000Z");
    assert.equal(s.next.toISOString(), "2026-11-26T09:17:00.000Z");
  });

  it("does not fire for slots before the Image existed", () => {
    const s = scheduleState("0 3 * * *", at("2026-11-26T09:00:00Z"), at("2026-11-26T08:00:00Z"));
    assert.ok(s.ok);
    assert.equal(s.due, undefined);
    assert.equal(s.next.toISOString(), "2026-11-27T03:00:00.000Z");
  });

  it("after downtime, only the most recent missed slot is due", () => {
    const s = scheduleState("0 * * * *", at("2026-11-26T09:30:00Z"), at("2026-11-25T00:00:00Z"));
    assert.ok(s.ok);
    assert.equal(s.due?.toISOString(), "2026-11-26T09:00:00.000Z");
  });

  it("names the field when the expression is invalid", () => {
    const s = scheduleState("99 * * * *", at("2026-11-26T09:30:00Z"), at("2026-11-25T00:00:00Z"));
    assert.equal(s.ok, false);
    assert.match(s.ok ? "" : s.message, /^spec\.rebuild\.schedule: /);
  });

  it("identifies a slot's build", () => {
    assert.equal(scheduleTriggerId(at("2026-11-26T09:00:00Z")), "schedule:2026-11-26T09:00:00.000Z");
  });
});
