import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubeConfig, RequestContext } from "@kubernetes/client-node";
import {
  apiErrorCode,
  apiErrorReason,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  isTransient,
  Metrics,
  makeApiClient,
  mergePatchOptions,
  pooledAuth,
  RestClient,
  type Throttle,
  unlessNotFound,
} from "../../../src/runtime/index.js";
import { FakeApiServer, json, status } from "./fake-apiserver.js";

describe("RestClient / makeApiClient", () => {
  const server = new FakeApiServer();
  let hang = false;

  before(async () => {
    server.route((req, res) => {
      if (hang) return; // never answers
      const m = /^\/api\/v1\/namespaces\/ns\/configmaps\/([^/]+)$/.exec(req.path);
      if (!m) return false;
      const name = m[1];
      if (name === "exists") return status(res, 409, "AlreadyExists");
      if (name === "stale") return status(res, 409, "Conflict");
      if (name === "missing") return status(res, 404, "NotFound");
      json(res, 200, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace: "ns", resourceVersion: "7" },
      });
    });
    await server.listen();
  });
  after(() => server.close());

  it("generated clients go through the throttle, count metrics and authenticate", async () => {
    let takes = 0;
    const throttle: Throttle = {
      take: async () => {
        takes++;
      },
    };
    const metrics = new Metrics({ defaultMetrics: false, prefix: "example_" });
    const core = makeApiClient(server.kubeConfig(), CoreV1Api, {
      throttle,
      metrics,
      userAgent: "example-operator",
    });
    const cm = await core.readNamespacedConfigMap({ name: "a", namespace: "ns" });
    assert.equal(cm.metadata?.name, "a");
    await core.readNamespacedConfigMap({ name: "b", namespace: "ns" });
    assert.equal(takes, 2);
    const req = server.requests.at(-1);
    assert.equal(req?.headers.authorization, "Bearer secret-token");
    assert.equal(req?.headers["user-agent"], "example-operator", "the caller names itself");
    assert.match(
      await metrics.registry.metrics(),
      /^example_rest_client_requests_total\{method="GET",code="200"\} 2/m,
    );
  });

  it("a shared token bucket paces requests across clients", async () => {
    const rc = new RestClient(server.kubeConfig(), { qps: 20, burst: 1 });
    const a = rc.api(CoreV1Api);
    const b = rc.api(CoreV1Api);
    const t0 = Date.now();
    await Promise.all([
      a.readNamespacedConfigMap({ name: "a", namespace: "ns" }),
      b.readNamespacedConfigMap({ name: "b", namespace: "ns" }),
      a.readNamespacedConfigMap({ name: "c", namespace: "ns" }),
      b.readNamespacedConfigMap({ name: "d", namespace: "ns" }),
    ]);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 140, `4 requests at 20 qps / burst 1 take ≥150 ms, took ${elapsed}`);
  });

  it("merge-patch options set the Content-Type (the generated default is json-patch)", async () => {
    const core = makeApiClient(server.kubeConfig(), CoreV1Api, { qps: 0 });
    await core.patchNamespacedConfigMap(
      { name: "p", namespace: "ns", body: { data: { a: "1" } } },
      mergePatchOptions(),
    );
    assert.equal(server.requests.at(-1)?.headers["content-type"], "application/merge-patch+json");
    assert.equal(server.requests.at(-1)?.method, "PATCH");
    await core.patchNamespacedConfigMap({ name: "p", namespace: "ns", body: [] });
    assert.equal(server.requests.at(-1)?.headers["content-type"], "application/json-patch+json");
  });

  it("classifies API errors", async () => {
    const core = makeApiClient(server.kubeConfig(), CoreV1Api, { qps: 0 });
    const err = async (name: string) =>
      core.readNamespacedConfigMap({ name, namespace: "ns" }).then(
        () => undefined,
        (e: unknown) => e,
      );
    const exists = await err("exists");
    assert.equal(apiErrorCode(exists), 409);
    assert.equal(apiErrorReason(exists), "AlreadyExists");
    assert.equal(isAlreadyExists(exists), true);
    assert.equal(isConflict(exists), false);
    const stale = await err("stale");
    assert.equal(isConflict(stale), true);
    assert.equal(isAlreadyExists(stale), false);
    const missing = await err("missing");
    assert.equal(isNotFound(missing), true);
    assert.equal(isTransient(missing), false);
    assert.equal(isGone({ statusCode: 410 }), true);
    assert.equal(apiErrorCode(new DOMException("x", "TimeoutError")), undefined);
    assert.equal(isTransient(new TypeError("fetch failed")), true);
  });

  it("unlessNotFound turns a 404 into undefined and lets every other error through", async () => {
    const core = makeApiClient(server.kubeConfig(), CoreV1Api, { qps: 0 });
    const read = (name: string) => unlessNotFound(core.readNamespacedConfigMap({ name, namespace: "ns" }));
    assert.equal(await read("missing"), undefined);
    await assert.rejects(read("exists"), (e: unknown) => isAlreadyExists(e));
    assert.equal(await unlessNotFound(Promise.resolve(0)), 0, "a falsy result is still a result");
  });

  it("applies the per-request timeout and counts the failure", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const core = makeApiClient(server.kubeConfig(), CoreV1Api, { qps: 0, timeoutMs: 100, metrics });
    hang = true;
    try {
      const t0 = Date.now();
      await assert.rejects(core.readNamespacedConfigMap({ name: "slow", namespace: "ns" }));
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      hang = false;
    }
    assert.match(
      await metrics.registry.metrics(),
      /rest_client_requests_total\{method="GET",code="<error>"\} 1/,
    );
  });
});

describe("pooledAuth", () => {
  const ca = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");
  function tlsKubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: "https://127.0.0.1:6443", caData: ca }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    return kc;
  }

  it("reuses one dispatcher per TLS identity (client-node makes a new one per request)", async () => {
    const kc = tlsKubeConfig();
    const raw = [
      new RequestContext("https://127.0.0.1:6443/x", "GET"),
      new RequestContext("https://127.0.0.1:6443/y", "GET"),
    ];
    for (const c of raw) await kc.applySecurityAuthentication(c);
    assert.notEqual(raw[0]?.getDispatcher(), raw[1]?.getDispatcher(), "upstream behaviour this works around");

    const auth = pooledAuth(kc);
    assert.equal(pooledAuth(kc), auth, "one pool per KubeConfig");
    const pooled = [
      new RequestContext("https://127.0.0.1:6443/x", "GET"),
      new RequestContext("https://127.0.0.1:6443/y", "GET"),
    ];
    for (const c of pooled) await auth.applySecurityAuthentication(c);
    assert.ok(pooled[0]?.getDispatcher());
    assert.equal(pooled[0]?.getDispatcher(), pooled[1]?.getDispatcher());
    assert.equal(pooled[0]?.getHeaders().Authorization, "Bearer t");
    await auth.close();
  });
});
