import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Decision,
  estimateStart,
  type InFlight,
  type Limits,
  schedule,
  type WaitingBuild,
} from "../../../src/scheduler/policy.js";

function w(namespace: string, name: string, createdAt: number, priority = 0): WaitingBuild {
  return { key: `${namespace}/${name}`, namespace, priority, createdAt };
}

/** Builds in flight, one namespace per build: inFlight("a", "a", "b") is 2 in a and 1 in b. */
function inFlight(...namespaces: string[]): InFlight {
  const byNamespace = new Map<string, number>();
  for (const ns of namespaces) byNamespace.set(ns, (byNamespace.get(ns) ?? 0) + 1);
  return { total: namespaces.length, byNamespace };
}

function limits(cluster: number, perNamespace: Record<string, number> = {}, fallback?: number): Limits {
  return { cluster, namespace: (ns) => perNamespace[ns] ?? fallback };
}

/** A tiny deterministic linear congruential generator (Numerical Recipes constants). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function shuffled<T>(items: T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function positions(d: Decision): number[] {
  return d.queued.map((q) => q.position);
}

describe("schedule", () => {
  it("returns an empty decision for no waiting builds", () => {
    assert.deepEqual(schedule([], inFlight(), limits(3)), { admit: [], queued: [] });
    assert.deepEqual(schedule([], inFlight("a", "a"), limits(1)), { admit: [], queued: [] });
  });

  it("admits up to the free cluster capacity and queues the rest", () => {
    const waiting = [w("a", "1", 1), w("a", "2", 2), w("a", "3", 3), w("a", "4", 4)];
    const d = schedule(waiting, inFlight("b"), limits(3));
    assert.deepEqual(d.admit, ["a/1", "a/2"]);
    assert.deepEqual(
      d.queued.map((q) => q.key),
      ["a/3", "a/4"],
    );
    assert.deepEqual(positions(d), [1, 2]);
    assert.ok(d.queued.every((q) => q.blockedBy === "cluster"));
  });

  it("admits nothing when running builds exceed the cluster limit", () => {
    const d = schedule([w("a", "1", 1)], inFlight("a", "b", "c"), limits(2));
    assert.deepEqual(d.admit, []);
    assert.equal(d.queued.length, 1);
    assert.equal(d.queued[0]?.reason, "cluster limit 2 reached; 0 builds ahead");
  });

  it("respects the per-namespace limit", () => {
    const waiting = [w("team-a", "1", 1), w("team-a", "2", 2), w("team-a", "3", 3), w("team-a", "4", 4)];
    const d = schedule(waiting, inFlight("team-a"), limits(10, { "team-a": 2 }));
    assert.deepEqual(d.admit, ["team-a/1"]);
    assert.deepEqual(
      d.queued.map((q) => [q.key, q.position, q.ahead, q.blockedBy]),
      [
        ["team-a/2", 1, 0, "namespace"],
        ["team-a/3", 2, 1, "namespace"],
        ["team-a/4", 3, 2, "namespace"],
      ],
    );
  });

  it("applies only the cluster limit when a namespace has no limit", () => {
    const waiting = [w("free", "1", 1), w("free", "2", 2), w("free", "3", 3)];
    const d = schedule(waiting, inFlight(), limits(3, { other: 1 }));
    assert.deepEqual(d.admit, ["free/1", "free/2", "free/3"]);
    assert.deepEqual(d.queued, []);
  });

  it("words the namespace reason with the limit, namespace and builds ahead", () => {
    const waiting = [1, 2, 3, 4].map((i) => w("team-a", String(i), i));
    const d = schedule(waiting, inFlight("team-a", "team-a"), limits(10, { "team-a": 2 }));
    assert.deepEqual(d.admit, []);
    assert.deepEqual(
      d.queued.map((q) => q.reason),
      [
        "namespace limit 2 reached in team-a; 0 builds ahead",
        "namespace limit 2 reached in team-a; 1 build ahead",
        "namespace limit 2 reached in team-a; 2 builds ahead",
        "namespace limit 2 reached in team-a; 3 builds ahead",
      ],
    );
  });

  it("words the cluster reason with the limit and builds ahead", () => {
    const d = schedule([w("a", "1", 1), w("b", "1", 2)], inFlight("c", "c"), limits(2));
    assert.deepEqual(
      d.queued.map((q) => [q.key, q.blockedBy, q.reason]),
      [
        ["a/1", "cluster", "cluster limit 2 reached; 0 builds ahead"],
        ["b/1", "cluster", "cluster limit 2 reached; 1 build ahead"],
      ],
    );
  });

  it("reports the namespace as the blocker when both limits are reached", () => {
    const d = schedule([w("team-a", "1", 1)], inFlight("team-a", "team-a"), limits(2, { "team-a": 2 }));
    assert.equal(d.queued[0]?.blockedBy, "namespace");
    assert.equal(d.queued[0]?.reason, "namespace limit 2 reached in team-a; 0 builds ahead");
  });

  it("admits higher priority first, whatever the creation order", () => {
    const waiting = [w("a", "old-low", 1, 0), w("a", "mid", 2, 5), w("b", "new-high", 3, 10)];
    const d = schedule(waiting, inFlight(), limits(1));
    assert.deepEqual(d.admit, ["b/new-high"]);
    assert.deepEqual(
      d.queued.map((q) => q.key),
      ["a/mid", "a/old-low"],
    );
  });

  it("priority beats fair share", () => {
    // Namespace a already has builds in flight, but its waiting build has the higher priority.
    const waiting = [w("a", "urgent", 5, 1), w("b", "normal", 1, 0)];
    const d = schedule(waiting, inFlight("a", "a", "a"), limits(4));
    assert.deepEqual(d.admit, ["a/urgent"]);
    assert.deepEqual(
      d.queued.map((q) => q.key),
      ["b/normal"],
    );
  });

  it("is first come first served within a namespace and priority", () => {
    const waiting = [w("a", "c", 30), w("a", "a", 10), w("a", "b", 20), w("a", "d", 40)];
    const d = schedule(waiting, inFlight(), limits(1));
    assert.deepEqual(d.admit, ["a/a"]);
    assert.deepEqual(
      d.queued.map((q) => q.key),
      ["a/b", "a/c", "a/d"],
    );
  });

  it("breaks creation-time ties by key", () => {
    const waiting = [w("a", "z", 5), w("a", "m", 5), w("a", "b", 5)];
    const d = schedule(waiting, inFlight(), limits(1));
    assert.deepEqual(d.admit, ["a/b"]);
    assert.deepEqual(
      d.queued.map((q) => q.key),
      ["a/m", "a/z"],
    );
  });

  describe("fair share", () => {
    const flood = Array.from({ length: 500 }, (_, i) => w("a", `b${String(i).padStart(3, "0")}`, i));
    const late = w("b", "only", 10_000);

    it("a namespace with 500 earlier builds does not starve another: it is next in the queue", () => {
      // Capacity 2, two of a's builds running, the other 498 and b's single build waiting.
      const d = schedule([...flood.slice(2), late], inFlight("a", "a"), limits(2));
      assert.deepEqual(d.admit, []);
      assert.equal(d.queued.length, 499);
      assert.deepEqual(d.queued[0], {
        key: "b/only",
        position: 1,
        ahead: 0,
        blockedBy: "cluster",
        reason: "cluster limit 2 reached; 0 builds ahead",
      });
      assert.deepEqual(
        d.queued.slice(1).map((q) => q.key),
        flood.slice(2).map((b) => b.key),
        "a's builds keep their order behind b's",
      );
    });

    it("the other namespace's build is admitted as soon as a slot frees up", () => {
      const d = schedule([...flood.slice(2), late], inFlight("a"), limits(2));
      assert.deepEqual(d.admit, ["b/only"]);
      assert.equal(d.queued[0]?.key, "a/b002");
    });

    it("with all slots free, both namespaces get one", () => {
      const d = schedule([...flood, late], inFlight(), limits(2));
      assert.deepEqual(d.admit, ["a/b000", "b/only"]);
      assert.deepEqual(
        positions(d),
        Array.from({ length: 499 }, (_, i) => i + 1),
      );
    });

    it("simulated: b's build starts at the first freed slot", () => {
      // The namespace of each running build, oldest first.
      let running = ["a", "a"];
      let waiting = [...flood.slice(2), late];
      const startOrder: string[] = [];
      for (let round = 0; round < 4; round++) {
        running = running.slice(1); // the oldest running build finishes
        const d = schedule(waiting, inFlight(...running), limits(2));
        startOrder.push(...d.admit);
        running = [...running, ...d.admit.map((key) => key.split("/")[0] ?? "")];
        waiting = waiting.filter((b) => !d.admit.includes(b.key));
        assert.equal(running.length, 2);
      }
      assert.deepEqual(startOrder, ["b/only", "a/b002", "a/b003", "a/b004"]);
    });

    it("interleaves namespaces along the queue by builds in flight", () => {
      const waiting = [
        w("a", "1", 1),
        w("a", "2", 2),
        w("a", "3", 3),
        w("b", "1", 10),
        w("b", "2", 11),
        w("b", "3", 12),
      ];
      const d = schedule(waiting, inFlight("c"), limits(1));
      assert.deepEqual(
        d.queued.map((q) => q.key),
        ["a/1", "b/1", "a/2", "b/2", "a/3", "b/3"],
      );
    });

    it("the namespace with fewer builds in flight goes first among equal priority", () => {
      const waiting = [w("busy", "1", 1), w("idle", "1", 2)];
      const d = schedule(waiting, inFlight("busy"), limits(2));
      assert.deepEqual(d.admit, ["idle/1"]);
      assert.deepEqual(
        d.queued.map((q) => q.key),
        ["busy/1"],
      );
    });
  });

  it("a namespace at its limit does not block other namespaces (no head-of-line blocking)", () => {
    const waiting = [
      w("team-a", "1", 1, 10),
      w("team-a", "2", 2, 10),
      w("team-a", "3", 3, 10),
      w("team-b", "1", 50, 0),
      w("team-c", "1", 60, 0),
    ];
    const d = schedule(waiting, inFlight("team-a"), limits(3, { "team-a": 1 }));
    assert.deepEqual(d.admit, ["team-b/1", "team-c/1"]);
    assert.deepEqual(
      d.queued.map((q) => [q.key, q.position, q.blockedBy]),
      [
        ["team-a/1", 1, "namespace"],
        ["team-a/2", 2, "namespace"],
        ["team-a/3", 3, "namespace"],
      ],
    );
  });

  it("a namespace limit of 0 admits nothing from it", () => {
    const d = schedule([w("a", "1", 1), w("b", "1", 2)], inFlight(), limits(5, { a: 0 }));
    assert.deepEqual(d.admit, ["b/1"]);
    assert.equal(d.queued[0]?.blockedBy, "namespace");
  });

  it("numbers queue positions 1..n contiguously in the order builds would start", () => {
    const waiting = [
      w("a", "1", 1, 1),
      w("b", "1", 2, 5),
      w("a", "2", 3, 5),
      w("c", "1", 4, 0),
      w("b", "2", 5, 1),
      w("c", "2", 6, 5),
    ];
    const d = schedule(waiting, inFlight("x"), limits(1));
    assert.deepEqual(positions(d), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(
      d.queued.map((q) => q.ahead),
      [0, 1, 2, 3, 4, 5],
    );
    // Priority 5 first (a/2, b/1, c/2 — all namespaces at 0 in flight and never served, so by
    // creation), then priority 1 (a and b both at 1 in flight; b was served before a, so b/2
    // first), then priority 0.
    assert.deepEqual(
      d.queued.map((q) => q.key),
      ["b/1", "a/2", "c/2", "b/2", "a/1", "c/1"],
    );
    // Running that queue order one build at a time, each admission serving its namespace,
    // admits the builds in the same order.
    const started: string[] = [];
    const lastServed = new Map<string, number>();
    let rest = waiting;
    while (rest.length > 0) {
      const step = schedule(rest, inFlight(), limits(1), lastServed);
      assert.equal(step.admit.length, 1);
      started.push(...step.admit);
      for (const key of step.admit) lastServed.set(key.split("/")[0] ?? "", started.length);
      rest = rest.filter((b) => !step.admit.includes(b.key));
    }
    assert.deepEqual(
      started,
      d.queued.map((q) => q.key),
    );
  });

  it("serves a lone namespace before a backlog whose builds finish before the next starts", () => {
    // a has 4 waiting, c has 1 (submitted last); nothing runs, a was served just now.
    const waiting = [w("a", "3", 1), w("a", "4", 2), w("a", "5", 3), w("a", "6", 4), w("c", "1", 5)];
    const d = schedule(waiting, inFlight(), limits(1), new Map([["a", 100]]));
    assert.deepEqual(d.admit, ["c/1"]);
    assert.deepEqual(
      d.queued.map((q) => q.key),
      ["a/3", "a/4", "a/5", "a/6"],
    );
  });

  it("is deterministic whatever the input order", () => {
    const rand = lcg(7);
    const waiting = [
      w("a", "1", 1),
      w("a", "2", 1),
      w("b", "1", 1),
      w("b", "2", 0, 3),
      w("c", "1", 2),
      w("c", "2", 2),
      w("d", "1", 5, 3),
    ];
    const running = ["a", "c"];
    const lim = limits(4, { c: 1 });
    const expected = schedule(waiting, inFlight(...running), lim);
    for (let i = 0; i < 50; i++) {
      // Shuffling the running builds changes the order of the namespace counts' entries.
      assert.deepEqual(
        schedule(shuffled(waiting, rand), inFlight(...shuffled(running, rand)), lim),
        expected,
      );
    }
  });

  it("does not modify its inputs", () => {
    const waiting = [w("a", "2", 2), w("a", "1", 1), w("b", "1", 0)];
    const running = inFlight("a");
    const copyW = structuredClone(waiting);
    const copyR = structuredClone(running);
    schedule(waiting, running, limits(2, { a: 1 }));
    assert.deepEqual(waiting, copyW);
    assert.deepEqual(running, copyR);
  });

  describe("invariants over random inputs", () => {
    interface Case {
      waiting: WaitingBuild[];
      /** The namespace of each running build. */
      running: string[];
      cluster: number;
      nsLimits: Record<string, number | undefined>;
    }

    function randomCase(rand: () => number): Case {
      const int = (n: number) => Math.floor(rand() * n);
      const namespaces = Array.from({ length: 1 + int(5) }, (_, i) => `ns${i}`);
      const pick = () => namespaces[int(namespaces.length)] ?? "ns0";
      const nsLimits: Record<string, number | undefined> = {};
      for (const ns of namespaces) nsLimits[ns] = rand() < 0.4 ? undefined : int(4);
      const running = Array.from({ length: int(8) }, pick);
      const waiting = Array.from({ length: int(25) }, (_, i) =>
        w(pick(), `w${i}`, int(10), rand() < 0.7 ? 0 : int(3)),
      );
      return { waiting, running, cluster: int(10), nsLimits };
    }

    function check(c: Case, d: Decision): void {
      const lim: Limits = { cluster: c.cluster, namespace: (ns) => c.nsLimits[ns] };
      const byKey = new Map(c.waiting.map((b) => [b.key, b]));
      const free = Math.max(0, c.cluster - c.running.length);

      // Admitted count never exceeds free capacity.
      assert.ok(d.admit.length <= free, `admitted ${d.admit.length} > free ${free}`);

      // Every waiting build is admitted or queued, exactly once; nothing else appears.
      const all = [...d.admit, ...d.queued.map((q) => q.key)];
      assert.equal(all.length, c.waiting.length);
      assert.deepEqual([...all].sort(), [...byKey.keys()].sort());

      // Per namespace, running + admitted stays within the limit.
      const load = new Map<string, number>();
      for (const ns of c.running) load.set(ns, (load.get(ns) ?? 0) + 1);
      for (const key of d.admit) {
        const ns = byKey.get(key)?.namespace ?? "";
        load.set(ns, (load.get(ns) ?? 0) + 1);
      }
      for (const key of d.admit) {
        const ns = byKey.get(key)?.namespace ?? "";
        const limit = lim.namespace(ns);
        if (limit !== undefined) {
          assert.ok((load.get(ns) ?? 0) <= limit, `${ns}: ${load.get(ns)} > ${limit}`);
        }
      }

      // Queue positions are 1..n in order, ahead = position - 1.
      d.queued.forEach((q, i) => {
        assert.equal(q.position, i + 1);
        assert.equal(q.ahead, i);
      });

      // Work conserving: a build waits only because the cluster or its namespace is full.
      for (const q of d.queued) {
        const ns = byKey.get(q.key)?.namespace ?? "";
        const limit = lim.namespace(ns);
        if (q.blockedBy === "namespace") {
          assert.ok(limit !== undefined && (load.get(ns) ?? 0) >= limit, `${q.key} blocked by namespace`);
          assert.match(
            q.reason,
            new RegExp(`^namespace limit ${limit} reached in ${ns}; ${q.ahead} builds? ahead$`),
          );
        } else {
          assert.equal(d.admit.length, free, `${q.key} blocked by cluster with free capacity`);
          assert.match(
            q.reason,
            new RegExp(`^cluster limit ${c.cluster} reached; ${q.ahead} builds? ahead$`),
          );
        }
      }

      // Priority first: nothing waiting for cluster capacity outranks an admitted build.
      const minAdmitted = Math.min(...d.admit.map((k) => byKey.get(k)?.priority ?? 0));
      for (const q of d.queued) {
        if (q.blockedBy === "cluster") assert.ok((byKey.get(q.key)?.priority ?? 0) <= minAdmitted);
      }
      for (let i = 1; i < d.queued.length; i++) {
        const prev = byKey.get(d.queued[i - 1]?.key ?? "");
        const cur = byKey.get(d.queued[i]?.key ?? "");
        assert.ok((prev?.priority ?? 0) >= (cur?.priority ?? 0), "queue is ordered by priority");
      }

      // FIFO within one namespace and one priority: admitted before queued, in creation order.
      const rank = new Map<string, number>();
      for (const [i, k] of [...d.admit, ...d.queued.map((q) => q.key)].entries()) rank.set(k, i);
      for (const a of c.waiting) {
        for (const b of c.waiting) {
          if (a.namespace !== b.namespace || a.priority !== b.priority) continue;
          const earlier = a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.key < b.key);
          if (earlier) assert.ok((rank.get(a.key) ?? 0) < (rank.get(b.key) ?? 0), `${a.key} before ${b.key}`);
        }
      }
    }

    it("hold for 2000 seeded random cases, and shuffling the input changes nothing", () => {
      const rand = lcg(20240601);
      for (let i = 0; i < 2000; i++) {
        const c = randomCase(rand);
        const lim: Limits = { cluster: c.cluster, namespace: (ns) => c.nsLimits[ns] };
        const d = schedule(c.waiting, inFlight(...c.running), lim);
        try {
          check(c, d);
        } catch (err) {
          assert.fail(`case ${i}: ${JSON.stringify(c)}\n${(err as Error).message}`);
        }
        assert.deepEqual(schedule(shuffled(c.waiting, rand), inFlight(...shuffled(c.running, rand)), lim), d);
      }
    });
  });
});

describe("estimateStart", () => {
  const now = 1_000_000;

  it("is undefined without history", () => {
    assert.equal(estimateStart(0, 2, [], now), undefined);
    assert.equal(estimateStart(10, 1, [], now), undefined);
  });

  it("is undefined without capacity", () => {
    assert.equal(estimateStart(0, 0, [60_000], now), undefined);
  });

  it("takes one median build duration for the next build", () => {
    assert.equal(estimateStart(0, 1, [60_000], now), now + 60_000);
    assert.equal(estimateStart(0, 3, [50_000, 10_000, 30_000], now), now + 30_000);
  });

  it("uses the median, not the mean, of recent durations", () => {
    const durations = [1_000, 2_000, 3_000, 4_000, 1_000_000];
    assert.equal(estimateStart(0, 1, durations, now), now + 3_000);
    assert.equal(
      estimateStart(0, 1, [...durations].reverse(), now),
      now + 3_000,
      "input order is irrelevant",
    );
  });

  it("with an even number of durations lands between the two middle ones", () => {
    const t = estimateStart(0, 1, [40, 10, 30, 20], 0);
    assert.ok(t !== undefined && t >= 20 && t <= 30, String(t));
  });

  it("waits for its namespace's limit when that binds before the cluster's", () => {
    const d = [100];
    // Namespace limit 1, cluster capacity 10: the second build of the namespace waits a build more.
    assert.equal(estimateStart(0, 10, d, 0, { ahead: 0, limit: 1 }), 100);
    assert.equal(estimateStart(1, 10, d, 0, { ahead: 1, limit: 1 }), 200);
    assert.equal(estimateStart(5, 10, d, 0, { ahead: 5, limit: 2 }), 300);
    // The cluster binds: the later of the two.
    assert.equal(estimateStart(9, 2, d, 0, { ahead: 1, limit: 5 }), 500);
    // No namespace limit: the cluster's estimate alone.
    assert.equal(estimateStart(3, 10, d, 0, { ahead: 3, limit: undefined }), 100);
  });

  it("grows with builds ahead per unit of capacity", () => {
    const d = [100];
    assert.equal(estimateStart(0, 2, d, 0), 100);
    assert.equal(estimateStart(1, 2, d, 0), 100);
    assert.equal(estimateStart(2, 2, d, 0), 200);
    assert.equal(estimateStart(3, 2, d, 0), 200);
    assert.equal(estimateStart(4, 2, d, 0), 300);
    assert.equal(estimateStart(5, 1, d, 0), 600);
    let previous = 0;
    for (let ahead = 0; ahead < 50; ahead++) {
      const t = estimateStart(ahead, 3, d, 0) ?? Number.NaN;
      assert.ok(t >= previous, `non-decreasing at ${ahead}`);
      previous = t;
    }
    assert.ok((estimateStart(10, 5, d, 0) ?? 0) < (estimateStart(10, 1, d, 0) ?? 0), "more capacity, sooner");
  });

  it("does not reorder the caller's durations", () => {
    const d = [3, 1, 2];
    estimateStart(0, 1, d, 0);
    assert.deepEqual(d, [3, 1, 2]);
  });
});

describe("background builds (a RebuildCampaign's)", async () => {
  const { schedulingPriority, BACKGROUND_OFFSET } = await import("../../../src/build/defaults.js");
  const { build } = await import("../../support/fixtures.js");
  const at = (priority: number, background: boolean) => {
    const b = build();
    b.spec.image = { ...b.spec.image, build: { priority } };
    if (background) b.spec.background = true;
    return schedulingPriority(b);
  };

  it("order below every user build, whatever the priorities, and keep their order among themselves", () => {
    assert.ok(at(1000, true) < at(-1000, false));
    assert.ok(at(5, true) > at(0, true));
    assert.equal(at(0, false) - at(0, true), BACKGROUND_OFFSET);
  });

  it("a user's build created after 1 000 queued campaign builds takes the next slot", () => {
    const campaign = Array.from({ length: 1000 }, (_, i) => w(`ns${i % 7}`, `c${i}`, i, at(0, true)));
    const user = w("users", "mine", 5000, at(-1000, false));
    const decision = schedule([...campaign, user], inFlight("ns0"), limits(2));
    assert.deepEqual(decision.admit, ["users/mine"]);
    assert.equal(decision.queued[0]?.key.startsWith("ns"), true);
  });
});
