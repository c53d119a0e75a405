// Runs one mocked build: walks the planned steps, reports progress and heartbeats into the
// ImageBuild's status, and records the artifacts (or the failed step) when done.
import { setTimeout as sleep } from "node:timers/promises";
import type { GoldenClient } from "../api/client.js";
import { setCondition } from "../api/conditions.js";
import type { ImageBase, ImageBuild, ImageBuildStatus, ImageSpec } from "../api/v1alpha1/index.js";
import { arch, stepSeconds } from "../build/defaults.js";
import { inputsOf } from "../build/inputs.js";
import { isTerminal, isTerminalPhase } from "../build/phase.js";
import { apiErrorCode, apiErrorMessage, isTransient } from "../runtime/api-errors.js";
import { artifactFor, type BuildOrigin, planSteps } from "./plan.js";

export interface BuildTarget {
  namespace: string;
  name: string;
}

export interface WorkerOptions {
  client: GoldenClient;
  target: BuildTarget;
  /** Where published artifacts live; artifact locations are built under it. */
  repository: string;
  heartbeatMs: number;
  /** Node arch when the Image's arch runs emulated on it; the result's message says so. */
  emulatedOn?: string;
  signal: AbortSignal;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export type BuildOutcome = { ok: true; message: string } | { ok: false; step?: string; message: string };

/** How long the worker rides out an unreachable apiserver before giving up on a write. */
const API_PATIENCE_MS = 5 * 60_000;

/** Retries a call through transient API failures (network, 5xx, 429) with capped backoff. */
async function patiently<T>(what: string, opts: WorkerOptions, call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + API_PATIENCE_MS;
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err) || Date.now() + delay > deadline || opts.signal.aborted) throw err;
      opts.log(`${what} failed; retrying`, { err: String(err), retryInMs: delay });
      await sleep(delay, undefined, { signal: opts.signal });
    }
  }
}

export async function runBuild(opts: WorkerOptions): Promise<BuildOutcome> {
  const { client, target, log } = opts;
  const build = await patiently("reading the ImageBuild", opts, () =>
    client.imageBuilds.get(target.namespace, target.name),
  );
  if (!build) return { ok: false, message: `ImageBuild ${target.namespace}/${target.name} not found` };
  const phase = build.status?.phase;
  if (isTerminalPhase(phase)) {
    // A rerun of a finished build (e.g. a pod recreated after the fact) changes nothing.
    return { ok: phase === "Succeeded", message: `build already ${phase}` };
  }

  const spec = build.spec.image;
  const steps = planSteps(spec);
  const stepMs = stepSeconds(spec) * 1000;
  const failAt = spec.build?.simulate?.failAt;
  const origin = { rootBase: build.spec.rootBase, inputs: inputsOf(build) };
  const note = emulationNote(spec, opts.emulatedOn, origin.rootBase);
  // Progress and heartbeats are best effort: a missed one must not fail the build. A refused one
  // (403: admission says the build is no longer running, or no longer this pod's) means this
  // worker has outlived its build, cancelled, failed or orphaned: it stops.
  const outlived = new AbortController();
  const signal = AbortSignal.any([opts.signal, outlived.signal]);
  const patch = (status: ImageBuildStatus) =>
    client.imageBuilds
      .patchStatus(target.namespace, target.name, {
        status: { ...status, heartbeatTime: new Date().toISOString() },
      })
      .then(
        () => undefined,
        (err: unknown) => {
          log("progress update failed", { err: String(err) });
          if (apiErrorCode(err) === 403) outlived.abort(new Error(apiErrorMessage(err)));
        },
      );

  const heartbeat = setInterval(() => void patch({}), opts.heartbeatMs);
  try {
    for (const [index, step] of steps.entries()) {
      const percent = Math.floor((100 * index) / steps.length);
      // Progress only, never the phase: the operator owns Building, and a worker that outlives
      // its build (cancelled, or its pod lost) must not bring a finished build back to life.
      await patch({ progress: { step, stepIndex: index + 1, totalSteps: steps.length, percent } });
      log("step started", { step, index: index + 1, total: steps.length });
      if (outlived.signal.aborted) return stopped(outlived.signal.reason);
      try {
        await sleep(stepMs, undefined, { signal });
      } catch (err) {
        if (outlived.signal.aborted && !opts.signal.aborted) return stopped(outlived.signal.reason);
        throw err;
      }
      if (step === failAt) {
        const message = `step ${step} failed (simulated by spec.build.simulate.failAt)${note}`;
        await finish(opts, { phase: "Failed", failedStep: step, message });
        return { ok: false, step, message };
      }
    }
    const result = succeededStatus(spec, opts.repository, origin);
    result.message = `${result.message ?? ""}${note}`;
    await finish(opts, result);
    return { ok: true, message: result.message ?? "" };
  } finally {
    clearInterval(heartbeat);
  }
}

function stopped(reason: unknown): BuildOutcome {
  const why = reason instanceof Error ? reason.message : String(reason);
  return { ok: false, message: `stopped: this worker may no longer write its build (${why})` };
}

/** "; arm64 emulated on amd64" when the build ran emulated, else "". */
export function emulationNote(spec: ImageSpec, emulatedOn: string | undefined, rootBase?: ImageBase): string {
  return emulatedOn ? `; ${arch(spec, rootBase)} emulated on ${emulatedOn}` : "";
}

/** A successful build's result: one artifact per format, progress at 100%. */
export function succeededStatus(
  spec: ImageSpec,
  repository: string,
  origin: BuildOrigin = {},
): ImageBuildStatus {
  const steps = planSteps(spec);
  const artifacts = spec.formats.map((format) => artifactFor(spec, format, repository, origin));
  return {
    phase: "Succeeded",
    artifacts,
    message: `built ${artifacts.length} artifact${artifacts.length === 1 ? "" : "s"}: ${spec.formats.join(", ")}`,
    progress: { step: "done", stepIndex: steps.length, totalSteps: steps.length, percent: 100 },
  };
}

/**
 * The terminal write is guarded by resourceVersion: if the operator cancelled or failed the
 * build meanwhile, its verdict stands and the worker's result is dropped. Exported for the
 * benchmark, whose simulated workers make exactly this write.
 */
export async function finish(opts: WorkerOptions, status: ImageBuildStatus): Promise<void> {
  const { client, target } = opts;
  const readBuild = () =>
    patiently("reading the ImageBuild", opts, () => client.imageBuilds.get(target.namespace, target.name));
  let current: ImageBuild | undefined = await readBuild();
  for (let attempt = 0; attempt < 5 && current; attempt++) {
    if (isTerminal(current)) return;
    const read = current;
    const result: ImageBuildStatus = {
      ...status,
      // The outcome condition too, so the operator need not write it after us.
      conditions: setCondition(
        read.status?.conditions,
        {
          type: "Succeeded",
          status: status.phase === "Succeeded" ? "True" : "False",
          reason: status.phase === "Succeeded" ? "BuildSucceeded" : "StepFailed",
          message: status.message ?? "",
        },
        new Date(),
      ),
      completionTime: new Date().toISOString(),
      heartbeatTime: new Date().toISOString(),
    };
    const written = await patiently("recording the result", opts, () =>
      client.imageBuilds.patchStatusIfCurrent(read, result),
    );
    if (written) return;
    current = await readBuild(); // Changed (or gone) meanwhile: look again.
  }
}
