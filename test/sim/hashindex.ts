/**
 * A multimap from 64-bit keys (the first 8 bytes of a hash) to entry indexes in typed arrays: open
 * addressing for the keys, a linked list per key for the values. It serves the v1 lookups by UUID and
 * the search index without a JS object or string per entry. 64-bit keys of SHA-256 outputs collide with
 * negligible probability; UUID lookups re-check the full leaf hash anyway.
 */
/** The big-endian uint32 at `at` (no DataView per call: add runs for every key of a million entries). */
const word = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

export class HashIndex {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private head = new Int32Array(1024).fill(-1);
  private keys = 0;
  private values = new Float64Array(1024);
  private next = new Int32Array(1024);
  private n = 0;

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

  add(key: Uint8Array, value: number): void {
    if ((this.keys + 1) * 2 > this.head.length) this.rehash();
    if (this.n === this.values.length) {
      const v = new Float64Array(this.n * 2);
      v.set(this.values);
      this.values = v;
      const x = new Int32Array(this.n * 2);
      x.set(this.next);
      this.next = x;
    }
    const h = word(key, 0);
    const l = word(key, 4);
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
