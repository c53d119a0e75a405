import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChannelMove, ChannelStatus, ImageChannel } from "../../../src/api/v1alpha1/index.js";
import {
  type ChannelsInput,
  fallback,
  HISTORY_LIMIT,
  parseRequest,
  reconcileChannels,
  type VersionFacts,
  versionStack,
} from "../../../src/versions/channels.js";

const T0 = Date.parse("2026-12-01T00:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000);
const good = (...vs: string[]): VersionFacts[] => vs.map((version) => ({ version, revoked: false }));
const DEV: ImageChannel = { name: "dev", promotion: "Auto" };
const PROD: ImageChannel = { name: "prod", promotion: "Manual" };

function run(o: Partial<ChannelsInput>) {
  return reconcileChannels({ spec: [DEV, PROD], previous: [], versions: [], requests: {}, now: at(0), ...o });
}
const find = (cs: ChannelStatus[], name: string) => cs.find((c) => c.name === name);

describe("channels", () => {
  it("an Auto channel follows every new version; a Manual one stays empty", () => {
    let r = run({ versions: good("1.0.0") });
    assert.equal(find(r.channels, "dev")?.version, "1.0.0");
    assert.equal(find(r.channels, "prod")?.version, undefined);
    assert.deepEqual(
      r.events.map((e) => e.reason),
      ["ChannelFollowed"],
    );
    r = run({ previous: r.channels, versions: good("1.0.0", "1.1.0"), now: at(5) });
    const dev = find(r.channels, "dev");
    assert.equal(dev?.version, "1.1.0");
    assert.deepEqual(
      dev?.history?.map((m) => [m.version, m.action]),
      [
        ["1.0.0", "Followed"],
        ["1.1.0", "Followed"],
      ],
    );
    assert.equal(dev?.since, at(5).toISOString());
    // Nothing new: no move, no event.
    const again = run({ previous: r.channels, versions: good("1.0.0", "1.1.0"), now: at(9) });
    assert.deepEqual(again.channels, r.channels);
    assert.deepEqual(again.events, []);
  });

  it("promotes by request once, and refuses unknown or revoked versions", () => {
    const versions = [
      ...good("1.0.0", "1.1.0"),
      { version: "1.2.0", revoked: true, revocationReason: "CVE" },
    ];
    let r = run({ versions, requests: { prod: "promote 1.0.0 a" } });
    assert.equal(find(r.channels, "prod")?.version, "1.0.0");
    assert.equal(find(r.channels, "prod")?.lastRequest, "promote 1.0.0 a");
    assert.ok(r.events.some((e) => e.reason === "ChannelPromoted" && e.note.includes("1.0.0")));
    // The same request again (the annotation stays) does nothing.
    const same = run({ previous: r.channels, versions, requests: { prod: "promote 1.0.0 a" } });
    assert.deepEqual(same.events, []);
    r = run({ previous: r.channels, versions, requests: { prod: "promote 9.9.9 b" } });
    assert.equal(find(r.channels, "prod")?.version, "1.0.0");
    assert.match(find(r.channels, "prod")?.message ?? "", /no such version/);
    assert.deepEqual(
      r.events.map((e) => [e.type, e.reason]),
      [["Warning", "PromotionRefused"]],
    );
    r = run({ previous: r.channels, versions, requests: { prod: "promote 1.2.0 c" } });
    assert.match(find(r.channels, "prod")?.message ?? "", /revoked \(CVE\)/);
    assert.equal(find(r.channels, "prod")?.version, "1.0.0");
  });

  it("rolls back to the version before, and further back on a second rollback, never bouncing", () => {
    const versions = good("1.0.0", "1.1.0", "1.2.0");
    let prev = run({ versions, requests: { prod: "promote 1.0.0 a" } }).channels;
    prev = run({ previous: prev, versions, requests: { prod: "promote 1.1.0 b" } }).channels;
    prev = run({ previous: prev, versions, requests: { prod: "promote 1.2.0 c" } }).channels;
    let r = run({ previous: prev, versions, requests: { prod: "rollback d" } });
    assert.equal(find(r.channels, "prod")?.version, "1.1.0");
    assert.ok(r.events.some((e) => e.reason === "ChannelRolledBack"));
    r = run({ previous: r.channels, versions, requests: { prod: "rollback e" } });
    assert.equal(find(r.channels, "prod")?.version, "1.0.0");
    r = run({ previous: r.channels, versions, requests: { prod: "rollback f" } });
    assert.equal(find(r.channels, "prod")?.version, "1.0.0");
    assert.deepEqual(
      r.events.map((e) => e.reason),
      ["RollbackRefused"],
    );
  });

  it("a rolled-back Auto channel does not jump forward again until a newer version", () => {
    const versions = good("1.0.0", "1.1.0");
    let r = run({ versions: good("1.0.0") });
    r = run({ previous: r.channels, versions });
    r = run({ previous: r.channels, versions, requests: { dev: "rollback x" } });
    assert.equal(find(r.channels, "dev")?.version, "1.0.0");
    r = run({ previous: r.channels, versions, requests: { dev: "rollback x" } });
    assert.equal(find(r.channels, "dev")?.version, "1.0.0");
    r = run({ previous: r.channels, versions: good("1.0.0", "1.1.0", "1.2.0") });
    assert.equal(find(r.channels, "dev")?.version, "1.2.0");
  });

  it("a revoked version leaves every channel, which falls back to the previous good version", () => {
    const versions = good("1.0.0", "1.1.0", "1.2.0");
    let prev = run({ versions: good("1.0.0"), requests: { prod: "promote 1.0.0 a" } }).channels;
    prev = run({
      previous: prev,
      versions: good("1.0.0", "1.1.0"),
      requests: { prod: "promote 1.1.0 b" },
    }).channels;
    prev = run({ previous: prev, versions }).channels;
    assert.equal(find(prev, "dev")?.version, "1.2.0");
    const revoked = versions.map((v) =>
      v.version === "1.1.0" || v.version === "1.2.0" ? { ...v, revoked: true, revocationReason: "bad" } : v,
    );
    const r = run({ previous: prev, versions: revoked, now: at(60) });
    assert.equal(find(r.channels, "prod")?.version, "1.0.0");
    assert.equal(find(r.channels, "dev")?.version, "1.0.0");
    assert.deepEqual(
      r.events.map((e) => e.reason),
      ["ChannelRevoked", "ChannelRevoked"],
    );
    assert.equal(find(r.channels, "prod")?.history?.at(-1)?.action, "Revoked");
    assert.match(find(r.channels, "prod")?.message ?? "", /1\.1\.0 revoked \(bad\); back to 1\.0\.0/);
    // Nothing to fall back to: the channel empties.
    const all = versions.map((v) => ({ ...v, revoked: true }));
    const empty = run({ previous: r.channels, versions: all, now: at(70) });
    assert.equal(find(empty.channels, "prod")?.version, undefined);
  });

  it("promotes by soak: the newest version that spent its time in the source without revocation", () => {
    const spec: ImageChannel[] = [
      DEV,
      { name: "prod", promotion: "Manual", soak: { channel: "dev", seconds: 60 } },
    ];
    let r = run({ spec, versions: good("1.0.0"), now: at(0) });
    assert.equal(find(r.channels, "prod")?.version, undefined);
    assert.equal(r.wakeAfterMs, 60_000);
    r = run({ spec, previous: r.channels, versions: good("1.0.0"), now: at(59) });
    assert.equal(find(r.channels, "prod")?.version, undefined);
    assert.equal(r.wakeAfterMs, 1_000);
    r = run({ spec, previous: r.channels, versions: good("1.0.0"), now: at(60) });
    assert.equal(find(r.channels, "prod")?.version, "1.0.0");
    assert.equal(find(r.channels, "prod")?.history?.at(-1)?.action, "Soaked");
    // 1.1.0 stays 10 s in dev before 1.2.0 replaces it: it never soaks; 1.2.0 does.
    r = run({ spec, previous: r.channels, versions: good("1.0.0", "1.1.0"), now: at(100) });
    r = run({ spec, previous: r.channels, versions: good("1.0.0", "1.1.0", "1.2.0"), now: at(110) });
    r = run({ spec, previous: r.channels, versions: good("1.0.0", "1.1.0", "1.2.0"), now: at(200) });
    assert.equal(find(r.channels, "prod")?.version, "1.2.0");
    // A revoked version never soaks, however long it was in dev; the version dev falls back to
    // soaks from the time it came back.
    const revoked = [...good("1.0.0"), { version: "1.1.0", revoked: true }];
    let s = run({ spec, versions: good("1.0.0"), now: at(0) });
    s = run({ spec, previous: s.channels, versions: good("1.0.0", "1.1.0"), now: at(10) });
    s = run({ spec, previous: s.channels, versions: revoked, now: at(500) });
    assert.equal(find(s.channels, "dev")?.version, "1.0.0");
    assert.equal(find(s.channels, "prod")?.version, undefined);
    assert.equal(s.wakeAfterMs, 60_000);
    s = run({ spec, previous: s.channels, versions: revoked, now: at(560) });
    assert.equal(find(s.channels, "prod")?.version, "1.0.0");
  });

  it("keeps the newest history entries only and drops channels no longer in spec", () => {
    let prev: ChannelStatus[] = [];
    const versions: VersionFacts[] = [];
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) {
      versions.push({ version: `1.${i}.0`, revoked: false });
      prev = run({ previous: prev, versions }).channels;
    }
    assert.equal(find(prev, "dev")?.history?.length, HISTORY_LIMIT);
    assert.equal(find(prev, "dev")?.history?.at(-1)?.version, `1.${HISTORY_LIMIT + 4}.0`);
    assert.deepEqual(
      run({ spec: [PROD], previous: prev, versions }).channels.map((c) => c.name),
      ["prod"],
    );
  });

  it("parses requests and refuses malformed ones", () => {
    assert.deepEqual(parseRequest("promote 1.2.0 17330"), { action: "promote", version: "1.2.0" });
    assert.deepEqual(parseRequest("rollback 17330"), { action: "rollback" });
    assert.equal(parseRequest("promote 1.2.0"), undefined);
    const r = run({ versions: good("1.0.0"), requests: { prod: "jump" } });
    assert.deepEqual(
      r.events.map((e) => e.reason),
      ["ChannelFollowed", "ChannelRequestRefused"],
    );
    assert.match(find(r.channels, "prod")?.message ?? "", /not understood/);
    // A request too long for status is remembered by its digest, and handled once.
    const long = `promote 1.0.0 ${"x".repeat(5000)}`;
    const first = run({ versions: good("1.0.0"), requests: { prod: long } });
    assert.equal(find(first.channels, "prod")?.version, "1.0.0");
    assert.match(find(first.channels, "prod")?.lastRequest ?? "", /^sha256:[a-f0-9]{64}$/);
    const again = run({ previous: first.channels, versions: good("1.0.0"), requests: { prod: long } });
    assert.deepEqual(again.events, []);
  });

  it("replays history as a stack", () => {
    const m = (version: string | undefined, action: ChannelMove["action"]): ChannelMove => ({
      action,
      time: at(0).toISOString(),
      ...(version ? { version } : {}),
    });
    const h = [
      m("1", "Promoted"),
      m("2", "Promoted"),
      m("3", "Promoted"),
      m("2", "RolledBack"),
      m("4", "Promoted"),
    ];
    assert.deepEqual(versionStack(h), ["1", "2", "4"]);
    assert.equal(
      fallback(h, () => true, "4"),
      "2",
    );
    assert.equal(
      fallback(h, (v) => v !== "2", "4"),
      "1",
    );
    assert.deepEqual(versionStack([...h, m(undefined, "Revoked")]), []);
  });
});
