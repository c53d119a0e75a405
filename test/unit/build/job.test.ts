import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job, V1JobCondition } from "@kubernetes/client-node";
import { isJobFinished, jobOutcome } from "../../../src/build/job.js";

function job(conditions?: V1JobCondition[]): V1Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "b", namespace: "default" },
    ...(conditions ? { status: { conditions } } : {}),
  };
}

function c(type: string, status: string, reason?: string, message?: string): V1JobCondition {
  return { type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

describe("jobOutcome", () => {
  it("is active without status or conditions", () => {
    assert.deepEqual(jobOutcome(job()), { state: "active" });
    assert.deepEqual(jobOutcome(job([])), { state: "active" });
    assert.deepEqual(jobOutcome({ ...job(), status: {} }), { state: "active" });
  });

  it("is complete on Complete or SuccessCriteriaMet", () => {
    assert.deepEqual(jobOutcome(job([c("Complete", "True")])), { state: "complete" });
    assert.deepEqual(jobOutcome(job([c("SuccessCriteriaMet", "True")])), { state: "complete" });
  });

  it("is failed on Failed or FailureTarget, with the condition's reason and message", () => {
    assert.deepEqual(jobOutcome(job([c("Failed", "True", "DeadlineExceeded", "Job was active longer")])), {
      state: "failed",
      reason: "DeadlineExceeded",
      message: "Job was active longer",
    });
    assert.deepEqual(jobOutcome(job([c("FailureTarget", "True", "BackoffLimitExceeded", "limit")])), {
      state: "failed",
      reason: "BackoffLimitExceeded",
      message: "limit",
    });
  });

  it("fills in a reason and message when the condition has none", () => {
    assert.deepEqual(jobOutcome(job([c("Failed", "True")])), {
      state: "failed",
      reason: "Failed",
      message: "the build Job failed",
    });
  });

  it("ignores conditions that are not True", () => {
    assert.deepEqual(jobOutcome(job([c("Complete", "False"), c("Failed", "Unknown")])), { state: "active" });
    assert.deepEqual(jobOutcome(job([c("Failed", "False"), c("Complete", "True")])), { state: "complete" });
    assert.deepEqual(jobOutcome(job([c("Complete", "False"), c("Failed", "True", "X", "y")])), {
      state: "failed",
      reason: "X",
      message: "y",
    });
  });

  it("ignores unrelated condition types", () => {
    assert.deepEqual(jobOutcome(job([c("Suspended", "True"), c("SomethingElse", "True")])), {
      state: "active",
    });
  });
});

describe("isJobFinished", () => {
  it("is true for complete and failed jobs only", () => {
    assert.equal(isJobFinished(job()), false);
    assert.equal(isJobFinished(job([c("Suspended", "True")])), false);
    assert.equal(isJobFinished(job([c("Complete", "True")])), true);
    assert.equal(isJobFinished(job([c("SuccessCriteriaMet", "True")])), true);
    assert.equal(isJobFinished(job([c("Failed", "True")])), true);
    assert.equal(isJobFinished(job([c("FailureTarget", "True")])), true);
    assert.equal(isJobFinished(job([c("Failed", "False")])), false);
  });
});
