// Reading a Job's outcome from its conditions.
import type { V1Job } from "@kubernetes/client-node";

export type JobOutcome =
  | { state: "active" }
  | { state: "complete" }
  | { state: "failed"; reason: string; message: string };

export function jobOutcome(job: V1Job): JobOutcome {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== "True") continue;
    if (c.type === "Complete" || c.type === "SuccessCriteriaMet") return { state: "complete" };
    if (c.type === "Failed" || c.type === "FailureTarget") {
      return { state: "failed", reason: c.reason ?? "Failed", message: c.message ?? "the build Job failed" };
    }
  }
  return { state: "active" };
}

export function isJobFinished(job: V1Job): boolean {
  return jobOutcome(job).state !== "active";
}
