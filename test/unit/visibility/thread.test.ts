// The visibility API in its own thread: the calls between threads (rpc.ts), the informer caches'
// mirror (mirror.ts), and the thread end to end (thread-host.ts starting dist/src/cmd/
// visibility-thread.js): it lists what the in-thread view lists, in the same order, follows the
// caches' changes, and delegates authentication and authorization as the in-thread server does.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MessageChannel } from "node:worker_threads";
import type { KubernetesObject } from "@kubernetes/client-node";
import { RestClient } from "../../../src/runtime/kube.js";
import { nopLogger } from "../../../src/runtime/logger.js";
import { PendingQueueView } from "../../../src/scheduler/pending.js";
import { type CacheBatch, CacheFeed, MirroredCaches } from "../../../src/visibility/mirror.js";
import { RpcEndpoint } from "../../../src/visibility/rpc.js";
import { visibilityServices } from "../../../src/visibility/setup.js";
import { visibilityThreadRunnable } from "../../../src/visibility/thread-host.js";
import { FakeInformer } from "../../support/fake-informer.js";
import { freePort } from "../../support/free-port.js";
import { waitingLoad } from "../../support/pending-load.js";
import { BASE, FakeDelegation, itemNames, testVisibilityConfig } from "./fake-delegation.js";

/** An informer that has not listed yet, holding `items` until sync(). */
const listing = <T extends KubernetesObject>(items: T[] = []) => {
  const informer = new FakeInformer<T>({}, { synced: false });
  if (items.length > 0) informer.put(...items);
  return informer;
};

const pod = (name: string): KubernetesObject => ({ metadata: { namespace: "team-a", name } });
const tick = () => new Promise((r) => setImmediate(r));

describe("RpcEndpoint", () => {
  it("returns results, carries errors as their message, and hands other messages on", async () => {
    const { port1, port2 } = new MessageChannel();
    const others: unknown[] = [];
    const a = new RpcEndpoint(port1, {});
    new RpcEndpoint(
      port2,
      {
        add: (x: number, y: number) => x + y,
        fail: async () => {
          throw new Error("no certificate yet");
        },
      },
      (m) => others.push(m),
    );
    try {
      assert.equal(await a.call("add", 2, 3), 5);
      await assert.rejects(a.call("fail"), /no certificate yet/);
      await assert.rejects(a.call("missing"), /no method missing/);
      port1.postMessage({ caches: 1 });
      while (others.length === 0) await tick();
      assert.deepEqual(others, [{ caches: 1 }]);
    } finally {
      port1.close();
    }
  });

  it("fails the calls still out when the other side is gone", async () => {
    const { port1, port2 } = new MessageChannel();
    const a = new RpcEndpoint(port1, {});
    new RpcEndpoint(port2, { never: () => new Promise(() => undefined) });
    const out = a.call("never");
    a.rejectAll(new Error("the visibility thread exited with code 1"));
    await assert.rejects(out, /exited with code 1/);
    port1.close();
  });
});

describe("CacheFeed and MirroredCaches", () => {
  function fixture() {
    const informers = {
      builds: listing(),
      jobs: listing(),
      pods: listing([pod("p-1")]),
      namespaces: listing(),
    };
    const batches: CacheBatch[] = [];
    const mirror = new MirroredCaches();
    const feed = new CacheFeed(informers, (b) => {
      batches.push(b);
      mirror.apply(structuredClone(b));
    });
    return { informers, batches, mirror, feed };
  }

  it("mirrors the initial lists, then each change, one batch per turn of the event loop", async () => {
    const { informers, batches, mirror, feed } = fixture();
    feed.start();
    for (const i of Object.values(informers)) i.sync();
    await tick();
    await tick();
    assert.equal(mirror.pods.get("team-a/p-1")?.metadata?.name, "p-1");
    assert.ok(mirror.pods.hasSynced() && mirror.builds.hasSynced() && mirror.namespaces.hasSynced());
    const before = batches.length;
    informers.pods.put(pod("p-2"));
    informers.pods.remove(pod("p-1"));
    informers.builds.resourceVersion = "42";
    informers.builds.put(pod("b-1"));
    await tick();
    assert.equal(batches.length, before + 1, "three changes of one turn, one message");
    assert.deepEqual(
      mirror.pods.list().map((p) => p.metadata?.name),
      ["p-2"],
    );
    assert.equal(mirror.builds.resourceVersion, "42");
    feed.stop();
    informers.pods.put(pod("p-3"));
    await tick();
    assert.equal(mirror.pods.size, 1, "a stopped feed posts nothing");
  });

  it("replays what an informer synced before the feed started", async () => {
    const { informers, mirror, feed } = fixture();
    informers.pods.sync();
    feed.start();
    await tick();
    await tick();
    assert.deepEqual(
      mirror.pods.list().map((p) => p.metadata?.name),
      ["p-1"],
    );
    assert.equal(mirror.pods.hasSynced(), true);
    assert.equal(mirror.jobs.hasSynced(), false, "an informer still listing is not synced in the mirror");
    feed.stop();
  });
});

describe("the visibility server in its own thread", () => {
  const delegation = new FakeDelegation();
  const load = waitingLoad(12, 3);
  const informers = {
    builds: listing(load.builds.items),
    jobs: listing(load.jobs.items),
    pods: listing(),
    namespaces: listing(),
  };
  const stop = new AbortController();
  const answered: string[] = [];
  let running: Promise<void> | undefined;
  let port = 0;

  before(async () => {
    await delegation.fake.listen();
    port = await freePort();
    const cfg = testVisibilityConfig(port);
    for (const i of Object.values(informers)) i.sync();
    running = Promise.resolve(
      visibilityThreadRunnable({
        entry: new URL("../../../src/cmd/visibility-thread.js", import.meta.url),
        cfg,
        services: visibilityServices(cfg, new RestClient(delegation.fake.kubeConfig()), nopLogger),
        caches: informers,
        maxConcurrentBuilds: 3,
        maxBuildsPerNamespace: 0,
        log: nopLogger,
        logLevel: "error",
        loggerName: "golden-operator",
        onRequest: (verb, code) => answered.push(`${verb} ${code}`),
      }).start(stop.signal),
    );
    await delegation.listening(port);
  });

  after(async () => {
    stop.abort();
    await running;
    await delegation.fake.close();
  });

  it("lists the queue in the order the in-thread view computes from the same caches", async () => {
    const expected = new PendingQueueView({
      builds: load.builds,
      jobs: load.jobs,
      namespaceLimit: () => undefined,
      maxConcurrentBuilds: 3,
    })
      .snapshot()
      .items.map((r) => r.name);
    assert.ok(expected.length > 0);
    const all = await delegation.get(port, `${BASE}/pendingbuilds`);
    assert.equal(all.code, 200, JSON.stringify(all.body));
    assert.deepEqual(itemNames(all), expected);
    assert.equal((await delegation.get(port, "/readyz", {}, null)).code, 200);
    assert.ok(delegation.secret?.data?.["tls.crt"], "its certificate came from the main thread's Secret");
  });

  it("follows the caches: a build that leaves the ImageBuild cache leaves the list", async () => {
    const first = (await delegation.get(port, `${BASE}/pendingbuilds`)).body.items?.[0]?.metadata.name;
    const build = load.builds.items.find((b) => b.metadata?.name === first);
    assert.ok(build);
    informers.builds.remove(build);
    for (;;) {
      const names = itemNames(await delegation.get(port, `${BASE}/pendingbuilds`));
      if (!names.includes(first ?? "")) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it("refuses a user the SubjectAccessReview denies, and counts requests in the main thread", async () => {
    const denied = await delegation.get(port, `${BASE}/pendingbuilds`, { "X-Remote-User": "bob" });
    assert.equal(denied.code, 403);
    assert.equal(denied.body.reason, "Forbidden");
    assert.equal((await delegation.get(port, `${BASE}/pendingbuilds`, {}, null)).code, 401);
    while (!answered.includes("list 403")) await new Promise((r) => setTimeout(r, 20));
    assert.ok(answered.includes("list 200"));
  });
});
