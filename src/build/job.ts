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

/**
 * The uid of the ImageBuild that controls this Job, when one of the same name does (golden names a
 * build's Job after it); undefined for any other Job, whatever its labels say. Labels are anyone's
 * to set, so only this decides whether a Job is golden's: it holds a build slot, and a build
 * adopts it.
 */
export function controllingBuildUid(job: V1Job): string | undefined {
  const ref = job.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (ref?.kind !== "ImageBuild" || !ref.apiVersion.startsWith("golden.dev/")) return undefined;
  return ref.name === job.metadata?.name ? ref.uid : undefined;
}
