// runBuild against a recording API: a worker whose progress write is refused (admission says the
// build is no longer running, or no longer its pod's) stops instead of building on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageBuild } from "../../../src/api/v1alpha1/index.js";
import { runBuild } from "../../../src/worker/build.js";
import { build } from "../../support/fixtures.js";
import { apiError, RecordingApi } from "../../support/recording-api.js";

describe("runBuild", () => {
  it("stops when admission refuses its progress: it has outlived its build", async () => {
    const api = new RecordingApi();
    const b = build({ name: "b1", namespace: "ns", status: { phase: "Building" } }) as ImageBuild;
    b.spec.image.build = { simulate: { stepSeconds: 3600 } };
    api.seed("imagebuilds", b);
    const refusal = "a golden worker writes only a running build; ImageBuild b1 is Cancelled";
    api.failNext("patchStatus", apiError(403, "Forbidden", refusal));
    const outcome = await runBuild({
      client: api.golden,
      target: { namespace: "ns", name: "b1" },
      repository: "oci://x",
      heartbeatMs: 3_600_000,
      signal: new AbortController().signal,
      log: () => undefined,
    });
    assert.equal(outcome.ok, false);
    assert.match(
      outcome.message,
      /^stopped: this worker may no longer write its build \(.*writes only a running build/,
    );
    assert.equal(api.sent("patchStatus").length, 1, "only the refused write: no step ran after it");
  });
});
