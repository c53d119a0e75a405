import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Paginator } from "../../../src/visibility/pagination.js";
import { StatusError } from "../../../src/visibility/status.js";

const items = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `b${from + i}`);

function rejects(fn: () => unknown, code: number, reason: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, code);
    assert.equal(err.reason, reason);
    assert.match(err.message, message);
    return true;
  });
}

describe("Paginator", () => {
  it("pages through one snapshot even while the source changes", () => {
    let now = 0;
    const p = new Paginator<string>((s) => s, { now: () => now });
    let source = items(5);
    const take = () => ({ resourceVersion: "7", items: source });
    const first = p.page({ key: "q", limit: 2 }, take);
    assert.deepEqual(first.items, ["b1", "b2"]);
    assert.equal(first.remainingItemCount, 3);
    assert.equal(first.resourceVersion, "7");
    source = items(5, 100); // The queue moved on; the list continues from its snapshot.
    now = 30_000;
    const second = p.page({ key: "q", limit: 2, continueToken: first.continueToken }, take);
    assert.deepEqual(second.items, ["b3", "b4"]);
    const last = p.page({ key: "q", limit: 2, continueToken: second.continueToken }, take);
    assert.deepEqual(last.items, ["b5"]);
    assert.equal(last.continueToken, undefined);
    assert.equal(last.remainingItemCount, undefined);
  });

  it("keeps no snapshot for a list that fits in one page", () => {
    const p = new Paginator<string>((s) => s);
    const page = p.page({ key: "q", limit: 10 }, () => ({ resourceVersion: "1", items: items(3) }));
    assert.equal(page.continueToken, undefined);
    assert.equal(p.size, 0);
    assert.deepEqual(p.page({ key: "q" }, () => ({ resourceVersion: "1", items: items(3) })).items, items(3));
  });

  it("answers a token older than the snapshot lifetime 410 Expired", () => {
    let now = 0;
    const p = new Paginator<string>((s) => s, { ttlMs: 60_000, now: () => now });
    const take = () => ({ resourceVersion: "1", items: items(4) });
    const first = p.page({ key: "q", limit: 2 }, take);
    now = 60_001;
    rejects(
      () => p.page({ key: "q", limit: 2, continueToken: first.continueToken }, take),
      410,
      "Expired",
      /too old/,
    );
    assert.equal(p.size, 0, "the expired snapshot is dropped");
  });

  it("refuses malformed tokens and tokens of another query with 400", () => {
    const p = new Paginator<string>((s) => s);
    const take = () => ({ resourceVersion: "1", items: items(4) });
    rejects(
      () => p.page({ key: "q", continueToken: "%%%" }, take),
      400,
      "BadRequest",
      /continue key is not valid/,
    );
    rejects(
      () => p.page({ key: "q", continueToken: Buffer.from("{}").toString("base64url") }, take),
      400,
      "BadRequest",
      /not a token this server issued/,
    );
    const first = p.page({ key: "q", limit: 1 }, take);
    rejects(
      () => p.page({ key: "other", continueToken: first.continueToken }, take),
      400,
      "BadRequest",
      /different list request/,
    );
    rejects(() => p.page({ key: "q", limit: -1 }, take), 400, "BadRequest", /limit/);
  });

  it("continues a token another replica issued after the last item returned", () => {
    const issuer = new Paginator<string>((s) => s);
    const other = new Paginator<string>((s) => s);
    const first = issuer.page({ key: "q", limit: 2 }, () => ({ resourceVersion: "1", items: items(5) }));
    // b1 was admitted meanwhile: the other replica's view starts at b2.
    const next = other.page({ key: "q", limit: 2, continueToken: first.continueToken }, () => ({
      resourceVersion: "2",
      items: items(4, 2),
    }));
    assert.deepEqual(next.items, ["b3", "b4"]);
    // The last item the client has is gone from that view: no consistent way on.
    rejects(
      () =>
        other.page({ key: "q", limit: 2, continueToken: first.continueToken }, () => ({
          resourceVersion: "3",
          items: items(3, 3),
        })),
      410,
      "Expired",
      /too old/,
    );
  });

  it("walks 10 000 items in pages of 500, each exactly once, from one snapshot", () => {
    const p = new Paginator<string>((s) => s);
    let takes = 0;
    const take = () => {
      takes++;
      return { resourceVersion: "1", items: items(10_000) };
    };
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = p.page({ key: "q", limit: 500, ...(token ? { continueToken: token } : {}) }, take);
      seen.push(...page.items);
      token = page.continueToken;
    } while (token);
    assert.deepEqual(seen, items(10_000));
    assert.equal(takes, 1, "the list was computed once");
  });

  it("keeps at most maxSnapshots, dropping the oldest", () => {
    const p = new Paginator<string>((s) => s, { maxSnapshots: 2 });
    const take = () => ({ resourceVersion: "1", items: items(3) });
    const tokens = [1, 2, 3].map(() => p.page({ key: "q", limit: 1 }, take).continueToken);
    assert.equal(p.size, 2);
    // The evicted one still continues, from a fresh view, after its last item.
    assert.deepEqual(p.page({ key: "q", limit: 1, continueToken: tokens[0] }, take).items, ["b2"]);
  });
});
