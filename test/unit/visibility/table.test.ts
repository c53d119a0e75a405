import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PENDING_BUILD_RESOURCE } from "../../../src/api/visibility/v1alpha1/index.js";
import { toPendingBuild } from "../../../src/visibility/pending-builds.js";
import { humanDuration, parseIncludeObject, renderTable } from "../../../src/visibility/table.js";
import { entry } from "./fake-source.js";

describe("Table rendering", () => {
  const nowMs = Date.parse("2026-12-01T01:00:00Z");
  const builds = [
    toPendingBuild(
      entry({ name: "a", waitingSince: "2026-12-01T00:55:00Z", estimatedStartTime: "2026-12-01T01:10:00Z" }),
    ),
    toPendingBuild(entry({ name: "b", clusterPosition: 2, waitingSince: "2026-12-01T00:59:30Z" })),
  ];

  it("has NAME then the generated printer columns, and one cell per column", () => {
    const t = renderTable(PENDING_BUILD_RESOURCE.printerColumns, builds, {
      metadata: { resourceVersion: "9" },
      includeObject: "Metadata",
      nowMs,
    });
    assert.equal(t.kind, "Table");
    assert.equal(t.apiVersion, "meta.k8s.io/v1");
    assert.deepEqual(
      t.columnDefinitions.map((c) => c.name),
      ["Name", "Position", "NS Position", "Image", "Priority", "Waiting", "Reason", "ETA", "Blocked By"],
    );
    assert.equal(t.columnDefinitions.find((c) => c.name === "Blocked By")?.priority, 1);
    assert.deepEqual(t.rows[0]?.cells, [
      "a",
      1,
      1,
      "web",
      0,
      "5m",
      "cluster limit 1 reached; 0 builds ahead",
      "2026-12-01T01:10:00Z",
      "cluster",
    ]);
    // No estimate yet: the cell is null (kubectl leaves it empty).
    assert.deepEqual(t.rows[1]?.cells.slice(5, 8), ["30s", "cluster limit 1 reached; 0 builds ahead", null]);
    assert.deepEqual(t.rows[0]?.object, {
      kind: "PartialObjectMetadata",
      apiVersion: "meta.k8s.io/v1",
      metadata: builds[0]?.metadata,
    });
  });

  it("honours includeObject", () => {
    const opts = { metadata: {}, nowMs };
    assert.equal(renderTable([], builds, { ...opts, includeObject: "None" }).rows[0]?.object, undefined);
    assert.deepEqual(
      renderTable([], builds, { ...opts, includeObject: "Object" }).rows[0]?.object,
      builds[0],
    );
    assert.equal(parseIncludeObject(null), "Metadata");
    assert.throws(() => parseIncludeObject("Everything"), /includeObject/);
  });

  it("renders ages as the apiserver's HumanDuration", () => {
    const s = 1000;
    const cases: [number, string][] = [
      [-5 * s, "<invalid>"],
      [-0.5 * s, "0s"],
      [119 * s, "119s"],
      [150 * s, "2m30s"],
      [600 * s, "10m"],
      [3 * 3600 * s, "3h"],
      [(3 * 3600 + 120) * s, "3h2m"],
      [30 * 3600 * s, "30h"],
      [(2 * 86400 + 3600) * s, "2d1h"],
      [10 * 86400 * s, "10d"],
      [(3 * 365 + 2) * 86400 * s, "3y2d"],
      [9 * 365 * 86400 * s, "9y"],
    ];
    for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
  });
});
