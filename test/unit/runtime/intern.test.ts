import assert from "node:assert/strict";
import { describe, it } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { intern, internStrings } from "../../../src/runtime/intern.js";

describe("string interning", () => {
  it("returns an equal string for any value, array-index-like ones included", () => {
    for (const s of ["", "golden", "golden.dev/v1alpha1", "1", "007", "__proto__", "a".repeat(5000)])
      assert.equal(intern(s), s);
  });

  it("interns every string value of a parsed object in place, keeping its shape and other values", () => {
    const text = JSON.stringify({
      metadata: { name: "web", namespace: "ns", labels: { team: "a" }, generation: 3 },
      spec: { formats: ["qcow2", "raw"], flag: true, none: null },
    });
    const a = JSON.parse(text);
    const b = JSON.parse(text);
    const same = internStrings(a);
    assert.equal(same, a, "in place");
    internStrings(b);
    assert.deepEqual(a, JSON.parse(text));
    assert.deepEqual(b, JSON.parse(text));
  });

  it("stores each distinct value once however many objects carry it", () => {
    // Heap of 2 000 objects holding a long value parsed afresh each time, with and without interning.
    const long = `oci://artifacts.example/images/${"x".repeat(400)}`;
    const make = (n: number, interned: boolean) =>
      Array.from({ length: n }, () => {
        const o = JSON.parse(JSON.stringify({ location: long }));
        return interned ? internStrings(o) : o;
      });
    // Equal strings compare equal whether shared or not: only the heap tells them apart.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const plain = make(2000, false);
    gc();
    const plainBytes = process.memoryUsage().heapUsed - before;
    const interned = make(2000, true);
    gc();
    const internedBytes = process.memoryUsage().heapUsed - before - plainBytes;
    assert.equal(plain.length + interned.length, 4000);
    assert.ok(internedBytes < plainBytes / 4, `interned ${internedBytes} B, plain ${plainBytes} B`);
  });

  it("leaves frozen (shared) objects and non-plain objects alone", () => {
    const shared = Object.freeze({ phase: "Running" });
    const when = new Date(0);
    const o = { status: shared, when, list: [shared] };
    assert.doesNotThrow(() => internStrings(o));
    assert.equal(o.status, shared);
    assert.equal(o.when, when);
    assert.equal(internStrings("plain"), "plain");
    assert.equal(internStrings(null), null);
  });
});
