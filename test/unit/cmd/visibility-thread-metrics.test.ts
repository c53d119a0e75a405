import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { threadLoopDelayGauge } from "../../../src/cmd/operator/wiring.js";

const NAME = "golden_visibility_thread_event_loop_lag_max_seconds";

async function scrape(registry: Registry): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === NAME);
  return metric?.values[0]?.value;
}

describe("the visibility thread's event-loop delay gauge", () => {
  it("shows the longest delay reported since the last scrape", async () => {
    const registry = new Registry();
    const gauge = threadLoopDelayGauge(registry);
    gauge.observe(0.05);
    gauge.observe(0.2);
    gauge.observe(0.01);
    assert.equal(await scrape(registry), 0.2);
    gauge.observe(0.03);
    assert.equal(await scrape(registry), 0.03, "a new interval starts at each scrape");
  });

  it("keeps the last interval's value when no report came between two scrapes", async () => {
    const registry = new Registry();
    const gauge = threadLoopDelayGauge(registry);
    assert.equal(await scrape(registry), 0);
    gauge.observe(0.12);
    assert.equal(await scrape(registry), 0.12);
    assert.equal(await scrape(registry), 0.12);
  });
});
