/**
 * A full consistency check of one log in the store (sunlight's "checker that re-verifies the whole log"):
 * the entries are exactly [startIndex, fetched) with no gap, each body hashes to its leaf hash, and the
 * UUID and secondary index keys are exactly those the entries imply, with none left dangling.
 * O(entries) reads; meant for tests, crash checks and an operator's `fsck`, not for the hot path.
 */
import { leafHash } from '../merkle/rfc6962.ts';
import { decodeEntryValue, fetchedSize, type LogState } from './codec.ts';
import { Bucket, entryKey, Field, indexKey, prefixEnd, readU16, readU64, uuidKey } from './keys.ts';
import { entryTime, indexValues, type Store } from './store.ts';

export interface LogCheck {
  log: string;
  state: LogState | undefined;
  entries: number;
  indexKeys: number;
  /** Empty when the log is consistent; otherwise one line per problem (capped at 100). */
  problems: string[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const MAX_PROBLEMS = 100;

/** `fullIndex(entry index)` says whether an entry should have full indexes (index mode `watched`). */
export async function checkLog(store: Store, log: string, fullIndex: (index: number) => boolean = () => store.indexMode === 'all'): Promise<LogCheck> {
  const state = await store.getLogState(log);
  const id = await store.logId(log);
  const problems: string[] = [];
  const problem = (p: string) => void (problems.length < MAX_PROBLEMS && problems.push(p));
  const first = state?.startIndex ?? 0n;
  const end = state ? fetchedSize(state) : 0n;

  // Entries: contiguous from startIndex, bodies hash to their leaf hashes, UUID and index keys present.
  const expectedIndexKeys = new Map<number, number>();
  let expect = first;
  let entries = 0;
  const prefix = entryKey(id, 0).subarray(0, 3);
  for await (const [k, v] of store.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
    const index = readU64(k, 3);
    if (index !== expect) problem(index > expect ? `gap: entries ${expect}..${index - 1n} missing` : `entry ${index} out of order`);
    expect = index + 1n;
    entries++;
    const { record, body } = decodeEntryValue(v, log, Number(index));
    const e = record.entry;
    if (hex(leafHash(body)) !== e.leafHash) problem(`entry ${index}: body does not hash to its leaf hash`);
    if ((await store.db.get(uuidKey(Buffer.from(e.leafHash, 'hex'), id, index))) === undefined) problem(`entry ${index}: no UUID key`);
    const values = indexValues(e, fullIndex(e.index));
    expectedIndexKeys.set(e.index, values.length);
    for (const [field, value] of values) {
      if ((await store.db.get(indexKey(field, value, entryTime(e), id, index))) === undefined) problem(`entry ${index}: missing index key (field ${field})`);
    }
  }
  const held = end > first ? end - first : 0n;
  if (BigInt(entries) !== held || (entries > 0 && expect !== end)) problem(`state says ${held} entries from ${first}, the store holds ${entries} ending at ${expect}`);

  // Index keys: every key of this log names a present entry, and no entry has more keys than it implies.
  const seen = new Map<number, number>();
  let indexKeys = 0;
  const fields = new Set<number>(Object.values(Field));
  for await (const k of store.db.keys({ gte: new Uint8Array([Bucket.INDEX]), lt: new Uint8Array([Bucket.INDEX + 1]) })) {
    if (readU16(k, k.length - 10) !== id) continue;
    indexKeys++;
    const index = Number(readU64(k, k.length - 8));
    if (!fields.has(k[1]!)) problem(`index key with unknown field ${k[1]}`);
    if (!expectedIndexKeys.has(index) && !seen.has(index)) problem(`index key for entry ${index}, which is not stored`);
    seen.set(index, (seen.get(index) ?? 0) + 1);
  }
  for (const [index, n] of seen) {
    const want = expectedIndexKeys.get(index) ?? 0;
    if (n > want && want > 0) problem(`entry ${index}: ${n} index keys, expected ${want} (duplicates)`);
  }
  for await (const k of store.db.keys({ gte: new Uint8Array([Bucket.UUID]), lt: new Uint8Array([Bucket.UUID + 1]) })) {
    if (readU16(k, 33) === id && !expectedIndexKeys.has(Number(readU64(k, 35)))) problem(`UUID key for entry ${readU64(k, 35)}, which is not stored`);
  }
  return { log, state, entries, indexKeys, problems };
}
