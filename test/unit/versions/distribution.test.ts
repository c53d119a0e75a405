import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DistributionTarget, TargetStatus } from "../../../src/api/v1alpha1/index.js";
import {
  type DistributionInput,
  distribute,
  MAX_RETRY_DELAY_MS,
  mockLocation,
} from "../../../src/versions/distribution.js";

const T0 = Date.parse("2026-12-01T00:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000);
const EU: DistributionTarget = { name: "aws-eu", provider: "aws", region: "eu-west-1", account: "111" };
const US: DistributionTarget = {
  name: "aws-us",
  provider: "aws",
  region: "us-east-1",
  simulate: { failAttempts: 2 },
};
const OCI: DistributionTarget = {
  name: "registry",
  provider: "oci",
  repository: "registry.example.com/golden/web",
};

function run(o: Partial<DistributionInput>) {
  return distribute({
    imageName: "web",
    version: "1.2.0",
    targets: [EU, US],
    previous: [],
    revoked: false,
    now: at(0),
    retryBaseMs: 10_000,
    ...o,
  });
}
const find = (ts: TargetStatus[], n: string) => ts.find((t) => t.name === n);

describe("distribution", () => {
  it("publishes each target on its own; a failing one retries alone, with growing delays", () => {
    let r = run({});
    assert.equal(find(r.targets, "aws-eu")?.phase, "Published");
    assert.equal(find(r.targets, "aws-eu")?.attempts, 1);
    assert.equal(find(r.targets, "aws-us")?.phase, "Retrying");
    assert.equal(find(r.targets, "aws-us")?.nextAttemptTime, at(10).toISOString());
    assert.equal(r.wakeAfterMs, 10_000);
    // Not due yet: nothing moves.
    r = run({ previous: r.targets, now: at(5) });
    assert.deepEqual(r.changes, []);
    assert.equal(r.wakeAfterMs, 5_000);
    r = run({ previous: r.targets, now: at(10) });
    assert.equal(find(r.targets, "aws-us")?.attempts, 2);
    assert.equal(find(r.targets, "aws-us")?.nextAttemptTime, at(30).toISOString());
    r = run({ previous: r.targets, now: at(30) });
    assert.equal(find(r.targets, "aws-us")?.phase, "Published");
    assert.equal(find(r.targets, "aws-us")?.attempts, 3);
    assert.equal(find(r.targets, "aws-eu")?.attempts, 1, "the published target is never tried again");
    assert.deepEqual(
      r.changes.map((c) => c.target),
      ["aws-us"],
    );
    assert.equal(r.wakeAfterMs, undefined);
  });

  it("caps the retry delay", () => {
    const r = run({
      targets: [{ ...US, simulate: { failAttempts: 10 } }],
      previous: [{ name: "aws-us", phase: "Retrying", attempts: 9 }],
    });
    assert.equal(Date.parse(find(r.targets, "aws-us")?.nextAttemptTime ?? "") - T0, MAX_RETRY_DELAY_MS);
  });

  it("withdraws published targets of a revoked version and skips the rest", () => {
    const first = run({});
    const r = run({ previous: first.targets, revoked: true, now: at(1) });
    assert.equal(find(r.targets, "aws-eu")?.phase, "Withdrawn");
    assert.equal(find(r.targets, "aws-us")?.phase, "Skipped");
    assert.equal(find(r.targets, "aws-us")?.nextAttemptTime, undefined);
    assert.equal(run({ previous: r.targets, revoked: true, now: at(2) }).changes.length, 0);
  });

  it("mocks stable locations per provider", () => {
    assert.equal(mockLocation(EU, "web", "1.2.0"), mockLocation(EU, "web", "1.2.0"));
    assert.match(mockLocation(EU, "web", "1.2.0"), /^aws:\/\/111\/eu-west-1\/ami-[a-f0-9]{17}$/);
    assert.match(
      mockLocation(OCI, "web", "1.2.0"),
      /^oci:\/\/registry\.example\.com\/golden\/web:1\.2\.0@sha256:[a-f0-9]{64}$/,
    );
    assert.notEqual(mockLocation(EU, "web", "1.2.0"), mockLocation(EU, "web", "1.2.1"));
  });
});
