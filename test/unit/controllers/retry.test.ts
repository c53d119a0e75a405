import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Image, ImageBuild, ImageBuildPhase } from "../../../src/api/v1alpha1/index.js";
import { RETRY_BASE_MS, RETRY_CAP_MS, retryAt, retryDelayMs } from "../../../src/controllers/retry.js";

const CREATED = new Date("2025-03-01T00:00:00.000Z");
const COMPLETED = "2025-03-01T00:05:00.000Z";

function image(retries?: number): Image {
  return {
    metadata: { name: "web", namespace: "default", generation: 1 },
    spec: {
      base: { os: "debian", release: "12" },
      formats: ["raw"],
      ...(retries === undefined ? {} : { build: { retries } }),
    },
  };
}

function build(phase: ImageBuildPhase | undefined, attempt?: number, completionTime?: string): ImageBuild {
  return {
    metadata: { name: "web-g1-abcdef", namespace: "default", creationTimestamp: CREATED },
    spec: {
      imageName: "web",
      imageGeneration: 1,
      ...(attempt === undefined ? {} : { attempt }),
      trigger: "Created",
      image: { base: { os: "debian", release: "12" }, formats: ["raw"] },
    },
    status: { ...(phase ? { phase } : {}), ...(completionTime ? { completionTime } : {}) },
  };
}

describe("retryDelayMs", () => {
  it("doubles from 10 s", () => {
    assert.equal(RETRY_BASE_MS, 10_000);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n)),
      [10_000, 20_000, 40_000, 80_000, 160_000, 320_000],
    );
  });

  it("is capped at 10 minutes", () => {
    assert.equal(RETRY_CAP_MS, 600_000);
    assert.equal(retryDelayMs(7), 600_000);
    assert.equal(retryDelayMs(8), 600_000);
    assert.equal(retryDelayMs(1000), 600_000);
    for (let n = 1; n < 100; n++) {
      assert.ok(retryDelayMs(n) <= RETRY_CAP_MS);
      assert.ok(retryDelayMs(n + 1) >= retryDelayMs(n), "non-decreasing");
    }
  });

  it("treats attempts below 1 as the first", () => {
    assert.equal(retryDelayMs(0), 10_000);
    assert.equal(retryDelayMs(-3), 10_000);
  });

  it("accepts a custom base and cap", () => {
    assert.equal(retryDelayMs(1, 100, 1_000), 100);
    assert.equal(retryDelayMs(3, 100, 1_000), 400);
    assert.equal(retryDelayMs(5, 100, 1_000), 1_000);
  });
});

describe("retryAt", () => {
  it("is due one delay after the failed attempt completed", () => {
    const at = retryAt(image(3), build("Failed", 1, COMPLETED));
    assert.equal(at?.toISOString(), "2025-03-01T00:05:10.000Z");
    assert.equal(retryAt(image(3), build("Failed", 2, COMPLETED))?.toISOString(), "2025-03-01T00:05:20.000Z");
    assert.equal(retryAt(image(3), build("Failed", 3, COMPLETED))?.toISOString(), "2025-03-01T00:05:40.000Z");
  });

  it("is undefined once the retries are used up", () => {
    assert.equal(retryAt(image(3), build("Failed", 4, COMPLETED)), undefined);
    assert.equal(retryAt(image(1), build("Failed", 2, COMPLETED)), undefined);
    assert.ok(retryAt(image(1), build("Failed", 1, COMPLETED)));
  });

  it("is undefined when the Image allows no retries (the default)", () => {
    assert.equal(retryAt(image(), build("Failed", 1, COMPLETED)), undefined);
    assert.equal(retryAt(image(0), build("Failed", 1, COMPLETED)), undefined);
  });

  it("is undefined unless the build Failed", () => {
    for (const phase of [undefined, "Pending", "Queued", "Building", "Succeeded", "Cancelled"] as const) {
      assert.equal(retryAt(image(5), build(phase, 1, COMPLETED)), undefined, String(phase));
    }
    const noStatus = build("Failed", 1, COMPLETED);
    delete noStatus.status;
    assert.equal(retryAt(image(5), noStatus), undefined);
  });

  it("counts a build without attempt as attempt 1", () => {
    assert.equal(
      retryAt(image(1), build("Failed", undefined, COMPLETED))?.toISOString(),
      "2025-03-01T00:05:10.000Z",
    );
  });

  it("falls back to the creation time without a completion time", () => {
    assert.equal(retryAt(image(2), build("Failed", 1))?.getTime(), CREATED.getTime() + 10_000);
  });

  it("uses a custom base delay", () => {
    assert.equal(
      retryAt(image(2), build("Failed", 2, COMPLETED), 1_000)?.getTime(),
      new Date(COMPLETED).getTime() + 2_000,
    );
  });
});
