// The visibility server end to end over HTTPS on 127.0.0.1, wired as the operator wires it
// (visibilityRunnable): a fake apiserver serves the requestheader ConfigMap, takes the managed
// Secret and the APIService's caBundle, and answers SubjectAccessReviews (alice may, bob may not).
import assert from "node:assert/strict";
import { createServer as createNetServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { RestClient } from "../../../src/runtime/kube.js";
import { type Logger, nopLogger } from "../../../src/runtime/logger.js";
import { createCertificateAuthority, issueCertificate, type KeyPair } from "../../../src/visibility/certs.js";
import { visibilityRunnable, visibilityServices } from "../../../src/visibility/setup.js";
import { freePort } from "../../support/free-port.js";
import {
  BASE,
  FakeDelegation,
  itemNames as names,
  type Reply,
  TABLE,
  testVisibilityConfig,
} from "./fake-delegation.js";
import { FakeQueue } from "./fake-source.js";

describe("visibility server", () => {
  const delegation = new FakeDelegation();
  const { fake, frontProxyCa, reviews } = delegation;
  const queue = new FakeQueue();
  const now = new Date();
  const otherCa = createCertificateAuthority("not-the-front-proxy-ca", now);
  const impostor = issueCertificate(otherCa, {
    commonName: "front-proxy-client",
    usage: "client",
    now,
    validityDays: 1,
  });
  const wrongName = issueCertificate(frontProxyCa, {
    commonName: "someone-else",
    usage: "client",
    now,
    validityDays: 1,
  });
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  let port = 0;
  const answered: { verb: string; code: number; seconds: number; newConnection: boolean }[] = [];

  before(async () => {
    await fake.listen();
    port = await freePort();
    queue.fill(5);
    running = Promise.resolve(runnable(port).start(stop.signal));
    await listening(port);
  });

  function runnable(on: number, log: Logger = nopLogger) {
    const cfg = testVisibilityConfig(on);
    return visibilityRunnable(
      cfg,
      visibilityServices(cfg, new RestClient(fake.kubeConfig()), log),
      queue,
      log,
      (verb, code, seconds, newConnection) => answered.push({ verb, code, seconds, newConnection }),
    );
  }

  const listening = (on: number) => delegation.listening(on);

  after(async () => {
    stop.abort();
    await running;
    await fake.close();
  });

  function get(
    path: string,
    headers?: Record<string, string>,
    client: KeyPair | null = delegation.frontProxy,
    method = "GET",
    on = port,
  ): Promise<Reply> {
    return delegation.get(on, path, headers, client, method);
  }

  it("creates its serving certificate Secret and puts the CA into the APIService", () => {
    const secret = delegation.secret;
    assert.ok(secret?.data?.["tls.crt"] && secret.data["ca.crt"] && secret.data["tls.key"]);
    assert.equal(secret.type, "kubernetes.io/tls");
    assert.deepEqual(delegation.caBundlePatch, { spec: { caBundle: secret.data["ca.crt"] } });
  });

  it("lists every namespace's pending builds in the source's order, and one namespace's", async () => {
    const all = await get(`${BASE}/pendingbuilds`);
    assert.equal(all.code, 200);
    assert.equal(all.body.kind, "PendingBuildList");
    assert.equal(all.body.apiVersion, "visibility.golden.dev/v1alpha1");
    assert.deepEqual(names(all), ["build-1", "build-2", "build-3", "build-4", "build-5"]);
    const teamB = await get(`${BASE}/namespaces/team-b/pendingbuilds`);
    assert.deepEqual(names(teamB), ["build-2", "build-4"]);
    assert.deepEqual(reviews.at(-1), {
      user: "alice",
      groups: ["team-a"],
      resourceAttributes: {
        group: "visibility.golden.dev",
        version: "v1alpha1",
        resource: "pendingbuilds",
        verb: "list",
        namespace: "team-b",
      },
    });
  });

  it("reports each request's verb, code and duration (golden_visibility_request_duration_seconds)", async () => {
    answered.length = 0;
    await get(`${BASE}/pendingbuilds`);
    await get(`${BASE}/namespaces/team-a/pendingbuilds/nope`);
    assert.deepEqual(
      answered.map(({ verb, code }) => [verb, code]),
      [
        ["list", 200],
        ["get", 404],
      ],
    );
    assert.ok(answered.every(({ seconds }) => seconds > 0 && seconds < 60));
    // The client keeps its connection alive (Node's global agent), and so does the server.
    assert.equal(answered[1]?.newConnection, false, "the second request came on the first one's connection");
  });

  it("gets one, and answers a missing one 404 naming it", async () => {
    const one = await get(`${BASE}/namespaces/team-a/pendingbuilds/build-3`);
    assert.equal(one.code, 200);
    assert.equal(one.body.clusterPosition, 3);
    const missing = await get(`${BASE}/namespaces/team-a/pendingbuilds/build-2`);
    assert.equal(missing.code, 404);
    assert.equal(missing.body.kind, "Status");
    assert.equal(missing.body.reason, "NotFound");
    assert.equal(missing.body.message, 'pendingbuilds.visibility.golden.dev "build-2" not found');
  });

  it("pages with limit and continue, and refuses a malformed continue with 400", async () => {
    const first = await get(`${BASE}/pendingbuilds?limit=2`);
    const meta = first.body.metadata as { continue: string; remainingItemCount: number };
    assert.deepEqual(names(first), ["build-1", "build-2"]);
    assert.equal(meta.remainingItemCount, 3);
    const second = await get(`${BASE}/pendingbuilds?limit=2&continue=${encodeURIComponent(meta.continue)}`);
    assert.deepEqual(names(second), ["build-3", "build-4"]);
    const bad = await get(`${BASE}/pendingbuilds?limit=2&continue=garbage!`);
    assert.equal(bad.code, 400);
    assert.equal(bad.body.reason, "BadRequest");
    assert.match(bad.body.message ?? "", /continue key is not valid/);
  });

  it("renders a Table when kubectl asks for one", async () => {
    const t = await get(`${BASE}/pendingbuilds?limit=1`, { "X-Remote-User": "alice", Accept: TABLE });
    assert.equal(t.body.kind, "Table");
    assert.match(String(t.headers["content-type"]), /as=Table/);
    const rows = t.body.rows as {
      cells: unknown[];
      object: { kind: string; metadata: { namespace: string } };
    }[];
    assert.deepEqual(rows[0]?.cells.slice(0, 4), ["build-1", 1, 1, "web"]);
    assert.equal(rows[0]?.object.kind, "PartialObjectMetadata");
    assert.equal(rows[0]?.object.metadata.namespace, "team-a");
    assert.ok((t.body.metadata as { continue?: string }).continue, "Tables page too");
  });

  it("refuses unknown field selectors, label selectors, watches and writes", async () => {
    const field = await get(`${BASE}/pendingbuilds?fieldSelector=spec.imageName%3Dweb`);
    assert.equal(field.code, 400);
    assert.match(field.body.message ?? "", /field label not supported: spec\.imageName/);
    const byName = await get(`${BASE}/pendingbuilds?fieldSelector=metadata.name%3Dbuild-4`);
    assert.deepEqual(names(byName), ["build-4"]);
    assert.equal((await get(`${BASE}/pendingbuilds?labelSelector=a%3Db`)).code, 400);
    const watch = await get(`${BASE}/pendingbuilds?watch=true`);
    assert.equal(watch.code, 405);
    assert.equal(watch.body.reason, "MethodNotAllowed");
    const post = await get(
      `${BASE}/namespaces/team-a/pendingbuilds`,
      { "X-Remote-User": "alice" },
      delegation.frontProxy,
      "POST",
    );
    assert.equal(post.code, 405);
  });

  it("answers 401 without a front-proxy certificate, with another CA's, or another CN's", async () => {
    for (const [i, client] of [null, impostor, wrongName].entries()) {
      const r = await get(`${BASE}/pendingbuilds`, { "X-Remote-User": "alice" }, client);
      assert.equal(r.code, 401, `client ${i}`);
      assert.equal(r.body.reason, "Unauthorized");
    }
    assert.equal((await get("/apis", { "X-Remote-User": "alice" }, null)).code, 401);
    assert.equal((await get("/healthz", {}, null)).code, 200, "health checks answer anyone");
  });

  it("answers 403 in the apiserver's words to a user the SubjectAccessReview denies", async () => {
    const r = await get(`${BASE}/namespaces/team-a/pendingbuilds`, { "X-Remote-User": "bob" });
    assert.equal(r.code, 403);
    assert.equal(r.body.reason, "Forbidden");
    assert.equal(
      r.body.message,
      'pendingbuilds.visibility.golden.dev is forbidden: User "bob" cannot list resource "pendingbuilds" in API group "visibility.golden.dev" in the namespace "team-a"',
    );
    assert.equal((await get(BASE, { "X-Remote-User": "bob" })).code, 200, "discovery needs no review");
  });

  it("serves discovery, aggregated discovery and OpenAPI v3", async () => {
    const list = await get("/apis");
    assert.equal(list.body.kind, "APIGroupList");
    const aggregated = await get("/apis", {
      "X-Remote-User": "system:kube-aggregator",
      Accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    });
    assert.equal(aggregated.body.kind, "APIGroupDiscoveryList");
    assert.match(String(aggregated.headers["content-type"]), /as=APIGroupDiscoveryList/);
    assert.equal((await get(BASE)).body.kind, "APIResourceList");
    const index = await get("/openapi/v3");
    const paths = index.body.paths as Record<string, { serverRelativeURL: string }>;
    const doc = await get(paths["apis/visibility.golden.dev/v1alpha1"]?.serverRelativeURL ?? "");
    assert.equal(doc.code, 200);
    assert.ok(doc.headers.etag);
    assert.ok(
      (doc.body.components as { schemas: Record<string, unknown> }).schemas[
        "dev.golden.visibility.v1alpha1.PendingBuild"
      ],
    );
    const v2 = await get("/openapi/v2");
    assert.equal(v2.body.swagger, "2.0");
    const definitions = v2.body.definitions as Record<
      string,
      { properties?: Record<string, { allOf?: { $ref?: string }[] }> }
    >;
    assert.equal(
      definitions["dev.golden.visibility.v1alpha1.PendingBuild"]?.properties?.metadata?.allOf?.[0]?.$ref,
      "#/definitions/dev.golden.visibility.v1alpha1.ObjectMeta",
    );
    assert.equal((await get("/openapi/v3/apis/other.dev/v1")).code, 404);
  });

  it("keeps trying to start, without failing the operator, while its port is taken", async () => {
    const taken = await freePort();
    const squatter = createNetServer();
    await new Promise<void>((r) => squatter.listen(taken, "127.0.0.1", r));
    const errors: string[] = [];
    const log: Logger = { ...nopLogger, error: (msg) => void errors.push(msg), child: () => log };
    const ctl = new AbortController();
    const run = Promise.resolve(runnable(taken, log).start(ctl.signal));
    try {
      while (errors.length === 0) await new Promise((r) => setTimeout(r, 20));
      assert.equal(errors[0], "visibility server failed to start; retrying");
      await new Promise<void>((r) => squatter.close(() => r()));
      await listening(taken);
    } finally {
      ctl.abort();
      squatter.close();
    }
    await run; // resolves: the runnable never failed
  });

  it("is not ready, and lists nothing, until the source has synced", async () => {
    queue.synced = false;
    try {
      assert.equal((await get("/readyz", {}, null)).code, 503);
      const r = await get(`${BASE}/namespaces/team-a/pendingbuilds/build-1`);
      assert.equal(r.code, 503);
      assert.equal(r.body.reason, "ServiceUnavailable");
    } finally {
      queue.synced = true;
    }
    assert.equal((await get("/readyz", {}, null)).code, 200);
  });
});
