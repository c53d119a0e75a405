// Watch logs that survive the faults a chaos run injects. test/integration/watch-log.ts holds one
// watch, which ends for good when the apiserver restarts; these re-watch from the last
// resourceVersion, and relist (diffing against what they knew, so deletions in the gap are not
// lost) when the apiserver answers 410 Gone. They are independent of golden's own informers, so
// a bug there cannot hide itself.
import { setTimeout as sleep } from "node:timers/promises";
import {
  type KubeConfig,
  type KubernetesObject,
  type V1Job,
  type V1Pod,
  Watch,
} from "@kubernetes/client-node";
import type { ImageBuild } from "../../src/api/v1alpha1/index.js";
import { batch, core, kc as defaultKc, golden } from "../integration/cluster.js";
import {
  BUILD_POD_SELECTOR,
  type MaxRunning,
  maxRunning,
  podRunEvent,
  type RunEvent,
  revision,
} from "../support/running-builds.js";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

/**
 * How long start() retries a first list that fails. Later lists fail while the apiserver restarts
 * and are retried for as long as the run lasts; a first list that keeps failing is a cluster the
 * run cannot use (no CRDs: `make install`), said at once rather than at the test's timeout.
 */
const FIRST_LIST_TIMEOUT_MS = 30_000;

interface Listed<T> {
  items: T[];
  resourceVersion: string;
}

export class ResilientWatch<T extends KubernetesObject> {
  relists = 0;
  rewatches = 0;
  private rv: string | undefined;
  private listed = false;
  private readonly known = new Map<string, T>();
  private stopped = false;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private readonly synced = Promise.withResolvers<void>();

  constructor(
    private readonly opts: {
      path: string;
      labelSelector?: string;
      list: () => Promise<Listed<T>>;
      onEvent: (type: EventType, obj: T) => void;
      kc?: KubeConfig;
    },
  ) {}

  /** Resolves once the first list has been applied; rejects when it keeps failing. */
  async start(): Promise<void> {
    this.loop = this.run(Date.now());
    await this.synced.promise;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop;
  }

  private async run(startedAt: number): Promise<void> {
    let synced = false;
    while (!this.stopped) {
      if (this.rv === undefined) {
        try {
          this.relist(await this.opts.list());
          this.synced.resolve();
          synced = true;
        } catch (err) {
          if (!synced && Date.now() - startedAt > FIRST_LIST_TIMEOUT_MS) {
            this.synced.reject(new Error(`cannot list ${this.opts.path}: ${String(err)}`));
            return;
          }
          await sleep(500);
          continue;
        }
      }
      const ended = await this.watchOnce();
      if (this.stopped) return;
      if (ended === "gone") this.rv = undefined;
      this.rewatches++;
      await sleep(200);
    }
  }

  private relist(list: Listed<T>): void {
    if (this.listed) this.relists++;
    this.listed = true;
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = keyOf(obj);
      seen.add(key);
      const before = this.known.get(key);
      this.known.set(key, obj);
      if (!before || before.metadata?.uid !== obj.metadata?.uid) {
        if (before) this.opts.onEvent("DELETED", before);
        this.opts.onEvent("ADDED", obj);
      } else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.opts.onEvent("MODIFIED", obj);
      }
    }
    for (const [key, obj] of this.known) {
      if (seen.has(key)) continue;
      this.known.delete(key);
      this.opts.onEvent("DELETED", obj);
    }
    this.rv = list.resourceVersion;
  }

  /** One watch connection, until it ends; "gone" when the resourceVersion is too old. */
  private async watchOnce(): Promise<"gone" | "ended"> {
    let gone = false;
    const done = Promise.withResolvers<void>();
    try {
      this.abort = await new Watch(this.opts.kc ?? defaultKc).watch(
        this.opts.path,
        {
          allowWatchBookmarks: true,
          resourceVersion: this.rv,
          ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
        },
        (type: string, obj: T & { code?: number }) => {
          if (type === "ERROR") {
            if (obj.code === 410) gone = true;
            this.abort?.abort();
            return;
          }
          const rv = obj.metadata?.resourceVersion;
          if (rv) this.rv = rv;
          if (type === "BOOKMARK") return;
          const key = keyOf(obj);
          if (type === "DELETED") this.known.delete(key);
          else this.known.set(key, obj);
          this.opts.onEvent(type as EventType, obj);
        },
        (err: unknown) => {
          if ((err as { statusCode?: number } | null)?.statusCode === 410) gone = true;
          done.resolve();
        },
      );
    } catch {
      done.resolve();
    }
    // Aborting from stop() does not always reach the done callback before the fetch settles.
    const stopped = new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        if (this.stopped) {
          clearInterval(tick);
          resolve();
        }
      }, 200);
      done.promise.then(() => clearInterval(tick));
    });
    await Promise.race([done.promise, stopped]);
    return gone ? "gone" : "ended";
  }
}

function keyOf(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

export interface JobEvent {
  type: EventType;
  namespace: string;
  name: string;
  uid: string;
  finished: boolean;
  /** The Job has a deletionTimestamp: going, but its pods may still run. */
  deleting: boolean;
  ownerUid: string | undefined;
  at: number;
}

function jobFinished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some(
    (c) =>
      c.status === "True" &&
      (c.type === "Complete" ||
        c.type === "Failed" ||
        c.type === "SuccessCriteriaMet" ||
        c.type === "FailureTarget"),
  );
}

/** Every event of golden's Jobs and build pods, across apiserver restarts. */
export class JobLog {
  readonly events: JobEvent[] = [];
  /** Job and pod events together, in arrival order: what runs when (support/running-builds.ts). */
  readonly runEvents: RunEvent[] = [];
  readonly podWatch = new ResilientWatch<V1Pod>({
    path: "/api/v1/pods",
    labelSelector: BUILD_POD_SELECTOR,
    list: async () => {
      const list = await core.listPodForAllNamespaces({ labelSelector: BUILD_POD_SELECTOR });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
    },
    onEvent: (type, pod) => this.runEvents.push(podRunEvent(type, pod)),
  });
  readonly watch = new ResilientWatch<V1Job>({
    path: "/apis/batch/v1/jobs",
    labelSelector: "app.kubernetes.io/managed-by=golden",
    list: async () => {
      const list = await batch.listJobForAllNamespaces({
        labelSelector: "app.kubernetes.io/managed-by=golden",
      });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
    },
    onEvent: (type, job) => {
      const at = Date.now();
      const finished = jobFinished(job);
      this.events.push({
        type,
        namespace: job.metadata?.namespace ?? "",
        name: job.metadata?.name ?? "",
        uid: job.metadata?.uid ?? "",
        finished,
        deleting: job.metadata?.deletionTimestamp !== undefined,
        ownerUid: job.metadata?.ownerReferences?.find((o) => o.kind === "ImageBuild")?.uid,
        at,
      });
      this.runEvents.push({
        kind: "job",
        type,
        namespace: job.metadata?.namespace ?? "",
        build: job.metadata?.name ?? "",
        jobUid: job.metadata?.uid,
        ended: finished,
        at,
        rv: revision(job),
      });
    },
  });

  /** The most builds running at once (a Job or pod still at work), and when. */
  maxActive(namespaces?: Set<string>): MaxRunning {
    return maxRunning(this.runEvents, namespaces);
  }

  /**
   * One build's Job and pod events (key namespace/name, as maxActive reports it), e.g.
   * "Job ADDED +3.1s, pod MODIFIED(ended) +8.2s, Job MODIFIED(finished) +9.0s".
   */
  history(key: string, when: (at: number) => string): { text: string; ownerUid: string | undefined } {
    const jobEvents = this.events.filter((e) => `${e.namespace}/${e.name}` === key);
    const byTime = this.runEvents.filter((e) => `${e.namespace}/${e.build}` === key);
    const text = byTime
      .map((e) => {
        const job = e.kind === "job" ? jobEvents.find((j) => j.at === e.at && j.type === e.type) : undefined;
        const marks = [e.ended && (e.kind === "job" ? "finished" : "ended"), job?.deleting && "deleting"]
          .filter(Boolean)
          .join(",");
        return `${e.kind === "job" ? "Job" : "pod"} ${e.type}${marks ? `(${marks})` : ""} ${when(e.at)}`;
      })
      .join(", ");
    return { text, ownerUid: jobEvents.find((e) => e.ownerUid)?.ownerUid };
  }

  /** Distinct Jobs (by uid) seen in these namespaces. */
  jobsCreated(namespaces?: Set<string>): number {
    return new Set(this.events.filter((e) => !namespaces || namespaces.has(e.namespace)).map((e) => e.uid))
      .size;
  }
}

export interface BuildRecord {
  namespace: string;
  name: string;
  uid: string;
  imageName: string;
  imageUid: string;
  generation: number;
  attempt: number;
  trigger: string;
  /** The rebuild token or schedule slot it was built for (annotation golden.dev/trigger-id); retries inherit it. */
  triggerId?: string;
  phases: string[];
  /** When each of phases was first seen (epoch ms). */
  phaseTimes: number[];
  /** When the watch first saw a deletionTimestamp on it, and when it saw it go. */
  deletingAt?: number;
  deletedAt?: number;
  everSucceeded: boolean;
  deleted: boolean;
}

export function triggerIdOf(b: ImageBuild): { triggerId?: string } {
  const id = b.metadata?.annotations?.["golden.dev/trigger-id"];
  return id ? { triggerId: id } : {};
}

/** What happened to every ImageBuild: the phases it went through, whether it ever succeeded. */
export class BuildLog {
  readonly builds = new Map<string, BuildRecord>();
  readonly watch = new ResilientWatch<ImageBuild>({
    path: "/apis/golden.dev/v1alpha1/imagebuilds",
    list: async () => {
      const list = await golden.imageBuilds.list();
      return { items: list.items, resourceVersion: list.resourceVersion };
    },
    onEvent: (type, b) => {
      const uid = b.metadata?.uid ?? "";
      const rec: BuildRecord = this.builds.get(uid) ?? {
        namespace: b.metadata?.namespace ?? "",
        name: b.metadata?.name ?? "",
        uid,
        imageName: b.spec?.imageName ?? "",
        imageUid: b.metadata?.ownerReferences?.find((o) => o.kind === "Image")?.uid ?? "",
        generation: b.spec?.imageGeneration ?? 0,
        attempt: b.spec?.attempt ?? 1,
        trigger: b.spec?.trigger ?? "",
        ...triggerIdOf(b),
        phases: [],
        phaseTimes: [],
        everSucceeded: false,
        deleted: false,
      };
      const phase = b.status?.phase ?? "(none)";
      const now = Date.now();
      if (rec.phases.at(-1) !== phase) {
        rec.phases.push(phase);
        rec.phaseTimes.push(now);
      }
      if (b.metadata?.deletionTimestamp && rec.deletingAt === undefined) rec.deletingAt = now;
      if (type === "DELETED") rec.deletedAt ??= now;
      if (phase === "Succeeded") rec.everSucceeded = true;
      if (type === "DELETED") rec.deleted = true;
      this.builds.set(uid, rec);
    },
  });

  /** A build's phases with when each was seen, e.g. "Queued +1.0s, Building +2.5s, deleted +9.1s". */
  timeline(uid: string, when: (at: number) => string): string {
    const rec = this.builds.get(uid);
    if (!rec) return "never seen";
    const steps = rec.phases.map((p, i) => `${p} ${when(rec.phaseTimes[i] ?? 0)}`);
    if (rec.deletingAt !== undefined) steps.push(`deleting ${when(rec.deletingAt)}`);
    if (rec.deletedAt !== undefined) steps.push(`deleted ${when(rec.deletedAt)}`);
    return steps.join(", ");
  }

  inNamespaces(namespaces: Set<string>): BuildRecord[] {
    return [...this.builds.values()].filter((b) => namespaces.has(b.namespace));
  }
}
