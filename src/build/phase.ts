// A build's phases: which are final. The image controller, the ImageBuild controller, the
// scheduler and the worker all ask this of a build, and must agree.
import type { ImageBuild, ImageBuildPhase } from "../api/v1alpha1/index.js";

export const TERMINAL_PHASES: ReadonlySet<ImageBuildPhase> = new Set(["Succeeded", "Failed", "Cancelled"]);

/** Succeeded, Failed or Cancelled: nothing moves the build on any more. */
export function isTerminalPhase(phase: ImageBuildPhase | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.has(phase);
}

export function isTerminal(build: ImageBuild): boolean {
  return isTerminalPhase(build.status?.phase);
}
