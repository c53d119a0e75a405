import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RETRY_BASE_MS, RETRY_CAP_MS, retryAt, retryDelayMs } from "../../../src/controllers/retry.js";
import { build, image } from "../../support/fixtures.js";

const CREATED = new Date("2025-03-01T00:00:00.000Z");
const COMPLETED = "2025-03-01T00:05:00.000Z";

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
    const at = retryAt(
      image({ spec: { build: { retries: 3 } } }),
      build({ created: CREATED, phase: "Failed", attempt: 1, status: { completionTime: COMPLETED } }),
    );
    assert.equal(at?.toISOString(), "2025-03-01T00:05:10.000Z");
    assert.equal(
      retryAt(
        image({ spec: { build: { retries: 3 } } }),
        build({ created: CREATED, phase: "Failed", attempt: 2, status: { completionTime: COMPLETED } }),
      )?.toISOString(),
      "2025-03-01T00:05:20.000Z",
    );
    assert.equal(
      retryAt(
        image({ spec: { build: { retries: 3 } } }),
        build({ created: CREATED, phase: "Failed", attempt: 3, status: { completionTime: COMPLETED } }),
      )?.toISOString(),
      "2025-03-01T00:05:40.000Z",
    );
  });

  it("is undefined once the retries are used up", () => {
    assert.equal(
      retryAt(
        image({ spec: { build: { retries: 3 } } }),
        build({ created: CREATED, phase: "Failed", attempt: 4, status: { completionTime: COMPLETED } }),
      ),
      undefined,
    );
    assert.equal(
      retryAt(
        image({ spec: { build: { retries: 1 } } }),
        build({ created: CREATED, phase: "Failed", attempt: 2, status: { completionTime: COMPLETED } }),
      ),
      undefined,
    );
    assert.ok(
      retryAt(
        image({ spec: { build: { retries: 1 } } }),
        build({ created: CREATED, phase: "Failed", attempt: 1, status: { completionTime: COMPLETED } }),
      ),
    );
  });

  it("is undefined when the Image allows no retries (the default)", () => {
    assert.equal(
      retryAt(
        image(),
        build({ created: CREATED, phase: "Failed", attempt: 1, status: { completionTime: COMPLETED } }),
      ),
      undefined,
    );
    assert.equal(
      retryAt(
        image({ spec: { build: { retries: 0 } } }),
        build({ created: CREATED, phase: "Failed", attempt: 1, status: { completionTime: COMPLETED } }),
      ),
      undefined,
    );
  });

  it("is undefined unless the build Failed", () => {
    for (const phase of [undefined, "Pending", "Queued", "Building", "Succeeded", "Cancelled"] as const) {
      assert.equal(
        retryAt(
          image({ spec: { build: { retries: 5 } } }),
          build({ created: CREATED, phase, attempt: 1, status: { completionTime: COMPLETED } }),
        ),
        undefined,
        String(phase),
      );
    }
    const noStatus = build({
      created: CREATED,
      phase: "Failed",
      attempt: 1,
      status: { completionTime: COMPLETED },
    });
    delete noStatus.status;
    assert.equal(retryAt(image({ spec: { build: { retries: 5 } } }), noStatus), undefined);
  });

  it("counts a build without attempt as attempt 1", () => {
    assert.equal(
      retryAt(
        image({ spec: { build: { retries: 1 } } }),
        build({ created: CREATED, phase: "Failed", status: { completionTime: COMPLETED } }),
      )?.toISOString(),
      "2025-03-01T00:05:10.000Z",
    );
  });

  it("falls back to the creation time without a completion time", () => {
    assert.equal(
      retryAt(
        image({ spec: { build: { retries: 2 } } }),
        build({ created: CREATED, phase: "Failed", attempt: 1 }),
      )?.getTime(),
      CREATED.getTime() + 10_000,
    );
  });

  it("uses a custom base delay", () => {
    assert.equal(
      retryAt(
        image({ spec: { build: { retries: 2 } } }),
        build({ created: CREATED, phase: "Failed", attempt: 2, status: { completionTime: COMPLETED } }),
        1_000,
      )?.getTime(),
      new Date(COMPLETED).getTime() + 2_000,
    );
  });
});
