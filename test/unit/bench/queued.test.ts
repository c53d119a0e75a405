import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  judgeQueueAtDefaultCap,
  PENDING_BUILDS_PATH,
  type PendingListSample,
  pageLatencies,
  queuedConfig,
} from "../../../bench/lib/queued.js";
import { summarize } from "../../../bench/lib/stats.js";

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

describe("queuedConfig", () => {
  it("runs the queue at the default cap, 5 000 deep for 120 s, unless told otherwise", () => {
    assert.deepEqual(queuedConfig({}).atDefaultCap, { sizes: [5000], holdSeconds: 120 });
    assert.deepEqual(
      queuedConfig({ BENCH_QUEUE_AT_DEFAULT_CAP_N: "1000, 2000", BENCH_QUEUE_AT_DEFAULT_CAP_SECONDS: "30" })
        .atDefaultCap,
      { sizes: [1000, 2000], holdSeconds: 30 },
    );
    assert.deepEqual(queuedConfig({ BENCH_QUEUE_AT_DEFAULT_CAP_N: "none" }).atDefaultCap.sizes, []);
    assert.deepEqual(queuedConfig({ BENCH_QUEUED_N: "none" }).sizes, []);
  });
});

describe("judgeQueueAtDefaultCap", () => {
  const pending = (submitting: number[], submitted: number[]): PendingListSample => {
    const none = { apiserverDiscovery: summarize([]), goldenDiscovery: summarize([]) };
    return {
      pageMs: summarize([...submitting, ...submitted]),
      pageMsWhile: { submitting: summarize(submitting), submitted: summarize(submitted) },
      pageMsByOrder: { first: summarize([]), later: summarize([]) },
      probeMs: none,
      probeMsWhile: { submitting: none, submitted: none },
      listMs: summarize([]),
      maxListed: 4990,
      lists: 2,
      errors: [],
    };
  };

  // The default cap (10) with 10 s builds: 0.95 builds/s to reach.
  const judge = (q: { doneRate: number; wholeRunDoneRate: number; pending: PendingListSample }) =>
    judgeQueueAtDefaultCap({ cap: 10, buildSeconds: 10, ...q });

  it("judges the rate and the pages once every Image was in, not while they were created", () => {
    const t = judge({
      doneRate: 0.97,
      wholeRunDoneRate: 0.9,
      pending: pending([900, 950], [40, 60, 180]),
    });
    assert.deepEqual(t.completionRate, { value: 0.97, wholeRun: 0.9, target: 0.95, met: true });
    assert.deepEqual(t.pendingListP99Ms, { value: 180, waiting: 4990, pages: 3, met: true });
  });

  it("fails a p99 over 200 ms, a rate under 0.95 × cap ÷ build time, and leaves out pages never measured", () => {
    const slow = judge({
      doneRate: 0.9,
      wholeRunDoneRate: 0.9,
      pending: pending([], [50, 201]),
    });
    assert.equal(slow.completionRate.met, false);
    assert.equal(slow.pendingListP99Ms?.met, false);
    const unlisted = judge({
      doneRate: 1,
      wholeRunDoneRate: 1,
      pending: pending([90], []),
    });
    assert.equal(unlisted.pendingListP99Ms, undefined);
  });
});
