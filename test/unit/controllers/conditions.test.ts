import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  boundedMessage,
  findCondition,
  MESSAGE_MAX_LENGTH,
  setCondition,
} from "../../../src/api/conditions.js";
import type { Condition } from "../../../src/api/v1alpha1/index.js";
import { crdSchema } from "../../support/spec-limits.js";

const T0 = "2025-01-01T00:00:00.000Z";
const NOW = new Date("2025-01-02T03:04:05.000Z");

function cond(type: string, status: Condition["status"], reason = "R", message = ""): Condition {
  return { type, status, reason, message, lastTransitionTime: T0 };
}

describe("setCondition", () => {
  it("adds a condition to an absent list with lastTransitionTime now", () => {
    const list = setCondition(
      undefined,
      { type: "Ready", status: "True", reason: "Ok", message: "fine" },
      NOW,
    );
    assert.deepEqual(list, [
      { type: "Ready", status: "True", reason: "Ok", message: "fine", lastTransitionTime: NOW.toISOString() },
    ]);
  });

  it("appends a new type after the existing ones", () => {
    const list = setCondition(
      [cond("A", "True")],
      { type: "B", status: "False", reason: "x", message: "" },
      NOW,
    );
    assert.deepEqual(
      list.map((c) => c.type),
      ["A", "B"],
    );
    assert.equal(list[1]?.lastTransitionTime, NOW.toISOString());
  });

  it("keeps lastTransitionTime when the status does not change, updating reason, message, generation", () => {
    const list = setCondition(
      [cond("Ready", "False", "Queued", "old")],
      { type: "Ready", status: "False", reason: "Building", message: "new", observedGeneration: 4 },
      NOW,
    );
    assert.deepEqual(list, [
      {
        type: "Ready",
        status: "False",
        reason: "Building",
        message: "new",
        observedGeneration: 4,
        lastTransitionTime: T0,
      },
    ]);
  });

  it("moves lastTransitionTime when the status flips", () => {
    for (const [from, to] of [
      ["False", "True"],
      ["True", "False"],
      ["Unknown", "True"],
      ["True", "Unknown"],
    ] as const) {
      const list = setCondition(
        [cond("Ready", from)],
        { type: "Ready", status: to, reason: "r", message: "" },
        NOW,
      );
      assert.equal(list[0]?.status, to);
      assert.equal(list[0]?.lastTransitionTime, NOW.toISOString(), `${from} -> ${to}`);
    }
  });

  it("replaces in place, leaving the other conditions and the order alone", () => {
    const a = cond("A", "True");
    const c = cond("C", "False");
    const list = setCondition(
      [a, cond("B", "True"), c],
      { type: "B", status: "False", reason: "x", message: "" },
      NOW,
    );
    assert.deepEqual(
      list.map((x) => [x.type, x.status]),
      [
        ["A", "True"],
        ["B", "False"],
        ["C", "False"],
      ],
    );
    assert.equal(list[0], a);
    assert.equal(list[2], c);
    assert.equal(list.length, 3);
  });

  it("does not modify the list it is given", () => {
    const existing = [cond("Ready", "False")];
    const copy = structuredClone(existing);
    const next = setCondition(existing, { type: "Ready", status: "True", reason: "x", message: "" }, NOW);
    assert.deepEqual(existing, copy);
    assert.notEqual(next, existing);
    const added = setCondition(existing, { type: "Other", status: "True", reason: "x", message: "" }, NOW);
    assert.equal(existing.length, 1);
    assert.equal(added.length, 2);
  });
});

describe("findCondition", () => {
  it("finds a condition by type", () => {
    const list = [cond("A", "True"), cond("B", "False")];
    assert.equal(findCondition(list, "B"), list[1]);
  });

  it("is undefined for a missing type or list", () => {
    assert.equal(findCondition([cond("A", "True")], "B"), undefined);
    assert.equal(findCondition(undefined, "A"), undefined);
    assert.equal(findCondition([], "A"), undefined);
  });
});

describe("boundedMessage", () => {
  it("leaves a message that fits alone", () => {
    assert.equal(boundedMessage("build failed"), "build failed");
    const exact = "x".repeat(MESSAGE_MAX_LENGTH);
    assert.equal(boundedMessage(exact), exact);
  });

  it("cuts a longer one to the schema's limit and says so", () => {
    const bounded = boundedMessage(`build web-1 failed: ${"y".repeat(MESSAGE_MAX_LENGTH)}`);
    assert.equal(bounded.length, MESSAGE_MAX_LENGTH);
    assert.match(bounded, /^build web-1 failed: y+… \(truncated\)$/);
  });

  it("bounds the message of every condition set", () => {
    const [c] = setCondition(
      [],
      { type: "Ready", status: "False", reason: "R", message: "z".repeat(40_000) },
      NOW,
    );
    assert.equal(c?.message.length, MESSAGE_MAX_LENGTH);
  });

  it("is the maxLength of every status message in the CRDs", () => {
    const found: number[] = [];
    const walk = (node: unknown, key: string): void => {
      if (!node || typeof node !== "object") return;
      const schema = node as Record<string, unknown>;
      if (key === "message" && schema.type === "string") found.push(Number(schema.maxLength));
      for (const [k, v] of Object.entries(schema)) walk(v, k);
    };
    for (const plural of ["images", "imagebuilds"]) {
      walk((crdSchema(plural).properties as Record<string, unknown>).status, "status");
    }
    assert.ok(found.length >= 4, `status messages found: ${found.length}`);
    assert.deepEqual(new Set(found), new Set([MESSAGE_MAX_LENGTH]));
  });
});
