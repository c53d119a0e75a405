import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { MultiNamespaceInformer } from "../../../src/runtime/multi-informer.js";
import { FakeApiServer, FakeCollection } from "./fake-apiserver.js";
import { eventually } from "./helpers.js";

describe("MultiNamespaceInformer", () => {
  let server: FakeApiServer;
  let informer: MultiNamespaceInformer<KubernetesObject> | undefined;
  afterEach(async () => {
    await informer?.stop();
    await server.close();
  });

  it("lists and watches each namespace, and reads and reports them as one cache", async () => {
    server = new FakeApiServer();
    const a = new FakeCollection(server, "/api/v1/namespaces/a/configmaps");
    const b = new FakeCollection(server, "/api/v1/namespaces/b/configmaps");
    const other = new FakeCollection(server, "/api/v1/namespaces/c/configmaps");
    await server.listen();
    a.put("x", {}, false);
    b.put("y", {}, false);
    other.put("z", {}, false);
    informer = new MultiNamespaceInformer(
      server.kubeConfig(),
      ["a", "b"],
      (ns) => `/api/v1/namespaces/${ns}/configmaps`,
      { name: "configmaps", indexers: { byName: (o) => [o.metadata?.name ?? ""] } },
    );
    const events: string[] = [];
    informer.on("add", (o) => {
      events.push(`add ${o.metadata?.namespace}/${o.metadata?.name}`);
    });
    informer.on("delete", (o) => {
      events.push(`delete ${o.metadata?.namespace}/${o.metadata?.name}`);
    });
    assert.equal(informer.hasSynced(), false);
    await informer.start();
    assert.equal(informer.hasSynced(), true, "synced once every namespace is");
    assert.deepEqual(informer.keys().sort(), ["a/x", "b/y"], "only the namespaces it watches");
    assert.equal(informer.get("b/y")?.metadata?.name, "y");
    assert.equal(informer.get("c/z"), undefined);
    assert.deepEqual(
      informer.byIndex("byName", "x").map((o) => o.metadata?.namespace),
      ["a"],
    );

    await eventually(() => a.watchers.size === 1 && b.watchers.size === 1, 2000, "watches");
    b.put("w");
    a.delete("x");
    await eventually(() => events.length === 4, 2000, "events from both namespaces");
    assert.deepEqual(events.sort(), ["add a/x", "add b/w", "add b/y", "delete a/x"]);
    assert.match(informer.resourceVersion, /^\d+$/);
  });

  it("refuses an empty namespace list (that would be all namespaces: use an Informer)", () => {
    assert.throws(
      () => new MultiNamespaceInformer(new FakeApiServer().kubeConfig(), [], (ns) => ns, {}),
      /no namespaces/,
    );
    server = new FakeApiServer();
  });
});
