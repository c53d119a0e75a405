// A build's inputs: those resolved when it was created (spec.inputs), completed by those known only
// once it finished (status.inputs, e.g. the parent's version).
import type { BuildInputs, ImageBuild } from "../api/v1alpha1/index.js";

export function inputsOf(build: ImageBuild | undefined): BuildInputs {
  return { ...build?.spec.inputs, ...build?.status?.inputs };
}
