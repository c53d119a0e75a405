// Which OS releases golden can build today. The list changes as releases reach end of life,
// so it is checked by the operator (Ready=False, reason UnsupportedRelease), not baked into the
// CRD schema where a change would need a new API version.
import type { ImageSpec } from "../api/v1alpha1/index.js";

type Os = ImageSpec["base"]["os"];

const SUPPORTED: Record<Os, RegExp> = {
  ubuntu: /^(20\.04|22\.04|24\.04|25\.04|25\.10|26\.04|focal|jammy|noble|plucky|questing|resolute)$/,
  debian: /^(11|12|13|bullseye|bookworm|trixie)$/,
  rhel: /^(8|9|10)(\.\d+)?$/,
  rocky: /^(8|9|10)(\.\d+)?$/,
  almalinux: /^(8|9|10)(\.\d+)?$/,
  fedora: /^(41|42|43|44)$/,
  sles: /^(15-SP[5-7]|16\.0)$/,
};

const EXAMPLES: Record<Os, string> = {
  ubuntu: "20.04, 22.04, 24.04, 25.04, 25.10, 26.04 (or focal, jammy, noble, plucky, questing, resolute)",
  debian: "11, 12, 13 (or bullseye, bookworm, trixie)",
  rhel: "8, 9, 10 (optionally with a minor, e.g. 9.4)",
  rocky: "8, 9, 10 (optionally with a minor, e.g. 9.4)",
  almalinux: "8, 9, 10 (optionally with a minor, e.g. 9.4)",
  fedora: "41, 42, 43, 44",
  sles: "15-SP5, 15-SP6, 15-SP7, 16.0",
};

export interface SpecProblem {
  reason: string;
  field: string;
  message: string;
}

/** What the apiserver could not judge about a spec; undefined when golden can build it. */
export function checkSupported(spec: ImageSpec): SpecProblem | undefined {
  const { os, release } = spec.base;
  if (!SUPPORTED[os].test(release)) {
    return {
      reason: "UnsupportedRelease",
      field: "spec.base.release",
      message: `spec.base.release: ${os} ${release} is not a release golden can build; supported: ${EXAMPLES[os]}`,
    };
  }
  return undefined;
}
