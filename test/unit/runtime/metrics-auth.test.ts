// metricsAuth: bearer token → TokenReview → SubjectAccessReview for get /metrics, cached per token.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { metricsAuth } from "../../../src/runtime/metrics-auth.js";

function harness(users: Record<string, string>, allowed: string[]) {
  const calls = { token: 0, access: [] as string[] };
  let now = 0;
  const auth = metricsAuth({
    tokenReview: async (token) => {
      calls.token++;
      const name = users[token];
      return name ? { name, groups: [] } : undefined;
    },
    accessReview: async (user, path, verb) => {
      calls.access.push(`${user.name} ${verb} ${path}`);
      return allowed.includes(user.name) ? { allowed: true } : { allowed: false, reason: "no RBAC" };
    },
    ttlMs: 1000,
    now: () => now,
  });
  const tick = (ms: number) => {
    now += ms;
  };
  return { auth, calls, tick };
}

describe("metricsAuth", () => {
  it("wants a bearer token (401), one that authenticates (401), and a user allowed get /metrics (403)", async () => {
    const h = harness({ t1: "prometheus", t2: "alice" }, ["prometheus"]);
    assert.deepEqual(await h.auth(undefined), {
      ok: false,
      status: 401,
      message: "/metrics needs a bearer token (Authorization: Bearer …)",
    });
    assert.equal((await h.auth("Basic dXNlcg==")).ok, false);
    const bad = await h.auth("Bearer nope");
    assert.equal(bad.ok === false && bad.status, 401);
    const alice = await h.auth("Bearer t2");
    assert.equal(alice.ok === false && alice.status, 403);
    assert.match(alice.ok ? "" : alice.message, /user "alice" may not get \/metrics: no RBAC/);
    assert.deepEqual(await h.auth("Bearer t1"), { ok: true });
    assert.deepEqual(h.calls.access, ["alice get /metrics", "prometheus get /metrics"]);
  });

  it("caches each token's verdict for the TTL, then asks again", async () => {
    const h = harness({ t1: "prometheus" }, ["prometheus"]);
    await h.auth("Bearer t1");
    await h.auth("Bearer t1");
    assert.equal(h.calls.token, 1);
    h.tick(1001);
    await h.auth("Bearer t1");
    assert.equal(h.calls.token, 2);
  });
});
