import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { maxRunning, type RunEvent, runningAtEnd } from "../../support/running-builds.js";

let rv = 0;
const job = (build: string, type: string, ended = false): RunEvent => ({
  kind: "job",
  type,
  namespace: "a",
  build,
  ended,
  at: ++rv,
  rv,
});
const pod = (build: string, type: string, ended = false): RunEvent => ({
  kind: "pod",
  type,
  namespace: "a",
  build,
  pod: `${build}-p`,
  ended,
  at: ++rv,
  rv,
});

describe("maxRunning (the limit checks' rule of what runs)", () => {
  it("a build runs from its Job until its pod has ended, not until the Job controller finishes the Job", () => {
    const events = [
      job("b1", "ADDED"),
      pod("b1", "ADDED"),
      pod("b1", "MODIFIED", true),
      job("b2", "ADDED"),
      pod("b2", "ADDED"),
      job("b1", "MODIFIED", true),
    ];
    assert.equal(maxRunning(events).max, 1);
    assert.equal(runningAtEnd(events), 1);
  });

  it("a pod at work runs with its Job gone, and a Job whose pod went without ending runs until it finishes", () => {
    const events = [
      job("b1", "ADDED"),
      pod("b1", "ADDED"),
      job("b1", "DELETED"),
      job("b2", "ADDED"),
      pod("b2", "ADDED"),
      pod("b2", "DELETED"),
    ];
    const worst = maxRunning(events);
    assert.equal(worst.max, 2);
    assert.deepEqual(worst.running.sort(), ["a/b1", "a/b2"]);
    assert.equal(runningAtEnd(events), 2, "b1's orphaned pod, and b2's unfinished Job");
  });

  it("a Job created again under the build's name runs until its own pod ends, not the old Job's", () => {
    const events = [
      { ...job("b1", "ADDED"), jobUid: "old" },
      { ...pod("b1", "ADDED"), jobUid: "old" },
      { ...job("b1", "DELETED"), jobUid: "old" },
      { ...job("b1", "ADDED"), jobUid: "new" },
      { ...pod("b1", "MODIFIED", true), jobUid: "old" },
      { ...job("b2", "ADDED"), jobUid: "b2" },
    ];
    const worst = maxRunning(events);
    assert.equal(worst.max, 2, "b1's new Job still runs when b2 starts");
    assert.deepEqual(worst.running.sort(), ["a/b1", "a/b2"]);
    const orphanEnds = [...events.slice(0, 4), { ...pod("b1", "MODIFIED", true), jobUid: undefined }];
    assert.equal(runningAtEnd(orphanEnds), 1, "an orphaned pod ending ends no Job");
    assert.equal(
      runningAtEnd([...events, { ...pod("b1", "MODIFIED", true), pod: "b1-q", jobUid: "new" }]),
      1,
    );
  });

  it("orders by resourceVersion, so a late delivery of a pod's end does not count two builds", () => {
    const start = [job("b1", "ADDED"), pod("b1", "ADDED")];
    const ended = pod("b1", "MODIFIED", true);
    const next = job("b2", "ADDED");
    assert.equal(maxRunning([...start, next, ended]).max, 1, "delivered out of order");
    assert.equal(maxRunning([...start, { ...next, rv: undefined }, ended]).max, 2, "no order to go by");
  });
});
