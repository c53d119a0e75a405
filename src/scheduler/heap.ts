// A binary min-heap that knows where each item sits, so an item can be removed or re-ordered after
// its sort key changed in O(log n): the scheduler's lanes change keys on every admission.

export class IndexedHeap<T> {
  readonly #items: T[] = [];
  readonly #index = new Map<T, number>();

  /** `before(a, b)` is true when a must come out before b. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.#items.length;
  }

  has(item: T): boolean {
    return this.#index.has(item);
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    if (this.#index.has(item)) throw new Error("IndexedHeap: item already present");
    this.#items.push(item);
    this.#index.set(item, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes the item if present; true when it was. */
  remove(item: T): boolean {
    const at = this.#index.get(item);
    if (at === undefined) return false;
    const last = this.#items.pop() as T;
    this.#index.delete(item);
    if (at < this.#items.length) {
      this.#items[at] = last;
      this.#index.set(last, at);
      this.#restore(at);
    }
    return true;
  }

  /** Call after the item's sort key changed. */
  update(item: T): void {
    const at = this.#index.get(item);
    if (at !== undefined) this.#restore(at);
  }

  clear(): void {
    this.#items.length = 0;
    this.#index.clear();
  }

  /** The items in no particular order. */
  values(): IterableIterator<T> {
    return this.#items.values();
  }

  #restore(at: number): void {
    if (this.#up(at) === at) this.#down(at);
  }

  #up(at: number): number {
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.#at(i), this.#at(parent))) break;
      this.#swap(i, parent);
      i = parent;
    }
    return i;
  }

  #down(at: number): void {
    let i = at;
    const n = this.#items.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let first = i;
      if (left < n && this.before(this.#at(left), this.#at(first))) first = left;
      if (right < n && this.before(this.#at(right), this.#at(first))) first = right;
      if (first === i) return;
      this.#swap(i, first);
      i = first;
    }
  }

  #at(i: number): T {
    return this.#items[i] as T;
  }

  #swap(i: number, j: number): void {
    const a = this.#at(i);
    const b = this.#at(j);
    this.#items[i] = b;
    this.#items[j] = a;
    this.#index.set(b, i);
    this.#index.set(a, j);
  }
}
