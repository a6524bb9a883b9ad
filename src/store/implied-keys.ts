/**
 * The index keys a stored entry implies: what a commit writes for it (index-values.ts, with an
 * attestation's statement subjects), derived again from its stored value by today's decoder. `tlogwatch
 * check` compares them with the keys stored (check.ts, check-range.ts), the re-index writes those missing
 * and deletes those no entry implies any more (reindex.ts), and every route that answers from an index
 * key drops an entry a stale key listed (stillFiled: api/search.ts, api/index-retrieve.ts).
 */
import type { Entry } from '../entries/types.ts';
import { withStatement } from '../mirror/ingest.ts';
import type { StoredRecord } from './codec.ts';
import { decodeEntryValue } from './entry-value.ts';
import { entryTime, indexValues } from './index-values.ts';
import { Bucket, Field, indexKey, type IndexKeyParts, parseIndexKey, prefixEnd, uuidKey } from './keys.ts';
import { scanChunks } from './level.ts';
import type { Store } from './store.ts';
import type { Level } from 'level';

/** The entry as its commit indexed it: with the subjects of the attestation stored with it. */
export function indexedEntry(record: StoredRecord): Entry {
  if (!record.attestation) return record.entry;
  const e = { ...record.entry };
  withStatement(e, Buffer.from(record.attestation, 'base64'), 'attestation');
  return e;
}

/** What one stored entry implies: its body, leaf hash and the index and UUID keys it must have, with the entry they were derived from. */
export function impliedKeys(v: Uint8Array, log: string, id: number, index: bigint, full: boolean): { entry: Entry; body: Uint8Array; leafHash: string; indexKeys: Uint8Array[]; uuid: Uint8Array } {
  const { record, body } = decodeEntryValue(v, log, Number(index));
  const e = indexedEntry(record);
  const indexKeys = indexValues(e, full).map(([field, value]) => indexKey(field, value, entryTime(e), id, index));
  return { entry: e, body, leafHash: e.leafHash, indexKeys, uuid: uuidKey(Buffer.from(e.leafHash, 'hex'), id, index) };
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

/** An entry an index scan listed: where it is, its record, and the value of the key that listed it. */
export interface Listed {
  log: string;
  index: number;
  record: StoredRecord;
  value: Uint8Array;
}

/**
 * Whether each entry a scan of `field` listed is still filed under the value that listed it (every value
 * starting with it, for a `prefix` scan), so that a stale key (one an older decoder wrote; the re-index
 * deletes them, docs/architecture.md "When the decoder changes") never answers: filed by today's decoder
 * (filedUnder), or, for a digest, by a bundle posted for the entry (POST /v1/bundles), whose statement may
 * lend it digests its body does not have (bundles-post.ts writes those keys): such an entry is kept. Stored
 * bundles are looked up only for the digests the decoder does not file, one multi-get per log.
 */
export async function stillFiled(store: Pick<Store, 'postedBundles'>, field: number, listed: readonly Listed[], prefix = false): Promise<boolean[]> {
  const out = listed.map((l) => filedUnder(l.record, field, l.value, prefix));
  if (field !== Field.DIGEST) return out;
  const unfiled = new Map<string, number[]>();
  for (const [i, l] of listed.entries()) {
    if (out[i]) continue;
    let at = unfiled.get(l.log);
    if (!at) unfiled.set(l.log, (at = []));
    at.push(i);
  }
  for (const [log, at] of unfiled) {
    const posted = await store.postedBundles(log, at.map((i) => listed[i]!.index));
    at.forEach((i, j) => (out[i] = posted[j]!));
  }
  return out;
}

/**
 * Whether an entry was fully indexed (check.ts FullIndex `recorded`), from which of the keys it implies are
 * `stored`: its time key is written with exactly the full set (index-values.ts).
 */
export function timeKeyStored(indexKeys: readonly Uint8Array[], stored: readonly boolean[]): boolean {
  return indexKeys.some((key, i) => key[1] === Field.TIME && stored[i]);
}

/**
 * Every index key of log `id` (of `field` alone, when given) in key order, read back (keys.ts
 * parseIndexKey): the whole-index scans that compare the stored keys with the implied ones (check.ts,
 * reindex.ts).
 */
export async function scanIndexKeys(db: Pick<Level<Uint8Array, Uint8Array>, 'keys'>, id: number, visit: (key: Uint8Array, parts: IndexKeyParts) => void, field?: number): Promise<void> {
  const prefix = field === undefined ? Uint8Array.of(Bucket.INDEX) : Uint8Array.of(Bucket.INDEX, field);
  await scanChunks(db.keys({ gte: prefix, lt: prefixEnd(prefix) }), (k) => {
    const parts = parseIndexKey(k);
    if (parts.logId === id) visit(k, parts);
  });
}

/** Which of each group's keys the database holds, looked up in one call (LevelDB's multi-get). */
export async function storedKeys(db: Pick<Level<Uint8Array, Uint8Array>, 'hasMany'>, groups: ReadonlyArray<readonly Uint8Array[]>): Promise<boolean[][]> {
  const all = groups.flat();
  const has = all.length ? await db.hasMany(all) : [];
  let at = 0;
  return groups.map((g) => has.slice(at, (at += g.length)));
}
