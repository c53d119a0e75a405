// The golden scenario: submit a burst of N Images and play the workers of their builds.
//
// KWOK runs the build pods but nothing runs inside them, so the harness does what golden-worker
// would: once a build is admitted (phase Building) and its Job's pod exists, it runs the worker's
// own code (runBuild from src/worker/build.ts: a progress patch per step, the mocked step time,
// then the resourceVersion-guarded result with artifacts), or only the final result write after
// the same time (mode "result": the worker's own finish() and succeededStatus()). KWOK's
// pod-complete stage is delayed (hack/bench.sh) so the pod ends after the result is in, as a
// real worker's pod would.
import { setTimeout as sleep } from "node:timers/promises";
import { CustomObjectsApi, type KubeConfig, type V1Job, type V1Pod } from "@kubernetes/client-node";
import { GoldenClient } from "../../src/api/client.js";
import {
  API_VERSION,
  IMAGE_BUILD_RESOURCE,
  IMAGE_RESOURCE,
  type Image,
  type ImageBuild,
  type ImageSpec,
} from "../../src/api/v1alpha1/index.js";
import { LABELS } from "../../src/build/names.js";
import { Informer, stripManagedFields } from "../../src/runtime/informer.js";
import type { RestClient } from "../../src/runtime/kube.js";
import { finish, runBuild, succeededStatus } from "../../src/worker/build.js";
import { planSteps } from "../../src/worker/plan.js";
import { completeWorkerPod, pool } from "./kube.js";
import { type Percentiles, type Rate, rate, round, summarize } from "./stats.js";

export type WorkerMode = "steps" | "result";

export const ARTIFACT_REPOSITORY = "oci://artifacts.golden.local/images";

/** The Image every build of the burst builds: 5 mocked steps. */
export function benchImageSpec(stepSeconds: number): ImageSpec {
  return {
    base: { os: "ubuntu", release: "24.04", arch: "amd64" },
    customizations: { packages: ["nginx", "curl"] },
    formats: ["qcow2"],
    build: { simulate: { stepSeconds } },
  };
}

export function mockedBuildMs(spec: ImageSpec): number {
  return planSteps(spec).length * (spec.build?.simulate?.stepSeconds ?? 1) * 1000;
}

interface Track {
  created?: number;
  build?: string;
  buildSeen?: number;
  admitted?: number;
  job?: number;
  pod?: number;
  podName?: string;
  workerStart?: number;
  resultWritten?: number;
  done?: number;
  phase?: string;
  message?: string;
}

/** The moments of a build's life the bench times (epoch ms). */
type Moment = "created" | "buildSeen" | "admitted" | "job" | "pod" | "workerStart" | "resultWritten" | "done";

export interface GoldenScenarioOptions {
  kc: KubeConfig;
  /** Harness client for submissions and watches (unthrottled). */
  rest: RestClient;
  /** Harness client the simulated workers write through. */
  workerRest: RestClient;
  /**
   * Harness client that ends build pods (completePodOnResult), apart from workerRest so that the
   * workers' requests count only their ImageBuild writes; defaults to workerRest.
   */
  podRest?: RestClient;
  namespace: string;
  n: number;
  stepSeconds: number;
  workerMode: WorkerMode;
  submitConcurrency: number;
  timeoutMs: number;
  /**
   * End each build pod as soon as its result is written, as a real worker's pod exits (the queued
   * scenario: a Job holds its scheduler slot until it finishes). Otherwise KWOK's delayed
   * pod-complete stage ends it.
   */
  completePodOnResult?: boolean;
  /**
   * Steady arrivals instead of a burst: Images are created at each phase's rate, one phase after
   * the other (n is ignored). The ladder stops after a phase the operator did not keep up with.
   */
  steady?: SteadyOptions;
  /**
   * Stop this many seconds after the last Image is created, whether or not every build is done
   * (a queue too deep to drain in a bench run); the builds left are counted incomplete.
   */
  holdSeconds?: number;
  /** Called every second with the current counts (e.g. to sample the queue while builds wait). */
  onTick?: (counts: { created: number; admitted: number; done: number }) => void;
  log: (msg: string) => void;
}

export interface SteadyOptions {
  phases: { rate: number; seconds: number }[];
  /** A phase is kept up with when, at its end, fewer than rate × this many seconds of its Images wait for their Job. */
  maxBacklogSeconds: number;
  /** ... and its Image → Job p99 is at most this (ms). */
  maxP99Ms: number;
}

/** One rate of the steady ladder: the Images created during it and how fast their Jobs followed. */
export interface SteadyPhaseResult {
  rate: number;
  seconds: number;
  images: number;
  /** The arrival rate the harness achieved (Images created / phase time). */
  arrivalRate: number;
  imageToJob: Percentiles;
  jobToPod: Percentiles;
  /** Images of this phase with no Job yet when the phase ended. */
  backlogAtEnd: number;
  sustained: boolean;
}

export interface GoldenScenarioResult {
  n: number;
  /** The steady ladder's phases (steady scenario only). */
  steady?: SteadyPhaseResult[];
  succeeded: number;
  failed: number;
  incomplete: number;
  failures: string[];
  mockedBuildSeconds: number;
  submitSeconds: number;
  /** From the first submission to the last Image Succeeded/Failed. */
  wallSeconds: number;
  latencyMs: {
    imageToBuild: Percentiles;
    imageToAdmitted: Percentiles;
    imageToJob: Percentiles;
    /** The harness's watches: the build shows its admission → its Job shows (golden's hand-off). */
    admittedToJob: Percentiles;
    jobToPod: Percentiles;
    resultToImageDone: Percentiles;
    e2e: Percentiles;
    e2eMinusBuild: Percentiles;
  };
  /**
   * finished: builds whose result is written (what frees a slot, with the pod's end); done: Images
   * showing it, which lags by the Image controller's backlog.
   */
  throughput: {
    admitted: Rate;
    jobs: Rate;
    finished: Rate;
    done: Rate;
    /** Builds finished once every Image was created: the queue at its deepest, no harness creates beside. */
    finishedAfterSubmit: Rate;
  };
  /** Cumulative counts every second from the first submission, for a timeline. */
  timeline: { t: number; created: number; admitted: number; jobs: number; pods: number; done: number }[];
  start: number;
  end: number;
}

export async function runGoldenScenario(o: GoldenScenarioOptions): Promise<GoldenScenarioResult> {
  const spec = benchImageSpec(o.stepSeconds);
  const buildMs = mockedBuildMs(spec);
  const tracks = new Map<string, Track>();
  const imageOfBuild = new Map<string, string>();
  const phaseSizes = o.steady?.phases.map((p) => Math.max(1, Math.round(p.rate * p.seconds)));
  const total = phaseSizes ? phaseSizes.reduce((a, b) => a + b, 0) : o.n;
  const names = Array.from({ length: total }, (_, i) => `img-${String(i).padStart(5, "0")}`);
  /** Images still expected to finish (the steady ladder can stop early). */
  let expected = total;
  for (const name of names) tracks.set(name, {});
  const workerClient = new GoldenClient(o.workerRest.api(CustomObjectsApi));
  const submitClient = new GoldenClient(o.rest.api(CustomObjectsApi));
  const abort = new AbortController();
  const workers = new Set<Promise<void>>();
  let doneCount = 0;
  let resolveDone: () => void = () => {};
  const allDone = new Promise<void>((r) => {
    resolveDone = r;
  });

  const common = { client: o.rest, transform: stripManagedFields } as const;
  const ns = encodeURIComponent(o.namespace);
  const images = new Informer<Image>(o.kc, {
    ...common,
    name: "bench-images",
    path: `/apis/${API_VERSION}/namespaces/${ns}/${IMAGE_RESOURCE.plural}`,
  });
  const builds = new Informer<ImageBuild>(o.kc, {
    ...common,
    name: "bench-builds",
    path: `/apis/${API_VERSION}/namespaces/${ns}/${IMAGE_BUILD_RESOURCE.plural}`,
  });
  const jobs = new Informer<V1Job>(o.kc, {
    ...common,
    name: "bench-jobs",
    path: `/apis/batch/v1/namespaces/${ns}/jobs`,
  });
  const pods = new Informer<V1Pod>(o.kc, {
    ...common,
    name: "bench-pods",
    path: `/api/v1/namespaces/${ns}/pods`,
  });

  const trackOfBuild = (buildName: string): Track | undefined => {
    const image = imageOfBuild.get(buildName);
    return image ? tracks.get(image) : undefined;
  };

  const maybeStartWorker = (buildName: string) => {
    const t = trackOfBuild(buildName);
    if (!t || t.workerStart !== undefined || t.admitted === undefined || t.pod === undefined) return;
    t.workerStart = Date.now();
    const p = playWorker(buildName).then(
      async () => {
        t.resultWritten = Date.now();
        if (o.completePodOnResult && t.podName) await completePod(t.podName);
      },
      (err: unknown) => {
        if (!abort.signal.aborted) o.log(`worker for ${buildName} failed: ${String(err)}`);
      },
    );
    workers.add(p);
    void p.finally(() => workers.delete(p));
  };

  const playWorker = async (buildName: string): Promise<void> => {
    const target = { namespace: o.namespace, name: buildName };
    if (o.workerMode === "steps") {
      await runBuild({
        client: workerClient,
        target,
        repository: ARTIFACT_REPOSITORY,
        heartbeatMs: 10_000,
        signal: abort.signal,
        log: () => {},
      });
      return;
    }
    await sleep(buildMs, undefined, { signal: abort.signal });
    await finish(
      {
        client: workerClient,
        target,
        repository: ARTIFACT_REPOSITORY,
        heartbeatMs: 10_000,
        signal: abort.signal,
        log: () => {},
      },
      succeededStatus(spec, ARTIFACT_REPOSITORY),
    );
  };

  const completePod = (podName: string) => completeWorkerPod(o.podRest ?? o.workerRest, ns, podName);

  const onImage = (img: Image) => {
    const t = tracks.get(img.metadata?.name ?? "");
    const phase = img.status?.phase;
    if (!t || t.done !== undefined || (phase !== "Succeeded" && phase !== "Failed")) return;
    // An Image shows a new build's outcome only once observedGeneration caught up.
    t.done = Date.now();
    t.phase = phase;
    t.message = img.status?.message;
    if (++doneCount >= expected) resolveDone();
  };
  const onBuild = (b: ImageBuild) => {
    const buildName = b.metadata?.name ?? "";
    const image = b.spec?.imageName ?? "";
    const t = tracks.get(image);
    if (!t) return;
    if (!imageOfBuild.has(buildName)) {
      imageOfBuild.set(buildName, image);
      t.build = buildName;
      t.buildSeen = Date.now();
    }
    const phase = b.status?.phase;
    if (t.admitted === undefined && phase && phase !== "Pending" && phase !== "Queued") {
      t.admitted = Date.now();
      maybeStartWorker(buildName);
    }
  };
  const onJob = (j: V1Job) => {
    const t = trackOfBuild(j.metadata?.name ?? "");
    if (t && t.job === undefined) t.job = Date.now();
  };
  const onPod = (p: V1Pod) => {
    const buildName = p.metadata?.labels?.[LABELS.build] ?? p.metadata?.labels?.["job-name"] ?? "";
    const t = trackOfBuild(buildName);
    if (t && t.pod === undefined) {
      t.pod = Date.now();
      t.podName = p.metadata?.name;
      maybeStartWorker(buildName);
    }
  };
  images.on("add", onImage);
  images.on("update", onImage);
  builds.on("add", onBuild);
  builds.on("update", onBuild);
  jobs.on("add", onJob);
  pods.on("add", onPod);
  pods.on("update", onPod);
  const informers = [images, builds, jobs, pods];
  await Promise.all(informers.map((i) => i.start()));

  const start = Date.now();
  const timeline: GoldenScenarioResult["timeline"] = [];
  const counts = () => {
    let created = 0;
    let admitted = 0;
    let jobsN = 0;
    let podsN = 0;
    for (const t of tracks.values()) {
      if (t.created !== undefined) created++;
      if (t.admitted !== undefined) admitted++;
      if (t.job !== undefined) jobsN++;
      if (t.pod !== undefined) podsN++;
    }
    return { created, admitted, jobs: jobsN, pods: podsN, done: doneCount };
  };
  const ticker = setInterval(() => {
    const c = counts();
    o.onTick?.(c);
    timeline.push({ t: Math.round((Date.now() - start) / 1000), ...c });
    if (timeline.length % 15 === 0)
      o.log(
        `  t=${Math.round((Date.now() - start) / 1000)}s created ${c.created} admitted ${c.admitted} jobs ${c.jobs} pods ${c.pods} done ${c.done}/${expected}`,
      );
  }, 1000);

  let submitEnd = start;
  let phaseEnds: PhaseEnd[] = [];
  try {
    const submit = async (name: string) => {
      const t = tracks.get(name) as Track;
      await submitClient.images.create({
        apiVersion: API_VERSION,
        kind: "Image",
        metadata: { name, namespace: o.namespace, labels: { "golden.dev/bench": "true" } },
        spec,
      });
      t.created = Date.now();
    };
    if (o.steady && phaseSizes) {
      phaseEnds = await submitSteady(o.steady, phaseSizes, names, submit, (from, to) => {
        let waiting = 0;
        for (const name of names.slice(from, to)) if (tracks.get(name)?.job === undefined) waiting++;
        return waiting;
      });
      const submitted = phaseEnds.at(-1)?.to ?? 0;
      for (const name of names.slice(submitted)) tracks.delete(name);
      expected = submitted;
      if (doneCount >= expected) resolveDone();
    } else {
      await pool(names, o.submitConcurrency, submit);
    }
    submitEnd = Date.now();
    const holdMs = o.holdSeconds === undefined ? undefined : o.holdSeconds * 1000;
    const timedOut = await Promise.race([
      allDone.then(() => false),
      sleep(holdMs ?? o.timeoutMs, true, { ref: false }),
    ]);
    if (timedOut && holdMs !== undefined)
      o.log(
        `  held ${o.holdSeconds}s after the last Image was created: ${doneCount}/${expected} Images done`,
      );
    else if (timedOut)
      o.log(`  timed out after ${o.timeoutMs / 1000}s with ${doneCount}/${expected} Images done`);
  } finally {
    clearInterval(ticker);
    timeline.push({ t: Math.round((Date.now() - start) / 1000), ...counts() });
    abort.abort();
    await Promise.allSettled([...workers]);
    await Promise.all(informers.map((i) => i.stop()));
  }
  const end = Date.now();

  const all = [...tracks.values()];
  /** Time from one moment of a build's life to a later one, over the builds that reached both. */
  const stage = (to: Moment, from: Moment) =>
    summarize(
      all.flatMap((t) => {
        const x = t[to];
        const y = t[from];
        return x !== undefined && y !== undefined ? [x - y] : [];
      }),
    );
  const succeeded = all.filter((t) => t.phase === "Succeeded");
  const failures = [...new Set(all.filter((t) => t.phase === "Failed").map((t) => t.message ?? "?"))].slice(
    0,
    5,
  );
  const e2e = succeeded.map((t) => (t.done as number) - (t.created as number));
  const times = (m: Moment) =>
    all.flatMap((t) => {
      const at = t[m];
      return at === undefined ? [] : [at];
    });
  const steady = o.steady
    ? phaseEnds.map((p, k): SteadyPhaseResult => {
        const phase = o.steady?.phases[k] as { rate: number; seconds: number };
        const of = names.slice(p.from, p.to).flatMap((name) => {
          const t = tracks.get(name);
          return t ? [t] : [];
        });
        const lat = (to: Moment, from: Moment) =>
          summarize(
            of.flatMap((t) => {
              const x = t[to];
              const y = t[from];
              return x !== undefined && y !== undefined ? [x - y] : [];
            }),
          );
        const imageToJob = lat("job", "created");
        return {
          rate: phase.rate,
          seconds: phase.seconds,
          images: of.length,
          arrivalRate: round(of.length / Math.max((p.endedAt - p.startedAt) / 1000, 1e-3), 1),
          imageToJob,
          jobToPod: lat("pod", "job"),
          backlogAtEnd: p.backlogAtEnd,
          sustained:
            p.backlogAtEnd <= phase.rate * (o.steady?.maxBacklogSeconds ?? 0) &&
            imageToJob.p99 <= (o.steady?.maxP99Ms ?? 0),
        };
      })
    : undefined;
  return {
    n: expected,
    steady,
    succeeded: succeeded.length,
    failed: all.filter((t) => t.phase === "Failed").length,
    incomplete: all.filter((t) => t.done === undefined).length,
    failures,
    mockedBuildSeconds: buildMs / 1000,
    submitSeconds: (submitEnd - start) / 1000,
    wallSeconds: (Math.max(...times("done"), start) - start) / 1000,
    latencyMs: {
      imageToBuild: stage("buildSeen", "created"),
      imageToAdmitted: stage("admitted", "created"),
      imageToJob: stage("job", "created"),
      admittedToJob: stage("job", "admitted"),
      jobToPod: stage("pod", "job"),
      resultToImageDone: stage("done", "resultWritten"),
      e2e: summarize(e2e),
      e2eMinusBuild: summarize(e2e.map((v) => v - buildMs)),
    },
    throughput: {
      admitted: rate(times("admitted"), start),
      jobs: rate(times("job"), start),
      finished: rate(times("resultWritten"), start),
      done: rate(times("done"), start),
      finishedAfterSubmit: rate(
        times("resultWritten").filter((at) => at >= submitEnd),
        submitEnd,
      ),
    },
    timeline,
    start,
    end,
  };
}

interface PhaseEnd {
  from: number;
  to: number;
  startedAt: number;
  endedAt: number;
  /** Images of the phase still without a Job when it ended. */
  backlogAtEnd: number;
}

/**
 * Creates names[i] at its phase's rate, phase after phase, each create on its own (a slow create
 * does not delay the next arrival). After each phase, stops if the operator fell behind: more than
 * rate × maxBacklogSeconds of the phase's Images still without a Job.
 */
async function submitSteady(
  steady: SteadyOptions,
  sizes: number[],
  names: string[],
  submit: (name: string) => Promise<void>,
  waitingForJob: (from: number, to: number) => number,
): Promise<PhaseEnd[]> {
  const ends: PhaseEnd[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let from = 0;
  for (const [k, size] of sizes.entries()) {
    const { rate: perSecond } = steady.phases[k] as { rate: number };
    const startedAt = Date.now();
    for (let j = 0; j < size; j++) {
      const due = startedAt + (j * 1000) / perSecond;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const p: Promise<void> = submit(names[from + j] as string)
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    const endedAt = startedAt + (size * 1000) / perSecond;
    if (endedAt > Date.now()) await sleep(endedAt - Date.now());
    await Promise.all([...inFlight]);
    if (failure !== undefined) throw failure;
    const backlogAtEnd = waitingForJob(from, from + size);
    ends.push({ from, to: from + size, startedAt, endedAt: Math.max(endedAt, Date.now()), backlogAtEnd });
    from += size;
    if (backlogAtEnd > perSecond * steady.maxBacklogSeconds) break;
  }
  return ends;
}
