/**
 * Lookups from hashes to entry indexes in typed arrays, without a JS object or string per entry.
 *
 * HashIndex, the search index: a multimap from 64-bit keys (the first 8 bytes of a SHA-256) with open
 * addressing for the keys and a linked list per key for the values. 64-bit keys of SHA-256 outputs
 * collide with negligible probability.
 *
 * LeafIndex, the lookup by UUID: the key is the entry's leaf hash, which the tree already holds, so the
 * table stores only entry indexes (4 bytes a slot) and reads each candidate's leaf back to compare.
 */
/** The big-endian uint32 at `at` (no DataView per call: add runs for every key of a million entries). */
const word = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

export class HashIndex {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private head: Int32Array;
  private keys = 0;
  private values: Uint32Array; // entry indexes (a simulator log stays far below 2^32)
  private next: Int32Array;
  private n = 0;

  /** Room for `keys` keys and `values` values before any growth. */
  constructor(keys = 0, values = 0) {
    let slots = 1024;
    while (slots < 2 * keys) slots *= 2;
    this.hi = new Uint32Array(slots);
    this.lo = new Uint32Array(slots);
    this.head = new Int32Array(slots).fill(-1);
    this.values = new Uint32Array(Math.max(1024, values));
    this.next = new Int32Array(this.values.length);
  }

  get size(): number {
    return this.n;
  }

  private slot(h: number, l: number): number {
    const mask = this.head.length - 1;
    for (let s = l & mask; ; s = (s + 1) & mask) {
      if (this.head[s] === -1 || (this.hi[s] === h && this.lo[s] === l)) return s;
    }
  }

  private rehash(): void {
    const [hi, lo, head] = [this.hi, this.lo, this.head];
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(hi.length * 2);
    this.head = new Int32Array(hi.length * 2).fill(-1);
    for (let s = 0; s < head.length; s++) {
      if (head[s] === -1) continue;
      const t = this.slot(hi[s]!, lo[s]!);
      this.hi[t] = hi[s]!;
      this.lo[t] = lo[s]!;
      this.head[t] = head[s]!;
    }
  }

  /** Files `value` under the 8-byte key at `key[at]`. */
  add(key: Uint8Array, value: number, at = 0): void {
    if ((this.keys + 1) * 2 > this.head.length) this.rehash();
    if (!(value >= 0 && value <= 0xffffffff && Number.isInteger(value))) throw new RangeError(`${value} is not a uint32 entry index`);
    if (this.n === this.values.length) {
      const v = new Uint32Array(this.n * 2);
      v.set(this.values);
      this.values = v;
      const x = new Int32Array(this.n * 2);
      x.set(this.next);
      this.next = x;
    }
    const h = word(key, at);
    const l = word(key, at + 4);
    const s = this.slot(h, l);
    if (this.head[s] === -1) {
      this.keys++;
      this.hi[s] = h;
      this.lo[s] = l;
    }
    this.values[this.n] = value;
    this.next[this.n] = this.head[s]!;
    this.head[s] = this.n++;
  }

  /** Values under `key`, in insertion order. */
  get(key: Uint8Array): number[] {
    const s = this.slot(word(key, 0), word(key, 4));
    const out: number[] = [];
    for (let v = this.head[s]!; v !== -1; v = this.next[v]!) out.push(this.values[v]!);
    return out.reverse();
  }
}

/** Entry indexes by leaf hash; `leafOf(index)` reads an indexed entry's leaf hash back (from the tree). */
export class LeafIndex {
  private slots: Int32Array;
  private n = 0;
  private readonly leafOf: (index: number) => Uint8Array;

  /** `expected` entries fit without rehashing (a build knows its size). */
  constructor(leafOf: (index: number) => Uint8Array, expected = 0) {
    this.leafOf = leafOf;
    let size = 1024;
    while (size < 2 * expected) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
  }

  get size(): number {
    return this.n;
  }

  /** Files `index` under the leaf hash at `leaf[at]`, which must be what `leafOf(index)` returns from now on. */
  add(leaf: Uint8Array, index: number, at = 0): void {
    if (!(index >= 0 && index <= 0x7fffffff && Number.isInteger(index))) throw new RangeError(`${index} is not an int32 entry index`);
    if ((this.n + 1) * 2 > this.slots.length) this.rehash();
    this.put(leaf, index, at);
    this.n++;
  }

  private put(leaf: Uint8Array, index: number, at = 0): void {
    const mask = this.slots.length - 1;
    let s = word(leaf, at) & mask;
    while (this.slots[s] !== -1) s = (s + 1) & mask;
    this.slots[s] = index;
  }

  private rehash(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2).fill(-1);
    for (const index of old) if (index !== -1) this.put(this.leafOf(index), index);
  }

  /** The indexes filed under `leaf`, ascending. */
  get(leaf: Uint8Array): number[] {
    const mask = this.slots.length - 1;
    const out: number[] = [];
    for (let s = word(leaf, 0) & mask; this.slots[s] !== -1; s = (s + 1) & mask) {
      const index = this.slots[s]!;
      if (Buffer.from(this.leafOf(index)).equals(leaf)) out.push(index);
    }
    return out.sort((a, b) => a - b);
  }
}
