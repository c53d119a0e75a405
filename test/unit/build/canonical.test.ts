import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalJson } from "../../../src/build/canonical.js";

describe("canonicalJson", () => {
  it("serialises primitives as JSON does", () => {
    for (const v of [null, true, false, 0, -1.5, 1e21, "", "text", 'quote " and \\ and \n', "ünïcødé"]) {
      assert.equal(canonicalJson(v), JSON.stringify(v));
    }
  });

  it("sorts object keys", () => {
    assert.equal(canonicalJson({ b: 1, a: 2, c: 3 }), '{"a":2,"b":1,"c":3}');
  });

  it("sorts keys by code unit, not locale", () => {
    assert.equal(canonicalJson({ b: 1, B: 2, a10: 3, a2: 4, _: 5 }), '{"B":2,"_":5,"a10":3,"a2":4,"b":1}');
  });

  it("sorts keys at every depth, including objects inside arrays", () => {
    const value = { z: { y: { x: 1, w: 2 }, v: [{ b: 1, a: 2 }, { d: [{ f: 1, e: 2 }] }] }, a: null };
    assert.equal(
      canonicalJson(value),
      '{"a":null,"z":{"v":[{"a":2,"b":1},{"d":[{"e":2,"f":1}]}],"y":{"w":2,"x":1}}}',
    );
  });

  it("keeps array order", () => {
    assert.equal(canonicalJson([3, 1, 2]), "[3,1,2]");
    assert.equal(canonicalJson(["b", "a"]), '["b","a"]');
    assert.notEqual(canonicalJson({ p: ["a", "b"] }), canonicalJson({ p: ["b", "a"] }));
  });

  it("drops undefined object members", () => {
    assert.equal(canonicalJson({ a: 1, b: undefined, c: { d: undefined } }), '{"a":1,"c":{}}');
    assert.equal(canonicalJson({ a: 1, b: undefined }), canonicalJson({ a: 1 }));
  });

  it("serialises empty containers", () => {
    assert.equal(canonicalJson({}), "{}");
    assert.equal(canonicalJson([]), "[]");
    assert.equal(canonicalJson({ a: [], b: {} }), '{"a":[],"b":{}}');
  });

  it("equal values serialise equally whatever the key insertion order", () => {
    const a = { base: { os: "debian", release: "12" }, list: [{ k: 1, j: 2 }], n: 1 };
    const b = { n: 1, list: [{ j: 2, k: 1 }], base: { release: "12", os: "debian" } };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.notEqual(JSON.stringify(a), JSON.stringify(b), "the fixture really differs in key order");
  });

  it("different values serialise differently", () => {
    assert.notEqual(canonicalJson({ a: 1 }), canonicalJson({ a: "1" }));
    assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [1, 2, 3] }));
    assert.notEqual(canonicalJson({ a: null }), canonicalJson({}));
  });

  it("produces valid JSON that parses back to the same value", () => {
    const value = {
      spec: { formats: ["qcow2", "raw"], base: { os: "ubuntu", release: "24.04" }, n: 3, flag: false },
      nested: [[1, [2, { z: "s", a: null }]]],
    };
    const text = canonicalJson(value);
    assert.deepEqual(JSON.parse(text), value);
  });

  it("writes undefined array items as null, like JSON.stringify, so the output stays JSON", () => {
    const value = [1, undefined, 3];
    const text = canonicalJson(value);
    assert.equal(text, JSON.stringify(value)); // "[1,null,3]"
    assert.doesNotThrow(() => JSON.parse(text));
    assert.notEqual(canonicalJson([undefined]), canonicalJson([]));
  });
});
