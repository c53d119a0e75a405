import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Controller,
  LeaderElectionLostError,
  type ManagedInformer,
  Manager,
  type ManagerOptions,
} from "../../../src/runtime/index.js";
import { FakeLeaseApi } from "./fake-lease.js";
import { deferred, eventually } from "./helpers.js";

class FakeInformer implements ManagedInformer {
  started = false;
  stopped = false;
  relists = 0;
  /** While set, relist() waits for it. */
  relistGate: Promise<void> | undefined;
  #synced = deferred();
  #isSynced = false;
  constructor(readonly name: string) {
    this.#synced.promise.catch(() => {});
  }
  async start(): Promise<void> {
    this.started = true;
    await this.#synced.promise.catch(() => {});
  }
  sync(): void {
    this.#isSynced = true;
    this.#synced.resolve();
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.#synced.reject(new Error("stopped"));
  }
  hasSynced(): boolean {
    return this.#isSynced;
  }
  async relist(): Promise<void> {
    this.relists++;
    await this.relistGate;
  }
  waitForSync(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#synced.promise.then(resolve, reject);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }
}

async function probe(port: number | undefined, path: string): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
}

const fastLease = {
  namespace: "ns",
  name: "lock",
  leaseDurationMs: 600,
  renewDeadlineMs: 400,
  retryPeriodMs: 100,
};

function build(opts: ManagerOptions & { identity?: string; api?: FakeLeaseApi } = {}) {
  const reconciled: string[] = [];
  const inflight = deferred();
  let block = false;
  const inf = new FakeInformer("cms");
  const ctrl = new Controller({
    name: "c",
    reconcile: async (key) => {
      reconciled.push(key);
      if (block) await inflight.promise;
    },
  });
  const exits: number[] = [];
  const mgr = new Manager({
    health: { port: 0, host: "127.0.0.1" },
    handleSignals: false,
    exit: (code) => exits.push(code),
    leaderElection: opts.api ? { client: opts.api, identity: opts.identity ?? "a", ...fastLease } : undefined,
    ...opts,
  });
  mgr.addInformer(inf);
  mgr.addController(ctrl);
  return {
    mgr,
    inf,
    ctrl,
    reconciled,
    exits,
    blockReconciles: () => {
      block = true;
    },
    releaseReconciles: () => inflight.resolve(),
  };
}

describe("Manager", () => {
  it("without leader election: ready after sync, reconciles, drains in-flight work on stop", async () => {
    const m = build();
    const running = m.mgr.start();
    await eventually(() => m.mgr.healthPort !== undefined, 2000, "health server");
    const port = m.mgr.healthPort;
    assert.equal(await probe(port, "/readyz"), 500);
    assert.equal(await probe(port, "/healthz"), 200);
    assert.equal(m.inf.started, true);
    m.ctrl.enqueue("ns/early"); // before sync: kept until the controller starts
    m.inf.sync();
    await eventually(() => m.reconciled.includes("ns/early"), 2000, "reconcile");
    assert.equal(await probe(port, "/readyz"), 200);

    m.blockReconciles();
    m.ctrl.enqueue("ns/slow");
    await eventually(() => m.reconciled.includes("ns/slow"), 2000, "slow reconcile started");
    let stopped = false;
    const stopping = m.mgr.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(stopped, false, "waits for the in-flight reconcile");
    assert.equal(m.inf.stopped, false, "informers stop after the drain");
    m.releaseReconciles();
    await stopping;
    await running;
    assert.equal(m.inf.stopped, true);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), "health server closed");
    assert.deepEqual(m.exits, []);
  });

  it("gives up draining after gracefulShutdownMs", async () => {
    const m = build({ gracefulShutdownMs: 100 });
    const running = m.mgr.start();
    m.inf.sync();
    m.blockReconciles();
    m.ctrl.enqueue("ns/stuck");
    await eventually(() => m.reconciled.includes("ns/stuck"), 2000, "reconcile");
    const t0 = Date.now();
    await m.mgr.stop();
    await running;
    assert.ok(Date.now() - t0 < 1000);
  });

  it("fails start() when caches do not sync in time", async () => {
    const m = build({ cacheSyncTimeoutMs: 50 });
    await assert.rejects(m.mgr.start(), /waiting for caches to sync: cms/);
    assert.equal(m.inf.stopped, true);
  });

  it("with leader election: only the leader reconciles; release hands over to the standby", async (t) => {
    const api = new FakeLeaseApi();
    const a = build({ api, identity: "a" });
    const b = build({ api, identity: "b" });
    t.after(() => Promise.all([a.mgr.stop(), b.mgr.stop()]));
    const runA = a.mgr.start();
    a.inf.sync();
    await eventually(() => a.mgr.isLeader(), 3000, "a leads");
    const runB = b.mgr.start();
    b.inf.sync();
    a.ctrl.enqueue("ns/x");
    b.ctrl.enqueue("ns/x");
    await eventually(() => a.reconciled.length === 1, 2000, "leader reconciles");
    await eventually(() => b.mgr.isReady(), 2000, "standby synced");
    assert.equal(await probe(b.mgr.healthPort, "/readyz"), 200, "a synced standby is ready");
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(b.reconciled, [], "standby must not reconcile");
    assert.equal(b.mgr.isLeader(), false);

    const t0 = Date.now();
    await a.mgr.stop();
    await runA;
    assert.equal(api.holder === "" || api.holder === "b", true);
    await eventually(
      () => b.reconciled.includes("ns/x"),
      3000,
      "standby takes over and reconciles queued keys",
    );
    assert.ok(Date.now() - t0 < 600, "handover faster than a lease duration");
    await b.mgr.stop();
    await runB;
    assert.deepEqual([...a.exits, ...b.exits], []);
  });

  it("a new leader relists its caches before its controllers start", async (t) => {
    const api = new FakeLeaseApi();
    const m = build({ api, identity: "a" });
    t.after(() => m.mgr.stop());
    const gate = deferred();
    m.inf.relistGate = gate.promise;
    const running = m.mgr.start();
    m.inf.sync();
    m.ctrl.enqueue("ns/x");
    await eventually(() => m.mgr.isLeader(), 3000, "leads");
    await eventually(() => m.inf.relists === 1, 2000, "relisted on acquiring the lease");
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(m.reconciled, [], "no reconcile before the fresh list is in");
    assert.equal(m.mgr.isReady(), false, "a leader without running controllers is not ready");
    gate.resolve();
    await eventually(() => m.reconciled.includes("ns/x"), 2000, "reconciles after the relist");
    await m.mgr.stop();
    await running;
  });

  it("exits non-zero and stops reconciling when the lease is lost", async () => {
    const api = new FakeLeaseApi();
    const m = build({ api, identity: "a" });
    const running = m.mgr.start();
    running.catch(() => {});
    m.inf.sync();
    await eventually(() => m.mgr.isLeader(), 3000, "leads");
    api.down = true;
    await assert.rejects(running, LeaderElectionLostError);
    assert.deepEqual(m.exits, [1]);
    assert.equal(m.ctrl.running, false);
    m.ctrl.enqueue("ns/after");
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(m.reconciled, []);
  });

  it("SIGTERM triggers graceful shutdown", async () => {
    const m = build({ handleSignals: true });
    const running = m.mgr.start();
    m.inf.sync();
    await eventually(() => m.ctrl.running, 2000, "running");
    process.emit("SIGTERM");
    await running;
    assert.equal(m.inf.stopped, true);
    assert.equal(process.listenerCount("SIGTERM"), 0, "signal handlers removed");
  });
});
