/**
 * Reusable reverse key iterators for the API's index scans (Store.search).
 *
 * Opening a classic-level iterator for one lookup costs more than the lookup: option handling in
 * abstract-level, a native iterator over every level, an implicit snapshot, and a close. Measured on the
 * API bench's 1M-entry store, a digest lookup took 86 µs of CPU with a fresh bounded iterator and 57 µs
 * seeking an open one. So scans borrow an open, unbounded iterator, `seek` it (a synchronous call) to
 * the top of their range and read keys until they leave it.
 *
 * An iterator reads the snapshot it was opened on, so it must not outlive a write it should see, and
 * while open it keeps LevelDB from deleting the tables that snapshot uses. The store calls `invalidate`
 * on every write of a log state, which is the only write that adds index or uuid keys (store.ts
 * `writeState`): idle iterators are closed at once, and one in use is closed when it is given back. A
 * scan that began before a commit finishes on the snapshot it began with, as a fresh iterator would.
 */
import type { Level } from 'level';

type KeyIterator = ReturnType<Level<Uint8Array, Uint8Array>['keys']>;

/**
 * Idle iterators kept; more concurrent scans than this open and close their own. Sized for the API
 * bench's 50 connections: each request's scan holds its iterator across an await, so with 16 a third of
 * the lookups paid for a fresh one (in-process, 50 lookups in flight on the 1M store: ~120 → ~95 µs of
 * CPU each with 64). Idle ones cost a little native memory and are closed on every state write.
 */
const MAX_IDLE = 64;

export class ReverseKeyCursors {
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #idle: KeyIterator[] = [];
  #generation = 0;
  #closed = false;

  constructor(db: Level<Uint8Array, Uint8Array>) {
    this.#db = db;
  }

  /**
   * Keys k with gte <= k < lt, greatest first, handed to `visit` in chunks until it returns false or the
   * range is exhausted. `first` is the size of the first chunk (later ones are larger): a lookup that
   * expects one key asks for two, so the second tells it the range has ended in the same trip.
   */
  async scan(gte: Uint8Array, lt: Uint8Array, first: number, visit: (chunk: Uint8Array[]) => Promise<boolean> | boolean): Promise<void> {
    if (Buffer.compare(gte, lt) >= 0) return;
    const generation = this.#generation;
    const it = this.#idle.pop() ?? this.#db.keys({ reverse: true });
    let reusable = false;
    try {
      // Reverse seek: the greatest key <= lt (classic-level binding.cc Iterator::Seek); lt itself is excluded below.
      it.seek(lt);
      let size = Math.max(1, first);
      for (;;) {
        const got = (await it.nextv(size)) as Uint8Array[];
        if (got.length === 0) break;
        let n = 0;
        while (n < got.length && Buffer.compare(got[n]!, gte) >= 0) n++;
        const inRange = got.slice(Buffer.compare(got[0]!, lt) === 0 ? 1 : 0, n);
        if (inRange.length > 0 && !(await visit(inRange))) break;
        if (n < got.length) break;
        size = Math.min(1000, Math.max(64, size * 2));
      }
      reusable = true;
    } finally {
      if (reusable && generation === this.#generation && !this.#closed && this.#idle.length < MAX_IDLE) this.#idle.push(it);
      else await it.close();
    }
  }

  /** A write the open snapshots do not show has happened (see the file comment). */
  invalidate(): void {
    this.#generation++;
    for (const it of this.#idle.splice(0)) void it.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#generation++;
    await Promise.all(this.#idle.splice(0).map((it) => it.close()));
  }
}
