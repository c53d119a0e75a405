// The batch/v1 Job that runs one ImageBuild's worker: a pure function of the build and config.
import type { V1Job, V1ResourceRequirements, V1Toleration } from "@kubernetes/client-node";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { arch, timeoutSeconds } from "../build/defaults.js";
import { LABELS, MANAGED_BY } from "../build/names.js";
import { ownerReference } from "./owner.js";

/**
 * Where builds of an arm64 Image run. native: on arm64 nodes (nodeSelector kubernetes.io/arch=arm64).
 * emulated: on amd64 nodes, the way CI systems build foreign architectures under emulation (qemu
 * user-mode); the pod is marked and the build's status message says so. amd64 Images always run
 * natively.
 */
export type Arm64Placement = "native" | "emulated";
export const ARM64_PLACEMENTS: readonly Arm64Placement[] = ["native", "emulated"];

/** Annotation on an emulated build's Job and pod: "<target arch>-on-<node arch>", e.g. arm64-on-amd64. */
export const EMULATED_ANNOTATION = "golden.dev/emulated";

export interface WorkerConfig {
  /** golden's container image; it serves both entry points. */
  image: string;
  serviceAccount: string;
  nodeSelector: Record<string, string>;
  tolerations: V1Toleration[];
  resources: V1ResourceRequirements;
  heartbeatSeconds: number;
  /** Slack beyond spec.build.timeoutSeconds before the scheduler's own timeout check fires. */
  timeoutGraceSeconds: number;
  /**
   * How long a finished Job and its pod are kept (ttlSecondsAfterFinished). The pod's bound token
   * stays valid while the pod exists; the ImageBuild keeps the history. Default 3600.
   */
  finishedJobTtlSeconds?: number;
  /** Where arm64 builds run (default native). */
  arm64Placement?: Arm64Placement;
}

/** The arch of the nodes a build for `arch` runs on, and whether it runs emulated there. */
export function nodeArch(
  arch: string,
  placement: Arm64Placement = "native",
): { arch: string; emulated: boolean } {
  if (arch === "arm64" && placement === "emulated") return { arch: "amd64", emulated: true };
  return { arch, emulated: false };
}

export const WORKER_CONTAINER = "worker";
export const DEFAULT_FINISHED_JOB_TTL_SECONDS = 3600;
const NONROOT_UID = 65532;

export function buildJob(build: ImageBuild, cfg: WorkerConfig): V1Job {
  const meta = build.metadata ?? {};
  const name = meta.name ?? "";
  const labels = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.component]: "worker",
    [LABELS.build]: name,
    ...pick(meta.labels, [LABELS.image, LABELS.imageUid, LABELS.generation]),
  };
  const spec = build.spec.image;
  const target = arch(spec, build.spec.rootBase);
  const node = nodeArch(target, cfg.arm64Placement);
  const annotations = node.emulated ? { [EMULATED_ANNOTATION]: `${target}-on-${node.arch}` } : undefined;
  const env = [{ name: "GOLDEN_HEARTBEAT_SECONDS", value: String(cfg.heartbeatSeconds) }];
  // The worker names the emulation in the build's status message.
  if (node.emulated) env.push({ name: "GOLDEN_EMULATED_ON", value: node.arch });
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: meta.namespace,
      labels,
      ...(annotations ? { annotations } : {}),
      ownerReferences: [ownerReference(build)],
    },
    spec: {
      // Retries are golden's (each attempt its own ImageBuild), so the Job itself never retries.
      backoffLimit: 0,
      // An eviction or preemption (the pod's DisruptionTarget condition) is not the build's fault:
      // the Job starts a new pod instead of failing, so it does not burn a retry.
      podFailurePolicy: {
        rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] }],
      },
      activeDeadlineSeconds: timeoutSeconds(spec),
      ttlSecondsAfterFinished: cfg.finishedJobTtlSeconds ?? DEFAULT_FINISHED_JOB_TTL_SECONDS,
      template: {
        metadata: { labels, ...(annotations ? { annotations } : {}) },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: cfg.serviceAccount,
          enableServiceLinks: false,
          // The Image decides the arch; configuration cannot send a build to the wrong one (only
          // run an arm64 build emulated on amd64, when arm64Placement says so).
          nodeSelector: { ...cfg.nodeSelector, "kubernetes.io/arch": node.arch },
          tolerations: cfg.tolerations,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: NONROOT_UID,
            runAsGroup: NONROOT_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: WORKER_CONTAINER,
              image: cfg.image,
              command: ["golden-worker"],
              args: ["--build-name", name, "--build-namespace", meta.namespace ?? ""],
              env,
              resources: cfg.resources,
              terminationMessagePolicy: "FallbackToLogsOnError",
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
  };
}

function pick(from: Record<string, string> | undefined, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (from?.[k] !== undefined) out[k] = from[k];
  return out;
}
