/**
 * The index keys a stored entry implies: what a commit writes for it (index-values.ts, with an
 * attestation's statement subjects), derived again from its stored value by today's decoder. `tlogwatch
 * check` compares them with the keys stored (check.ts, check-range.ts), the re-index writes those missing
 * and deletes those no entry implies any more (reindex.ts), and a search drops an entry a stale key listed
 * (api/search.ts).
 */
import type { Entry } from '../entries/types.ts';
import { withStatement } from '../mirror/ingest.ts';
import type { StoredRecord } from './codec.ts';
import { decodeEntryValue } from './entry-value.ts';
import { entryTime, indexValues } from './index-values.ts';
import { Field, indexKey, uuidKey } from './keys.ts';
import type { Level } from 'level';

/** The entry as its commit indexed it: with the subjects of the attestation stored with it. */
export function indexedEntry(record: StoredRecord): Entry {
  if (!record.attestation) return record.entry;
  const e = { ...record.entry };
  withStatement(e, Buffer.from(record.attestation, 'base64'), 'attestation');
  return e;
}

/** What one stored entry implies: its body, leaf hash and the index and UUID keys it must have. */
export function impliedKeys(v: Uint8Array, log: string, id: number, index: bigint, full: boolean): { body: Uint8Array; leafHash: string; indexKeys: Uint8Array[]; uuid: Uint8Array } {
  const { record, body } = decodeEntryValue(v, log, Number(index));
  const e = indexedEntry(record);
  const indexKeys = indexValues(e, full).map(([field, value]) => indexKey(field, value, entryTime(e), id, index));
  return { body, leafHash: e.leafHash, indexKeys, uuid: uuidKey(Buffer.from(e.leafHash, 'hex'), id, index) };
}

/**
 * Whether today's decoder files the entry under `value` of `field` (every value starting with it, for a
 * prefix): a key an older decoder wrote may name it under a value it no longer has.
 */
export function filedUnder(record: StoredRecord, field: number, value: Uint8Array, prefix = false): boolean {
  const want = Buffer.from(value);
  const under = (e: Entry) => indexValues(e, true, field).some(([, v]) => (prefix ? Buffer.from(v).subarray(0, want.length).equals(want) : want.equals(v)));
  // Only a digest can come from the attestation, whose statement is parsed only when the body does not
  // already file the entry there: a search reads this for every entry it answers.
  return under(record.entry) || (field === Field.DIGEST && record.attestation !== undefined && under(indexedEntry(record)));
}

/**
 * Whether an entry was fully indexed (check.ts FullIndex `recorded`), from which of the keys it implies are
 * `stored`: its time key is written with exactly the full set (index-values.ts).
 */
export function timeKeyStored(indexKeys: readonly Uint8Array[], stored: readonly boolean[]): boolean {
  return indexKeys.some((key, i) => key[1] === Field.TIME && stored[i]);
}

/** Which of each group's keys the database holds, looked up in one call (LevelDB's multi-get). */
export async function storedKeys(db: Pick<Level<Uint8Array, Uint8Array>, 'hasMany'>, groups: ReadonlyArray<readonly Uint8Array[]>): Promise<boolean[][]> {
  const all = groups.flat();
  const has = all.length ? await db.hasMany(all) : [];
  let at = 0;
  return groups.map((g) => has.slice(at, (at += g.length)));
}
