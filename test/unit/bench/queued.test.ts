import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PENDING_BUILDS_PATH, pageLatencies } from "../../../bench/lib/queued.js";

const host = "https://127.0.0.1:6443";

describe("pageLatencies", () => {
  it("reads each page's latency from kubectl's request log, old and new formats", () => {
    const log = [
      `I1202 GET ${host}${PENDING_BUILDS_PATH}?limit=500 200 OK in 35 milliseconds`,
      `I1202 "Response" verb="GET" url="${host}${PENDING_BUILDS_PATH}?continue=abc&limit=500" status="200 OK" milliseconds=12`,
      `I1202 GET ${host}/api?timeout=32s 200 OK in 3 milliseconds`,
    ].join("\n");
    assert.deepEqual(pageLatencies(log), [35, 12]);
  });

  it("skips failed requests", () => {
    assert.deepEqual(
      pageLatencies(`GET ${host}${PENDING_BUILDS_PATH}?limit=500 503 Service Unavailable in 9 milliseconds`),
      [],
    );
  });

  it("matches a probe's path whole, not a longer path that contains it", () => {
    const log = [
      `GET ${host}/apis/golden.dev/v1alpha1 200 OK in 4 milliseconds`,
      `"Response" verb="GET" url="${host}/apis/golden.dev/v1alpha1/images" status="200 OK" milliseconds=50`,
      `"Response" verb="GET" url="${host}/apis/visibility.golden.dev/v1alpha1" status="200 OK" milliseconds=7`,
    ].join("\n");
    assert.deepEqual(pageLatencies(log, "/apis/golden.dev/v1alpha1"), [4]);
    assert.deepEqual(pageLatencies(log, "/apis/visibility.golden.dev/v1alpha1"), [7]);
  });
});
