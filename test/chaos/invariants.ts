// What must hold once the faults stop and golden has had time to converge. Every check returns
// violations as sentences (empty = fine), so one run reports everything that went wrong.
import { setTimeout as sleep } from "node:timers/promises";
import type { V1Job } from "@kubernetes/client-node";
import type { Image, ImageBuild } from "../../src/api/v1alpha1/index.js";
import { ANNOTATIONS } from "../../src/build/names.js";
import { rebuildKey } from "../../src/controllers/handled-triggers.js";
import { batch, golden } from "../integration/cluster.js";
import { sinceStart } from "./clock.js";
import type { OperatorFleet } from "./operators.js";
import { type BuildLog, type BuildRecord, type JobLog, triggerIdOf } from "./watch.js";
import { SCHEDULED_LABEL } from "./workload.js";

const TERMINAL = new Set(["Succeeded", "Failed", "Cancelled"]);
const WORKER_SELECTOR = "app.kubernetes.io/managed-by=golden";

export interface Snapshot {
  images: Image[];
  builds: ImageBuild[];
  jobs: V1Job[];
}

export async function snapshot(namespaces: string[]): Promise<Snapshot> {
  const per = await Promise.all(
    namespaces.map(async (namespace) => {
      const [images, builds, jobs] = await Promise.all([
        golden.images.list(namespace),
        golden.imageBuilds.list(namespace),
        batch.listNamespacedJob({ namespace, labelSelector: WORKER_SELECTOR }),
      ]);
      return { images: images.items, builds: builds.items, jobs: jobs.items };
    }),
  );
  return {
    images: per.flatMap((p) => p.images),
    builds: per.flatMap((p) => p.builds),
    jobs: per.flatMap((p) => p.jobs),
  };
}

const ready = (image: Image) => image.status?.conditions?.find((c) => c.type === "Ready");
const key = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace}/${o.metadata?.name}`;
export const jobFinished = (job: V1Job) =>
  (job.status?.conditions ?? []).some(
    (c) =>
      c.status === "True" && ["Complete", "Failed", "SuccessCriteriaMet", "FailureTarget"].includes(c.type),
  );

/** Why an Image has not settled at its current generation, or undefined when it has. */
export function unsettled(image: Image): string | undefined {
  const s = image.status;
  const generation = image.metadata?.generation;
  if (!s) return "no status";
  // Triggers not built yet: a rebuild token, a schedule slot due within the run (workload.ts).
  const token = image.metadata?.annotations?.[ANNOTATIONS.rebuild];
  if (token && s.handledRebuild !== rebuildKey(token)) return `rebuild ${token} not started yet`;
  if (image.metadata?.labels?.[SCHEDULED_LABEL] === "true" && !s.handledScheduleTime)
    return "its scheduled slot not built yet";
  if (s.phase !== "Succeeded" && s.phase !== "Failed")
    return `phase ${s.phase ?? "(none)"}: ${s.message ?? ""}`;
  if (s.observedGeneration !== generation)
    return `observedGeneration ${s.observedGeneration} != generation ${generation}`;
  const r = ready(image);
  if (!r?.reason) return "no Ready condition with a reason";
  if (r.observedGeneration !== generation)
    return `Ready.observedGeneration ${r.observedGeneration} != ${generation}`;
  return undefined;
}

/** The build's phase changed after it had reached a terminal one. */
function leftTerminal(r: BuildRecord): boolean {
  const first = r.phases.findIndex((p) => TERMINAL.has(p));
  return first >= 0 && r.phases.slice(first).some((p) => p !== r.phases[first]);
}

/** Waits until every Image settled, every build is terminal and no Job is active. */
export async function waitForConvergence(
  namespaces: string[],
  timeoutMs: number,
  log: (msg: string) => void,
): Promise<{ converged: boolean; waitedMs: number; pending: string[] }> {
  const started = Date.now();
  let pending: string[] = [];
  let lastReport = 0;
  while (Date.now() - started < timeoutMs) {
    try {
      const snap = await snapshot(namespaces);
      pending = [
        ...snap.images.flatMap((i) => {
          const why = unsettled(i);
          return why ? [`Image ${key(i)}: ${why}`] : [];
        }),
        ...snap.builds
          .filter((b) => !TERMINAL.has(b.status?.phase ?? ""))
          .map((b) => `ImageBuild ${key(b)}: phase ${b.status?.phase ?? "(none)"}`),
        ...snap.jobs.filter((j) => !jobFinished(j)).map((j) => `Job ${key(j)} still active`),
      ];
      if (pending.length === 0) return { converged: true, waitedMs: Date.now() - started, pending };
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        log(`converging: ${pending.length} pending, e.g. ${pending.slice(0, 3).join("; ")}`);
      }
    } catch (err) {
      pending = [`API unavailable: ${String(err)}`];
    }
    await sleep(1_000);
  }
  return { converged: false, waitedMs: Date.now() - started, pending };
}

/** Ready's reasons that tell a build's outcome, not a problem with the spec. */
const BUILD_OUTCOME_REASONS = new Set(["BuildInProgress", "BuildFailed", "BuildCancelled", "RetryPending"]);

/** Status of settled Images is complete and consistent with their builds. */
export function checkImages(snap: Snapshot, workload?: Set<string>): string[] {
  const problems: string[] = [];
  const builds = new Map(snap.builds.map((b) => [key(b), b]));
  for (const image of snap.images) {
    if (workload && !workload.has(key(image))) continue;
    const k = key(image);
    const why = unsettled(image);
    if (why) {
      problems.push(`Image ${k} did not settle: ${why}`);
      continue;
    }
    const s = image.status ?? {};
    const r = ready(image);
    if (!s.message) problems.push(`Image ${k}: ${s.phase} without a status message`);
    if (!r?.message && s.phase === "Failed") problems.push(`Image ${k}: Failed without a Ready message`);
    // Ready means artifacts of the current generation are available: always once Succeeded, and
    // beside a rebuild of the same generation that failed or was cancelled; never without them.
    const served = builds.get(`${image.metadata?.namespace}/${s.lastSuccessfulBuild}`);
    const current =
      served?.status?.phase === "Succeeded" && served.spec.imageGeneration === image.metadata?.generation;
    if (s.phase === "Succeeded" && r?.status !== "True")
      problems.push(`Image ${k}: phase ${s.phase} but Ready=${r?.status} (${r?.reason})`);
    if (r?.status === "True" && !current)
      problems.push(
        `Image ${k}: Ready (${r.reason}) without a success of generation ${image.metadata?.generation} (lastSuccessfulBuild ${s.lastSuccessfulBuild ?? "none"})`,
      );
    if (r?.status !== "True" && current && BUILD_OUTCOME_REASONS.has(r?.reason ?? ""))
      problems.push(
        `Image ${k}: Ready=${r?.status} (${r?.reason}) though ${s.lastSuccessfulBuild}'s artifacts are of its generation`,
      );
    if (s.phase === "Succeeded") {
      const last = builds.get(`${image.metadata?.namespace}/${s.lastSuccessfulBuild}`);
      if (!last)
        problems.push(
          `Image ${k}: Succeeded, but lastSuccessfulBuild ${s.lastSuccessfulBuild} does not exist`,
        );
      else if (last.spec.imageGeneration !== image.metadata?.generation || last.status?.phase !== "Succeeded")
        problems.push(
          `Image ${k}: Succeeded at generation ${image.metadata?.generation}, but lastSuccessfulBuild ` +
            `${s.lastSuccessfulBuild} is generation ${last.spec.imageGeneration}, ${last.status?.phase}`,
        );
      const formats = (s.artifacts ?? []).map((a) => a.format).sort();
      if (formats.join() !== [...image.spec.formats].sort().join())
        problems.push(
          `Image ${k}: artifacts ${formats.join()} do not match formats ${image.spec.formats.join()}`,
        );
      for (const a of s.artifacts ?? [])
        if (!/^sha256:[a-f0-9]{64}$/.test(a.digest ?? ""))
          problems.push(`Image ${k}: artifact digest ${a.digest}`);
    }
  }
  return problems;
}

/**
 * What one successful build answers: a rebuild token or a schedule slot (once per Image, whatever
 * the generation), or else a generation.
 */
const triggerKey = (r: { imageUid: string; generation: number; triggerId?: string }) =>
  r.triggerId ? `${r.imageUid}#${r.triggerId}` : `${r.imageUid}@${r.generation}`;

/**
 * At most one successful build per trigger (an Image's generation, rebuild token or schedule
 * slot) over the whole run (from the watch log, so builds pruned meanwhile count too); at least
 * one for the generation an Image settled Succeeded at, none for the trigger of the build it
 * settled Failed with; and a terminal phase is final.
 */
export function checkBuilds(
  snap: Snapshot,
  log: BuildLog,
  namespaces: Set<string>,
  workload?: Set<string>,
): string[] {
  const problems: string[] = [];
  const records = new Map<string, BuildRecord>(log.inNamespaces(namespaces).map((r) => [r.uid, r]));
  for (const b of snap.builds) {
    const uid = b.metadata?.uid ?? "";
    if (b.status?.phase !== "Succeeded") continue;
    const seen = records.get(uid);
    // The snapshot may be ahead of the watch log (its Succeeded event still in flight).
    if (seen) records.set(uid, { ...seen, everSucceeded: true });
    else {
      records.set(uid, {
        namespace: b.metadata?.namespace ?? "",
        name: b.metadata?.name ?? "",
        uid,
        imageName: b.spec.imageName,
        imageUid: b.metadata?.ownerReferences?.find((o) => o.kind === "Image")?.uid ?? "",
        generation: b.spec.imageGeneration,
        attempt: b.spec.attempt ?? 1,
        trigger: b.spec.trigger,
        ...triggerIdOf(b),
        phases: ["Succeeded"],
        phaseTimes: [Date.now()],
        everSucceeded: true,
        deleted: false,
      });
    }
  }
  const successes = new Map<string, BuildRecord[]>();
  for (const r of records.values()) {
    if (leftTerminal(r))
      problems.push(
        `ImageBuild ${r.namespace}/${r.name} left its terminal phase: ${r.phases.join(" → ")} ` +
          `(generation ${r.generation}, attempt ${r.attempt})`,
      );
    if (!r.everSucceeded) continue;
    const k = triggerKey(r);
    successes.set(k, [...(successes.get(k) ?? []), r]);
  }
  const describe = (r: BuildRecord) =>
    `${r.name} (attempt ${r.attempt}, ${r.trigger}: ${r.phases.join(" → ")})`;
  for (const list of successes.values()) {
    if (list.length > 1) {
      const first = list[0] as BuildRecord;
      const what = first.triggerId ? `trigger ${first.triggerId}` : `generation ${first.generation}`;
      problems.push(
        `Image ${first.namespace}/${first.imageName} ${what} succeeded ${list.length} times: ` +
          list.map(describe).join(", "),
      );
    }
  }
  for (const image of snap.images) {
    if (workload && !workload.has(key(image))) continue;
    if (unsettled(image)) continue;
    const uid = image.metadata?.uid ?? "";
    const generation = image.metadata?.generation ?? 0;
    const ofGeneration = [...successes.values()]
      .flat()
      .filter((r) => r.imageUid === uid && r.generation === generation);
    if (image.status?.phase === "Succeeded" && ofGeneration.length === 0)
      problems.push(`Image ${key(image)} Succeeded at generation ${generation} with no successful build`);
    // Failed: the trigger of the build it failed with (its retries included) never succeeded.
    const latest = snap.builds.find(
      (b) =>
        b.metadata?.namespace === image.metadata?.namespace && b.metadata?.name === image.status?.latestBuild,
    );
    const list = latest
      ? (successes.get(triggerKey({ imageUid: uid, generation, ...triggerIdOf(latest) })) ?? [])
      : [];
    if (image.status?.phase === "Failed" && list.length !== 0)
      problems.push(
        `Image ${key(image)} settled Failed (${ready(image)?.reason}) at generation ${image.metadata?.generation}, ` +
          `but ${list.length} build(s) of that generation succeeded: ${list.map(describe).join(", ")}`,
      );
  }
  return problems;
}

/** Every golden Job's ImageBuild and every ImageBuild's Image still exist (waits for the GC). */
export async function checkOrphans(namespaces: string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let problems: string[] = [];
  do {
    const snap = await snapshot(namespaces);
    const buildUids = new Set(snap.builds.map((b) => b.metadata?.uid));
    const imageUids = new Set(snap.images.map((i) => i.metadata?.uid));
    problems = [
      ...snap.jobs
        .filter((j) => {
          const owner = j.metadata?.ownerReferences?.find((o) => o.kind === "ImageBuild");
          return !owner || !buildUids.has(owner.uid);
        })
        .map((j) => `orphaned Job ${key(j)} (owner ImageBuild gone)`),
      ...snap.builds
        .filter((b) => {
          const owner = b.metadata?.ownerReferences?.find((o) => o.kind === "Image");
          return !owner || !imageUids.has(owner.uid);
        })
        .map((b) => `orphaned ImageBuild ${key(b)} (owner Image gone)`),
    ];
    if (problems.length === 0) return [];
    await sleep(1_000);
  } while (Date.now() < deadline);
  return problems;
}

export interface Limits {
  cluster: number;
  namespace: (ns: string) => number | undefined;
}

/** The queue limits held at every moment of the Job and pod watch log. */
export function checkQueueLimits(
  jobs: JobLog,
  builds: BuildLog,
  namespaces: string[],
  limits: Limits,
): string[] {
  const problems: string[] = [];
  // Each Job at the worst moment, with its events and its build's phases: enough to tell a
  // scheduling bug from a Job the apiserver was still deleting.
  const explain = (active: string[]) =>
    active
      .map((key) => {
        const { text, ownerUid } = jobs.history(key, sinceStart);
        const build = ownerUid ? builds.timeline(ownerUid, sinceStart) : "no owner";
        return `\n    build ${key}: ${text}\n      its ImageBuild: ${build}`;
      })
      .join("");
  const all = jobs.maxActive(new Set(namespaces));
  if (all.max > limits.cluster)
    problems.push(
      `${all.max} builds running at once (limit ${limits.cluster}) at ${sinceStart(all.at)} (${new Date(all.at).toISOString()}):${explain(all.running)}`,
    );
  for (const ns of namespaces) {
    const limit = limits.namespace(ns);
    if (limit === undefined) continue;
    const one = jobs.maxActive(new Set([ns]));
    if (one.max > limit)
      problems.push(
        `${one.max} builds running at once in ${ns} (limit ${limit}) at ${sinceStart(one.at)}:${explain(one.running)}`,
      );
  }
  return problems;
}

export function checkOperatorExits(fleet: OperatorFleet, since = 0, allowLeaseLoss = true): string[] {
  return fleet
    .exitsSince(since)
    .filter((e) => e.kind === "unexpected" || (!allowLeaseLoss && e.kind === "lease-lost"))
    .map(
      (e) =>
        `operator ${e.replica} (pid ${e.pid}) exited code=${e.code} signal=${e.signal} (${e.kind}); ` +
        `log ${e.logFile}:\n${e.tail}`,
    );
}
