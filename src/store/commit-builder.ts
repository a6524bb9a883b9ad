/**
 * A batch's writes, built as its entries are decoded: the follower and backfill add each entry the
 * moment it is decoded, so no decoded Entry waits for the commit (packed-puts.ts says why that matters).
 */
import type { Entry } from '../entries/types.ts';
import type { LogType, StoredRecord } from './codec.ts';
import { entryValueHead } from './entry-value.ts';
import { entryTime, indexValues, type IndexMode } from './index-values.ts';
import { entryKey, indexKey, MARKER, nodeKey, uuidKey } from './keys.ts';
import type { PackedPuts } from './packed-puts.ts';

/**
 * One batch's writes for one log, built entry by entry (Store.builder): each entry's value goes to
 * `values` (the entries database), its uuid and index keys and the tree nodes its leaf completes to `ops`
 * (the main one), packed, so the decoded Entry and the node hashes can be dropped at once.
 */
export class CommitBuilder {
  readonly log: string;
  readonly id: number;
  readonly type: LogType;
  /** The tree (Rekor v1 shard sequence; 0 for tiles) its entries and nodes belong to. */
  readonly tree: number;
  readonly values: PackedPuts;
  readonly ops: PackedPuts;
  readonly #indexMode: IndexMode;
  readonly #isWatched: ((e: Entry) => boolean) | undefined;

  constructor(log: string, id: number, type: LogType, tree: number, indexMode: IndexMode, values: PackedPuts, ops: PackedPuts, isWatched?: (e: Entry) => boolean) {
    this.log = log;
    this.id = id;
    this.type = type;
    this.tree = tree;
    this.#indexMode = indexMode;
    this.values = values;
    this.ops = ops;
    this.#isWatched = isWatched;
    values.reset();
    ops.reset();
  }

  /** Contract (entry-value.ts): `record.entry` is the decoder's output for `body`, plus observedAt. */
  addEntry(record: StoredRecord, body: Uint8Array): void {
    const e = record.entry;
    this.values.put(entryKey(this.id, e.index), entryValueHead(record, this.type), body);
    this.ops.put(uuidKey(Buffer.from(e.leafHash, 'hex'), this.id, e.index), MARKER);
    const full = this.#indexMode === 'all' || (this.#isWatched?.(e) ?? false);
    const t = entryTime(e);
    for (const [field, value] of indexValues(e, full)) this.ops.put(indexKey(field, value, t, this.id, e.index), MARKER);
  }

  /**
   * A complete-subtree hash of the tree to store (tree-hashes.ts: the tile rows), copied into the batch as
   * the leaf that completes it is appended. Kept as objects until the commit instead, a batch's 2,048
   * level-0 hashes outlived V8's young generation and were promoted, ~16% of what a catch-up promotes.
   */
  addNode(level: number, index: bigint, hash: Uint8Array): void {
    this.ops.put(nodeKey(this.id, this.tree, level, index), hash);
  }
}
