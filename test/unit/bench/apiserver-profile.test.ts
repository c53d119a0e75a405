import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePprofTop } from "../../../bench/lib/apiserver-profile.js";

// The head and a few rows of `go tool pprof -top -cum` on a kube-apiserver profile.
const TOP = `File: kube-apiserver
Type: cpu
Duration: 60.01s, Total samples = 62.44s (104.04%)
Showing nodes accounting for 62.40s, 99.94% of 62.44s total
      flat  flat%   sum%        cum   cum%
     0.01s 0.016% 0.016%     26.15s 41.88%  k8s.io/apiserver/pkg/endpoints/handlers/finisher.finishRequest.func1
         0     0%     0%     12.59s 20.16%  k8s.io/apiextensions-apiserver/pkg/registry/customresource.(*StatusREST).Update
     3.23s  5.17%  5.17%      3.23s  5.17%  runtime.spanClass.sizeclass (inline)
     0.02s 0.032%  0.82%      1.94s  3.11%  encoding/json.interfaceEncoder
     0.01s 0.016%  0.29%     40ms 0.064%  k8s.io/apimachinery/pkg/util/proxy.(*UpgradeAwareHandler).ServeHTTP (partial-inline)
`;

describe("parsePprofTop", () => {
  it("reads each function's cumulative share and the sampled total", () => {
    const { totalSeconds, cum } = parsePprofTop(TOP);
    assert.equal(totalSeconds, 62.44);
    assert.equal(
      cum.get("k8s.io/apiextensions-apiserver/pkg/registry/customresource.(*StatusREST).Update"),
      0.2016,
    );
    assert.equal(cum.get("runtime.spanClass.sizeclass"), 0.0517, "an (inline) mark is not part of the name");
    assert.equal(cum.get("k8s.io/apimachinery/pkg/util/proxy.(*UpgradeAwareHandler).ServeHTTP"), 0.00064);
    assert.equal(cum.size, 5);
  });

  it("reads a total given in milliseconds, and nothing from text that is not a profile", () => {
    assert.equal(parsePprofTop("Duration: 1s, Total samples = 950ms (95%)").totalSeconds, 0.95);
    assert.deepEqual(parsePprofTop("go: command not found"), { cum: new Map() });
  });
});
