/**
 * Tree nodes computed from stored tile rows (tree-hashes.ts readNodes), kept between reads. Every
 * inclusion proof against one checkpoint ends in the same few upper nodes, and a node of level 8b + r is
 * the hash of 2^r stored hashes of row 8b, each costing ~2.5 µs to read (readRow): a level-15 node is 128
 * reads. Only nodes worth at least MIN_RUN stored hashes are kept, least recently used out first.
 *
 * A stored hash changes or goes only in a write of a log state (rollback, resume, forgetting a log: every
 * node write goes through store.ts `writeState`), which calls `invalidate` before and after it, as it does
 * for the index scans' iterators (key-cursors.ts). A read that began before an invalidation keeps nothing:
 * it may have read the hashes the write replaced.
 */

/**
 * Nodes kept: each a 32-byte hash under a short string key, ~380 bytes of V8 heap (3.1 MB full, measured
 * 2026-11-30). On the API bench's 1M store the ~480 nodes of 16+ row-8 hashes then stay while proofs of
 * leaves spread over the log add their row-0 ones (BENCHMARKS.md "An entry with its inclusion proof").
 */
export const NODE_CACHE_SIZE = 8192;

/** The fewest stored hashes a node must cost to be kept (level mod 8 ≥ 4); a smaller one is cheap to read again. */
export const MIN_RUN = 16;

export class NodeCache {
  readonly #max: number;
  readonly #nodes = new Map<string, Uint8Array>();
  #generation = 0;

  constructor(max = NODE_CACHE_SIZE) {
    this.#max = max;
  }

  /** Taken when a read begins and handed back to `set`, which keeps nothing if the store was written meanwhile. */
  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#nodes.size;
  }

  get(key: string): Uint8Array | undefined {
    const hash = this.#nodes.get(key);
    if (hash !== undefined) {
      // Map keeps insertion order: moved to the end, the oldest key is the least recently used.
      this.#nodes.delete(key);
      this.#nodes.set(key, hash);
    }
    return hash;
  }

  set(key: string, hash: Uint8Array, generation: number): void {
    if (generation !== this.#generation) return;
    this.#nodes.delete(key);
    this.#nodes.set(key, hash);
    if (this.#nodes.size > this.#max) this.#nodes.delete(this.#nodes.keys().next().value!);
  }

  /** The stored hashes may have changed: forget every node, and what reads in flight would add. */
  invalidate(): void {
    this.#generation++;
    this.#nodes.clear();
  }
}
