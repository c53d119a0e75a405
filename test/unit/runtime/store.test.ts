import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { diffRelist, objectKey, Store, splitKey } from "../../../src/runtime/index.js";

function obj(name: string, rv: string, labels: Record<string, string> = {}, ns = "ns"): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: ns, resourceVersion: rv, labels },
  };
}

describe("diffRelist", () => {
  it("reports added, updated (rv changed), deleted; keeps unchanged instances", () => {
    const a1 = obj("a", "1");
    const b1 = obj("b", "1");
    const c1 = obj("c", "1");
    const current = new Map([
      ["ns/a", a1],
      ["ns/b", b1],
      ["ns/c", c1],
    ]);
    const a1again = obj("a", "1");
    const b2 = obj("b", "2");
    const d1 = obj("d", "1");
    const diff = diffRelist(current, [a1again, b2, d1]);
    assert.deepEqual(
      diff.added.map((o) => o.metadata?.name),
      ["d"],
    );
    assert.deepEqual(
      diff.updated.map((u) => [u.obj.metadata?.resourceVersion, u.old.metadata?.resourceVersion]),
      [["2", "1"]],
    );
    assert.deepEqual(
      diff.deleted.map((o) => o.metadata?.name),
      ["c"],
    );
    assert.equal(diff.next.get("ns/a"), a1, "unchanged object keeps its cached instance");
    assert.equal(diff.next.get("ns/b"), b2);
    assert.deepEqual([...diff.next.keys()].sort(), ["ns/a", "ns/b", "ns/d"]);
  });

  it("empty list deletes everything", () => {
    const diff = diffRelist(new Map([["ns/a", obj("a", "1")]]), []);
    assert.equal(diff.deleted.length, 1);
    assert.equal(diff.next.size, 0);
  });
});

describe("Store", () => {
  const byApp = { app: (o: KubernetesObject) => (o.metadata?.labels?.app ? [o.metadata.labels.app] : []) };

  it("maintains indexes across upsert, remove and replace", () => {
    const s = new Store(byApp);
    s.upsert(obj("a", "1", { app: "x" }));
    s.upsert(obj("b", "1", { app: "x" }));
    s.upsert(obj("c", "1", { app: "y" }));
    assert.deepEqual(
      s
        .byIndex("app", "x")
        .map((o) => o.metadata?.name)
        .sort(),
      ["a", "b"],
    );
    const old = s.upsert(obj("a", "2", { app: "y" }));
    assert.equal(old?.metadata?.resourceVersion, "1");
    assert.deepEqual(
      s.byIndex("app", "x").map((o) => o.metadata?.name),
      ["b"],
    );
    assert.deepEqual(
      s
        .byIndex("app", "y")
        .map((o) => o.metadata?.name)
        .sort(),
      ["a", "c"],
    );
    s.remove("ns/c");
    assert.deepEqual(
      s.byIndex("app", "y").map((o) => o.metadata?.name),
      ["a"],
    );
    s.replace([obj("z", "1", { app: "x" })]);
    assert.deepEqual(s.byIndex("app", "y"), []);
    assert.deepEqual(
      s.byIndex("app", "x").map((o) => o.metadata?.name),
      ["z"],
    );
    assert.throws(() => s.byIndex("nope", "x"));
  });

  it("answers byIndex as a scan of every object would, through any history of changes", () => {
    // Values filed under one key and under many, objects filed twice under one value, moves,
    // removals and relists, checked against a plain filter after every step.
    const tags = (o: KubernetesObject) => (o.metadata?.labels?.tags ?? "").split(",").filter(Boolean);
    const s = new Store({ tags });
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    const values = ["p", "q", "r", "s"];
    for (let step = 0; step < 500; step++) {
      const name = `o${rand(8)}`;
      const r = rand(10);
      if (r < 6) {
        const picked = Array.from({ length: rand(3) }, () => values[rand(values.length)]);
        s.upsert(obj(name, String(step), { tags: picked.join(",") }));
      } else if (r < 9) s.remove(`ns/${name}`);
      else s.replace(s.list().filter(() => rand(2) === 0));
      for (const v of values) {
        const want = s
          .list()
          .filter((o) => tags(o).includes(v))
          .map((o) => o.metadata?.name)
          .sort();
        const got = s
          .byIndex("tags", v)
          .map((o) => o.metadata?.name)
          .sort();
        assert.deepEqual(got, want, `step ${step}, value ${v}`);
      }
    }
  });

  it("keys are ns/name, or name for cluster-scoped objects", () => {
    assert.equal(objectKey(obj("a", "1")), "ns/a");
    assert.equal(objectKey({ metadata: { name: "node1" } }), "node1");
    assert.deepEqual(splitKey("ns/a"), { namespace: "ns", name: "a" });
    assert.deepEqual(splitKey("node1"), { namespace: undefined, name: "node1" });
  });
});
