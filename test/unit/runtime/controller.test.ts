import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Controller,
  createLogger,
  ExponentialBackoff,
  Metrics,
  type ReconcileContext,
  TerminalError,
} from "../../../src/runtime/index.js";
import { FakeClock } from "../../support/fake-clock.js";
import { captureLogs, settle } from "./helpers.js";

describe("Controller", () => {
  it("reconciles enqueued keys with a per-reconcile logger and counts results", async () => {
    const clock = new FakeClock();
    const metrics = new Metrics({ defaultMetrics: false });
    const logs = captureLogs();
    const seen: { key: string; ctx: ReconcileContext }[] = [];
    const c = new Controller({
      name: "image",
      clock,
      metrics,
      logger: createLogger({ stream: logs.stream }),
      rateLimiter: new ExponentialBackoff(10, 100),
      reconcile: async (key, ctx) => {
        seen.push({ key, ctx });
        ctx.logger.info("reconciling");
        if (key === "ns/err" && ctx.retries === 0) throw new Error("transient");
        if (key === "ns/later")
          return seen.filter((s) => s.key === key).length === 1 ? { requeueAfterMs: 50 } : undefined;
        return undefined;
      },
    });
    c.enqueueObject({ metadata: { name: "ok", namespace: "ns" } });
    c.enqueue("ns/err");
    c.enqueue("ns/later");
    c.start();
    await settle();
    await clock.advanceAsync(100);
    assert.deepEqual(
      seen.map((s) => `${s.key}#${s.ctx.retries}`),
      ["ns/ok#0", "ns/err#0", "ns/later#0", "ns/err#1", "ns/later#0"],
    );
    const line = logs.lines.find((l) => l.msg === "reconciling");
    assert.equal(line?.controller, "image");
    assert.equal(line?.key, "ns/ok");
    assert.match(String(line?.reconcileID), /^[0-9a-f-]{36}$/);
    const text = await metrics.registry.metrics();
    assert.match(text, /controller_runtime_reconcile_total\{controller="image",result="success"\} 3/);
    assert.match(text, /controller_runtime_reconcile_total\{controller="image",result="error"\} 1/);
    assert.match(text, /controller_runtime_reconcile_total\{controller="image",result="requeue_after"\} 1/);
    assert.match(text, /controller_runtime_reconcile_total\{controller="image",result="requeue"\} 0/);
    assert.match(text, /controller_runtime_reconcile_errors_total\{controller="image"\} 1/);
    assert.match(text, /controller_runtime_max_concurrent_reconciles\{controller="image"\} 1/);
    assert.match(text, /controller_runtime_active_workers\{controller="image"\} 0/);
    assert.match(text, /controller_runtime_reconcile_time_seconds_count\{controller="image"\} 5/);
    await c.stop({ drainMs: 0 });
  });

  it("TerminalError is logged but not retried", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const c = new Controller({
      name: "t",
      clock,
      reconcile: async () => {
        calls++;
        throw new TerminalError("invalid spec");
      },
    });
    c.enqueue("ns/a");
    c.start();
    await settle();
    await clock.advanceAsync(10_000);
    assert.equal(calls, 1);
    assert.equal(c.queue.numRequeues("ns/a"), 0);
  });

  it("enqueueOwner maps an owned object to its controller owner of the right kind/group", () => {
    const c = new Controller({ name: "o", reconcile: async () => undefined });
    const job = {
      metadata: {
        name: "img-build-1",
        namespace: "ns",
        ownerReferences: [
          { apiVersion: "golden.dev/v1alpha1", kind: "Image", name: "img", uid: "u", controller: true },
        ],
      },
    };
    assert.equal(c.enqueueOwner(job, "Build"), false);
    assert.equal(c.enqueueOwner(job, "Image", "other.dev"), false);
    assert.equal(c.enqueueOwner(job, "Image", "golden.dev"), true);
    assert.equal(c.queue.len(), 1);
    const notController = {
      metadata: {
        name: "x",
        namespace: "ns",
        ownerReferences: [{ apiVersion: "golden.dev/v1alpha1", kind: "Image", name: "img", uid: "u" }],
      },
    };
    assert.equal(c.enqueueOwner(notController, "Image"), false);
  });
});
