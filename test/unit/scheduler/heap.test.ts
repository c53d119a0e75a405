import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IndexedHeap } from "../../../src/scheduler/heap.js";
import { lcg } from "./fixtures.js";

interface Item {
  id: number;
  key: number;
}

const smallestKey = (a: Item, b: Item) => a.key < b.key || (a.key === b.key && a.id < b.id);

function drain(heap: IndexedHeap<Item>): number[] {
  const out: number[] = [];
  for (let item = heap.pop(); item; item = heap.pop()) out.push(item.id);
  return out;
}

describe("IndexedHeap", () => {
  it("pops in order, and is empty after", () => {
    const heap = new IndexedHeap(smallestKey);
    for (const [id, key] of [5, 1, 4, 1, 3].entries()) heap.push({ id, key });
    assert.equal(heap.size, 5);
    assert.equal(heap.peek()?.id, 1);
    assert.deepEqual(drain(heap), [1, 3, 4, 2, 0]);
    assert.equal(heap.pop(), undefined);
    assert.equal(heap.size, 0);
  });

  it("refuses an item twice, removes by identity and re-places an item whose key changed", () => {
    const heap = new IndexedHeap(smallestKey);
    const items = [0, 1, 2, 3].map((id) => ({ id, key: id * 10 }));
    for (const item of items) heap.push(item);
    assert.throws(() => heap.push(items[0] as Item), /already present/);
    assert.equal(heap.remove(items[1] as Item), true);
    assert.equal(heap.remove(items[1] as Item), false);
    assert.equal(heap.has(items[1] as Item), false);
    (items[3] as Item).key = -1;
    heap.update(items[3] as Item);
    assert.deepEqual(drain(heap), [3, 0, 2]);
  });

  it("matches a sorted list over random pushes, removals and key changes", () => {
    const rand = lcg(7);
    for (let round = 0; round < 50; round++) {
      const heap = new IndexedHeap(smallestKey);
      const live = new Set<Item>();
      for (let step = 0; step < 200; step++) {
        const r = rand();
        const some = [...live][Math.floor(rand() * live.size)];
        if (r < 0.5 || !some) {
          const item = { id: round * 1000 + step, key: Math.floor(rand() * 50) };
          heap.push(item);
          live.add(item);
        } else if (r < 0.7) {
          heap.remove(some);
          live.delete(some);
        } else if (r < 0.9) {
          some.key = Math.floor(rand() * 50);
          heap.update(some);
        } else {
          const top = heap.pop();
          assert.ok(top);
          live.delete(top);
        }
        const expected = [...live].sort((a, b) => (smallestKey(a, b) ? -1 : 1))[0];
        assert.equal(heap.peek(), expected);
        assert.equal(heap.size, live.size);
      }
      const sorted = [...live].sort((a, b) => (smallestKey(a, b) ? -1 : 1)).map((i) => i.id);
      assert.deepEqual(drain(heap), sorted);
    }
  });
});
