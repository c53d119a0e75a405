// Images, ImageBuilds and Jobs for tests: one factory per kind, every field overridable. A test
// names only what it is about; the rest is a small, valid object.
import type { V1Job, V1JobCondition, V1ObjectMeta } from "@kubernetes/client-node";
import type {
  BuildTrigger,
  Image,
  ImageBuild,
  ImageBuildPhase,
  ImageBuildStatus,
  ImageSpec,
  ImageStatus,
} from "../../src/api/v1alpha1/index.js";
import { API_VERSION, IMAGE_BUILD_KIND, IMAGE_KIND } from "../../src/api/v1alpha1/index.js";

/** The spec every fixture builds unless told otherwise: the smallest valid one. */
export function imageSpec(overrides: Partial<ImageSpec> = {}): ImageSpec {
  return { base: { os: "ubuntu", release: "24.04" }, formats: ["qcow2"], ...overrides };
}

export interface ImageOptions {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: Date | string;
  annotations?: Record<string, string>;
  spec?: Partial<ImageSpec>;
  status?: ImageStatus;
  /** Merged over the metadata the options above make. */
  metadata?: V1ObjectMeta;
}

export function image(o: ImageOptions = {}): Image {
  const name = o.name ?? "web";
  return {
    apiVersion: API_VERSION,
    kind: IMAGE_KIND,
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      uid: o.uid ?? `uid-${name}`,
      generation: o.generation ?? 1,
      ...(o.resourceVersion !== undefined ? { resourceVersion: o.resourceVersion } : {}),
      ...(o.creationTimestamp !== undefined ? { creationTimestamp: o.creationTimestamp as Date } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...o.metadata,
    },
    spec: imageSpec(o.spec),
    ...(o.status ? { status: o.status } : {}),
  };
}

export interface BuildOptions {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  /** When it was created: a Date, an ISO string, or seconds after BASE_TIME. */
  created?: Date | string | number;
  imageName?: string;
  generation?: number;
  /** Left out of the spec when undefined (the schema's default is 1). */
  attempt?: number;
  trigger?: BuildTrigger;
  spec?: Partial<ImageSpec>;
  phase?: ImageBuildPhase;
  /** Merged over `phase`. */
  status?: ImageBuildStatus;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Merged over the metadata the options above make. */
  metadata?: V1ObjectMeta;
}

/** The time fixtures count from: `created: 90` is 90 s after it. */
export const BASE_TIME = Date.parse("2025-03-01T00:00:00.000Z");

/** BASE_TIME plus `seconds`, as an ISO string. */
export function at(seconds: number): string {
  return new Date(BASE_TIME + seconds * 1000).toISOString();
}

export function build(o: BuildOptions = {}): ImageBuild {
  const imageName = o.imageName ?? "web";
  const name = o.name ?? `${imageName}-g${o.generation ?? 1}-abcdef`;
  const created =
    typeof o.created === "number" ? new Date(BASE_TIME + o.created * 1000) : (o.created as Date | undefined);
  const status = o.phase || o.status ? { ...(o.phase ? { phase: o.phase } : {}), ...o.status } : undefined;
  return {
    apiVersion: API_VERSION,
    kind: IMAGE_BUILD_KIND,
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      uid: o.uid ?? `uid-${name}`,
      ...(o.resourceVersion !== undefined ? { resourceVersion: o.resourceVersion } : {}),
      ...(created !== undefined ? { creationTimestamp: created } : {}),
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...o.metadata,
    },
    spec: {
      imageName,
      imageGeneration: o.generation ?? 1,
      ...(o.attempt !== undefined ? { attempt: o.attempt } : {}),
      trigger: o.trigger ?? "Created",
      image: imageSpec(o.spec),
    },
    ...(status ? { status } : {}),
  };
}

export interface JobOptions {
  namespace?: string;
  /** A finished Job's last condition: Complete, or Failed with a reason. */
  condition?: V1JobCondition;
  ready?: number;
  creationTimestamp?: Date | string;
  /** The controlling ImageBuild's uid (build() fixtures use uid-<name>); null: no owner (not a build's Job). */
  ownerUid?: string | null;
  /** The Job's own uid; default uid-job-<namespace>-<name> (what the pod fixtures' owner names). */
  uid?: string;
}

/** A build's Job, which carries the build's name and is controlled by it. */
export function job(name: string, o: JobOptions = {}): V1Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      uid: o.uid ?? `uid-job-${o.namespace ?? "default"}-${name}`,
      ...(o.creationTimestamp !== undefined ? { creationTimestamp: o.creationTimestamp as Date } : {}),
      ...(o.ownerUid === null
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: "golden.dev/v1alpha1",
                kind: "ImageBuild",
                name,
                uid: o.ownerUid ?? `uid-${name}`,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }),
    },
    status: {
      ...(o.condition ? { conditions: [o.condition] } : {}),
      ...(o.ready !== undefined ? { ready: o.ready } : {}),
    },
  };
}
