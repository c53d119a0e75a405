import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageBuild, ImageBuildPhase } from "../../../src/api/v1alpha1/index.js";
import { byCreation, createdAtMs, newest } from "../../../src/build/order.js";
import { isTerminal, TERMINAL_PHASES } from "../../../src/build/phase.js";
import { build } from "../../support/fixtures.js";

const names = (bs: ImageBuild[]) => bs.map((b) => b.metadata?.name);

describe("isTerminal", () => {
  it("is true for Succeeded, Failed and Cancelled only", () => {
    assert.deepEqual([...TERMINAL_PHASES].sort(), ["Cancelled", "Failed", "Succeeded"]);
    const expected: Record<ImageBuildPhase, boolean> = {
      Pending: false,
      Queued: false,
      Building: false,
      Succeeded: true,
      Failed: true,
      Cancelled: true,
    };
    for (const [phase, terminal] of Object.entries(expected)) {
      assert.equal(
        isTerminal(build({ name: "b", attempt: 1, phase: phase as ImageBuildPhase })),
        terminal,
        phase,
      );
    }
  });

  it("is false without a status or phase", () => {
    assert.equal(isTerminal(build({ name: "b" })), false);
    assert.equal(isTerminal({ ...build({ name: "b" }), status: {} }), false);
  });
});

describe("createdAtMs", () => {
  it("reads the creation timestamp, Date or string", () => {
    assert.equal(
      createdAtMs(build({ name: "b", created: new Date("2025-01-01T00:00:01Z") })),
      Date.UTC(2025, 0, 1, 0, 0, 1),
    );
    const fromJson = JSON.parse(
      JSON.stringify(build({ name: "b", created: "2025-01-01T00:00:01Z" })),
    ) as ImageBuild;
    assert.equal(createdAtMs(fromJson), Date.UTC(2025, 0, 1, 0, 0, 1));
  });

  it("is 0 without a creation timestamp", () => {
    assert.equal(createdAtMs(build({ name: "b" })), 0);
    assert.equal(createdAtMs({ ...build({ name: "b" }), metadata: undefined }), 0);
  });
});

describe("byCreation", () => {
  it("orders oldest first", () => {
    const list = [
      build({ name: "c", created: "2025-01-03T00:00:00Z" }),
      build({ name: "a", created: "2025-01-01T00:00:00Z" }),
      build({ name: "b", created: "2025-01-02T00:00:00Z" }),
    ];
    assert.deepEqual(names([...list].sort(byCreation)), ["a", "b", "c"]);
  });

  it("breaks ties by attempt, then by name", () => {
    const t = "2025-01-01T00:00:00Z";
    const list = [
      build({ name: "z", created: t, attempt: 2 }),
      build({ name: "y", created: t, attempt: 1 }),
      build({ name: "x", created: t, attempt: 2 }),
      build({ name: "w", created: t }),
    ];
    // w has no attempt: it counts as 1, so it sorts with y, before it by name.
    assert.deepEqual(names([...list].sort(byCreation)), ["w", "y", "x", "z"]);
  });

  it("is a total order: any input order sorts the same", () => {
    const t = "2025-01-01T00:00:00Z";
    const list = [
      build({ name: "b", created: t, attempt: 1 }),
      build({ name: "a", created: t, attempt: 1 }),
      build({ name: "c", created: "2024-12-31T00:00:00Z", attempt: 5 }),
      build({ name: "d", created: t, attempt: 3 }),
      build({ name: "e" }),
    ];
    const expected = names([...list].sort(byCreation));
    assert.deepEqual(expected, ["e", "c", "a", "b", "d"]);
    for (const perm of [[...list].reverse(), [list[2], list[4], list[0], list[3], list[1]] as ImageBuild[]]) {
      assert.deepEqual(names(perm.sort(byCreation)), expected);
    }
  });
});

describe("newest", () => {
  it("returns the newest build without reordering the input", () => {
    const list = [
      build({ name: "b", created: "2025-01-02T00:00:00Z" }),
      build({ name: "c", created: "2025-01-03T00:00:00Z" }),
      build({ name: "a", created: "2025-01-01T00:00:00Z" }),
    ];
    assert.equal(newest(list)?.metadata?.name, "c");
    assert.deepEqual(names(list), ["b", "c", "a"]);
  });

  it("prefers the higher attempt at the same creation time", () => {
    const t = "2025-01-01T00:00:00Z";
    assert.equal(
      newest([build({ name: "r2", created: t, attempt: 2 }), build({ name: "r1", created: t, attempt: 1 })])
        ?.metadata?.name,
      "r2",
    );
  });

  it("is undefined for no builds", () => {
    assert.equal(newest([]), undefined);
  });
});
