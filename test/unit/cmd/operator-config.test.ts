// golden-operator's flags become its OperatorConfig: seconds to milliseconds, leader election only
// when asked, the visibility Secret's namespace from the pod's, the worker's pod settings.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseFlags } from "../../../src/cmd/flags.js";
import { OPERATOR_FLAGS, operatorConfig } from "../../../src/cmd/operator/flags.js";

const config = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  operatorConfig(parseFlags(OPERATOR_FLAGS, argv, env), "pod-1_42", env);

describe("operatorConfig", () => {
  it("watches a comma-separated list of namespaces, and names a bad one", () => {
    assert.deepEqual(config(["--namespace", "team-a, team-b,,team-a"]).namespaces, ["team-a", "team-b"]);
    assert.throws(
      () => config(["--namespace", "team-a,Team_B"]),
      /--namespace: "Team_B" is not a namespace name/,
    );
  });

  it("takes the documented defaults", () => {
    const cfg = config([]);
    assert.deepEqual(cfg.namespaces, [], "all namespaces");
    assert.equal(cfg.maxConcurrentBuilds, 10);
    assert.equal(cfg.maxBuildsPerNamespace, 0);
    assert.equal(cfg.gracefulShutdownMs, 30_000);
    assert.equal(cfg.retryBaseMs, 10_000);
    assert.equal(cfg.workerLostAfterMs, 120_000);
    assert.equal(cfg.identity, "pod-1_42");
    assert.equal(cfg.leaderElection, undefined, "no leader election unless --leader-elect");
    assert.equal(cfg.visibility?.port, 8443);
    assert.equal(cfg.visibility?.certSecretNamespace, "golden-system");
    assert.deepEqual(cfg.worker.resources, {
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "250m", memory: "256Mi" },
    });
  });

  it("turns seconds into milliseconds and parses the worker's placement", () => {
    const cfg = config([
      "--leader-elect",
      "--lease-duration",
      "4",
      "--renew-deadline",
      "3",
      "--retry-period",
      "1",
      "--worker-node-selector",
      "pool=builds,disk=ssd",
      "--worker-tolerations",
      "dedicated=builds:NoSchedule",
    ]);
    assert.deepEqual(cfg.leaderElection, {
      namespace: "golden-system",
      name: "golden-operator",
      identity: "pod-1_42",
      leaseDurationMs: 4000,
      renewDeadlineMs: 3000,
      retryPeriodMs: 1000,
    });
    assert.deepEqual(cfg.worker.nodeSelector, { pool: "builds", disk: "ssd" });
    assert.deepEqual(cfg.worker.tolerations, [
      { key: "dedicated", operator: "Equal", value: "builds", effect: "NoSchedule" },
    ]);
  });

  it("reads the environment where no flag is given, and the pod's namespace for the visibility Secret", () => {
    const cfg = config(["--max-concurrent-builds", "3"], {
      GOLDEN_MAX_CONCURRENT_BUILDS: "7",
      GOLDEN_NAMESPACE: "team-a",
      POD_NAMESPACE: "golden-prod",
    });
    assert.equal(cfg.maxConcurrentBuilds, 3, "the flag beats the environment");
    assert.deepEqual(cfg.namespaces, ["team-a"]);
    assert.equal(cfg.visibility?.certSecretNamespace, "golden-prod");
  });
});

describe("operatorConfig --arm64-placement", () => {
  it("is native by default, emulated on request, and nothing else", () => {
    assert.equal(config([]).worker.arm64Placement, "native");
    assert.equal(config(["--arm64-placement", "emulated"]).worker.arm64Placement, "emulated");
    assert.throws(() => config(["--arm64-placement", "qemu"]), /--arm64-placement: want native or emulated/);
  });
});
