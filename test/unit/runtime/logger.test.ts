import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../../src/runtime/index.js";
import { captureLogs } from "./helpers.js";

describe("logger", () => {
  it("writes one JSON object per line with ts, level, logger, msg and fields", () => {
    const chunks: string[] = [];
    const log = createLogger({
      level: "info",
      name: "golden",
      stream: { write: (s: string) => chunks.push(s) },
      now: () => new Date("2026-01-02T03:04:05.678Z"),
    });
    log.info("hello", { image: "ns/a", n: 3 });
    assert.equal(chunks.length, 1);
    assert.ok(chunks[0]?.endsWith("\n"));
    assert.equal((chunks[0] ?? "").split("\n").length, 2);
    assert.deepEqual(JSON.parse(chunks[0] ?? ""), {
      ts: "2026-01-02T03:04:05.678Z",
      level: "info",
      logger: "golden",
      msg: "hello",
      image: "ns/a",
      n: 3,
    });
  });

  it("filters below the level", () => {
    const { lines, stream } = captureLogs();
    const log = createLogger({ level: "warn", stream });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    assert.deepEqual(
      lines.map((l) => l.level),
      ["warn", "error"],
    );
    assert.equal(log.isEnabled("info"), false);
    assert.equal(log.isEnabled("error"), true);
  });

  it("child loggers add context fields; call fields win", () => {
    const { lines, stream } = captureLogs();
    const log = createLogger({ level: "debug", stream })
      .child({ controller: "image" })
      .child({ image: "ns/x" });
    log.debug("reconciling", { generation: 4 });
    log.info("override", { image: "ns/y" });
    assert.equal(lines[0]?.controller, "image");
    assert.equal(lines[0]?.image, "ns/x");
    assert.equal(lines[0]?.generation, 4);
    assert.equal(lines[1]?.image, "ns/y");
  });

  it("serialises errors with message, stack, code and cause, even nested", () => {
    const { lines, stream } = captureLogs();
    const log = createLogger({ stream });
    const cause = new Error("root");
    const err = Object.assign(new Error("outer", { cause }), { code: 409, body: '{"reason":"Conflict"}' });
    log.error("failed", { err, nested: { e: new TypeError("t") } });
    const e = lines[0]?.err as Record<string, unknown>;
    assert.equal(e.message, "outer");
    assert.equal(e.name, "Error");
    assert.equal(e.code, 409);
    assert.match(String(e.stack), /outer/);
    assert.equal((e.cause as Record<string, unknown>).message, "root");
    assert.equal(e.body, '{"reason":"Conflict"}');
    const nested = lines[0]?.nested as { e: { name: string } };
    assert.equal(nested.e.name, "TypeError");
  });

  it("survives cycles and bigints", () => {
    const { lines, stream } = captureLogs();
    const log = createLogger({ stream });
    const a: Record<string, unknown> = { big: 10n };
    a.self = a;
    log.info("cyclic", { a });
    const logged = lines[0]?.a as Record<string, unknown>;
    assert.equal(logged.self, "[Circular]");
    assert.equal(logged.big, "10");
  });
});
