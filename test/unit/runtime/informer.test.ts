import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { createLogger, Informer, Metrics, stripManagedFields } from "../../../src/runtime/index.js";
import { FakeApiServer, FakeCollection } from "./fake-apiserver.js";
import { captureLogs, eventually } from "./helpers.js";

type CM = KubernetesObject & { data?: Record<string, string> };

describe("Informer", () => {
  let server: FakeApiServer;
  let coll: FakeCollection;
  let informers: Informer<CM>[] = [];
  let unhandled = 0;
  const onUnhandled = () => unhandled++;

  before(() => process.on("unhandledRejection", onUnhandled));
  after(() => process.off("unhandledRejection", onUnhandled));

  async function setup(opts: Partial<ConstructorParameters<typeof Informer<CM>>[1]> = {}) {
    server = new FakeApiServer();
    coll = new FakeCollection(server);
    await server.listen();
    const logs = captureLogs();
    const events: string[] = [];
    const inf = new Informer<CM>(server.kubeConfig(), {
      path: coll.path,
      pageSize: 2,
      backoff: { initialMs: 10, maxMs: 50 },
      logger: createLogger({ level: "debug", stream: logs.stream }),
      ...opts,
    });
    inf.on("add", (o) => {
      events.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`);
    });
    inf.on("update", (o, old) => {
      events.push(
        `update ${o.metadata?.name}@${old.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`,
      );
    });
    inf.on("delete", (o) => {
      events.push(`delete ${o.metadata?.name}`);
    });
    informers.push(inf);
    return { inf, events, logs };
  }

  /** Waits until the informer's one watch is open on the fake collection. */
  const watchOpen = () => eventually(() => coll.watchers.size === 1, 2000, "watch");

  afterEach(async () => {
    for (const i of informers) await i.stop();
    informers = [];
    await server.close();
    assert.equal(unhandled, 0, "no unhandled rejections");
  });

  it("lists all pages, fills kind/apiVersion, syncs, then watches from the list RV with bookmarks", async () => {
    const { inf, events } = await setup({ watchTimeoutSeconds: 100 });
    for (const n of ["a", "b", "c", "d", "e"]) coll.put(n, {}, false);
    assert.equal(inf.hasSynced(), false);
    await inf.start();
    assert.equal(inf.hasSynced(), true);
    assert.equal(coll.listRequests().length, 3, "5 items at pageSize 2 → 3 pages");
    assert.equal(coll.listRequests()[1]?.query.get("continue"), "2");
    assert.deepEqual(inf.keys().sort(), ["ns/a", "ns/b", "ns/c", "ns/d", "ns/e"]);
    assert.equal(inf.get("ns/a")?.kind, "ConfigMap");
    assert.equal(inf.get("ns/a")?.apiVersion, "v1");
    assert.equal(events.filter((e) => e.startsWith("add")).length, 5);

    await eventually(() => coll.watchRequests().length === 1, 2000, "watch");
    const w = coll.watchRequests()[0];
    assert.equal(w?.query.get("allowWatchBookmarks"), "true");
    assert.equal(w?.query.get("resourceVersion"), "105");
    const t = Number(w?.query.get("timeoutSeconds"));
    assert.ok(t >= 100 && t < 200, `jittered timeout ${t}`);
    assert.equal(w?.headers.authorization, "Bearer secret-token");
  });

  it("applies watch events to the cache and calls handlers (update gets the old object)", async () => {
    const { inf, events } = await setup();
    coll.put("a", { v: "1" }, false);
    await inf.start();
    await watchOpen();
    events.length = 0;
    coll.put("b");
    coll.put("a", { v: "2" });
    coll.delete("b");
    await eventually(() => events.length === 3, 2000, "events");
    assert.deepEqual(events, ["add b@102", "update a@101->103", "delete b"]);
    assert.equal(inf.get("ns/a")?.data?.v, "2");
    assert.equal(inf.get("ns/b"), undefined);
    assert.equal(inf.resourceVersion, "104");
  });

  it("resumes from the last bookmark RV after the server closes the watch", async () => {
    const { inf } = await setup();
    await inf.start();
    await watchOpen();
    coll.bookmark();
    await eventually(() => inf.resourceVersion === String(coll.rv), 2000, "bookmark");
    coll.closeWatches();
    await eventually(() => coll.watchRequests().length === 2, 2000, "rewatch");
    assert.equal(coll.watchRequests()[1]?.query.get("resourceVersion"), String(coll.rv));
    assert.equal(coll.listRequests().length, 1, "no relist on a normal close");
  });

  it("in-stream 410 relists and diffs: deletes vanished, adds new, updates changed", async () => {
    const { inf, events } = await setup();
    coll.put("keep", {}, false);
    coll.put("change", {}, false);
    coll.put("vanish", {}, false);
    await inf.start();
    await watchOpen();
    events.length = 0;
    // Changes the watch "missed":
    coll.put("change", { x: "1" }, false);
    coll.delete("vanish", false);
    coll.put("new", {}, false);
    coll.expireInStream();
    await eventually(() => events.length === 3, 3000, "relist events");
    assert.deepEqual(events.sort(), ["add new@106", "delete vanish", "update change@102->104"]);
    assert.deepEqual(inf.keys().sort(), ["ns/change", "ns/keep", "ns/new"]);
    assert.equal(coll.listRequests().length >= 2, true);
  });

  it("relist() ends the live watch, replaces the cache with a fresh list and resolves once it is in", async () => {
    const { inf, events, logs } = await setup();
    coll.put("keep", {}, false);
    coll.put("stale", {}, false);
    await inf.start();
    await watchOpen();
    events.length = 0;
    const listsBefore = coll.listRequests().length;
    // Writes this cache has not seen (a lagging watch):
    coll.put("stale", { x: "1" }, false);
    coll.put("unseen", {}, false);
    await inf.relist();
    // Resolved only after the list's events were handled.
    assert.deepEqual(events.sort(), ["add unseen@104", "update stale@102->103"]);
    assert.equal(inf.get("ns/stale")?.data?.x, "1");
    assert.ok(coll.listRequests().length > listsBefore, "listed again");
    await eventually(() => coll.watchRequests().length === 2 && coll.watchers.size === 1, 2000, "rewatch");
    assert.equal(
      coll.watchRequests()[1]?.query.get("resourceVersion"),
      "104",
      "watches on from the new list",
    );
    assert.deepEqual(
      logs.lines.filter((l) => l.msg === "watch failed; reconnecting"),
      [],
      "ending the watch for a relist is not a failure",
    );
  });

  it("relist() keeps its promise across a failed list: it resolves on the retry", async () => {
    const { inf } = await setup();
    await inf.start();
    await watchOpen();
    coll.failNextList = 500;
    coll.put("late", {}, false);
    await inf.relist();
    assert.ok(inf.get("ns/late"), "the list that resolved it is fresh");
    assert.equal(
      coll.listRequests().length,
      3,
      "the initial list, the failed one, its retry (one page each)",
    );
  });

  it("HTTP 410 on watch connect relists", async () => {
    const { inf } = await setup();
    await inf.start();
    await watchOpen();
    coll.failNextWatch = 410;
    coll.closeWatches();
    await eventually(() => coll.listRequests().length === 2, 3000, "relist");
    await eventually(() => coll.watchers.size === 1, 3000, "watch again");
  });

  it("keeps retrying list and watch failures with backoff, never giving up", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const { inf, logs } = await setup({ metrics, name: "cms" });
    coll.failNextList = 500;
    await inf.start();
    assert.equal(inf.hasSynced(), true);
    assert.equal(coll.listRequests().length, 2);
    await watchOpen();
    coll.failNextWatch = 500;
    coll.closeWatches();
    await eventually(
      () => coll.watchers.size === 1 && coll.watchRequests().length === 3,
      3000,
      "watch again",
    );
    assert.ok(logs.lines.some((l) => l.msg === "watch failed; reconnecting"));
    assert.ok(logs.lines.some((l) => l.msg === "list failed; retrying"));
    const text = await metrics.registry.metrics();
    assert.match(text, /informer_errors_total\{informer="cms"\} 2/);
    assert.match(text, /rest_client_requests_total\{method="LIST",code="500"\} 1/);
    assert.match(text, /rest_client_requests_total\{method="WATCH",code="200"\}/);
  });

  it("reconnects a watch that goes silent past the inactivity timeout", async () => {
    const { inf } = await setup({ connectTimeoutMs: 200 });
    // Watch requests hang without headers.
    server.routeFirst((req) =>
      req.query.get("watch") === "true" && coll.watchRequests().length === 1 ? undefined : false,
    );
    await inf.start();
    await eventually(() => coll.watchRequests().length >= 2, 3000, "second watch after connect timeout");
  });

  it("a throwing handler is logged and does not disturb the informer", async () => {
    const { inf, events, logs } = await setup();
    inf.on("add", () => {
      throw new Error("handler bug");
    });
    inf.on("add", async () => {
      throw new Error("async handler bug");
    });
    await inf.start();
    await watchOpen();
    coll.put("x");
    await eventually(() => events.includes("add x@101"), 2000, "event");
    await eventually(
      () => logs.lines.filter((l) => l.msg === "event handler failed").length === 2,
      2000,
      "logs",
    );
    assert.equal(inf.get("ns/x")?.metadata?.name, "x");
  });

  it("late add handlers get the cached objects replayed", async () => {
    const { inf } = await setup();
    coll.put("a", {}, false);
    await inf.start();
    const seen: string[] = [];
    inf.on("add", (o) => {
      seen.push(o.metadata?.name ?? "");
    });
    assert.deepEqual(seen, ["a"]);
  });

  it("stop() is clean: no reconnects, no error logs, sync waiters released", async () => {
    const { inf, logs } = await setup();
    await inf.start();
    await watchOpen();
    const before = server.requests.length;
    await inf.stop();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.requests.length, before, "no requests after stop");
    await eventually(() => coll.watchers.size === 0, 2000, "server saw the watch close");
    assert.deepEqual(
      logs.lines.filter((l) => l.level === "warn" || l.level === "error"),
      [],
    );
  });

  it("stop() before sync releases start() and rejects waitForSync", async () => {
    const { inf } = await setup();
    server.routeFirst((req) => (req.query.get("watch") !== "true" ? undefined : false)); // lists hang
    const started = inf.start();
    const waiting = inf.waitForSync();
    await new Promise((r) => setTimeout(r, 50));
    await inf.stop();
    await started;
    await assert.rejects(waiting);
    assert.equal(inf.hasSynced(), false);
  });

  it("waitForSync rejects when its signal aborts", async () => {
    const { inf } = await setup();
    server.routeFirst((req) => (req.query.get("watch") !== "true" ? undefined : false));
    void inf.start();
    await assert.rejects(inf.waitForSync(AbortSignal.timeout(50)));
  });

  it("resync re-emits update(obj, obj) for cached objects", async () => {
    const { inf, events } = await setup({ resyncMs: 100 });
    coll.put("a", {}, false);
    await inf.start();
    await eventually(() => events.some((e) => e === "update a@101->101"), 2000, "resync");
  });

  it("transform and indexers apply to listed and watched objects", async () => {
    const { inf } = await setup({
      transform: stripManagedFields,
      indexers: { byValue: (o) => (o.data?.v ? [o.data.v] : []) },
    });
    coll.objects.set("m", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "m", namespace: "ns", resourceVersion: "1", managedFields: [{ manager: "kubectl" }] },
      data: { v: "x" },
    } as CM);
    await inf.start();
    assert.equal(inf.get("ns/m")?.metadata?.managedFields, undefined);
    await watchOpen();
    coll.put("n", { v: "x" });
    await eventually(() => inf.byIndex("byValue", "x").length === 2, 2000, "indexed");
    coll.put("n", { v: "y" });
    await eventually(() => inf.byIndex("byValue", "x").length === 1, 2000, "reindexed");
    assert.equal(inf.byIndex("byValue", "y")[0]?.metadata?.name, "n");
  });
});
