// Derives an Image's status from its builds: a pure function, so the reconciler only diffs and writes.

import { boundedMessage, type ConditionInput, setCondition } from "../api/conditions.js";
import type { Image, ImageBuild, ImagePhase, ImageStatus } from "../api/v1alpha1/index.js";
import { attempt } from "../build/defaults.js";
import { inputsOf } from "../build/inputs.js";
import { byCreation } from "../build/order.js";
import type { SpecProblem } from "./catalog.js";

export interface StatusInputs {
  image: Image;
  /** All builds of this Image, any generation. */
  builds: ImageBuild[];
  problem?: SpecProblem;
  /** Set when the newest build failed and another attempt is due at this time. */
  retryAt?: Date;
  now: Date;
  /** Why no build can start yet (a layered Image whose parent never succeeded). */
  waiting?: string;
  /** Whether the newest success is built on the current base; undefined before the first one. */
  upToDate?: UpToDate;
  /** Set when the catalog marks the Image's base deprecated: the BaseDeprecated condition. */
  deprecated?: string;
}

export interface UpToDate {
  ok: boolean;
  reason: string;
  message: string;
}

export function deriveImageStatus({
  image,
  builds,
  problem,
  retryAt,
  now,
  waiting,
  upToDate,
  deprecated,
}: StatusInputs): ImageStatus {
  const generation = image.metadata?.generation ?? 0;
  const sorted = [...builds].sort(byCreation);
  const current = sorted.filter((b) => b.spec.imageGeneration === generation);
  const latest = current.at(-1);
  const lastSuccessful = sorted.filter((b) => b.status?.phase === "Succeeded").at(-1);

  const verdict = problem
    ? failed(problem.reason, problem.message)
    : latest
      ? servingCurrent(fromBuild(latest, retryAt), lastSuccessful, generation)
      : waiting
        ? { phase: "Pending" as ImagePhase, ready: false, reason: "WaitingForParent", message: waiting }
        : {
            phase: "Pending" as ImagePhase,
            ready: false,
            reason: "BuildPending",
            message: "waiting for a build to be created",
          };

  const status: ImageStatus = {
    ...image.status,
    phase: verdict.phase,
    observedGeneration: generation,
    message: boundedMessage(verdict.message),
    conditions: setCondition(
      image.status?.conditions,
      {
        type: "Ready",
        status: verdict.ready ? "True" : "False",
        reason: verdict.reason,
        message: verdict.message,
        observedGeneration: generation,
      },
      now,
    ),
  };
  setOrDelete(status, "latestBuild", latest?.metadata?.name ?? sorted.at(-1)?.metadata?.name);
  setOrDelete(status, "lastSuccessfulBuild", lastSuccessful?.metadata?.name);
  setOrDelete(status, "artifacts", lastSuccessful?.status?.artifacts);
  const inputs = lastSuccessful ? inputsOf(lastSuccessful) : undefined;
  setOrDelete(status, "baseImage", inputs?.baseImage);
  setOrDelete(status, "baseRevision", inputs?.baseRevision);
  const baseProblem = problem?.field.startsWith("spec.base") === true;
  const fresh: ConditionInput = upToDate
    ? {
        type: "UpToDate",
        status: upToDate.ok ? "True" : "False",
        reason: upToDate.reason,
        message: upToDate.message,
        observedGeneration: generation,
      }
    : {
        type: "UpToDate",
        status: "Unknown",
        reason: baseProblem ? "BaseUnresolved" : "NotBuilt",
        message: baseProblem ? "the Image's base cannot be resolved" : "no successful build yet",
        observedGeneration: generation,
      };
  status.conditions = setCondition(status.conditions, fresh, now);
  status.conditions = deprecated
    ? setCondition(
        status.conditions,
        {
          type: "BaseDeprecated",
          status: "True",
          reason: "BaseDeprecated",
          message: deprecated,
          observedGeneration: generation,
        },
        now,
      )
    : status.conditions?.filter((c) => c.type !== "BaseDeprecated");
  return status;
}

interface Verdict {
  phase: ImagePhase;
  ready: boolean;
  reason: string;
  message: string;
}

/** Ready's reason while a rebuild runs, failed or was cancelled beside artifacts that stay. */
const REBUILD_REASONS: Record<string, string> = {
  BuildInProgress: "Rebuilding",
  BuildFailed: "RebuildFailed",
  BuildCancelled: "RebuildCancelled",
  // Kept as is: a campaign waits on it before it counts a failure (campaign-reconciler.ts).
  RetryPending: "RetryPending",
};

/**
 * Ready means artifacts of the current generation are available (the API's contract, ImageStatus
 * conditions). A rebuild of the same generation (a rebuild request, a schedule slot, a campaign)
 * that runs, failed or was cancelled leaves the last success's artifacts in status: the Image stays
 * Ready, its phase and reason say what the rebuild did. A new generation's build has no such
 * artifacts, so it is not Ready until it succeeds.
 */
function servingCurrent(
  verdict: Verdict,
  lastSuccessful: ImageBuild | undefined,
  generation: number,
): Verdict {
  if (verdict.ready || !lastSuccessful || lastSuccessful.spec.imageGeneration !== generation) return verdict;
  const reason = REBUILD_REASONS[verdict.reason];
  if (!reason) return verdict;
  const served = lastSuccessful.metadata?.name ?? "";
  return {
    ...verdict,
    ready: true,
    reason,
    message: `${verdict.message}; build ${served}'s artifacts stay available`,
  };
}

function failed(reason: string, message: string): Verdict {
  return { phase: "Failed", ready: false, reason, message };
}

function fromBuild(build: ImageBuild, retryAt: Date | undefined): Verdict {
  const name = build.metadata?.name ?? "";
  const s = build.status ?? {};
  switch (s.phase) {
    case "Succeeded":
      return {
        phase: "Succeeded",
        ready: true,
        reason: "BuildSucceeded",
        message: s.message ?? `build ${name} succeeded`,
      };
    case "Failed": {
      const why = s.message ?? (s.failedStep ? `step ${s.failedStep} failed` : "build failed");
      if (retryAt) {
        return {
          phase: "Queued",
          ready: false,
          reason: "RetryPending",
          message: `attempt ${attempt(build)} failed (${why}); retrying at ${retryAt.toISOString()}`,
        };
      }
      return failed("BuildFailed", `build ${name} failed: ${why}`);
    }
    case "Cancelled":
      return failed("BuildCancelled", s.message ?? `build ${name} was cancelled`);
    default:
      // Waiting for a slot or running: one phase, so that the Image is written once when a build
      // starts and once when it ends, however long the queue (the build's own status and the
      // pendingbuilds view say where it stands).
      return {
        phase: "Building",
        ready: false,
        reason: "BuildInProgress",
        message: `build ${name} in progress (kubectl get imagebuild ${name} shows whether it waits for a slot or runs)`,
      };
  }
}

function setOrDelete<K extends keyof ImageStatus>(
  status: ImageStatus,
  key: K,
  value: ImageStatus[K] | undefined,
): void {
  if (value === undefined) delete status[key];
  else status[key] = value;
}
