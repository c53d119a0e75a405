// One chaos run, shared by the full suite (`make chaos`, test/chaos/chaos.test.ts) and the
// bounded subset in `make test` (test/integration/chaos.test.ts):
//   setup    namespaces, a supervised fleet of leader-elected operators, watch logs, the Images;
//   chaos    faults from a seeded plan while the builds run, then convergence and the invariants;
//   fuzz     thousands of random/adversarial specs by dry run, a sample built for real;
//   teardown every component running again (up.sh), Images and then namespaces deleted while the
//            operators still run (golden's finalizer), operators stopped, lease namespace deleted.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Image, ImageBuild } from "../../src/api/v1alpha1/index.js";
import { isConflict } from "../../src/runtime/api-errors.js";
import { core, golden } from "../integration/cluster.js";
import { stripGoldenFinalizers } from "../support/finalizers.js";
import { log } from "./clock.js";
import { type FaultKind, type FaultRecord, injectFault, restoreControlPlane } from "./faults.js";
import { type FuzzResult, fuzzImageApi } from "./fuzz.js";
import {
  checkBuilds,
  checkImages,
  checkOperatorExits,
  checkOrphans,
  checkQueueLimits,
  snapshot,
  waitForConvergence,
} from "./invariants.js";
import { splitKnown } from "./known-bugs.js";
import { OperatorFleet } from "./operators.js";
import { Rng } from "./prng.js";
import { ConflictStorm } from "./storm.js";
import { BuildLog, JobLog } from "./watch.js";
import { bumpSpec, chaosImage } from "./workload.js";

export interface ChaosConfig {
  label: string;
  seed: number;
  namespaces: number;
  /** "namespace": the operators watch the (single) chaos namespace; "cluster": every namespace. */
  scope: "namespace" | "cluster";
  images: number;
  replicas: number;
  maxConcurrentBuilds: number;
  maxBuildsPerNamespace: number;
  /** golden.dev/max-concurrent-builds on the last namespace, when set. */
  lastNamespaceLimit?: number;
  /** Every kind here is injected at least once. */
  required: FaultKind[];
  /** After the required faults, random ones by weight until chaosMs is used up. */
  filler: { kind: FaultKind; weight: number }[];
  chaosMs: number;
  gapMs: [number, number];
  stormClients: number;
  stormMs: number;
  /** How long a fault waits for a build to be mid-steps after the churn (ensureBusy). */
  busyWaitMs: number;
  convergeTimeoutMs: number;
  fuzzCases: number;
  fuzzReal: number;
  fuzzTimeoutMs: number;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export class ChaosRun {
  readonly rng: Rng;
  readonly namespaces: string[] = [];
  leaseNamespace = "";
  fleet?: OperatorFleet;
  readonly jobs = new JobLog();
  readonly builds = new BuildLog();
  readonly storm: ConflictStorm;
  readonly faults: FaultRecord[] = [];
  readonly images: { namespace: string; name: string }[] = [];
  readonly violations: { phase: string; problems: string[] }[] = [];
  readonly knownBugs: { phase: string; problems: string[] }[] = [];
  churns = 0;
  /** Cleanup trouble, printed in the summary (after the tests have reported). */
  readonly teardownProblems: string[] = [];
  /** Noteworthy, not failing. */
  readonly observations: string[] = [];
  readonly timings: Record<string, number> = {};
  fuzzResults: FuzzResult[] = [];
  fuzzOutcomes = new Map<string, number>();
  private converged?: { converged: boolean; waitedMs: number };

  constructor(readonly cfg: ChaosConfig) {
    this.rng = new Rng(cfg.seed);
    this.storm = new ConflictStorm(cfg.stormClients, 6);
  }

  private limitOf = (ns: string): number | undefined => {
    if (this.cfg.lastNamespaceLimit && ns === this.namespaces.at(-1)) return this.cfg.lastNamespaceLimit;
    return this.cfg.maxBuildsPerNamespace > 0 ? this.cfg.maxBuildsPerNamespace : undefined;
  };

  async setup(): Promise<void> {
    const started = Date.now();
    const { cfg } = this;
    log(`${cfg.label}: seed ${cfg.seed} (replay with CHAOS_SEED=${cfg.seed})`);
    const suffix = randomBytes(3).toString("hex");
    for (let i = 0; i < cfg.namespaces; i++) {
      const name = `chaos-${suffix}-${i}`;
      const last = i === cfg.namespaces - 1 && cfg.lastNamespaceLimit;
      await core.createNamespace({
        body: {
          metadata: {
            name,
            labels: { "golden.dev/test": "true" },
            ...(last
              ? { annotations: { "golden.dev/max-concurrent-builds": String(cfg.lastNamespaceLimit) } }
              : {}),
          },
        },
      });
      this.namespaces.push(name);
    }
    this.leaseNamespace = `chaos-${suffix}-lease`;
    await core.createNamespace({
      body: { metadata: { name: this.leaseNamespace, labels: { "golden.dev/test": "true" } } },
    });
    await this.jobs.watch.start();
    await this.jobs.podWatch.start();
    await this.builds.watch.start();
    this.fleet = new OperatorFleet({
      namespace: cfg.scope === "namespace" ? (this.namespaces[0] as string) : "",
      leaseNamespace: this.leaseNamespace,
      replicas: cfg.replicas,
      maxConcurrentBuilds: cfg.maxConcurrentBuilds,
      maxBuildsPerNamespace: cfg.maxBuildsPerNamespace,
      // Quick retries and heartbeats, so the run converges in minutes, not hours.
      extraArgs: [
        "--retry-base-seconds",
        "1",
        "--worker-heartbeat-seconds",
        "3",
        "--worker-lost-after",
        "30",
        "--build-timeout-grace",
        "10",
        "--graceful-shutdown-timeout",
        "5",
      ],
      name: `${cfg.label}-${suffix}`,
      log,
    });
    await this.fleet.start();
    log(`operators: ${cfg.replicas} replicas, args ${this.fleet.args.join(" ")}`);
    const rng = this.rng.fork("workload");
    const created: Image[] = [];
    for (let i = 0; i < cfg.images; i++) {
      const ns = this.namespaces[i % this.namespaces.length] as string;
      created.push(await golden.images.create(chaosImage(rng, ns, i)));
      this.images.push({ namespace: ns, name: created.at(-1)?.metadata?.name ?? "" });
    }
    log(`created ${created.length} Images in ${this.namespaces.join(", ")}`);
    this.timings.setupMs = Date.now() - started;
  }

  /** Injects the faults, waits for convergence and checks the invariants. */
  async chaos(): Promise<string[]> {
    const { cfg } = this;
    const fleet = this.fleet as OperatorFleet;
    const rng = this.rng.fork("faults");
    const started = Date.now();
    const ctx = {
      rng,
      fleet,
      storm: this.storm,
      namespaces: this.namespaces,
      images: this.images,
      stormMs: cfg.stormMs,
    };
    const required = rng.shuffle(cfg.required);
    const problems: string[] = [];
    const total = cfg.filler.reduce((s, f) => s + f.weight, 0);
    const drawFiller = (): FaultKind => {
      let x = rng.next() * total;
      for (const f of cfg.filler) {
        x -= f.weight;
        if (x < 0) return f.kind;
      }
      return "job-delete";
    };
    // Required faults, each followed (usually) by a Job or pod deletion; then filler by weight.
    const queue: FaultKind[] = [];
    for (const kind of required) {
      queue.push(kind);
      if (rng.chance(0.7)) queue.push(rng.pick(["job-delete", "pod-delete"] as const));
    }
    await sleep(rng.int(...cfg.gapMs)); // Let the first builds start.
    while (queue.length > 0 || Date.now() - started < cfg.chaosMs) {
      const kind = queue.shift() ?? drawFiller();
      if (kind !== "conflict-storm") await this.ensureBusy(rng);
      const at = Date.now();
      const record: FaultRecord = { kind, at: at - started, durationMs: 0, detail: "" };
      try {
        record.detail = await injectFault(kind, ctx);
      } catch (err) {
        record.error = String((err as { stderr?: string }).stderr ?? err);
        problems.push(`fault ${kind} failed: ${record.error}`);
      }
      record.durationMs = Date.now() - at;
      this.faults.push(record);
      log(`fault ${this.faults.length} ${kind} (${record.durationMs} ms): ${record.error ?? record.detail}`);
      await sleep(rng.int(...cfg.gapMs));
    }
    this.timings.chaosMs = Date.now() - started;
    log(`faults stopped after ${(this.timings.chaosMs / 1000).toFixed(0)} s; waiting for convergence`);

    // Everything up again (a fault may have left a component down), then a leader.
    await restoreControlPlane();
    await fleet.waitForLeader(120_000).catch((err: unknown) => problems.push(String(err)));
    const convergeStart = Date.now();
    const conv = await waitForConvergence(this.namespaces, cfg.convergeTimeoutMs, log);
    this.converged = conv;
    this.timings.convergeMs = Date.now() - convergeStart;
    if (!conv.converged)
      problems.push(
        `no convergence within ${cfg.convergeTimeoutMs} ms; still pending:\n  ${conv.pending.slice(0, 40).join("\n  ")}`,
      );
    log(`converged=${conv.converged} after ${(conv.waitedMs / 1000).toFixed(0)} s`);

    const snap = await snapshot(this.namespaces);
    const workload = new Set(this.images.map((i) => `${i.namespace}/${i.name}`));
    const nsSet = new Set(this.namespaces);
    problems.push(
      ...checkImages(snap, workload),
      ...checkBuilds(snap, this.builds, nsSet, workload),
      ...(await checkOrphans(this.namespaces, 60_000)),
      ...checkQueueLimits(this.jobs, this.builds, this.namespaces, {
        cluster: cfg.maxConcurrentBuilds,
        namespace: this.limitOf,
      }),
      ...(await this.storm.verify()),
      ...checkOperatorExits(fleet),
    );
    // Not golden's invariant, but worth knowing: build pods stuck terminating (kube's Job
    // controller keeps its job-tracking finalizer when a Job is recreated under the same name).
    const stuck = (
      await Promise.all(
        this.namespaces.map((namespace) =>
          core.listNamespacedPod({ namespace }).catch(() => ({ items: [] })),
        ),
      )
    )
      .flatMap((l) => l.items)
      .filter(
        (p) =>
          p.metadata?.deletionTimestamp &&
          Date.now() - new Date(p.metadata.deletionTimestamp).getTime() > 60_000,
      );
    if (stuck.length > 0)
      this.observations.push(
        `${stuck.length} build pod(s) stuck terminating after convergence: ` +
          stuck
            .map((p) => `${p.metadata?.namespace}/${p.metadata?.name} [${p.metadata?.finalizers}]`)
            .join(", "),
      );
    const killed = this.faults.filter((f) => f.kind === "leader-kill" && !f.error).length;
    const transitions = await fleet.leaseTransitions();
    if (killed > 0 && transitions < killed)
      problems.push(`${killed} leaders killed but the lease changed hands only ${transitions} times`);
    return this.record("chaos", problems);
  }

  /** Keeps known golden bugs out of the failing list (see known-bugs.ts); returns the rest. */
  private record(phase: string, problems: string[]): string[] {
    const { failing, known } = splitKnown(problems);
    this.violations.push({ phase, problems: failing });
    this.knownBugs.push({ phase, problems: known });
    return failing;
  }

  /**
   * Faults are meant to hit builds in flight: when no worker is running, change the spec of a
   * few Images (a new generation each) and wait, up to cfg.busyWaitMs, for a build to be mid-steps.
   */
  private async ensureBusy(rng: Rng): Promise<void> {
    const running = async () => {
      const snap = await snapshot(this.namespaces).catch(() => undefined);
      return snap?.builds.some((b) => {
        const p = b.status?.progress;
        return (
          b.status?.phase === "Building" &&
          p?.stepIndex !== undefined &&
          p.stepIndex < (p.totalSteps ?? 0) - 1
        );
      });
    };
    if (await running()) return;
    this.churns++;
    for (const target of rng.sample(this.images, 3)) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const image = await golden.images.get(target.namespace, target.name).catch(() => undefined);
        if (!image) break;
        bumpSpec(rng, image.spec);
        try {
          await golden.images.replace(image);
          break;
        } catch (err) {
          if (!isConflict(err)) break;
        }
      }
    }
    const deadline = Date.now() + this.cfg.busyWaitMs;
    while (Date.now() < deadline && !(await running())) await sleep(250);
  }

  /** Dry-run fuzzing plus a sample built for real; the operators must not exit meanwhile. */
  async fuzz(): Promise<string[]> {
    const { cfg } = this;
    const fleet = this.fleet as OperatorFleet;
    const started = Date.now();
    const run = await fuzzImageApi(
      this.rng.fork("fuzz"),
      this.namespaces[0] as string,
      { count: cfg.fuzzCases, built: cfg.fuzzReal, timeoutMs: cfg.fuzzTimeoutMs },
      log,
    );
    this.fuzzResults = run.results;
    this.fuzzOutcomes = run.outcomes;
    this.timings.fuzzDryRunMs = run.dryRunMs;
    const problems = run.problems;
    for (const e of fleet.exitsSince(started))
      problems.push(
        `operator ${e.replica} exited during the fuzz: code=${e.code} signal=${e.signal} (${e.kind})\n${e.tail}`,
      );
    problems.push(...(await checkOrphans(this.namespaces, 30_000)));
    this.timings.fuzzMs = Date.now() - started;
    return this.record("fuzz", problems);
  }

  async teardown(): Promise<void> {
    const started = Date.now();
    // Every component running again (a failed fault could have left one down).
    await restoreControlPlane().catch((err: unknown) => log(`up.sh failed: ${String(err)}`));
    // Images first, while the operators still run: their builds carry golden's finalizer, which
    // only the operator removes. (Namespace deletion deletes pods first and waits for them, so a pod
    // stuck terminating would keep the namespace controller from ever reaching the Images.)
    await Promise.all(this.namespaces.map((ns) => this.deleteImages(ns)));
    await Promise.all(this.namespaces.map((ns) => this.deleteNamespace(ns)));
    await this.fleet?.stop();
    await Promise.all([this.jobs.watch.stop(), this.jobs.podWatch.stop(), this.builds.watch.stop()]);
    if (this.leaseNamespace) await this.deleteNamespace(this.leaseNamespace);
    this.timings.teardownMs = Date.now() - started;
  }

  /** Deletes the Images; the garbage collector takes their builds, whose finalizers golden releases. */
  private async deleteImages(namespace: string): Promise<void> {
    const images = async () =>
      (await golden.images.list(namespace).catch(() => ({ items: [] as Image[] }))).items;
    const builds = async () =>
      (await golden.imageBuilds.list(namespace).catch(() => ({ items: [] as ImageBuild[] }))).items;
    for (const image of await images())
      await golden.images.delete(namespace, image.metadata?.name ?? "").catch(() => undefined);
    const deadline = Date.now() + 60_000;
    let left = [...(await images()), ...(await builds())];
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(500);
      left = [...(await images()), ...(await builds())];
    }
    if (left.length === 0) return;
    this.teardownProblems.push(
      `${left.length} Image(s)/ImageBuild(s) in ${namespace} still there 60 s after deleting the Images: ` +
        left.map((o) => `${o.kind}/${o.metadata?.name} [${o.metadata?.finalizers ?? []}]`).join(", "),
    );
    await stripGoldenFinalizers(golden, namespace);
  }

  /**
   * Deletes a namespace and waits for it. Pods that stay terminating (kube's Job controller did
   * not drop its batch.kubernetes.io/job-tracking finalizer) are reported and released.
   */
  private async deleteNamespace(name: string): Promise<void> {
    await core.deleteNamespace({ name }).catch(() => undefined);
    const gone = async (ms: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (!(await core.readNamespace({ name }).catch(() => undefined))) return true;
        await sleep(500);
      }
      return false;
    };
    if (await gone(60_000)) return;
    const pods = (
      await core.listNamespacedPod({ namespace: name }).catch(() => ({ items: [] }))
    ).items.filter((p) => p.metadata?.deletionTimestamp && (p.metadata.finalizers ?? []).length > 0);
    const images = (await golden.images.list(name).catch(() => ({ items: [] as Image[] }))).items;
    const builds = (await golden.imageBuilds.list(name).catch(() => ({ items: [] as ImageBuild[] }))).items;
    this.teardownProblems.push(
      `namespace ${name} still terminating after 60 s; releasing ${pods.length} pod(s) stuck terminating ` +
        `(${pods.map((p) => `${p.metadata?.name} [${p.metadata?.finalizers}] since ${p.metadata?.deletionTimestamp}`).join(", ")}) ` +
        `and ${images.length} Image(s), ${builds.length} ImageBuild(s)`,
    );
    log(this.teardownProblems.at(-1) ?? "");
    for (const pod of pods)
      await core
        .patchNamespacedPod(
          { name: pod.metadata?.name ?? "", namespace: name, body: { metadata: { finalizers: null } } },
          mergePatch,
        )
        .catch(() => undefined);
    await stripGoldenFinalizers(golden, name);
    if (!(await gone(60_000))) log(`namespace ${name} still terminating; giving up`);
  }

  summary(): string {
    const { cfg } = this;
    const count = <T>(xs: T[], f: (x: T) => string) => {
      const m = new Map<string, number>();
      for (const x of xs) m.set(f(x), (m.get(f(x)) ?? 0) + 1);
      return [...m].map(([k, n]) => `${k}=${n}`).join(", ");
    };
    const ns = new Set(this.namespaces);
    const records = this.builds.inNamespaces(ns);
    const fuzzAccepted = this.fuzzResults.filter((r) => r.verdict === "accepted");
    const byExpect = count(this.fuzzResults, (r) => `${r.expect}->${r.verdict}`);
    const s = (ms?: number) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(1)} s`);
    const max = this.jobs.maxActive(ns);
    const violations = this.violations.flatMap((v) => v.problems.map((p) => `  [${v.phase}] ${p}`));
    const known = this.knownBugs.flatMap((v) => v.problems.map((p) => `  [${v.phase}] ${p}`));
    return [
      `==== chaos summary (${cfg.label}) ====`,
      `seed            ${cfg.seed}   (replay: CHAOS_SEED=${cfg.seed})`,
      `workload        ${cfg.images} Images in ${cfg.namespaces} namespace(s), operators: ${cfg.replicas} replicas, scope ${cfg.scope}, ` +
        `max ${cfg.maxConcurrentBuilds} builds${cfg.maxBuildsPerNamespace ? `, ${cfg.maxBuildsPerNamespace}/namespace` : ""}` +
        `${cfg.lastNamespaceLimit ? `, ${cfg.lastNamespaceLimit} in ${this.namespaces.at(-1)}` : ""}`,
      `timings         setup ${s(this.timings.setupMs)}, faults ${s(this.timings.chaosMs)}, convergence ${s(this.timings.convergeMs)}, ` +
        `fuzz ${s(this.timings.fuzzMs)} (dry runs ${s(this.timings.fuzzDryRunMs)}), teardown ${s(this.timings.teardownMs)}`,
      `faults          ${this.faults.length}: ${count(this.faults, (f) => f.kind)}${this.faults.some((f) => f.error) ? ` (failed: ${this.faults.filter((f) => f.error).length})` : ""}`,
      `409 storm       ${this.storm.stats.storms} storms, ${this.storm.stats.attempts} attempts, ${this.storm.stats.conflicts} conflicts, ` +
        `${this.storm.stats.writes} writes (${this.storm.stats.specChanges} spec changes), ${this.storm.stats.ambiguous} ambiguous`,
      `builds          ${records.length} ImageBuilds (${count(records, (r) => r.phases.at(-1) ?? "?")}), ` +
        `${this.jobs.jobsCreated(ns)} Jobs, max ${max.max} active at once (limit ${cfg.maxConcurrentBuilds})`,
      `watch logs      Jobs: ${this.jobs.watch.rewatches} re-watches, ${this.jobs.watch.relists} relists; ImageBuilds: ${this.builds.watch.rewatches} re-watches, ${this.builds.watch.relists} relists`,
      `operator exits  ${this.fleet?.exits.length ?? 0}: ${count(this.fleet?.exits ?? [], (e) => e.kind)}`,
      `convergence     ${this.converged ? `${this.converged.converged ? "yes" : "NO"} after ${s(this.converged.waitedMs)}` : "-"}`,
      cfg.fuzzCases === 0
        ? "fuzz            not in this run (test/integration/fuzz.test.ts)"
        : `fuzz            ${this.fuzzResults.length} specs: ${fuzzAccepted.length} accepted, ${this.fuzzResults.length - fuzzAccepted.length} refused (${byExpect}); ` +
          `built ${[...this.fuzzOutcomes.values()].reduce((a, b) => a + b, 0)}: ${[...this.fuzzOutcomes].map(([o, n]) => `${o}=${n}`).join(", ")}`,
      `operator logs   ${this.fleet?.logDir ?? "-"}`,
      ...this.observations.map((p) => `OBSERVED        ${p}`),
      ...this.teardownProblems.map((p) => `TEARDOWN        ${p}`),
      `churn           ${this.churns} times no build was in flight before a fault; 3 specs changed each time`,
      known.length > 0
        ? `KNOWN BUGS seen (${known.length}; not failing, CHAOS_STRICT=1 fails on them):\n${known.join("\n")}`
        : "known bugs      none seen",
      violations.length > 0
        ? `VIOLATIONS (${violations.length}):\n${violations.join("\n")}`
        : "violations      none",
    ].join("\n");
  }
}
