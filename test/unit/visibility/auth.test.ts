import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1SubjectAccessReviewSpec } from "@kubernetes/client-node";
import { authenticateRequestHeader, parseRequestHeaderConfig } from "../../../src/visibility/authn.js";
import { DelegatingAuthorizer, type ResourceAttributes } from "../../../src/visibility/authz.js";
import { StatusError } from "../../../src/visibility/status.js";

const configMapData = {
  "requestheader-client-ca-file": "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n",
  "requestheader-allowed-names": '["front-proxy-client"]',
  "requestheader-username-headers": '["X-Remote-User"]',
  "requestheader-group-headers": '["X-Remote-Group"]',
  "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
};

describe("requestheader authentication", () => {
  const config = parseRequestHeaderConfig(configMapData);
  const trusted = { authorized: true, commonName: "front-proxy-client" };
  const headers = {
    "x-remote-user": ["alice"],
    "x-remote-group": ["team-a", "system:authenticated"],
    "x-remote-extra-scopes": ["view", "edit"],
    "x-remote-extra-acme.com%2fproject": ["p1"],
    "x-remote-extra-bad%zz": ["kept"],
  };

  it("reads the extension-apiserver-authentication ConfigMap", () => {
    assert.deepEqual(config?.allowedNames, ["front-proxy-client"]);
    assert.deepEqual(config?.extraHeaderPrefixes, ["X-Remote-Extra-"]);
    assert.equal(parseRequestHeaderConfig({}), undefined, "no front proxy configured");
    assert.throws(
      () =>
        parseRequestHeaderConfig({ ...configMapData, "requestheader-allowed-names": "front-proxy-client" }),
      /not a JSON list/,
    );
  });

  it("takes user, groups and extra from a trusted front proxy", () => {
    assert.deepEqual(authenticateRequestHeader(config, trusted, headers), {
      name: "alice",
      groups: ["team-a", "system:authenticated"],
      extra: { scopes: ["view", "edit"], "acme.com/project": ["p1"], "bad%zz": ["kept"] },
    });
  });

  it("ignores the headers without a certificate from the CA, or from a CN not allowed", () => {
    assert.equal(
      authenticateRequestHeader(config, { authorized: false, commonName: "front-proxy-client" }, headers),
      undefined,
    );
    assert.equal(
      authenticateRequestHeader(config, { authorized: true, commonName: "mallory" }, headers),
      undefined,
    );
    assert.equal(authenticateRequestHeader(undefined, trusted, headers), undefined);
    assert.equal(
      authenticateRequestHeader(config, trusted, { "x-remote-group": ["g"] }),
      undefined,
      "no user named",
    );
  });

  it("accepts any CN the CA signed when allowed-names is empty", () => {
    const anyName = parseRequestHeaderConfig({ ...configMapData, "requestheader-allowed-names": "[]" });
    assert.equal(
      authenticateRequestHeader(anyName, { authorized: true, commonName: "whoever" }, headers)?.name,
      "alice",
    );
  });
});

describe("delegating authorizer", () => {
  const alice = { name: "alice", groups: ["team-a"], extra: {} };
  const list: ResourceAttributes = {
    group: "visibility.golden.dev",
    version: "v1alpha1",
    resource: "pendingbuilds",
    verb: "list",
    namespace: "team-a",
  };

  function authorizer(allowed: (spec: V1SubjectAccessReviewSpec) => boolean) {
    const reviews: V1SubjectAccessReviewSpec[] = [];
    let now = 0;
    const a = new DelegatingAuthorizer({
      review: async (spec) => {
        reviews.push(spec);
        return { allowed: allowed(spec) };
      },
      now: () => now,
    });
    return { a, reviews, advance: (ms: number) => (now += ms) };
  }

  it("sends user, groups and resource attributes, and caches the answer for 10 s", async () => {
    const { a, reviews, advance } = authorizer(() => true);
    await a.authorize(alice, list);
    await a.authorize(alice, list);
    assert.equal(reviews.length, 1);
    assert.deepEqual(reviews[0], {
      user: "alice",
      groups: ["team-a"],
      resourceAttributes: { ...list },
    });
    await a.authorize(alice, { ...list, namespace: "team-b" });
    assert.equal(reviews.length, 2, "other attributes, another review");
    advance(10_000);
    await a.authorize(alice, list);
    assert.equal(reviews.length, 3, "expired after 10 s");
  });

  it("renews an answer in use in the second half of its life in the background, never using one past it", async () => {
    let allow = true;
    const { a, reviews, advance } = authorizer(() => allow);
    await a.authorize(alice, list);
    advance(4_000);
    await a.authorize(alice, list);
    assert.equal(reviews.length, 1, "6 s of 10 left: no renewal yet");
    advance(4_500);
    allow = false;
    // 1.5 s left: this request is answered from the cache, and a renewal goes out meanwhile.
    await a.authorize(alice, list);
    assert.equal(reviews.length, 2);
    await new Promise((r) => setImmediate(r));
    // The renewal said no: from now on, denied, though the old answer had 1.5 s left.
    await assert.rejects(
      a.authorize(alice, list),
      (err: unknown) => err instanceof StatusError && err.code === 403,
    );
    assert.equal(reviews.length, 2);
  });

  it("sends one review for requests that arrive while it is out", async () => {
    const reviews: V1SubjectAccessReviewSpec[] = [];
    let answer: (r: { allowed: boolean }) => void = () => {};
    const a = new DelegatingAuthorizer({
      review: (spec) => {
        reviews.push(spec);
        return new Promise((resolve) => {
          answer = resolve;
        });
      },
    });
    const pages = [a.authorize(alice, list), a.authorize(alice, list), a.authorize(alice, list)];
    answer({ allowed: true });
    await Promise.all(pages);
    assert.equal(reviews.length, 1);
  });

  it("uses no answer past its life: an expired one waits for a new review", async () => {
    let allow = true;
    const { a, reviews, advance } = authorizer(() => allow);
    await a.authorize(alice, list);
    advance(10_000);
    allow = false;
    await assert.rejects(
      a.authorize(alice, list),
      (err: unknown) => err instanceof StatusError && err.code === 403,
    );
    assert.equal(reviews.length, 2);
  });

  it("denies with the apiserver's Forbidden message, and caches denials too", async () => {
    const { a, reviews } = authorizer(() => false);
    for (let i = 0; i < 2; i++)
      await assert.rejects(a.authorize(alice, list), (err: unknown) => {
        assert.ok(err instanceof StatusError);
        assert.equal(err.code, 403);
        assert.equal(
          err.message,
          'pendingbuilds.visibility.golden.dev is forbidden: User "alice" cannot list resource "pendingbuilds" in API group "visibility.golden.dev" in the namespace "team-a"',
        );
        return true;
      });
    assert.equal(reviews.length, 1);
    await assert.rejects(
      a.authorize(alice, { ...list, verb: "get", name: "b1" }),
      /^Error: pendingbuilds.visibility.golden.dev "b1" is forbidden: User "alice" cannot get resource/,
    );
    await assert.rejects(
      a.authorize(alice, { ...list, namespace: undefined }),
      /cannot list resource "pendingbuilds" in API group "visibility.golden.dev" at the cluster scope$/,
    );
  });
});
