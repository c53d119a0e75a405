import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metrics, startHealthServer } from "../../../src/runtime/index.js";

describe("health server", () => {
  it("serves /healthz, /readyz and /metrics", async () => {
    let ready: boolean | { ok: boolean; reason?: string } = false;
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.setLeader("golden", true);
    const h = await startHealthServer({
      port: 0,
      host: "127.0.0.1",
      metricsRegistry: metrics.registry,
      checks: { healthz: () => true, readyz: async () => ready },
    });
    try {
      const base = `http://127.0.0.1:${h.port}`;
      const hz = await fetch(`${base}/healthz`);
      assert.equal(hz.status, 200);
      assert.equal(await hz.text(), "ok\n");
      assert.equal((await fetch(`${base}/readyz`)).status, 500);
      ready = { ok: false, reason: "caches not synced" };
      const notReady = await fetch(`${base}/readyz`);
      assert.equal(notReady.status, 500);
      assert.match(await notReady.text(), /caches not synced/);
      ready = true;
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      const m = await fetch(`${base}/metrics`);
      assert.equal(m.status, 200);
      assert.match(await m.text(), /leader_election_master_status\{name="golden"\} 1/);
      assert.equal((await fetch(`${base}/nope`)).status, 404);
    } finally {
      await h.close();
    }
  });

  it("a throwing or hanging check fails with a reason", async () => {
    const h = await startHealthServer({
      port: 0,
      host: "127.0.0.1",
      checkTimeoutMs: 50,
      checks: {
        healthz: () => {
          throw new Error("broken");
        },
        readyz: () => new Promise<boolean>(() => {}),
      },
    });
    try {
      const base = `http://127.0.0.1:${h.port}`;
      const hz = await fetch(`${base}/healthz`);
      assert.equal(hz.status, 500);
      assert.match(await hz.text(), /broken/);
      const rz = await fetch(`${base}/readyz`);
      assert.equal(rz.status, 500);
      assert.match(await rz.text(), /timed out/);
    } finally {
      await h.close();
    }
  });
});
