import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { ApiException, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { GoldenClient } from "../../../src/api/client.js";
import type { Image, ImageBuild } from "../../../src/api/v1alpha1/index.js";
import {
  apiErrorCode,
  apiErrorMessage,
  apiErrorStatus,
  isAlreadyExists,
  isConflict,
  isGone,
  isInvalid,
  isNotFound,
  isTransient,
} from "../../../src/runtime/api-errors.js";
import { image } from "../../support/fixtures.js";

/** An ApiException as client-node throws it: the Status body is a JSON string. */
function apiError(code: number, reason: string, message: string): ApiException<string> {
  const body = JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code });
  return new ApiException(code, "Unknown API Status Code!", body, {});
}

describe("error helpers", () => {
  it("classify ApiExceptions by code and reason", () => {
    const notFound = apiError(404, "NotFound", 'images.golden.dev "x" not found');
    const conflict = apiError(409, "Conflict", "the object has been modified");
    const exists = apiError(409, "AlreadyExists", 'images.golden.dev "x" already exists');
    const invalid = apiError(422, "Invalid", 'Image.golden.dev "x" is invalid: spec.formats: Required value');
    assert.equal(isNotFound(notFound), true);
    assert.equal(isNotFound(conflict), false);
    assert.equal(isConflict(conflict), true);
    assert.equal(isConflict(exists), false);
    assert.equal(isAlreadyExists(exists), true);
    assert.equal(isAlreadyExists(conflict), false);
    assert.equal(isInvalid(invalid), true);
    assert.equal(isGone(apiError(410, "Expired", "too old")), true);
    assert.equal(isTransient(apiError(429, "TooManyRequests", "slow down")), true);
    assert.equal(isTransient(apiError(503, "ServiceUnavailable", "")), true);
    assert.equal(isTransient(invalid), false);
  });

  it("treat a 409 with an unreadable body as a conflict", () => {
    const err = new ApiException(409, "Unknown API Status Code!", "<html>", {});
    assert.equal(isConflict(err), true);
    assert.equal(isAlreadyExists(err), false);
  });

  it("ignore errors that are not HTTP errors", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const abort = new DOMException("The operation was aborted", "AbortError");
    for (const err of [refused, abort, new Error("boom"), "text", undefined, null, 42]) {
      assert.equal(apiErrorCode(err), undefined, String(err));
      assert.equal(isNotFound(err), false);
      assert.equal(isConflict(err), false);
    }
  });

  it("read a Watch error's statusCode", () => {
    assert.equal(apiErrorCode(Object.assign(new Error("Gone"), { statusCode: 410 })), 410);
  });

  it("parse the Status from string and object bodies", () => {
    assert.equal(apiErrorStatus(apiError(404, "NotFound", "gone"))?.reason, "NotFound");
    assert.equal(
      apiErrorStatus(new ApiException(500, "x", { reason: "InternalError" }, {}))?.reason,
      "InternalError",
    );
    assert.equal(apiErrorStatus(new ApiException(500, "x", "not json", {})), undefined);
    assert.equal(apiErrorStatus(new Error("x")), undefined);
  });

  it("apiErrorMessage prefers the apiserver's message", () => {
    const msg = 'ImageBuild.golden.dev "b" is invalid: spec: Invalid value: "object": spec is immutable';
    assert.equal(apiErrorMessage(apiError(422, "Invalid", msg)), msg);
    assert.equal(apiErrorMessage(new ApiException(502, "x", " bad gateway\n", {})), "HTTP 502: bad gateway");
    assert.equal(apiErrorMessage(new ApiException(401, "Unauthorized", undefined, {})), "HTTP 401");
    assert.equal(apiErrorMessage(new Error("socket hang up")), "socket hang up");
    assert.equal(apiErrorMessage("plain"), "plain");
  });
});

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: unknown;
}

/** A fake apiserver: records requests and answers with whatever `respond` returns. */
class FakeApiServer {
  readonly requests: Recorded[] = [];
  respond: (req: Recorded) => { code: number; body: unknown } = () => ({ code: 200, body: {} });
  #server: Server | undefined;

  async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://x");
    const recorded: Recorded = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers["content-type"],
      body: text ? JSON.parse(text) : undefined,
    };
    this.requests.push(recorded);
    const { code, body } = this.respond(recorded);
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }
}

function status(code: number, reason: string, message: string) {
  return { code, body: { kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code } };
}

describe("GoldenClient against a fake apiserver", () => {
  const server = new FakeApiServer();
  let client: GoldenClient;

  before(async () => {
    const url = await server.start();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: url, skipTLSVerify: true }],
      users: [{ name: "fake" }],
      contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
      currentContext: "fake",
    });
    client = GoldenClient.fromKubeConfig(kc);
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.respond = (req) => ({ code: 200, body: req.body ?? image({ name: "web", namespace: "team-a" }) });
  });

  const last = () => {
    const req = server.requests.at(-1);
    assert.ok(req, "no request was made");
    return req;
  };

  it("builds collection paths for watches", () => {
    assert.equal(client.images.path("team-a"), "/apis/golden.dev/v1alpha1/namespaces/team-a/images");
    assert.equal(client.images.path(), "/apis/golden.dev/v1alpha1/images");
    assert.equal(client.imageBuilds.path("x"), "/apis/golden.dev/v1alpha1/namespaces/x/imagebuilds");
  });

  it("get returns the object, or undefined on 404", async () => {
    const got = await client.images.get("team-a", "web");
    assert.equal(got?.metadata?.name, "web");
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/namespaces/team-a/images/web");
    server.respond = () => status(404, "NotFound", 'images.golden.dev "nope" not found');
    assert.equal(await client.images.get("team-a", "nope"), undefined);
  });

  it("get rethrows other errors", async () => {
    server.respond = () => status(403, "Forbidden", "forbidden");
    await assert.rejects(client.images.get("team-a", "web"), (err: unknown) => apiErrorCode(err) === 403);
  });

  it("list returns items and resourceVersion, per namespace or across namespaces", async () => {
    server.respond = () => ({
      code: 200,
      body: {
        apiVersion: "golden.dev/v1alpha1",
        kind: "ImageBuildList",
        metadata: { resourceVersion: "4711", continue: "next" },
        items: [{ metadata: { name: "b1", namespace: "team-a" }, spec: {} }],
      },
    });
    const one = await client.imageBuilds.list("team-a", { labelSelector: "golden.dev/image=web", limit: 1 });
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/namespaces/team-a/imagebuilds");
    assert.equal(last().query.get("labelSelector"), "golden.dev/image=web");
    assert.equal(last().query.get("limit"), "1");
    assert.equal(one.resourceVersion, "4711");
    assert.equal(one.continue, "next");
    assert.equal(one.items[0]?.kind, "ImageBuild", "kind is filled in on list items");
    await client.imageBuilds.list(undefined, { fieldSelector: "spec.imageName=web" });
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/imagebuilds");
    assert.equal(last().query.get("fieldSelector"), "spec.imageName=web");
  });

  it("create posts to the object's namespace and fills in apiVersion and kind", async () => {
    const { apiVersion: _a, kind: _k, ...bare } = image({ name: "web", namespace: "team-a" });
    await client.images.create(bare);
    assert.equal(last().method, "POST");
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/namespaces/team-a/images");
    assert.deepEqual(last().body, image({ name: "web", namespace: "team-a" }));
    await assert.rejects(
      client.images.create({ ...bare, metadata: { name: "x" } }),
      /metadata.namespace is required/,
    );
  });

  it("patch and patchStatus send JSON merge patches", async () => {
    await client.images.patch("team-a", "web", {
      metadata: { labels: { tier: "web" } },
      spec: { rebuild: null },
    });
    assert.equal(last().method, "PATCH");
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/namespaces/team-a/images/web");
    assert.equal(last().contentType, "application/merge-patch+json");
    assert.deepEqual(last().body, { metadata: { labels: { tier: "web" } }, spec: { rebuild: null } });

    await client.imageBuilds.patchStatus("team-a", "b1", { status: { phase: "Building" } });
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/namespaces/team-a/imagebuilds/b1/status");
    assert.equal(last().contentType, "application/merge-patch+json");
    assert.deepEqual(last().body, { status: { phase: "Building" } });
  });

  it("patchStatusIfCurrent guards the status patch with the resourceVersion read", async () => {
    const build: ImageBuild = {
      metadata: { name: "b1", namespace: "team-a", resourceVersion: "7" },
      spec: {
        imageName: "web",
        imageGeneration: 1,
        trigger: "Created",
        image: image({ name: "web", namespace: "team-a" }).spec,
      },
    };
    const written = await client.imageBuilds.patchStatusIfCurrent(build, { phase: "Building" });
    assert.ok(written);
    assert.equal(last().method, "PATCH");
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/namespaces/team-a/imagebuilds/b1/status");
    assert.equal(last().contentType, "application/merge-patch+json");
    assert.deepEqual(last().body, { metadata: { resourceVersion: "7" }, status: { phase: "Building" } });
  });

  it("patchStatusIfCurrent: gone (404) or moved on (409) is undefined; other errors throw", async () => {
    const build: ImageBuild = {
      metadata: { name: "b1", namespace: "team-a", resourceVersion: "7" },
      spec: {
        imageName: "web",
        imageGeneration: 1,
        trigger: "Created",
        image: image({ name: "web", namespace: "team-a" }).spec,
      },
    };
    server.respond = () => status(409, "Conflict", "the object has been modified");
    assert.equal(await client.imageBuilds.patchStatusIfCurrent(build, { phase: "Failed" }), undefined);
    server.respond = () => status(404, "NotFound", 'imagebuilds.golden.dev "b1" not found');
    assert.equal(await client.imageBuilds.patchStatusIfCurrent(build, { phase: "Failed" }), undefined);
    server.respond = () => status(422, "Invalid", "spec: Invalid value");
    await assert.rejects(
      client.imageBuilds.patchStatusIfCurrent(build, { phase: "Failed" }),
      /Invalid value/,
    );
  });

  it("replaceStatus PUTs /status with the resourceVersion", async () => {
    const img = {
      ...image({ name: "web", namespace: "team-a" }),
      metadata: { name: "web", namespace: "team-a", resourceVersion: "42" },
    };
    await client.images.replaceStatus({ ...img, status: { phase: "Queued", message: "queued" } });
    assert.equal(last().method, "PUT");
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/namespaces/team-a/images/web/status");
    const body = last().body as Image;
    assert.equal(body.metadata?.resourceVersion, "42");
    assert.deepEqual(body.status, { phase: "Queued", message: "queued" });
  });

  it("replaceStatus surfaces a 409 as a conflict", async () => {
    server.respond = () => status(409, "Conflict", "the object has been modified; please apply your changes");
    await assert.rejects(
      client.images.replaceStatus(image({ name: "web", namespace: "team-a" })),
      (err: unknown) => isConflict(err),
    );
  });

  it("applyStatus server-side applies only the status, with force", async () => {
    const build: ImageBuild = {
      metadata: { name: "b1", namespace: "team-a", resourceVersion: "7", labels: { a: "b" } },
      spec: {
        imageName: "web",
        imageGeneration: 1,
        trigger: "Created",
        image: image({ name: "web", namespace: "team-a" }).spec,
      },
      status: { phase: "Succeeded" },
    };
    await client.imageBuilds.applyStatus(build, "golden-operator");
    const req = last();
    assert.equal(req.method, "PATCH");
    assert.equal(req.path, "/apis/golden.dev/v1alpha1/namespaces/team-a/imagebuilds/b1/status");
    assert.equal(req.contentType, "application/apply-patch+yaml");
    assert.equal(req.query.get("fieldManager"), "golden-operator");
    assert.equal(req.query.get("force"), "true");
    assert.deepEqual(req.body, {
      apiVersion: "golden.dev/v1alpha1",
      kind: "ImageBuild",
      metadata: { name: "b1", namespace: "team-a" },
      status: { phase: "Succeeded" },
    });
  });

  it("apply server-side applies the object", async () => {
    await client.images.apply(image({ name: "web", namespace: "team-a" }), "golden-test");
    assert.equal(last().contentType, "application/apply-patch+yaml");
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/namespaces/team-a/images/web");
    assert.equal(last().query.get("force"), "true");
  });

  it("delete sends propagation policy and preconditions, and tolerates 404", async () => {
    server.respond = () => ({ code: 200, body: { kind: "Status", status: "Success" } });
    const deleted = await client.images.delete("team-a", "web", {
      propagationPolicy: "Foreground",
      preconditionsUid: "uid-1",
    });
    assert.equal(deleted, true);
    assert.equal(last().method, "DELETE");
    assert.equal(last().path, "/apis/golden.dev/v1alpha1/namespaces/team-a/images/web");
    assert.deepEqual(last().body, { propagationPolicy: "Foreground", preconditions: { uid: "uid-1" } });
    server.respond = () => status(404, "NotFound", "not found");
    assert.equal(await client.images.delete("team-a", "web"), false);
    server.respond = () => status(409, "Conflict", "Precondition failed: UID in precondition: uid-1");
    await assert.rejects(
      client.images.delete("team-a", "web", { preconditionsUid: "uid-1" }),
      (err: unknown) => isConflict(err),
    );
  });

  it("accepts a caller-built CustomObjectsApi", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:1`, skipTLSVerify: true }],
      users: [{ name: "fake" }],
      contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
      currentContext: "fake",
    });
    const c = new GoldenClient(kc.makeApiClient(CustomObjectsApi));
    assert.equal(c.images.resource.plural, "images");
    assert.equal(c.imageBuilds.resource.kind, "ImageBuild");
  });
});
