// One run of N Images, in named phases: start the operator, submit the burst and measure golden,
// tear down, attribute the API requests, and measure the references (the Job controller, and a
// bare client at golden's budget) on the same apiserver.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CoreV1Api, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { GROUP } from "../src/api/v1alpha1/index.js";
import { OPERATOR_FLAGS } from "../src/cmd/operator/flags.js";
import type { RestClient } from "../src/runtime/kube.js";
import { freePort } from "../test/support/free-port.js";
import {
  type HostVisibility,
  hostVisibilityFlags,
  hostVisibilityManifests,
  nodeIp,
  VISIBILITY_APISERVICE,
} from "../test/support/visibility.js";
import { type BenchConfig, flagValue, withoutFlag } from "./config.js";
import {
  type ApiserverProfile,
  captureApiserverProfile,
  summarizeApiserverProfile,
} from "./lib/apiserver-profile.js";
import {
  type ApiDelta,
  type ApiRow,
  apiDelta,
  countGoldenEvents,
  type OperatorDelta,
  operatorDelta,
  sumRows,
  WRITE_VERBS,
} from "./lib/deltas.js";
import { type GoldenScenarioResult, runGoldenScenario, type SteadyOptions } from "./lib/golden.js";
import {
  createNamespace,
  deleteImages,
  deleteNamespace,
  harnessClient,
  requestsByMethod,
  scrapeApiserver,
} from "./lib/kube.js";
import { OperatorProcess, ResourceSampler, rssBytes } from "./lib/operator.js";
import {
  type CpuByProcess,
  type CpuSnapshot,
  clusterPids,
  cpuBetween,
  cpuSnapshot,
} from "./lib/process-cpu.js";
import { type ProfileSummary, summarizeProfile } from "./lib/profile.js";
import { PendingListSampler } from "./lib/queued.js";
import { runBareClientReference, runJobControllerReference } from "./lib/references.js";
import { BY_RESOURCE, type MeasuredExtras, type RunForN, type ScenarioKind } from "./lib/results.js";
import { round, summarize } from "./lib/stats.js";

export const loadavg = () => os.loadavg().map((v) => round(v, 2));

/** How one run of N Images is set up. */
export interface Scenario {
  kind: ScenarioKind;
  operatorArgs: string[];
  stepSeconds: number;
  /** Measure the Job controller and bare-client references after golden's run. */
  references: boolean;
  cap?: number;
  steady?: SteadyOptions;
  /** Stop this long after the last Image is created, builds done or not (the queue at the default cap). */
  holdSeconds?: number;
}

/**
 * Bursts: nothing waits for a slot (unless BENCH_OPERATOR_ARGS sets a cap, kept as `cap`); the
 * references are measured too.
 */
export function burstScenario(cfg: BenchConfig): Scenario {
  const cap = Number(flagValue(cfg.operatorArgs, "max-concurrent-builds"));
  return {
    kind: "burst",
    operatorArgs: cfg.operatorArgs,
    stepSeconds: cfg.stepSeconds,
    references: true,
    ...(Number.isFinite(cap) ? { cap } : {}),
  };
}

/** Images at fixed rates (a ladder) with free capacity: the latency users feel day to day. */
export function steadyScenario(cfg: BenchConfig, steady: SteadyOptions): Scenario {
  return {
    kind: "steady",
    operatorArgs: cfg.operatorArgs,
    stepSeconds: cfg.stepSeconds,
    references: false,
    steady,
  };
}

/** A burst most of which waits for `cap` slots. */
export function queuedScenario(cfg: BenchConfig): Scenario {
  const { cap, stepSeconds } = cfg.queued;
  return {
    kind: "queued",
    operatorArgs: [
      ...cfg.operatorArgs.slice(0, 2),
      "--max-concurrent-builds",
      String(cap),
      ...cfg.operatorArgs.slice(4),
    ],
    stepSeconds,
    references: false,
    cap,
  };
}

/**
 * A burst against the cap golden ships with (no --max-concurrent-builds flag), held `holdSeconds`
 * once in and then stopped: the queue thousands deep as a user of the default configuration
 * reads it. Draining it would take N ÷ (cap ÷ build time) seconds (5 000 s for 5 000).
 */
export function queueAtDefaultCapScenario(cfg: BenchConfig): Scenario {
  const cap = OPERATOR_FLAGS.find((f) => f.name === "max-concurrent-builds")?.default;
  if (typeof cap !== "number") throw new Error("the operator's --max-concurrent-builds has no default");
  return {
    kind: "queue-at-default-cap",
    operatorArgs: withoutFlag(cfg.operatorArgs, "max-concurrent-builds"),
    stepSeconds: cfg.queued.stepSeconds,
    references: false,
    cap,
    holdSeconds: cfg.queued.atDefaultCap.holdSeconds,
  };
}

/** Scenarios whose queue the harness lists through the visibility API while builds wait. */
const LISTS_THE_QUEUE: ReadonlySet<ScenarioKind> = new Set(["queued", "queue-at-default-cap"]);

/** What measuring golden's burst yields, before attribution. */
interface GoldenPhase {
  golden: GoldenScenarioResult;
  opDelta: OperatorDelta;
  api: ApiDelta;
  idleRss: number;
  events: { objects: number; occurrences: number };
  teardownSeconds: number;
  imagesDeleteSeconds: number;
  pendingSampler?: PendingListSampler;
  harnessReq: Record<string, number>;
  /** Requests of the client that ends build pods (the queued scenario). */
  podReq: Record<string, number>;
  workerReq: Record<string, number>;
  op: OperatorProcess;
  sampler: ResourceSampler;
  cpu: CpuByProcess;
  apiserverProfile?: ApiserverProfile;
}

/** The runs of one `make bench`, on one cluster, sharing its references. */
export class Bench {
  /** References already measured in this run, by their N (they are re-used, not re-measured). */
  readonly #refCache = {
    jobs: new Map<number, NonNullable<RunForN["jobController"]>>(),
    bare: new Map<number, NonNullable<RunForN["bareClient"]>>(),
  };
  /** Where the bench cluster routes visibility.golden.dev: to the operator the bench runs, on the node bridge. */
  #visibility: HostVisibility | undefined;
  /** Set once the bench cluster routes visibility.golden.dev to the operators the bench starts. */
  visibilityReady = false;
  #apiService: KubernetesObject[] = [];

  constructor(
    private readonly cfg: BenchConfig,
    private readonly kc: KubeConfig,
    private readonly rest: RestClient,
    private readonly stamp: string,
    private readonly repo: string,
    private readonly log: (msg: string) => void,
  ) {}

  /** Operator flags that serve the visibility API where the aggregator reaches it (else: off). */
  visibilityArgs(): string[] {
    return this.#visibility ? hostVisibilityFlags(this.#visibility) : ["--visibility-port", "0"];
  }

  /**
   * Registers the visibility API's Service and EndpointSlice for the bench's operators; its
   * APIService is registered only while one runs (#visibilityUp): an APIService nobody serves
   * stalls every namespace deletion (the namespace controller cannot list pendingbuilds in it).
   */
  async registerVisibility(core: CoreV1Api): Promise<boolean> {
    const routed: HostVisibility = {
      namespace: "bench-visibility",
      nodeIp: nodeIp(),
      port: await freePort(),
    };
    try {
      await createNamespace(core, routed.namespace).catch(() => undefined);
      const all = hostVisibilityManifests(routed) as KubernetesObject[];
      this.#apiService = all.filter((m) => m.kind === "APIService");
      const manifests = all
        .filter((m) => m.kind !== "APIService")
        .map((m) => JSON.stringify(m))
        .join("\n");
      execFileSync("kubectl", ["apply", "--server-side", "-f", "-"], {
        input: manifests,
        stdio: ["pipe", "ignore", "pipe"],
      });
      this.#visibility = routed;
      this.log(`visibility API: routed to ${routed.nodeIp}:${routed.port}`);
      return true;
    } catch (err) {
      this.log(
        `visibility API: not registered (${String(err).slice(0, 200)}); pendingbuilds latency not measured`,
      );
      return false;
    }
  }

  /** Registers the APIService for the operator about to start (see registerVisibility). */
  #visibilityUp(): void {
    if (!this.visibilityReady || this.#apiService.length === 0) return;
    execFileSync("kubectl", ["apply", "--server-side", "-f", "-"], {
      input: this.#apiService.map((m) => JSON.stringify(m)).join("\n"),
      stdio: ["pipe", "ignore", "pipe"],
    });
  }

  /** The operator stopped: nothing serves the APIService any more. */
  #visibilityDown(): void {
    if (!this.visibilityReady) return;
    for (const m of this.#apiService)
      execFileSync("kubectl", ["delete", "apiservice", m.metadata?.name ?? "", "--ignore-not-found"], {
        stdio: ["ignore", "ignore", "pipe"],
      });
  }

  /** References run at min(N, BENCH_REF_MAX_N): their rates are flat in N past the burst. */
  #referenceSize(n: number): number {
    return this.cfg.refMaxN > 0 ? Math.min(n, this.cfg.refMaxN) : n;
  }

  /** Whether a reference will be measured on this cluster after golden's burst of n. */
  #referencesRunAfter(n: number): boolean {
    const refN = this.#referenceSize(n);
    const { references } = this.cfg;
    return (
      (references.has("jobs") && !this.#refCache.jobs.has(refN)) ||
      (references.has("bare") && !this.#refCache.bare.has(refN))
    );
  }

  #profileName(scenario: Scenario, n: number): string {
    return `operator-${this.stamp}-${scenario.kind}-n${n}${this.cfg.label ? `-${this.cfg.label}` : ""}.cpuprofile`;
  }

  /** Runs N Images of `scenario` and measures everything the report shows. */
  async run(n: number, opts: { last: boolean; scenario: Scenario }): Promise<RunForN> {
    const load0 = loadavg();
    const measured = await this.#measureGolden(n, opts);
    // A steady ladder can stop early: per-build figures are over the Images it created.
    const result = this.#attribute(measured.golden.n, opts.scenario, measured, load0);
    if (opts.scenario.references) await this.#measureReferences(n, opts.scenario, result);
    return result;
  }

  /** Phase 1: the operator, the burst, the scrapes around it, and the teardown. */
  async #measureGolden(n: number, opts: { last: boolean; scenario: Scenario }): Promise<GoldenPhase> {
    const { cfg, kc, rest, log } = this;
    const { scenario } = opts;
    const core = rest.api(CoreV1Api);
    const logsDir = path.join(cfg.outDir, "logs");
    fs.mkdirSync(logsDir, { recursive: true });

    const ns = scenario.kind === "burst" ? `bench-golden-${n}` : `bench-${scenario.kind}-${n}`;
    const tag = scenario.kind === "burst" ? `N=${n}` : `${scenario.kind} N=${n}`;
    const runArgs = [...scenario.operatorArgs, ...this.visibilityArgs()];
    log(
      `${tag}: starting golden-operator (${path.relative(this.repo, cfg.operatorScript)} ${runArgs.join(" ")})`,
    );
    this.#visibilityUp();
    const op = await OperatorProcess.start({
      script: cfg.operatorScript,
      kubeconfig: cfg.kubeconfig,
      args: runArgs,
      logFile: path.join(logsDir, `operator-${this.stamp}-${scenario.kind}-n${n}.log`),
      cpuProfDir: cfg.cpuProf ? path.join(cfg.outDir, "profiles") : undefined,
      cpuProfName: cfg.cpuProf ? this.#profileName(scenario, n) : undefined,
      nodeArgs: cfg.nodeArgs,
    });
    let golden: GoldenScenarioResult;
    let opDelta: OperatorDelta;
    let api: ApiDelta;
    let idleRss: number;
    let teardownSeconds = 0;
    let imagesDeleteSeconds = 0;
    let events = { objects: 0, occurrences: 0 };
    let cpuBefore: CpuSnapshot;
    let cpu: CpuByProcess;
    let profiling: Promise<ApiserverProfile | undefined> = Promise.resolve(undefined);
    const sampler = new ResourceSampler(op.pid, () => op.scrape());
    const harness = harnessClient(kc);
    const workerHarness = harnessClient(kc, 1000, 1000);
    const podHarness = harnessClient(kc, 1000, 1000);
    // While most of a queued burst waits, list the queue as `kubectl get pendingbuilds -A --chunk-size=500` does.
    const listsQueue = LISTS_THE_QUEUE.has(scenario.kind);
    const measureQueue = listsQueue && this.visibilityReady && (await waitVisibilityAvailable(90_000));
    if (listsQueue && !measureQueue) log(`${tag}: the visibility API is not available`);
    const pendingSampler = measureQueue
      ? new PendingListSampler({
          kubeconfig: cfg.kubeconfig,
          chunk: 500,
          everyMs: 3000,
          minWaiting: Math.min(n * 0.5, 5000),
        })
      : undefined;
    try {
      await createNamespace(core, ns);
      await new Promise((r) => setTimeout(r, 2000)); // let the operator's caches settle
      idleRss = rssBytes(op.pid) ?? 0;
      const opBefore = await op.scrape();
      const apiBefore = await scrapeApiserver(rest);
      const processes = { ...clusterPids(cfg.clusterDir), "golden-operator": op.pid };
      cpuBefore = cpuSnapshot(processes);
      sampler.start();
      profiling = this.#profileApiserver(scenario, n, log, tag);
      log(
        `${tag}: golden — ${scenario.steady ? `Images at ${scenario.steady.phases.map((p) => `${p.rate}/s`).join(", then ")} for ${scenario.steady.phases[0]?.seconds}s each` : `${n} Images`}, ${cfg.workerMode} workers, ${scenario.stepSeconds}s/step`,
      );
      golden = await runGoldenScenario({
        kc,
        rest: harness.rest,
        workerRest: workerHarness.rest,
        podRest: podHarness.rest,
        namespace: ns,
        n,
        stepSeconds: scenario.stepSeconds,
        workerMode: cfg.workerMode,
        submitConcurrency: cfg.submitConcurrency,
        timeoutMs: cfg.timeoutMs(n),
        // A slot is held until the build's pod ends. When builds wait for slots, the pod ends as
        // the worker's would, once the result is in, not after KWOK's delayed pod-complete stage
        // (30 s): else the run measures that delay (10 slots ÷ 30 s ≈ 0.33 builds/s at a cap of 10).
        completePodOnResult: scenario.kind === "queued" || (scenario.cap !== undefined && scenario.cap < n),
        steady: scenario.steady,
        holdSeconds: scenario.holdSeconds,
        onTick: (c) => pendingSampler?.tick(c.created - c.admitted, c.created < n),
        log,
      });
      sampler.stop();
      cpu = cpuBetween(cpuBefore, cpuSnapshot(processes), os.cpus().length);
      const opAfter = await op.scrape();
      const apiAfter = await scrapeApiserver(rest);
      opDelta = operatorDelta(opBefore, opAfter);
      api = apiDelta(apiBefore, apiAfter);
      events = await countGoldenEvents(rest, ns);
      log(
        `${tag}: golden done in ${golden.wallSeconds}s: ${golden.succeeded} succeeded, ${golden.failed} failed, ${golden.incomplete} incomplete`,
      );
      if (opts.last && cfg.disposableCluster && !(scenario.references && this.#referencesRunAfter(n))) {
        // Nothing runs on this cluster after this burst and hack/bench.sh stops it: deleting
        // thousands of Images, builds, Jobs and pods one by one would only add minutes.
        log(`${tag}: leaving ${ns} to the cluster's removal (BENCH_DISPOSABLE_CLUSTER=1)`);
        teardownSeconds = Number.NaN;
        imagesDeleteSeconds = Number.NaN;
      } else {
        log(
          `${tag}: deleting the Images and builds (the operator releases the builds' finalizers), then ${ns}`,
        );
        try {
          imagesDeleteSeconds = await deleteImages(rest, ns, 900_000);
          teardownSeconds = imagesDeleteSeconds + (await deleteNamespace(core, ns, 900_000));
        } catch (err) {
          // The measurement stands; a later run removes what is left (namespaces labelled golden.dev/bench).
          log(`${tag}: teardown failed: ${String(err)}`);
          teardownSeconds = Number.NaN;
        }
      }
    } finally {
      sampler.stop();
      await op.stop();
      this.#visibilityDown();
    }
    const harnessReq = await requestsByMethod(harness.metrics);
    const workerReq = await requestsByMethod(workerHarness.metrics);
    const podReq = await requestsByMethod(podHarness.metrics);
    await harness.rest.auth.close();
    await workerHarness.rest.auth.close();
    await podHarness.rest.auth.close();
    return {
      golden,
      opDelta,
      api,
      idleRss,
      events,
      teardownSeconds,
      imagesDeleteSeconds,
      pendingSampler,
      harnessReq,
      podReq,
      workerReq,
      op,
      sampler,
      cpu,
      apiserverProfile: await profiling,
    };
  }

  /**
   * From 20 s into the run (the burst flowing), a CPU profile of the kube-apiserver, kept beside the
   * results and summarized by APISERVER_PROFILE_PARTS; undefined when not asked for or not taken.
   */
  async #profileApiserver(
    scenario: Scenario,
    n: number,
    log: (msg: string) => void,
    tag: string,
  ): Promise<ApiserverProfile | undefined> {
    const { cfg } = this;
    const seconds = cfg.apiserverProfileSeconds;
    if (seconds <= 0) return undefined;
    const dir = path.join(cfg.outDir, "profiles");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `apiserver-${this.stamp}-${scenario.kind}-n${n}.pprof.gz`);
    await new Promise((r) => setTimeout(r, 20_000));
    try {
      log(`${tag}: profiling the kube-apiserver for ${seconds}s into ${path.relative(this.repo, file)}`);
      await captureApiserverProfile({ kubeconfig: cfg.kubeconfig, seconds, file });
    } catch (err) {
      // Profiling is off on a cluster the bench did not start (GOLDEN_APISERVER_PROFILING=1 turns it on).
      log(`${tag}: no apiserver profile: ${(err as Error).message.split("\n")[0]}`);
      return undefined;
    }
    return summarizeApiserverProfile(file, seconds, cfg.apiserverBinary);
  }

  /** Phase 2: whose requests were whose, per build; the operator's footprint; the bottleneck. */
  #attribute(n: number, scenario: Scenario, m: GoldenPhase, load0: number[]): RunForN {
    const { cfg } = this;
    const { golden, opDelta, api, events, workerReq } = m;
    let profile: ProfileSummary | undefined;
    if (cfg.cpuProf) {
      const file = path.join(cfg.outDir, "profiles", this.#profileName(scenario, n));
      if (fs.existsSync(file)) profile = summarizeProfile(file, 20, this.repo);
    }
    const w = (r: ApiRow) => WRITE_VERBS.has(r.verb);
    const imagesWrites = sumRows(api.rows, (r) => w(r) && r.group === GROUP && r.resource === "images") - n;
    const buildWrites =
      sumRows(api.rows, (r) => w(r) && r.group === GROUP && r.resource === "imagebuilds") -
      ((workerReq.PATCH ?? 0) + (workerReq.POST ?? 0) + (workerReq.PUT ?? 0));
    const jobWrites = sumRows(
      api.rows,
      (r) => w(r) && r.group === "batch" && r.resource === "jobs" && r.subresource === "",
    );
    const eventWrites = events.objects;
    // Only the operator writes ImageVersions (no harness or worker does).
    const versionWrites = sumRows(
      api.rows,
      (r) => w(r) && r.group === GROUP && r.resource === "imageversions",
    );
    const other = opDelta.writes - imagesWrites - buildWrites - jobWrites - eventWrites - versionWrites;
    const per = (v: number) => round(v / n, 2);
    const onClientBudget =
      opDelta.reads + opDelta.writes - (opDelta.requestsByMethod.WATCH ?? 0) - eventWrites;
    // What the budget allows if every request were spent on builds: qps ÷ requests per build.
    const budgetLimit = onClientBudget > 0 ? cfg.qps / (onClientBudget / n) : Number.NaN;
    const phaseSeconds = Math.max((golden.end - golden.start) / 1000, 1e-3);
    const nonWatchRequests = opDelta.reads + opDelta.writes - (opDelta.requestsByMethod.WATCH ?? 0);
    const requestRate = round(nonWatchRequests / phaseSeconds, 1);
    const cpuUtil = round(opDelta.cpuSeconds / phaseSeconds, 2);
    const busy = Object.fromEntries(
      Object.entries(opDelta.reconcileSeconds).map(([c, sec]) => [
        c,
        round(sec / phaseSeconds / Math.max(opDelta.workers[c] ?? 1, 1), 2),
      ]),
    );
    return {
      n,
      scenario: scenario.kind,
      cap: scenario.cap,
      pendingList: m.pendingSampler?.result(),
      golden,
      operator: {
        pid: m.op.pid,
        args: m.op.args,
        idleRssMB: round(m.idleRss / 2 ** 20),
        peakRssMB: round(m.sampler.peakRssBytes / 2 ** 20),
        peakHeapUsedMB: round(m.sampler.peakHeapUsedBytes / 2 ** 20),
        // Per 2 s scrape, the longest the event loop was blocked: what every request then waited.
        eventLoopLagMaxMs: summarize(m.sampler.eventLoopLagMaxMs),
        // The visibility thread's: a page arriving while it is blocked waits before golden's own time.
        visibilityThreadLagMaxMs: summarize(m.sampler.visibilityThreadLagMaxMs),
        endRssMB: opDelta.rssMB,
        heapUsedMB: opDelta.heapUsedMB,
        cpuSeconds: opDelta.cpuSeconds,
        cpuUtilization: cpuUtil,
        requestRatePerSecond: requestRate,
        delta: opDelta,
        profile,
      },
      requestsPerBuild: {
        operator: {
          reads: per(opDelta.reads),
          writes: per(opDelta.writes),
          writesExceptJob: per(opDelta.writes - jobWrites),
          writesExceptJobAndEvents: per(opDelta.writes - jobWrites - eventWrites),
          onClientBudget: per(onClientBudget),
        },
        byResource: {
          [BY_RESOURCE.images]: per(imagesWrites),
          [BY_RESOURCE.imageBuilds]: per(buildWrites),
          [BY_RESOURCE.imageVersions]: per(versionWrites),
          [BY_RESOURCE.jobs]: per(jobWrites),
          [BY_RESOURCE.events]: per(eventWrites),
          [BY_RESOURCE.other]: per(other),
        },
        events,
        apiserverAllComponents: { reads: per(api.reads), writes: per(api.writes) },
        harness: Object.fromEntries(
          Object.entries({
            ...m.harnessReq,
            ...Object.fromEntries(Object.entries(workerReq).map(([k, v]) => [`worker ${k}`, v])),
            ...Object.fromEntries(Object.entries(m.podReq).map(([k, v]) => [`pod completion ${k}`, v])),
          }).map(([k, v]) => [k, per(v)]),
        ),
      },
      apiserver: api,
      teardownSeconds: round(m.teardownSeconds, 1),
      imagesDeleted: {
        seconds: round(m.imagesDeleteSeconds, 1),
        perSecond: round(n / Math.max(m.imagesDeleteSeconds, 1e-3), 1),
      },
      bottleneck: judgeBottleneck(opDelta, api, requestRate, cpuUtil, busy, cfg.qps),
      controllerBusy: busy,
      ratios: {
        budgetLimitJobsPerSecond: round(budgetLimit, 1),
        jobsVsBudgetLimit: round(golden.throughput.jobs.sustained / budgetLimit, 2),
      },
      loadavg: { before: load0, after: loadavg() },
      cpuByProcess: m.cpu,
      apiserverProfile: m.apiserverProfile,
    };
  }

  /** Phase 3: the references at min(N, BENCH_REF_MAX_N), measured once per run and reused. */
  async #measureReferences(n: number, scenario: Scenario, result: RunForN): Promise<void> {
    const { cfg, kc, rest, log } = this;
    const core = rest.api(CoreV1Api);
    const refN = this.#referenceSize(n);
    const golden = result.golden;
    const reference = async <R>(
      cache: Map<number, R & MeasuredExtras>,
      how: { name: string; namespacePrefix: string; starting: string; run: (ns: string) => Promise<R> },
      done: (r: R) => string,
    ): Promise<R & MeasuredExtras> => {
      const cached = cache.get(refN);
      if (cached) {
        log(`N=${n}: reference — ${how.name} at N=${refN}, measured earlier in this run`);
        return cached;
      }
      const rns = `${how.namespacePrefix}-${n}`;
      await createNamespace(core, rns);
      const before = await scrapeApiserver(rest);
      log(`N=${n}: reference — ${how.starting}`);
      const r = await how.run(rns);
      const apiR = apiDelta(before, await scrapeApiserver(rest));
      log(`N=${n}: ${done(r)}; deleting ${rns}`);
      const td = await deleteNamespace(core, rns, 900_000);
      const measured = { ...r, apiserver: apiR, teardownSeconds: round(td, 1) };
      cache.set(refN, measured);
      return measured;
    };
    const common = {
      kc,
      rest,
      n: refN,
      worker: cfg.worker,
      stepSeconds: scenario.stepSeconds,
      timeoutMs: cfg.timeoutMs(n),
      log,
    };

    if (cfg.references.has("jobs")) {
      const r = await reference(
        this.#refCache.jobs,
        {
          name: "Job controller",
          namespacePrefix: "bench-jobctl",
          starting: `kube-controller-manager's Job controller, ${refN} Jobs`,
          run: (namespace) => runJobControllerReference({ ...common, namespace }),
        },
        (r) => `Job controller: ${r.podsSeen} pods, ${r.throughput.pods.sustained} pods/s`,
      );
      result.jobController = r;
      result.ratios.jobsVsJobController = round(
        golden.throughput.jobs.sustained / r.throughput.pods.sustained,
        2,
      );
      result.ratios.admittedVsJobController = round(
        golden.throughput.admitted.sustained / r.throughput.pods.sustained,
        2,
      );
    }

    if (cfg.references.has("bare")) {
      const { qps, burst } = cfg;
      const r = await reference(
        this.#refCache.bare,
        {
          name: "bare client",
          namespacePrefix: "bench-bare",
          starting: `bare client creating ${refN} Jobs at ${qps} qps / ${burst} burst`,
          run: (namespace) => runBareClientReference({ ...common, namespace, qps, burst }),
        },
        (r) => `bare client: ${r.throughput.jobs.sustained} Jobs/s`,
      );
      result.bareClient = r;
      result.ratios.jobsVsBareClient = round(
        golden.throughput.jobs.sustained / r.throughput.jobs.sustained,
        2,
      );
    }
  }
}

/** The aggregator marks the APIService Available once it reaches the operator just started. */
async function waitVisibilityAvailable(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = execFileSync(
      "kubectl",
      [
        "get",
        "apiservice",
        VISIBILITY_APISERVICE,
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Available")].status}',
      ],
      { encoding: "utf8" },
    );
    if (status === "True") return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/**
 * Where golden's time goes: waiting on its own client throttle (the QPS budget), its own CPU
 * (one Node.js thread), or the apiserver's answers.
 */
export function judgeBottleneck(
  op: OperatorDelta,
  api: ApiDelta,
  requestRate: number,
  cpuUtil: number,
  busy: Record<string, number>,
  qps: number,
): string {
  const busiest = Object.entries(busy).sort((a, b) => b[1] - a[1])[0];
  const busyText = Object.entries(busy)
    .map(([c, b]) => `${c} ${Math.round(b * 100)}%`)
    .join(", ");
  const facts = `controllers busy (share of their workers' time): ${busyText}; client ${requestRate} req/s of ${qps} qps, throttle wait mean ${op.throttle.meanWaitMs} ms (p99 ${op.throttle.p99Ms ?? "?"} ms, ${Math.round(op.throttle.waitedShare * 100)}% of requests waited), request latency mean ${op.requestLatencyMs.mean} ms (p99 ${op.requestLatencyMs.p99 ?? "?"} ms), apiserver write p99 ${api.writeLatencyMs.p99 ?? "?"} ms, operator CPU ${Math.round(cpuUtil * 100)}% of a core`;
  let verdict: string;
  if (busiest && busiest[1] >= 0.9 && (op.workers[busiest[0]] ?? 1) === 1) {
    verdict = `operator: the ${busiest[0]} loop (one worker, busy ${Math.round(busiest[1] * 100)}% of the time: its requests go out one at a time)`;
  } else if (op.throttle.meanWaitMs > op.requestLatencyMs.mean && op.throttle.waitedShare >= 0.5) {
    verdict = `operator: client-side QPS budget (requests wait on its token bucket longer than on the apiserver${requestRate >= 0.8 * qps ? ", and it sends at its QPS" : ""})`;
  } else if (cpuUtil >= 0.8) {
    verdict = "operator: CPU (its single event loop is saturated)";
  } else if (op.requestLatencyMs.mean >= 50 || (api.writeLatencyMs.p99 ?? 0) >= 500) {
    verdict = "apiserver: slow answers (requests wait on the apiserver longer than on the client budget)";
  } else {
    verdict = "neither saturated: latency is pipeline depth (sequential reconciles, watch round trips)";
  }
  return `${verdict} — ${facts}`;
}
