/**
 * LevelDB puts packed into one growing byte arena, for a batch that is built entry by entry and written
 * later (commit-builder.ts `CommitBuilder`).
 *
 * Why not an array of `{key, value}` Buffers: a catch-up batch holds 2,048 entries' worth of ops by default (~20k
 * keys and values) from the moment they are built until LevelDB has written them. As JS objects that
 * outlives several young-generation collections, so V8 copies them, promotes them, and frees them (and the
 * memory behind them) only at the next full mark-compact: ~1.8 KB per entry promoted at 300k entries
 * (BENCHMARKS.md "Ingest", garbage collection). In one arena the batch is a handful of objects; the views
 * `forEach` hands out live only for the duration of one `put` into LevelDB's write batch, which copies them.
 *
 * `reset()` keeps the arena for the next batch, so a follower alternating two of them allocates nothing
 * once they have grown to a batch's size.
 */
import { EMPTY_BYTES } from '../util/bytes.ts';

export class PackedPuts {
  #bytes: Buffer;
  #used = 0;
  /** Per op: the end of its key and the end of its value in `#bytes` (an op starts where the last ended). */
  #ends: Uint32Array;
  #count = 0;

  constructor(initialBytes = 1 << 16) {
    this.#bytes = Buffer.allocUnsafeSlow(Math.max(64, initialBytes));
    this.#ends = new Uint32Array(1024);
  }

  /** Number of puts. */
  get length(): number {
    return this.#count;
  }

  /** Bytes of keys and values held. */
  get byteLength(): number {
    return this.#used;
  }

  /**
   * Copies `key` and `value` in; neither is referenced afterwards. A value given in two parts is stored as
   * their concatenation, so a caller with a header and a body never allocates the joined value (at 2 KB per
   * entry that was the catch-up's largest source of short-lived buffers).
   */
  put(key: Uint8Array, value: Uint8Array, valueTail: Uint8Array = EMPTY_BYTES): void {
    const need = this.#used + key.length + value.length + valueTail.length;
    if (need > 0xffff_ffff) throw new RangeError('PackedPuts: a batch of more than 4 GiB');
    if (need > this.#bytes.length) this.#grow(need);
    if (2 * this.#count + 2 > this.#ends.length) {
      const ends = new Uint32Array(this.#ends.length * 2);
      ends.set(this.#ends);
      this.#ends = ends;
    }
    this.#bytes.set(key, this.#used);
    this.#used += key.length;
    this.#ends[2 * this.#count] = this.#used;
    this.#bytes.set(value, this.#used);
    this.#used += value.length;
    this.#bytes.set(valueTail, this.#used);
    this.#used += valueTail.length;
    this.#ends[2 * this.#count + 1] = this.#used;
    this.#count++;
  }

  /** Every put in order, as views into the arena that are valid only until `f` returns (copy to keep one). */
  forEach(f: (key: Uint8Array, value: Uint8Array) => void): void {
    let start = 0;
    for (let i = 0; i < this.#count; i++) {
      const keyEnd = this.#ends[2 * i]!;
      const end = this.#ends[2 * i + 1]!;
      f(this.#bytes.subarray(start, keyEnd), this.#bytes.subarray(keyEnd, end));
      start = end;
    }
  }

  /** Empties it for the next batch, keeping the memory. */
  reset(): void {
    this.#used = 0;
    this.#count = 0;
  }

  #grow(need: number): void {
    const bytes = Buffer.allocUnsafeSlow(Math.min(0xffff_ffff, Math.max(need, 2 * this.#bytes.length)));
    this.#bytes.copy(bytes, 0, 0, this.#used);
    this.#bytes = bytes;
  }
}
