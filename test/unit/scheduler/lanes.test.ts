import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job } from "@kubernetes/client-node";
import type { ImageBuild } from "../../../src/api/v1alpha1/index.js";
import { objectKey } from "../../../src/runtime/keys.js";
import { AdmissionLanes } from "../../../src/scheduler/lanes.js";
import { type Limits, schedule, type WaitingBuild } from "../../../src/scheduler/policy.js";
import { SchedulerState } from "../../../src/scheduler/state.js";
import { build, job, lcg, pick } from "./fixtures.js";

function w(namespace: string, name: string, createdAt: number, priority = 0): WaitingBuild {
  return { key: `${namespace}/${name}`, namespace, priority, createdAt };
}

/** Lanes over fixed inputs: builds in flight and limits per namespace, nothing ever served. */
function lanesWith(inFlight: Record<string, number>, limits: Record<string, number> = {}) {
  return new AdmissionLanes({
    inFlight: (ns) => inFlight[ns] ?? 0,
    lastServed: () => undefined,
    limit: (ns) => limits[ns],
  });
}

const keys = (builds: WaitingBuild[]) => builds.map((b) => b.key);

describe("AdmissionLanes", () => {
  it("orders by priority, then fair share across namespaces, then arrival", () => {
    const lanes = lanesWith({ a: 1 });
    for (const b of [w("a", "1", 1), w("a", "2", 2), w("b", "1", 3), w("b", "2", 4), w("c", "hi", 9, 5)])
      lanes.add(b);
    assert.deepEqual(keys(lanes.nextAdmissions(10)), ["c/hi", "b/1", "a/1", "b/2", "a/2"]);
  });

  it("leaves the lanes as they were: asking twice gives the same builds", () => {
    const lanes = lanesWith({});
    for (const b of [w("a", "1", 1), w("b", "1", 2), w("a", "2", 3)]) lanes.add(b);
    assert.deepEqual(keys(lanes.nextAdmissions(2)), ["a/1", "b/1"]);
    assert.deepEqual(keys(lanes.nextAdmissions(2)), ["a/1", "b/1"]);
    assert.deepEqual(keys(lanes.nextAdmissions(0)), []);
  });

  it("parks a namespace at its limit until touched after a slot frees", () => {
    const inFlight: Record<string, number> = { a: 2 };
    const lanes = lanesWith(inFlight, { a: 2 });
    const a1 = w("a", "1", 1);
    lanes.add(a1);
    lanes.add(w("b", "1", 2));
    assert.deepEqual(keys(lanes.nextAdmissions(5)), ["b/1"]);
    inFlight.a = 1;
    lanes.touch("a");
    assert.deepEqual(keys(lanes.nextAdmissions(5)), ["b/1", "a/1"], "b has fewer in flight");
    lanes.remove(a1);
    assert.deepEqual(keys(lanes.nextAdmissions(5)), ["b/1"]);
  });

  it("fills a namespace only up to its limit within one decision", () => {
    const lanes = lanesWith({}, { a: 2 });
    for (const name of ["1", "2", "3"]) lanes.add(w("a", name, Number(name)));
    assert.deepEqual(keys(lanes.nextAdmissions(5)), ["a/1", "a/2"]);
  });
});

describe("SchedulerState.nextAdmissions", () => {
  const NAMESPACES = ["a", "b", "c", "d"];
  const PRIORITIES = [0, 0, 0, 5, -3];
  const CLUSTER = 4;

  /** Random events on a state, checked after each one against schedule() on the same inputs. */
  function run(seed: number, steps: number): void {
    const rand = lcg(seed);
    const nsLimits = new Map<string, number>();
    const state = new SchedulerState({ namespaceLimit: (ns) => nsLimits.get(ns) });
    const builds = new Map<string, ImageBuild>();
    const jobs = new Map<string, V1Job>();
    let clock = 0;
    let rv = 1;
    const put = (b: ImageBuild) => {
      b.metadata = { ...b.metadata, resourceVersion: String(++rv) };
      builds.set(objectKey(b), b);
      state.observeBuild(b);
    };
    const putJob = (j: V1Job) => {
      jobs.set(objectKey(j), j);
      state.observeJob(j);
    };
    const inPhase = (...phases: Array<string | undefined>) =>
      [...builds.values()].filter((b) => phases.includes(b.status?.phase));

    for (let step = 0; step < steps; step++) {
      clock++;
      const r = rand();
      const waiting = inPhase(undefined, "Pending", "Queued");
      const building = inPhase("Building");
      if (r < 0.35) {
        const ns = pick(NAMESPACES, rand);
        // Few distinct creation times, so that ties fall through to the key.
        put(build(ns, `b${step}`, { created: Math.floor(rand() * 30), priority: pick(PRIORITIES, rand) }));
      } else if (r < 0.55) {
        // Admit what the state says, some seen by the cache, some only assumed.
        for (const key of state.nextAdmissions(CLUSTER - state.inFlightCount())) {
          const b = builds.get(key) as ImageBuild;
          if (rand() < 0.3) state.assume(key, b.metadata?.resourceVersion);
          else put({ ...b, status: { phase: "Building", startTime: new Date(clock * 1000).toISOString() } });
          if (rand() < 0.5) putJob(job(b.metadata?.namespace ?? "", b.metadata?.name ?? ""));
        }
      } else if (r < 0.7 && building.length > 0) {
        const b = pick(building, rand);
        const { namespace = "", name = "" } = b.metadata ?? {};
        put({
          ...b,
          status: { ...b.status, phase: "Succeeded", completionTime: new Date(clock * 1000).toISOString() },
        });
        putJob(job(namespace, name, true));
      } else if (r < 0.78 && waiting.length > 0) {
        const b = pick(waiting, rand);
        builds.delete(objectKey(b));
        state.forgetBuild(objectKey(b));
      } else if (r < 0.86 && waiting.length > 0) {
        const b = pick(waiting, rand);
        const image = { ...b.spec.image, build: { priority: pick(PRIORITIES, rand) } };
        put({ ...b, spec: { ...b.spec, image }, status: { phase: "Queued" } });
      } else if (r < 0.94) {
        const ns = pick(NAMESPACES, rand);
        const limit = pick([undefined, 1, 2, 3], rand);
        if (limit === undefined) nsLimits.delete(ns);
        else nsLimits.set(ns, limit);
        state.namespaceChanged(ns);
      } else {
        state.rebuild(builds.values(), jobs.values());
      }

      const inFlight = state.inFlight();
      const all = state.waiting();
      const limits = (cluster: number): Limits => ({ cluster, namespace: (ns) => nsLimits.get(ns) });
      const context = `seed ${seed}, step ${step}`;
      assert.deepEqual(
        state.nextAdmissions(Math.max(0, CLUSTER - inFlight.total)),
        schedule(all, inFlight, limits(CLUSTER), state.lastServed()).admit,
        context,
      );
      // Without a cluster limit, the whole order of the namespaces with room.
      assert.deepEqual(
        state.nextAdmissions(all.length),
        schedule(all, inFlight, limits(inFlight.total + all.length), state.lastServed()).admit,
        context,
      );
    }
  }

  it("admits exactly what schedule() admits, over random event sequences", () => {
    for (let seed = 1; seed <= 40; seed++) run(seed, 300);
  });
});
