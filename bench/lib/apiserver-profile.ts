// A CPU profile of the kube-apiserver during a run (BENCH_APISERVER_PROFILE_SECONDS): on a 2-core
// machine the apiserver takes half of it, so what it spends its time on decides how fast every
// client's answer comes, kubectl's pages through the aggregator included. The profile is Go's
// pprof (the apiserver's --profiling, which hack/bench.sh turns on for its cluster); `go tool
// pprof` reads it, and a few of the apiserver's own functions name where the time went.

import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/**
 * The apiserver functions a profile is summarized by, each with its inclusive (cumulative) share.
 * They overlap (a status write is an update too): each is read on its own, not summed.
 */
export const APISERVER_PROFILE_PARTS: Record<string, string> = {
  "custom resources' status writes (golden's ImageBuilds and Images)":
    "k8s.io/apiextensions-apiserver/pkg/registry/customresource.(*StatusREST).Update",
  "pods' status writes (KWOK, the Job controller)":
    "k8s.io/kubernetes/pkg/registry/core/pod/storage.(*StatusREST).Update",
  "every update (status writes included)": "k8s.io/apiserver/pkg/registry/generic/registry.(*Store).Update",
  "every create": "k8s.io/apiserver/pkg/registry/generic/registry.(*Store).Create",
  "serving watches": "k8s.io/apiserver/pkg/endpoints/handlers.(*WatchServer).HandleHTTP",
  "serving lists": "k8s.io/apiserver/pkg/endpoints/handlers.ListResource.func1",
  "validating admission policies (golden's trust policies and deprecated-base warning)":
    "k8s.io/apiserver/pkg/admission/plugin/policy/validating.(*Plugin).Validate",
  "proxying to aggregated APIs (golden's visibility API)":
    "k8s.io/apimachinery/pkg/util/proxy.(*UpgradeAwareHandler).ServeHTTP",
  "garbage collection in the background": "runtime.gcBgMarkWorker",
};

export interface ApiserverProfile {
  file: string;
  seconds: number;
  /** CPU seconds sampled over the profile, all cores (1 core busy throughout = seconds). */
  sampledCpuSeconds?: number;
  /** Inclusive share of the sampled CPU per part (APISERVER_PROFILE_PARTS), 0–1. */
  parts?: Record<string, number>;
  /** Why there is no summary (no Go toolchain, an unreadable profile). */
  error?: string;
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * The rows of `go tool pprof -top -cum`: function name → inclusive share (0–1), and the sampled
 * total from the "Total samples = 62.44s" header.
 */
export function parsePprofTop(text: string): { totalSeconds?: number; cum: Map<string, number> } {
  const total = /Total samples = ([\d.]+)(ms|s|mins)\b/.exec(text);
  const unit = total?.[2] === "ms" ? 0.001 : total?.[2] === "mins" ? 60 : 1;
  const cum = new Map<string, number>();
  // "     0.01s 0.016% 0.016%     26.15s 41.88%  k8s.io/apiserver/...finishRequest.func1"
  const row =
    /^\s*[\d.]+\w*\s+[\d.]+%\s+[\d.]+%\s+[\d.]+\w*\s+([\d.]+)%\s+(.+?)(?:\s+\((?:inline|partial-inline)\))?\s*$/;
  for (const line of text.split("\n")) {
    const m = row.exec(line);
    if (m?.[1] && m[2]) cum.set(m[2], round6(Number(m[1]) / 100));
  }
  return { ...(total?.[1] ? { totalSeconds: round6(Number(total[1]) * unit) } : {}), cum };
}

/** Asks the apiserver for a CPU profile of `seconds` and writes it to `file`; throws when it cannot. */
export async function captureApiserverProfile(opts: {
  kubeconfig: string;
  seconds: number;
  file: string;
  kubectl?: string;
}): Promise<void> {
  const { stdout } = await execFileAsync(
    opts.kubectl ?? "kubectl",
    [
      "--kubeconfig",
      opts.kubeconfig,
      "get",
      "--raw",
      `/debug/pprof/profile?seconds=${opts.seconds}`,
      `--request-timeout=${opts.seconds + 60}s`,
    ],
    { encoding: "buffer", maxBuffer: 256 * 2 ** 20, timeout: (opts.seconds + 90) * 1000 },
  );
  fs.writeFileSync(opts.file, stdout);
}

/** The parts' shares of a captured profile, read with `go tool pprof` against the apiserver binary. */
export async function summarizeApiserverProfile(
  file: string,
  seconds: number,
  binary: string | undefined,
): Promise<ApiserverProfile> {
  try {
    const { stdout } = await execFileAsync(
      "go",
      [
        "tool",
        "pprof",
        "-top",
        "-cum",
        "-nodecount=100000",
        "-nodefraction=0",
        "-edgefraction=0",
        ...(binary ? [binary] : []),
        file,
      ],
      { maxBuffer: 64 * 2 ** 20, timeout: 120_000 },
    );
    const { totalSeconds, cum } = parsePprofTop(stdout);
    const parts = Object.fromEntries(
      Object.entries(APISERVER_PROFILE_PARTS).map(([part, fn]) => [
        part,
        Math.round((cum.get(fn) ?? 0) * 1000) / 1000,
      ]),
    );
    return {
      file,
      seconds,
      ...(totalSeconds !== undefined ? { sampledCpuSeconds: totalSeconds } : {}),
      parts,
    };
  } catch (err) {
    return { file, seconds, error: `go tool pprof: ${(err as Error).message.split("\n")[0]}` };
  }
}
