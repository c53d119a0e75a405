import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LeaderElector, type LeaseClient } from "../../../src/runtime/index.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeLeaseApi } from "./fake-lease.js";
import { settle } from "./helpers.js";

const opts = {
  namespace: "ns",
  name: "golden-leader",
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

function elector(api: LeaseClient, clock: FakeClock, identity: string) {
  const events: string[] = [];
  let signal: AbortSignal | undefined;
  const le = new LeaderElector(api, { ...opts, identity, clock });
  const done = le.run({
    onStartedLeading: (s) => {
      signal = s;
      events.push("started");
    },
    onStoppedLeading: ({ reason }) => events.push(`stopped:${reason}`),
  });
  return { le, events, done, signal: () => signal };
}

describe("LeaderElector", () => {
  it("creates the lease when absent and becomes leader (MicroTime times)", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = elector(api, clock, "a");
    await settle();
    assert.equal(a.le.isLeader(), true);
    assert.deepEqual(a.events, ["started"]);
    assert.equal(api.holder, "a");
    assert.equal(api.lease?.spec?.leaseTransitions, 0);
    assert.equal(api.lease?.spec?.leaseDurationSeconds, 15);
    assert.match(String(api.lease?.spec?.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(String(api.lease?.spec?.acquireTime), /\.\d{6}Z$/);
    await a.le.release();
  });

  it("renews every retryPeriod while leading and keeps acquireTime", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = elector(api, clock, "a");
    await settle();
    const acquired = api.lease?.spec?.acquireTime;
    const firstRenew = Date.parse(String(api.lease?.spec?.renewTime));
    await clock.advanceAsync(2_000);
    assert.equal(Date.parse(String(api.lease?.spec?.renewTime)) - firstRenew, 2_000);
    await clock.advanceAsync(20_000);
    assert.equal(Date.parse(String(api.lease?.spec?.renewTime)) - firstRenew, 22_000);
    assert.equal(api.lease?.spec?.acquireTime, acquired);
    assert.equal(a.le.isLeader(), true);
    await a.le.release();
  });

  it("a standby never takes over a lease that keeps being renewed", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = elector(api, clock, "a");
    await settle();
    const b = elector(api, clock, "b");
    for (let i = 0; i < 60; i++) await clock.advanceAsync(1_000);
    assert.equal(a.le.isLeader(), true);
    assert.equal(b.le.isLeader(), false);
    assert.deepEqual(b.events, []);
    assert.equal(b.le.observedLeader, "a");
    await b.le.release();
    await a.le.release();
  });

  it("takes over an expired lease (by local observation time) and bumps leaseTransitions", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    // A lease held by a crashed replica, renewed "just now" by its clock.
    await api.createNamespacedLease({
      namespace: "ns",
      body: {
        metadata: { name: "golden-leader", namespace: "ns" },
        spec: {
          holderIdentity: "dead",
          leaseDurationSeconds: 15,
          leaseTransitions: 3,
          renewTime: new Date(clock.now()),
        },
      },
    });
    const b = elector(api, clock, "b");
    await settle();
    await clock.advanceAsync(14_000);
    assert.equal(b.le.isLeader(), false, "must wait a full lease duration after first observing it");
    for (let i = 0; i < 10; i++) await clock.advanceAsync(1_000);
    assert.equal(b.le.isLeader(), true);
    assert.equal(api.holder, "b");
    assert.equal(api.lease?.spec?.leaseTransitions, 4);
    await b.le.release();
  });

  it("loses leadership when renewals fail for renewDeadline: aborts the signal and reports lost", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = elector(api, clock, "a");
    await settle();
    api.down = true;
    await clock.advanceAsync(2_000 + 9_000);
    assert.equal(a.le.isLeader(), true, "still within the renew deadline");
    assert.equal(a.signal()?.aborted, false);
    await clock.advanceAsync(3_000);
    assert.equal(a.le.isLeader(), false);
    assert.equal(a.signal()?.aborted, true);
    assert.deepEqual(a.events, ["started", "stopped:lost"]);
    await a.done;
  });

  it("loses leadership when another replica took the lease (409s)", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = elector(api, clock, "a");
    await settle();
    // Someone force-writes the lease.
    const lease = await api.readNamespacedLease();
    await api.replaceNamespacedLease({
      name: "golden-leader",
      namespace: "ns",
      body: {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "intruder", renewTime: new Date(clock.now()) },
      },
    });
    for (let i = 0; i < 15; i++) await clock.advanceAsync(1_000);
    assert.deepEqual(a.events, ["started", "stopped:lost"]);
    await a.done;
  });

  it("release() hands over at once: empty holder, 1 s duration; a standby acquires on its next try", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = elector(api, clock, "a");
    await settle();
    const b = elector(api, clock, "b");
    await clock.advanceAsync(3_000);
    await a.le.release();
    await a.done;
    assert.deepEqual(a.events, ["started", "stopped:released"]);
    assert.equal(api.holder, "");
    assert.equal(api.lease?.spec?.leaseDurationSeconds, 1);
    // b retries every retryPeriod * [1, 2.2): well before a lease duration passes.
    await clock.advanceAsync(4_500);
    assert.equal(b.le.isLeader(), true);
    assert.equal(api.lease?.spec?.leaseTransitions, 1);
    await b.le.release();
  });

  it("release() before acquiring just stops campaigning", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    api.down = true;
    const a = elector(api, clock, "a");
    await clock.advanceAsync(10_000);
    await a.le.release();
    await a.done;
    assert.deepEqual(a.events, []);
    assert.equal(clock.pendingTimers(), 0, "no timers left behind");
  });

  it("validates durations", () => {
    assert.throws(
      () => new LeaderElector(new FakeLeaseApi(), { ...opts, identity: "x", renewDeadlineMs: 20_000 }),
    );
    assert.throws(() => new LeaderElector(new FakeLeaseApi(), { ...opts, identity: "" }));
  });
});
