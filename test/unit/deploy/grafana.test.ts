// config/grafana's dashboard only queries metrics that golden-operator registers.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { METRICS_PREFIX } from "../../../src/build/names.js";
import { Metrics } from "../../../src/runtime/metrics.js";

const repo = new URL("../../../../", import.meta.url).pathname;

interface Dashboard {
  uid: string;
  panels: { id: number; title: string; targets: { expr: string }[] }[];
}

it("the Grafana dashboard queries only metrics golden-operator registers", () => {
  const dashboard = JSON.parse(
    fs.readFileSync(path.join(repo, "config/grafana/golden-operator.json"), "utf8"),
  ) as Dashboard;
  const registered = new Set(
    new Metrics({ defaultMetrics: false, prefix: METRICS_PREFIX }).registry
      .getMetricsAsArray()
      .map((m) => m.name),
  );
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
  const used = new Set<string>();
  for (const panel of dashboard.panels) {
    assert.ok(panel.targets.length > 0, panel.title);
    for (const { expr } of panel.targets) {
      const names = [...expr.matchAll(/\b([a-z_]+)\{/g)].map((m) => (m[1] ?? "").replace(/_bucket$/, ""));
      assert.ok(names.length > 0, `${panel.title}: ${expr}`);
      for (const name of names) used.add(name);
    }
  }
  const unknown = [...used].filter((n) => !registered.has(n));
  assert.deepEqual(unknown, [], "metrics the dashboard queries but src/runtime/metrics.ts does not register");
});
