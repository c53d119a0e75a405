// Publishing a version to its distribution targets (mocked): each target is its own step with its
// own state, attempts and retry time, so a failed region is retried alone. Pure: the distribution
// reconciler writes the states this returns.
import { createHash } from "node:crypto";
import type { DistributionTarget, TargetStatus } from "../api/v1alpha1/index.js";

export const MAX_RETRY_DELAY_MS = 10 * 60_000;

export interface DistributionInput {
  imageName: string;
  version: string;
  targets: DistributionTarget[];
  previous: TargetStatus[];
  revoked: boolean;
  now: Date;
  /** First retry delay; doubles per failed attempt, capped at 10 min. */
  retryBaseMs: number;
}

export interface DistributionResult {
  targets: TargetStatus[];
  /** Targets published, failed, withdrawn or skipped by this pass, for Events. */
  changes: { target: string; phase: TargetStatus["phase"]; message: string }[];
  wakeAfterMs?: number;
}

/** Where the mocked publisher puts a version: stable for (target, image, version). */
export function mockLocation(t: DistributionTarget, imageName: string, version: string): string {
  const id = createHash("sha256")
    .update([t.name, t.provider, t.region, t.account, imageName, version].join("\u0000"))
    .digest("hex");
  const dashed = `${imageName}-${version.replaceAll(".", "-")}`;
  switch (t.provider) {
    case "aws":
      return `aws://${t.account ?? "self"}/${t.region}/ami-${id.slice(0, 17)}`;
    case "azure":
      return `azure://${t.account ?? "default"}/${t.region}/galleries/golden/images/${imageName}/versions/${version}`;
    case "gcp":
      return `gcp://${t.account ?? "default"}/${t.region}/images/${dashed}`;
    case "oci":
      return `oci://${t.repository}:${version}@sha256:${id}`;
  }
}

export function distribute(input: DistributionInput): DistributionResult {
  const { now } = input;
  const changes: DistributionResult["changes"] = [];
  let wakeAfterMs: number | undefined;
  const targets = input.targets.map((t): TargetStatus => {
    const old = input.previous.find((s) => s.name === t.name);
    const st: TargetStatus = old ? { ...old } : { name: t.name, phase: "Pending", attempts: 0 };
    if (input.revoked) {
      if (st.phase === "Published") {
        st.phase = "Withdrawn";
        st.message = "withdrawn: the version is revoked";
        changes.push({ target: t.name, phase: st.phase, message: st.message });
      } else if (st.phase === "Pending" || st.phase === "Retrying") {
        st.phase = "Skipped";
        st.message = "not published: the version is revoked";
        delete st.nextAttemptTime;
        changes.push({ target: t.name, phase: st.phase, message: st.message });
      }
      return st;
    }
    if (st.phase !== "Pending" && st.phase !== "Retrying") return st;
    const due = st.nextAttemptTime ? Date.parse(st.nextAttemptTime) - now.getTime() : 0;
    if (due > 0) {
      wakeAfterMs = Math.min(wakeAfterMs ?? due, due);
      return st;
    }
    const attempts = (st.attempts ?? 0) + 1;
    st.attempts = attempts;
    st.lastAttemptTime = now.toISOString();
    if (attempts <= (t.simulate?.failAttempts ?? 0)) {
      const delay = Math.min(input.retryBaseMs * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS);
      st.phase = "Retrying";
      st.nextAttemptTime = new Date(now.getTime() + delay).toISOString();
      st.message = `attempt ${attempts} failed: ${t.provider} ${t.region ?? t.repository} refused the upload (simulated); retrying in ${Math.round(delay / 1000)}s`;
      wakeAfterMs = Math.min(wakeAfterMs ?? delay, delay);
    } else {
      st.phase = "Published";
      delete st.nextAttemptTime;
      st.location = mockLocation(t, input.imageName, input.version);
      st.message = `published on attempt ${attempts}`;
    }
    changes.push({ target: t.name, phase: st.phase, message: st.message });
    return st;
  });
  const result: DistributionResult = { targets, changes };
  if (wakeAfterMs !== undefined) result.wakeAfterMs = wakeAfterMs;
  return result;
}
