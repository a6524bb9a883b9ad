/**
 * A full consistency check of one log in the store (sunlight's "checker that re-verifies the whole log"):
 * the entries are exactly [startIndex, fetched) with no gap, the bodies hash to the frontier's root, and the
 * UUID and secondary index keys are exactly those the entries imply, with none left dangling.
 * O(entries) reads; meant for tests, crash checks and an operator's `fsck`, not for the hot path.
 */
import { CompactRange } from '../merkle/compact.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import { withStatement } from '../mirror/ingest.ts';
import { bytesEqual } from '../util/bytes.ts';
import { heldRange, localStartIndex, type LogState } from './codec.ts';
import { decodeEntryValue } from './entry-value.ts';
import { Bucket, entryKey, Field, indexKey, prefixEnd, readU16, readU64 } from './keys.ts';
import { entryTime, indexValues } from './index-values.ts';
import type { Store } from './store.ts';

export interface LogCheck {
  log: string;
  state: LogState | undefined;
  entries: number;
  indexKeys: number;
  /**
   * Which root the stored bodies were hashed to: `full` (the tree from leaf 0), `start-frontier` (the
   * verified frontier before startIndex plus the bodies), or `none` (the entries span Rekor v1 trees, or
   * an older store without a start frontier).
   */
  rootCheck: 'full' | 'start-frontier' | 'none';
  /** Empty when the log is consistent; otherwise one line per problem (capped at 100). */
  problems: string[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const MAX_PROBLEMS = 100;
const TWO48 = 2 ** 48;
/** FNV-1a (32-bit) of a key: a checksum for comparing key sets, not a security boundary. */
function keySum(k: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of k) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

/** Visits an iterator's items in chunks (`nextv`), much cheaper than one await per item. */
async function scan<T>(it: { nextv(size: number): Promise<T[]>; close(): Promise<void> }, visit: (item: T) => void): Promise<void> {
  try {
    for (let chunk = await it.nextv(1024); chunk.length > 0; chunk = await it.nextv(1024)) chunk.forEach(visit);
  } finally {
    await it.close();
  }
}

/** `fullIndex(entry index)` says whether an entry should have full indexes (index mode `watched`). */
export async function checkLog(store: Store, log: string, fullIndex: (index: number) => boolean = () => store.indexMode === 'all'): Promise<LogCheck> {
  const state = await store.getLogState(log);
  const id = state ? await store.logId(log) : undefined;
  if (id === undefined) return { log, state, entries: 0, indexKeys: 0, rootCheck: 'none', problems: [] };
  const problems: string[] = [];
  const problem = (p: string) => void (problems.length < MAX_PROBLEMS && problems.push(p));
  const { start: first, end } = state ? heldRange(state) : { start: 0n, end: 0n };

  // Entries: contiguous from startIndex, bodies hash to their leaf hashes. Each entry's expected index
  // keys are summarised as (count, sum of key checksums), so one scan of the index bucket can compare
  // them without a read per key.
  const expected = new Map<number, { leafHash: string; keys: number; sum: number; uuidSeen: boolean }>();
  // When every entry held is in the current tree (tiles, or Rekor v1 still in the tree it started in), the
  // bodies appended to the frontier before startIndex must give the state's frontier: from leaf 0 when the
  // store holds the tree from there, else from the verified start frontier.
  const tree = state ? startRange(state) : undefined;
  const rootCheck = !tree ? 'none' : tree.size === 0n ? 'full' : 'start-frontier';
  let next = first;
  let entries = 0;
  const prefix = entryKey(id, 0).subarray(0, 3);
  await scan(store.entryDb.iterator({ gte: prefix, lt: prefixEnd(prefix) }), ([k, v]) => {
    const index = readU64(k, 3);
    if (index !== next) problem(index > next ? `gap: entries ${next}..${index - 1n} missing` : `entry ${index} out of order`);
    next = index + 1n;
    entries++;
    const { record, body } = decodeEntryValue(v, log, Number(index));
    // The record is derived from the body again; the commit indexed the attestation's subjects too.
    const e = record.attestation ? { ...record.entry } : record.entry;
    if (record.attestation) withStatement(e, Buffer.from(record.attestation, 'base64'), 'attestation');
    tree?.append(leafHash(body));
    const values = indexValues(e, fullIndex(Number(index)));
    let sum = 0;
    for (const [field, value] of values) sum = (sum + keySum(indexKey(field, value, entryTime(e), id, index))) % TWO48;
    expected.set(Number(index), { leafHash: e.leafHash, keys: values.length, sum, uuidSeen: false });
  });
  if (tree && state && !bytesEqual(tree.root(), CompactRange.deserialize(state.frontier).root())) {
    problem(`the stored bodies${rootCheck === 'full' ? '' : ', appended to the start frontier,'} hash to another root than the state's frontier`);
  }
  const held = end > first ? end - first : 0n;
  if (BigInt(entries) !== held || (entries > 0 && next !== end)) problem(`state says ${held} entries from ${first}, the store holds ${entries} ending at ${next}`);

  const found = new Map<number, { keys: number; sum: number }>();
  let indexKeys = 0;
  const fields = new Set<number>(Object.values(Field));
  await scan(store.db.keys({ gte: new Uint8Array([Bucket.INDEX]), lt: new Uint8Array([Bucket.INDEX + 1]) }), (k) => {
    if (readU16(k, k.length - 10) !== id) return;
    indexKeys++;
    if (!fields.has(k[1]!)) problem(`index key with unknown field ${k[1]}`);
    const index = Number(readU64(k, k.length - 8));
    const f = found.get(index) ?? { keys: 0, sum: 0 };
    f.keys++;
    f.sum = (f.sum + keySum(k)) % TWO48;
    found.set(index, f);
  });
  for (const [index, f] of found) if (!expected.has(index)) problem(`${f.keys} index keys for entry ${index}, which is not stored`);
  for (const [index, want] of expected) {
    const got = found.get(index) ?? { keys: 0, sum: 0 };
    if (got.keys !== want.keys || got.sum !== want.sum) problem(`entry ${index}: index keys differ from what it implies (expected ${want.keys}, found ${got.keys})`);
  }
  await scan(store.db.keys({ gte: new Uint8Array([Bucket.UUID]), lt: new Uint8Array([Bucket.UUID + 1]) }), (k) => {
    if (readU16(k, 33) !== id) return;
    const want = expected.get(Number(readU64(k, 35)));
    if (!want) problem(`UUID key for entry ${readU64(k, 35)}, which is not stored`);
    else if (want.leafHash !== hex(k.subarray(1, 33))) problem(`UUID key for entry ${readU64(k, 35)} has another leaf hash`);
    else want.uuidSeen = true;
  });
  for (const [index, want] of expected) if (!want.uuidSeen) problem(`entry ${index}: no UUID key`);
  return { log, state, entries, indexKeys, rootCheck, problems };
}

/** The frontier the stored entries extend, when they all belong to the current tree. */
function startRange(state: LogState): CompactRange | undefined {
  if ((state.shard?.seq ?? 0) > 0) return undefined;
  if (state.startFrontier) return CompactRange.deserialize(state.startFrontier);
  return localStartIndex(state) === 0n ? CompactRange.empty() : undefined;
}
