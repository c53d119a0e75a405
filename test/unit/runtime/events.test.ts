import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ConfigurationOptions, EventsV1Event } from "@kubernetes/client-node";
import { EventRecorder, type EventsClient } from "../../../src/runtime/index.js";
import { FakeClock } from "../../support/fake-clock.js";
import { settle } from "./helpers.js";

class FakeEventsApi implements EventsClient {
  created: EventsV1Event[] = [];
  patches: { name: string; namespace: string; body: unknown; contentType?: string }[] = [];
  events = new Map<string, EventsV1Event>();
  failCreates = 0;

  async createNamespacedEvent(p: { namespace: string; body: EventsV1Event }): Promise<EventsV1Event> {
    if (this.failCreates > 0) {
      this.failCreates--;
      throw Object.assign(new Error("boom"), { code: 500 });
    }
    // Round-trip through JSON like the real client (V1MicroTime → string).
    const body = JSON.parse(JSON.stringify(p.body)) as EventsV1Event;
    this.created.push(body);
    this.events.set(`${p.namespace}/${body.metadata?.name}`, body);
    return body;
  }

  async patchNamespacedEvent(
    p: { name: string; namespace: string; body: unknown },
    options?: ConfigurationOptions,
  ): Promise<EventsV1Event> {
    // Capture the Content-Type the options would set.
    let contentType: string | undefined;
    for (const m of options?.middleware ?? []) {
      const ctx = {
        setHeaderParam: (k: string, v: string) => {
          if (k === "Content-Type") contentType = v;
        },
      };
      await (m.pre(ctx as never) as unknown as { toPromise(): Promise<unknown> }).toPromise();
    }
    const key = `${p.namespace}/${p.name}`;
    const existing = this.events.get(key);
    if (!existing) throw Object.assign(new Error("not found"), { code: 404 });
    this.patches.push({ ...p, body: JSON.parse(JSON.stringify(p.body)), contentType });
    Object.assign(existing, JSON.parse(JSON.stringify(p.body)));
    return existing;
  }
}

const pod = { apiVersion: "golden.dev/v1alpha1", kind: "Image", name: "img", namespace: "ns", uid: "u1" };
const failed = { type: "Warning" as const, reason: "BuildFailed", action: "Build", note: "exit 1" };

function setup(opts: Partial<ConstructorParameters<typeof EventRecorder>[1]> = {}) {
  const clock = new FakeClock();
  const api = new FakeEventsApi();
  const rec = new EventRecorder(api, {
    reportingController: "example.com/operator",
    reportingInstance: "pod-1",
    clock,
    ...opts,
  });
  return { clock, api, rec };
}

describe("EventRecorder", () => {
  it("creates an events.k8s.io/v1 Event with micro-time eventTime and reporting fields", async () => {
    const { api, rec } = setup();
    rec.record(pod, failed);
    await rec.flush();
    assert.equal(api.created.length, 1);
    const e = api.created[0];
    assert.equal(e?.metadata?.namespace, "ns");
    assert.match(e?.metadata?.name ?? "", /^img\.[0-9a-f]+$/);
    assert.match(String(e?.eventTime), /\.\d{6}Z$/);
    assert.equal(e?.reportingController, "example.com/operator");
    assert.equal(e?.reportingInstance, "pod-1");
    assert.equal(e?.regarding?.uid, "u1");
    assert.equal(e?.type, "Warning");
    assert.equal(e?.reason, "BuildFailed");
    assert.equal(e?.action, "Build");
    assert.equal(e?.note, "exit 1");
    assert.equal(e?.series, undefined);
  });

  it("turns repeats into a series: first repeat patched at once, later ones coalesced", async () => {
    const { api, rec, clock } = setup({ seriesFlushMs: 30_000 });
    rec.record(pod, failed);
    await rec.flush();
    clock.advance(1000);
    rec.record(pod, failed);
    await settle();
    assert.equal(api.created.length, 1, "no second Event object");
    assert.equal(api.patches.length, 1);
    const first = api.patches[0] ?? assert.fail("no patch");
    assert.equal((first.body as { series: { count: number } }).series.count, 2);
    assert.equal(first.contentType, "application/merge-patch+json");

    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      rec.record(pod, failed);
    }
    await settle();
    assert.equal(api.patches.length, 1, "coalesced until the flush period");
    await clock.advanceAsync(30_000);
    await rec.flush();
    assert.equal(api.patches.length, 2);
    const second = api.patches[1] ?? assert.fail("no second patch");
    const series = (second.body as { series: { count: number; lastObservedTime: string } }).series;
    assert.equal(series.count, 7);
    assert.match(series.lastObservedTime, /\.\d{6}Z$/);
  });

  it("different note, reason or object → separate Events", async () => {
    const { api, rec } = setup();
    rec.record(pod, failed);
    rec.record(pod, { ...failed, note: "exit 2" });
    rec.record(pod, { ...failed, reason: "Other" });
    rec.record({ ...pod, uid: "u2", name: "img2" }, failed);
    await rec.flush();
    assert.equal(api.created.length, 4);
    assert.equal(api.patches.length, 0);
  });

  it("starts a new Event after the window has passed", async () => {
    const { api, rec, clock } = setup({ windowMs: 60_000 });
    rec.record(pod, failed);
    await rec.flush();
    clock.advance(60_001);
    rec.record(pod, failed);
    await rec.flush();
    assert.equal(api.created.length, 2);
    assert.equal(api.patches.length, 0);
  });

  it("per-object spam filter: burst, then one per refill period", async () => {
    const { api, rec, clock } = setup({ spamBurst: 25, spamRefillMs: 300_000 });
    for (let i = 0; i < 40; i++) rec.record(pod, { ...failed, note: `distinct ${i}` });
    await rec.flush();
    assert.equal(api.created.length, 25);
    rec.record({ ...pod, uid: "other", name: "other" }, failed);
    await rec.flush();
    assert.equal(api.created.length, 26, "other objects are unaffected");
    clock.advance(300_000);
    rec.record(pod, { ...failed, note: "after refill" });
    rec.record(pod, { ...failed, note: "after refill 2" });
    await rec.flush();
    assert.equal(api.created.length, 27);
  });

  it("never throws and never leaks rejections when the API fails", async () => {
    let unhandled = 0;
    const onUnhandled = () => unhandled++;
    process.on("unhandledRejection", onUnhandled);
    try {
      const { api, rec } = setup();
      api.failCreates = 1;
      assert.doesNotThrow(() => rec.record(pod, failed));
      await rec.flush();
      assert.equal(api.created.length, 0);
      // The repeat retries the create, carrying the series count.
      rec.record(pod, failed);
      await rec.flush();
      assert.equal(api.created.length, 1);
      assert.equal(api.created[0]?.series?.count, 2);
      await settle();
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    assert.equal(unhandled, 0);
  });

  it("re-creates the Event if it expired before a series patch (404)", async () => {
    const { api, rec, clock } = setup();
    rec.record(pod, failed);
    await rec.flush();
    api.events.clear(); // TTL'd by the apiserver
    clock.advance(1000);
    rec.record(pod, failed);
    await rec.flush();
    assert.equal(api.created.length, 2);
    assert.equal(api.created[1]?.series?.count, 2);
  });

  it("truncates notes to 1 kB", async () => {
    const { api, rec } = setup();
    rec.record(pod, { ...failed, note: "x".repeat(5000) });
    await rec.flush();
    assert.equal(api.created[0]?.note?.length, 1024);
  });
});
