/**
 * COMPACT_AT is how many taken slots may pile up at the front of a Fifo
 * before the live items are moved down over them (once they are at least
 * half the array): often enough to bound memory, rarely enough that each
 * move is paid for by the shifts before it.
 */
export const COMPACT_AT = 1024;

/**
 * Fifo is a first-in first-out queue: an array read from a moving head.
 * Array#shift moves every remaining item down one place, so draining a
 * queue of n items with it costs O(n²), which is what a backlog under load
 * (thousands of pipelined requests, waiters, datagrams) turned into; here
 * push and shift are O(1). A queue that empties starts again at slot 0 in
 * the same array, so a steady flow through a short queue allocates nothing.
 *
 * Items are never undefined: shift() and peek() say "empty" with undefined.
 */
export class Fifo<T> implements Iterable<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  /** length is how many items wait. */
  get length(): number {
    return this.#tail - this.#head;
  }

  /** capacity is how many slots the queue holds on to now (for tests of its memory bound). */
  get capacity(): number {
    return this.#items.length;
  }

  /** push adds `item` at the back. */
  push(item: T): void {
    this.#items[this.#tail++] = item;
  }

  /** shift removes and returns the front item, or undefined when empty. */
  shift(): T | undefined {
    const head = this.#head;
    if (head === this.#tail) return undefined;
    const items = this.#items;
    const item = items[head];
    items[head] = undefined;
    this.#head = head + 1;
    if (this.#head === this.#tail) this.#reset();
    else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#tail) this.#compact();
    return item;
  }

  /** peek returns the front item without removing it, or undefined when empty. */
  peek(): T | undefined {
    return this.#head === this.#tail ? undefined : this.#items[this.#head];
  }

  /** unshift puts `item` back at the front, as for the unread rest of a chunk. */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else if (this.#tail === 0) this.#items[this.#tail++] = item;
    else {
      // Only when nothing was taken since the queue last emptied: rare, and O(length).
      this.#items.splice(0, 0, item);
      this.#tail++;
    }
  }

  /** remove takes the first occurrence of `item` out of the queue (a waiter that gave up) and says whether it was there. */
  remove(item: T): boolean {
    const items = this.#items;
    const i = items.indexOf(item, this.#head);
    if (i < 0 || i >= this.#tail) return false;
    if (i === this.#head) {
      this.shift();
      return true;
    }
    const last = --this.#tail;
    for (let j = i; j < last; j++) items[j] = items[j + 1];
    items[last] = undefined;
    return true;
  }

  /** clear empties the queue and returns what was in it, front first. */
  clear(): T[] {
    const rest = this.#items.slice(this.#head, this.#tail) as T[];
    this.#items = [];
    this.#head = 0;
    this.#tail = 0;
    return rest;
  }

  /** [Symbol.iterator] yields the waiting items front first, without removing them; do not push or shift meanwhile. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.#head; i < this.#tail; i++) yield this.#items[i] as T;
  }

  /** #reset starts an empty queue again at slot 0, keeping the array unless a burst made it large. */
  #reset(): void {
    if (this.#items.length > COMPACT_AT) this.#items = [];
    this.#head = 0;
    this.#tail = 0;
  }

  /**
   * #compact moves the live items down over the taken slots at the front.
   * The array keeps its length, so the pushes that follow store into slots
   * that exist instead of growing it again, unless it is mostly empty: a
   * drained burst gives its memory back.
   */
  #compact(): void {
    const items = this.#items;
    const head = this.#head;
    const n = this.#tail - head;
    // A loop, not copyWithin: V8 has no fast path for copyWithin, and it showed in profiles of a
    // contended pool. Compaction runs only once head >= n, so no slot is cleared before it is read.
    for (let i = 0; i < n; i++) {
      items[i] = items[head + i];
      items[head + i] = undefined;
    }
    if (items.length > 4 * COMPACT_AT && n < items.length / 4) items.length = n;
    this.#head = 0;
    this.#tail = n;
  }
}
