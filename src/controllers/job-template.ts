// The batch/v1 Job that runs one ImageBuild's worker: a pure function of the build and config.
import type { V1Job, V1ResourceRequirements, V1Toleration } from "@kubernetes/client-node";
import type { ImageBuild } from "../api/v1alpha1/index.js";
import { LABELS, MANAGED_BY } from "../build/names.js";
import { ownerReference } from "./owner.js";

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
}

export const WORKER_CONTAINER = "worker";
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
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: meta.namespace, labels, ownerReferences: [ownerReference(build)] },
    spec: {
      // Retries are golden's (each attempt its own ImageBuild), so the Job itself never retries.
      backoffLimit: 0,
      activeDeadlineSeconds: spec.build?.timeoutSeconds ?? 3600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: cfg.serviceAccount,
          enableServiceLinks: false,
          // The Image decides the arch; configuration cannot send a build to the wrong one.
          nodeSelector: { ...cfg.nodeSelector, "kubernetes.io/arch": spec.base.arch ?? "amd64" },
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
              env: [{ name: "GOLDEN_HEARTBEAT_SECONDS", value: String(cfg.heartbeatSeconds) }],
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
