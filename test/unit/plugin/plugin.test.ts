// The plugin's command line and output, without a cluster: arguments, usage errors and their exit
// codes, tables. Its commands against the API are in test/integration/versions.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "../../../src/plugin/args.js";
import { EXIT, PluginError } from "../../../src/plugin/errors.js";
import { main } from "../../../src/plugin/main.js";
import { age, structured, table, until } from "../../../src/plugin/output.js";

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("kubectl golden's command line", () => {
  it("takes kubectl's flags anywhere on the line", () => {
    const a = parse(["promote", "-n", "team-a", "web", "prod", "--context", "kind", "1.2.0", "-o", "yaml"]);
    assert.equal(a.command, "promote");
    assert.deepEqual(a.positionals, ["web", "prod", "1.2.0"]);
    assert.equal(a.namespace, "team-a");
    assert.equal(a.context, "kind");
    assert.equal(a.output, "yaml");
    assert.equal(a.wait, true);
    assert.equal(a.timeoutMs, 30_000);
    const b = parse(["queue", "-A", "--kubeconfig", "/tmp/k", "--no-wait", "--timeout", "5"]);
    assert.equal(b.allNamespaces, true);
    assert.equal(b.kubeconfig, "/tmp/k");
    assert.equal(b.wait, false);
    assert.equal(b.timeoutMs, 5_000);
  });

  it("refuses bad usage with exit code 2 and says what is wrong", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["nonsense"],
        /unknown command "nonsense"; commands: versions, diff, promote, rollback, revoke, rebuild, queue/,
      ],
      [["promote", "web", "prod"], /usage: kubectl golden promote IMAGE CHANNEL VERSION/],
      [["versions"], /usage: kubectl golden versions IMAGE/],
      [["versions", "web", "-o", "wide"], /--output wide: want json or yaml/],
      [["versions", "web", "--frobnicate"], /Unknown option '--frobnicate'/],
      [["rollback", "web", "prod", "--timeout", "soon"], /--timeout soon/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      assert.equal(r.code, EXIT.usage, argv.join(" "));
      assert.match(r.err, message);
    }
    const none = await run();
    assert.equal(none.code, EXIT.usage);
    assert.match(none.out, /Usage:/);
  });

  it("prints help with exit code 0", async () => {
    const r = await run("--help");
    assert.equal(r.code, 0);
    assert.match(r.out, /kubectl golden diff IMAGE VERSION_A VERSION_B/);
    assert.match(
      r.out,
      /Exit codes: 0 done, 1 failed or refused, 2 bad usage, 3 no such Image, version or channel/,
    );
  });

  it("fails with exit code 1 and a clear message when there is no kubeconfig", async () => {
    const r = await run("versions", "web", "--kubeconfig", "/nonexistent/kubeconfig");
    assert.equal(r.code, EXIT.failed);
    assert.match(r.err, /^error: cannot load kubeconfig \/nonexistent\/kubeconfig/);
  });

  it("keeps its exit codes apart", () => {
    assert.deepEqual(new Set(Object.values(EXIT)).size, 4);
    assert.equal(new PluginError("x").exitCode, EXIT.failed);
  });
});

describe("kubectl golden's output", () => {
  it("pads columns like kubectl and trims line ends", () => {
    assert.equal(
      table(
        ["VERSION", "CHANNELS", "AGE"],
        [
          ["1.10.0", "dev,prod", "5s"],
          ["1.9.0", "-", "12m"],
        ],
      ),
      ["VERSION   CHANNELS   AGE", "1.10.0    dev,prod   5s", "1.9.0     -          12m"].join("\n"),
    );
  });

  it("gives ages as kubectl does", () => {
    const now = new Date("2026-12-01T12:00:00Z");
    const ago = (s: number) => new Date(now.getTime() - s * 1000);
    assert.deepEqual(
      [age(ago(45), now), age(ago(600), now), age(ago(3 * 3600), now), age(ago(5 * 86400), now)],
      ["45s", "10m", "3h", "5d"],
    );
    assert.equal(age(undefined, now), "<unknown>");
  });

  it("gives an estimated start as a time from now", () => {
    const now = new Date("2026-12-01T12:00:00Z");
    const inS = (s: number) => new Date(now.getTime() + s * 1000).toISOString();
    assert.deepEqual(
      [
        until(inS(45), now),
        until(inS(600), now),
        until(inS(-5), now),
        until(undefined, now),
        until("soon", now),
      ],
      ["in 45s", "in 10m", "now", "-", "-"],
    );
  });

  it("writes JSON and YAML for scripts", () => {
    assert.equal(structured({ a: [1] }, "json"), '{\n  "a": [\n    1\n  ]\n}');
    assert.equal(structured({ a: [1] }, "yaml"), "a:\n  - 1");
  });
});
