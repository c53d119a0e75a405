// The campaign scenario: a base update rebuilding N Images while users keep submitting their own.
// N Images stand on a bench BaseImage and have been built once; its revision then changes, and the
// RebuildCampaign golden opens (approval Automatic, maxInFlight builds at a time, Background
// priority) rebuilds them under the scheduler's cap while user Images arrive at a steady pace.
// What it must show: the campaign's duration, and that the users' Image→Job latency stays close
// to the same latency with no campaign (measured first, same pace): campaign builds never hold
// more than one admission slot ahead of a user's build.
import { setTimeout as sleep } from "node:timers/promises";
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Job,
  type V1Pod,
} from "@kubernetes/client-node";
import { GoldenClient } from "../../src/api/client.js";
import {
  API_VERSION,
  type BaseImage,
  type Image,
  type ImageBuild,
  type ImageSpec,
  type RebuildCampaign,
} from "../../src/api/v1alpha1/index.js";
import { LABELS } from "../../src/build/names.js";
import { createdAtMs } from "../../src/build/order.js";
import { Informer, stripManagedFields } from "../../src/runtime/informer.js";
import type { RestClient } from "../../src/runtime/kube.js";
import { finish, succeededStatus } from "../../src/worker/build.js";
import { type ApiDelta, apiDelta, histogramDelta, type OperatorDelta, operatorDelta } from "./deltas.js";
import { ARTIFACT_REPOSITORY, benchImageSpec, mockedBuildMs } from "./golden.js";
import { completeWorkerPod, createNamespace, deleteNamespace, pool, scrapeApiserver } from "./kube.js";
import { OperatorProcess } from "./operator.js";
import { histogramQuantile, type Scrape } from "./prom.js";
import { burstSizes } from "./sizes.js";
import { type Percentiles, round, summarize } from "./stats.js";

export interface CampaignConfig {
  /** Images the campaign rebuilds (BENCH_CAMPAIGN_N, default 1000; "none" skips). */
  sizes: number[];
  /** User Images submitted during the campaign, and the same number before it (BENCH_CAMPAIGN_USERS, 50). */
  users: number;
  /** Pause between two user Images (BENCH_CAMPAIGN_USER_INTERVAL_MS, 500). */
  userIntervalMs: number;
  /** The campaign's maxInFlight (BENCH_CAMPAIGN_MAX_IN_FLIGHT, 100). */
  maxInFlight: number;
  /** --max-concurrent-builds (BENCH_CAMPAIGN_CAP, 50): below maxInFlight, so campaign builds queue. */
  cap: number;
}

export function campaignConfig(env: NodeJS.ProcessEnv): CampaignConfig {
  return {
    sizes: burstSizes(env.BENCH_CAMPAIGN_N ?? "1000"),
    users: Number(env.BENCH_CAMPAIGN_USERS ?? 50),
    userIntervalMs: Number(env.BENCH_CAMPAIGN_USER_INTERVAL_MS ?? 500),
    maxInFlight: Number(env.BENCH_CAMPAIGN_MAX_IN_FLIGHT ?? 100),
    cap: Number(env.BENCH_CAMPAIGN_CAP ?? 50),
  };
}

export interface CampaignRun {
  scenario: "campaign";
  n: number;
  cap: number;
  maxInFlight: number;
  users: number;
  userIntervalMs: number;
  mockedBuildSeconds: number;
  /** Revision change → the campaign's preview written. */
  previewSeconds?: number;
  /** Revision change → campaign Completed (or the timeout). */
  campaignSeconds: number;
  rebuilt: number;
  failed: number;
  completed: boolean;
  /** Users' Image created → its Job created, with no campaign and during the campaign. */
  userImageToJobMs: { baseline: Percentiles; duringCampaign: Percentiles };
  /** Users' Image created → its ImageBuild seen (the part before the scheduler). */
  userImageToBuildMs: { baseline: Percentiles; duringCampaign: Percentiles };
  /**
   * The issue's target, measured directly: for each user build made during the campaign, how many
   * campaign builds were admitted while it waited (between its creation and its own admission, by
   * the scheduler's own clock: the builds' queued-at and startTime). 0 means it waited only for
   * the next slot to free, "no more than one admission slot".
   */
  campaignAdmittedAhead?: AdmittedAhead;
  /**
   * The same, counted from when the user's ImageBuild existed (the harness's watch saw it, as the
   * scheduler's does) rather than from the Image controller's decision to create it: campaign
   * builds admitted before the scheduler could know of the user's build jumped no queue.
   */
  campaignAdmittedAheadOnceVisible?: AdmittedAhead;
  /** The operator over the campaign phase (revision change → users' builds done): where time went. */
  operator?: CampaignOperatorFigures;
  /** The apiserver over the same phase (its busiest resources and verbs, and its latency). */
  apiserver?: ApiDelta;
  /** Largest number of the campaign's builds not finished at once (sampled every second). */
  maxCampaignBuildsInFlight: number;
}

export interface AdmittedAhead {
  users: number;
  zero: number;
  max: number;
  total: number;
}

export interface CampaignOperatorFigures extends OperatorDelta {
  /** Per work queue: how long keys waited before a worker took them (mean and p99, ms). */
  queueWaitMs: Record<string, { keys: number; mean: number; p99?: number }>;
  /** Per work queue: the most keys waiting at once (sampled every second). */
  maxQueueDepth: Record<string, number>;
}

/** The operator's figures between two scrapes, with the queues' waits and the sampled depths. */
function campaignOperatorFigures(
  before: Scrape,
  after: Scrape,
  maxDepth: Map<string, number>,
): CampaignOperatorFigures {
  const queueWaitMs: CampaignOperatorFigures["queueWaitMs"] = {};
  for (const name of new Set(after.select("workqueue_depth").map((s) => s.labels.name ?? ""))) {
    const wait = histogramDelta(before, after, "workqueue_queue_duration_seconds", { name });
    const keys = wait.count;
    if (keys <= 0) continue;
    const p99 = histogramQuantile(0.99, wait.buckets);
    queueWaitMs[name] = {
      keys,
      mean: round((1000 * wait.sum) / keys),
      p99: p99 === undefined ? undefined : round(p99 * 1000),
    };
  }
  return { ...operatorDelta(before, after), queueWaitMs, maxQueueDepth: Object.fromEntries(maxDepth) };
}

export interface CampaignScenarioOptions {
  kc: KubeConfig;
  rest: RestClient;
  workerRest: RestClient;
  kubeconfig: string;
  operatorScript: string;
  /** The burst scenario's flags (pods on the fake nodes, no WorkerLost); the cap is replaced. */
  operatorArgs: string[];
  nodeArgs: string[];
  logFile: string;
  cfg: CampaignConfig;
  n: number;
  stepSeconds: number;
  timeoutMs: number;
  log: (msg: string) => void;
}

const BASE_RELEASE = "bench";
const BASE_NAME = `ubuntu-${BASE_RELEASE}-amd64`;

function withoutCap(args: string[]): string[] {
  return args.filter(
    (_, i, a) => a[i] !== "--max-concurrent-builds" && a[i - 1] !== "--max-concurrent-builds",
  );
}

export async function runCampaignScenario(o: CampaignScenarioOptions): Promise<CampaignRun> {
  const { cfg, n, log } = o;
  const golden = new GoldenClient(o.rest.api(CustomObjectsApi));
  const workerGolden = new GoldenClient(o.workerRest.api(CustomObjectsApi));
  const core = o.rest.api(CoreV1Api);
  const ns = `bench-campaign-${n}`;
  const usersNs = `bench-campaign-users-${n}`;
  const userSpec = benchImageSpec(o.stepSeconds);
  const fleetSpec: ImageSpec = { ...userSpec, base: { os: "ubuntu", release: BASE_RELEASE, arch: "amd64" } };
  const buildMs = mockedBuildMs(userSpec);
  await golden.baseImages.delete(BASE_NAME).catch(() => undefined);
  const base: BaseImage = {
    apiVersion: API_VERSION,
    kind: "BaseImage",
    metadata: { name: BASE_NAME, labels: { "golden.dev/bench": "true" } },
    spec: {
      os: "ubuntu",
      release: BASE_RELEASE,
      arch: "amd64",
      revision: "r1",
      rebuild: {
        approval: "Automatic",
        maxInFlight: cfg.maxInFlight,
        maxFailures: n,
        priority: "Background",
      },
    },
  };
  await golden.baseImages.create(base);
  await createNamespace(core, ns);
  await createNamespace(core, usersNs);

  const op = await OperatorProcess.start({
    script: o.operatorScript,
    kubeconfig: o.kubeconfig,
    args: [...withoutCap(o.operatorArgs), "--max-concurrent-builds", String(cfg.cap)],
    logFile: o.logFile,
    nodeArgs: o.nodeArgs,
  });

  // The harness plays the workers (as in the queued scenario: the pod ends when the result is in).
  const common = { client: o.rest, transform: stripManagedFields } as const;
  const builds = new Informer<ImageBuild>(o.kc, {
    ...common,
    name: "campaign-builds",
    path: `/apis/${API_VERSION}/imagebuilds`,
  });
  const pods = new Informer<V1Pod>(o.kc, {
    ...common,
    name: "campaign-pods",
    path: "/api/v1/pods",
    labelSelector: LABELS.build,
  });
  const jobs = new Informer<V1Job>(o.kc, {
    ...common,
    name: "campaign-jobs",
    path: "/apis/batch/v1/jobs",
    labelSelector: LABELS.build,
  });
  const images = new Informer<Image>(o.kc, {
    ...common,
    name: "campaign-images",
    path: `/apis/${API_VERSION}/images`,
  });
  const abort = new AbortController();
  const started = new Set<string>();
  const workers = new Set<Promise<void>>();
  const jobSeen = new Map<string, number>(); // build name → when its Job appeared
  const buildSeen = new Map<string, number>(); // build name → when the harness saw it
  const maybeWork = (buildName: string, namespace: string) => {
    const b = builds.get(`${namespace}/${buildName}`);
    const pod = pods
      .list()
      .find((p) => p.metadata?.namespace === namespace && p.metadata?.labels?.[LABELS.build] === buildName);
    if (b?.status?.phase !== "Building" || !pod || started.has(`${namespace}/${buildName}`)) return;
    started.add(`${namespace}/${buildName}`);
    const target = { namespace, name: buildName };
    const opts = {
      client: workerGolden,
      target,
      repository: ARTIFACT_REPOSITORY,
      heartbeatMs: 10_000,
      signal: abort.signal,
      log: () => {},
    };
    const p = sleep(buildMs, undefined, { signal: abort.signal })
      .then(() =>
        finish(
          opts,
          succeededStatus(b.spec.image, ARTIFACT_REPOSITORY, {
            rootBase: b.spec.rootBase,
            inputs: b.status?.inputs,
          }),
        ),
      )
      .then(() => completeWorkerPod(o.workerRest, namespace, pod.metadata?.name ?? ""))
      .catch((err: unknown) => {
        if (!abort.signal.aborted) log(`  worker for ${buildName}: ${String(err).slice(0, 200)}`);
      });
    workers.add(p);
    void p.finally(() => workers.delete(p));
  };
  builds.on("add", (b: ImageBuild) => {
    if (!buildSeen.has(b.metadata?.name ?? "")) buildSeen.set(b.metadata?.name ?? "", Date.now());
    maybeWork(b.metadata?.name ?? "", b.metadata?.namespace ?? "");
  });
  builds.on("update", (b: ImageBuild) => maybeWork(b.metadata?.name ?? "", b.metadata?.namespace ?? ""));
  const onPod = (p: V1Pod) =>
    maybeWork(p.metadata?.labels?.[LABELS.build] ?? "", p.metadata?.namespace ?? "");
  pods.on("add", onPod);
  pods.on("update", onPod);
  jobs.on("add", (j: V1Job) => {
    const name = j.metadata?.labels?.[LABELS.build] ?? "";
    if (!jobSeen.has(name)) jobSeen.set(name, Date.now());
  });
  const informers = [builds, pods, jobs, images];
  await Promise.all(informers.map((i) => i.start()));

  const succeededIn = (namespace: string, names: string[]) =>
    names.filter((name) => images.get(`${namespace}/${name}`)?.status?.phase === "Succeeded").length;
  const waitFor = async (what: string, done: () => boolean, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) {
        log(`  timed out waiting for ${what}`);
        return false;
      }
      await sleep(1000);
    }
    return true;
  };
  /** Submits `count` user Images at the configured pace; resolves with each one's name and creation time. */
  const submitUsers = async (prefix: string): Promise<{ name: string; created: number }[]> => {
    const out: { name: string; created: number }[] = [];
    for (let i = 0; i < cfg.users; i++) {
      const name = `${prefix}-${String(i).padStart(4, "0")}`;
      await golden.images.create({
        apiVersion: API_VERSION,
        kind: "Image",
        metadata: { name, namespace: usersNs },
        spec: userSpec,
      });
      out.push({ name, created: Date.now() });
      await sleep(cfg.userIntervalMs);
    }
    return out;
  };
  const latencies = (users: { name: string; created: number }[], seenAt = jobSeen) =>
    summarize(
      users.flatMap(({ name, created }) => {
        const build = builds
          .list()
          .find((b) => b.metadata?.namespace === usersNs && b.spec.imageName === name);
        const seen = build ? seenAt.get(build.metadata?.name ?? "") : undefined;
        return seen === undefined ? [] : [seen - created];
      }),
    );
  /** From each user build's arrival (`from`; default its queued-at) to its admission. */
  const admittedAhead = (
    users: { name: string }[],
    from: (b: ImageBuild) => number | undefined = createdAtMs,
  ) => {
    const all = builds.list();
    const campaignStarts = all
      .filter((b) => b.spec.campaign && b.status?.startTime)
      .map((b) => Date.parse(b.status?.startTime ?? ""));
    const counts = users.flatMap(({ name }) => {
      const build = all.find((b) => b.metadata?.namespace === usersNs && b.spec.imageName === name);
      const start = build?.status?.startTime ? Date.parse(build.status.startTime) : undefined;
      const arrived = build ? from(build) : undefined;
      if (!build || start === undefined || arrived === undefined) return [];
      const ahead = campaignStarts.filter((t) => t > arrived && t < start);
      // Each case named, to find it in the operator's log (bench/results/logs/).
      if (ahead.length > 0 && from === createdAtMs)
        log(
          `  ${build.metadata?.name}: queued ${new Date(createdAtMs(build)).toISOString()}, seen ${new Date(buildSeen.get(build.metadata?.name ?? "") ?? 0).toISOString()}, admitted ${build.status?.startTime}; campaign builds admitted between: ${ahead.map((t) => new Date(t).toISOString()).join(", ")}`,
        );
      return [ahead.length];
    });
    return {
      users: counts.length,
      zero: counts.filter((c) => c === 0).length,
      max: Math.max(0, ...counts),
      total: counts.reduce((a, b) => a + b, 0),
    };
  };
  // The operator's queues, sampled every second while the campaign runs (depth is a gauge).
  const maxDepth = new Map<string, number>();
  const sampleDepths = async () => {
    while (!abort.signal.aborted) {
      const scrape = await op.scrape().catch(() => undefined);
      for (const s of scrape?.select("workqueue_depth") ?? []) {
        const name = s.labels.name ?? "";
        maxDepth.set(name, Math.max(maxDepth.get(name) ?? 0, s.value));
      }
      await sleep(1000, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  };

  try {
    // 1. The fleet on the bench base, built once.
    const fleet = Array.from({ length: n }, (_, i) => `fleet-${String(i).padStart(5, "0")}`);
    log(`campaign N=${n}: building the fleet (${n} Images on ${BASE_NAME}, cap ${cfg.cap})`);
    await pool(fleet, 32, async (name) => {
      await golden.images.create({
        apiVersion: API_VERSION,
        kind: "Image",
        metadata: { name, namespace: ns },
        spec: fleetSpec,
      });
    });
    await waitFor("the fleet's first builds", () => succeededIn(ns, fleet) === n, o.timeoutMs);

    // 2. Users alone.
    log(`campaign N=${n}: ${cfg.users} user Images, one every ${cfg.userIntervalMs} ms, no campaign`);
    const baselineUsers = await submitUsers("user-alone");
    await waitFor(
      "the users' builds",
      () =>
        succeededIn(
          usersNs,
          baselineUsers.map((u) => u.name),
        ) === cfg.users,
      o.timeoutMs,
    );

    // 3. The revision changes; users keep coming while the campaign runs.
    log(`campaign N=${n}: revision r1 -> r2; ${cfg.users} user Images during the campaign`);
    const opBefore = await op.scrape();
    const apiBefore = await scrapeApiserver(o.rest);
    const sampling = sampleDepths();
    const bumped = Date.now();
    await golden.baseImages.patch(BASE_NAME, { spec: { revision: "r2" } });
    let campaign: RebuildCampaign | undefined;
    let previewSeconds: number | undefined;
    let maxInFlight = 0;
    const watchCampaign = (async () => {
      while (!abort.signal.aborted) {
        const list = await golden.rebuildCampaigns.list({
          labelSelector: `golden.dev/base-image=${BASE_NAME}`,
        });
        campaign = list.items[0];
        if (campaign?.status?.targets && previewSeconds === undefined)
          previewSeconds = (Date.now() - bumped) / 1000;
        const name = campaign?.metadata?.name;
        if (name) {
          const inFlight = builds
            .list()
            .filter(
              (b) =>
                b.spec.campaign === name &&
                !["Succeeded", "Failed", "Cancelled"].includes(b.status?.phase ?? ""),
            );
          maxInFlight = Math.max(maxInFlight, inFlight.length);
        }
        const phase = campaign?.status?.phase;
        if (phase === "Completed" || phase === "Halted") return;
        await sleep(1000, undefined, { signal: abort.signal }).catch(() => undefined);
      }
    })();
    const campaignUsers = await submitUsers("user-during");
    const completed = await Promise.race([
      watchCampaign.then(() => true),
      sleep(o.timeoutMs, false, { ref: false }),
    ]);
    const campaignSeconds = (Date.now() - bumped) / 1000;
    await waitFor(
      "the users' builds",
      () =>
        succeededIn(
          usersNs,
          campaignUsers.map((u) => u.name),
        ) === cfg.users,
      120_000,
    );
    const operator = campaignOperatorFigures(opBefore, await op.scrape(), maxDepth);
    const api = apiDelta(apiBefore, await scrapeApiserver(o.rest));
    api.rows = api.rows.slice(0, 12);
    const result: CampaignRun = {
      scenario: "campaign",
      n,
      cap: cfg.cap,
      maxInFlight: cfg.maxInFlight,
      users: cfg.users,
      userIntervalMs: cfg.userIntervalMs,
      mockedBuildSeconds: buildMs / 1000,
      previewSeconds: previewSeconds === undefined ? undefined : round(previewSeconds, 2),
      campaignSeconds: round(campaignSeconds, 1),
      rebuilt: campaign?.status?.succeeded ?? 0,
      failed: campaign?.status?.failed ?? 0,
      completed: completed && campaign?.status?.phase === "Completed",
      userImageToJobMs: { baseline: latencies(baselineUsers), duringCampaign: latencies(campaignUsers) },
      userImageToBuildMs: {
        baseline: latencies(baselineUsers, buildSeen),
        duringCampaign: latencies(campaignUsers, buildSeen),
      },
      campaignAdmittedAhead: admittedAhead(campaignUsers),
      campaignAdmittedAheadOnceVisible: admittedAhead(campaignUsers, (b) =>
        buildSeen.get(b.metadata?.name ?? ""),
      ),
      operator,
      apiserver: api,
      maxCampaignBuildsInFlight: maxInFlight,
    };
    log(
      `campaign N=${n}: ${result.completed ? "completed" : "NOT completed"} in ${result.campaignSeconds}s (${result.rebuilt} rebuilt, ${result.failed} failed); users' Image→Job p50/p99 ${result.userImageToJobMs.duringCampaign.p50}/${result.userImageToJobMs.duringCampaign.p99} ms vs ${result.userImageToJobMs.baseline.p50}/${result.userImageToJobMs.baseline.p99} ms alone (Image→ImageBuild ${result.userImageToBuildMs.duringCampaign.p50}/${result.userImageToBuildMs.duringCampaign.p99} ms); campaign builds admitted while a user's build waited: none for ${result.campaignAdmittedAhead?.zero}/${result.campaignAdmittedAhead?.users} users, at most ${result.campaignAdmittedAhead?.max}; once its ImageBuild existed: none for ${result.campaignAdmittedAheadOnceVisible?.zero}/${result.campaignAdmittedAheadOnceVisible?.users}, at most ${result.campaignAdmittedAheadOnceVisible?.max}`,
    );
    log(
      `campaign N=${n}: operator queues, mean/p99 wait ms (max depth): ${Object.entries(operator.queueWaitMs)
        .map(([q, w]) => `${q} ${w.mean}/${w.p99 ?? "-"} (${operator.maxQueueDepth[q] ?? 0})`)
        .join(
          ", ",
        )}; client throttle mean/p99 ${operator.throttle.meanWaitMs}/${operator.throttle.p99Ms ?? "-"} ms; requests ${JSON.stringify(operator.requestsByMethod)}, latency mean/p99 ${operator.requestLatencyMs.mean}/${operator.requestLatencyMs.p99 ?? "-"} ms`,
    );
    log(
      `campaign N=${n}: apiserver write latency p50/p99 ${api.writeLatencyMs.p50}/${api.writeLatencyMs.p99} ms; busiest ${api.rows
        .slice(0, 6)
        .map((r) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ""} ${r.count}`)
        .join(", ")}`,
    );
    abort.abort();
    await sampling;
    return result;
  } finally {
    abort.abort();
    await Promise.allSettled([...workers]);
    await Promise.all(informers.map((i) => i.stop()));
    for (const c of (
      await golden.rebuildCampaigns.list({ labelSelector: `golden.dev/base-image=${BASE_NAME}` })
    ).items)
      await golden.rebuildCampaigns.delete(c.metadata?.name ?? "").catch(() => undefined);
    // The operator still runs: it releases the builds' artifacts finalizers as the namespaces go.
    await deleteNamespace(core, ns, 600_000).catch(() => undefined);
    await deleteNamespace(core, usersNs, 600_000).catch(() => undefined);
    await op.stop();
    await golden.baseImages.delete(BASE_NAME).catch(() => undefined);
  }
}

const ahead = (a: AdmittedAhead | undefined) => (a ? `${a.zero} / ${a.users} (max ${a.max})` : "–");

/** The report's campaign table: one row per N. */
export function campaignReport(runs: CampaignRun[]): string {
  const rows = runs.map(
    (r) =>
      `| ${r.n} | ${r.cap} | ${r.maxInFlight} | ${r.completed ? "yes" : "no"} | ${r.campaignSeconds} | ${r.rebuilt} | ${r.maxCampaignBuildsInFlight} | ${r.userImageToJobMs.baseline.p50} / ${r.userImageToJobMs.baseline.p99} | ${r.userImageToJobMs.duringCampaign.p50} / ${r.userImageToJobMs.duringCampaign.p99} | ${ahead(r.campaignAdmittedAhead)} | ${ahead(r.campaignAdmittedAheadOnceVisible)} |`,
  );
  return [
    "Campaign: N Images rebuilt after a base revision change, user Images arriving meanwhile",
    "| N | cap | maxInFlight | completed | campaign s | rebuilt | max campaign builds in flight | users' Image→Job p50 / p99 ms, no campaign | during the campaign | users' builds with no campaign build admitted while they waited (target: all) | the same, from when their ImageBuild existed |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
