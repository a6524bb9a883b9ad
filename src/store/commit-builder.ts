/**
 * A batch's writes, built as its entries are decoded: the follower and backfill add each entry the
 * moment it is decoded, so no decoded Entry waits for the commit (packed-puts.ts says why that matters).
 */
import type { Entry } from '../entries/types.ts';
import type { LogType, StoredRecord } from './codec.ts';
import { entryValueHead } from './entry-value.ts';
import { entryTime, indexValues, type IndexMode } from './index-values.ts';
import { entryKey, indexKey, MARKER, uuidKey } from './keys.ts';
import type { PackedPuts } from './packed-puts.ts';

/**
 * One batch's writes for one log, built entry by entry (Store.builder): each entry's value goes to
 * `values` (the entries database), its uuid and index keys to `ops` (the main one), packed, so the
 * decoded Entry can be dropped at once.
 */
export class CommitBuilder {
  readonly log: string;
  readonly id: number;
  readonly type: LogType;
  readonly values: PackedPuts;
  readonly ops: PackedPuts;
  readonly #indexMode: IndexMode;
  readonly #isWatched: ((e: Entry) => boolean) | undefined;

  constructor(log: string, id: number, type: LogType, indexMode: IndexMode, values: PackedPuts, ops: PackedPuts, isWatched?: (e: Entry) => boolean) {
    this.log = log;
    this.id = id;
    this.type = type;
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
}
