/**
 * A full consistency check of one log in the store (sunlight's "checker that re-verifies the whole log"):
 * the entries are exactly [startIndex, fetched) with no gap, the bodies hash to the frontier's root, and the
 * UUID and secondary index keys are exactly those the entries imply, with none left dangling.
 * O(entries) reads; for tests, crash checks and `tlogwatch check`, not for the hot path.
 *
 * Memory stays small however large the log: each run of 65,536 entries is a tally (how many index and
 * UUID keys, and a checksum of them), filled once from the entries and once from the keys, and compared.
 * Only a run whose tallies differ is gone over entry by entry (up to LOCATE_RUNS of them, in one more
 * pass), to name the entries and keys that differ.
 */
import { describeError } from '../errors.ts';
import { CompactRange } from '../merkle/compact.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import { bytesEqual } from '../util/bytes.ts';
import { heldRange, localStartIndex, startSeq, type LogState } from './codec.ts';
import { scanChunks } from './level.ts';
import { impliedKeys, scanIndexKeys } from './implied-keys.ts';
import { Bucket, entryKey, Field, key, prefixEnd, readU16, readU64, u16 } from './keys.ts';
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

/**
 * Which entries should have full indexes: a predicate on the entry index, or `recorded`: as the store's
 * time index records it. With `index: watched` which entries were watched depended on the watch list when
 * each was mirrored, so an operator's check takes an entry's time key (written for exactly the fully
 * indexed entries, index-values.ts) as its word, and then requires the rest of that set and nothing more.
 */
export type FullIndex = ((index: number) => boolean) | 'recorded';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const MAX_PROBLEMS = 100;
const TWO48 = 2 ** 48;
/** Entries per tally, 2^RUN_BITS: 1M entries are 16 tallies. */
const RUN_BITS = 16;
/** Runs whose tallies differ that are gone over entry by entry; beyond these, one line per run. */
const LOCATE_RUNS = 4;

/** FNV-1a (32-bit) of a key: a checksum for comparing key sets, not a security boundary. */
function keySum(k: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of k) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

/** A count of keys and the sum of their checksums (mod 2^48): equal sets give equal tallies. */
class KeyTally {
  count = 0;
  sum = 0;
  add(k: Uint8Array): void {
    this.count++;
    this.sum = (this.sum + keySum(k)) % TWO48;
  }
  equals(o: KeyTally): boolean {
    return this.count === o.count && this.sum === o.sum;
  }
}

/** One run's tallies: index and UUID keys, as the entries imply them and as stored. */
class RunTally {
  readonly wantIndex = new KeyTally();
  readonly gotIndex = new KeyTally();
  readonly wantUuid = new KeyTally();
  readonly gotUuid = new KeyTally();
  /** Entries of the run whose value did not decode: what they imply is unknown. */
  undecodable = 0;
  /** `indexKeys` false: the UUID keys alone are compared (checkLog's option). */
  consistent(indexKeys: boolean): boolean {
    return this.undecodable === 0 && (!indexKeys || this.wantIndex.equals(this.gotIndex)) && this.wantUuid.equals(this.gotUuid);
  }
}

/** The entries the time index holds for this log, as bits from `first` (FullIndex `recorded`). */
async function recordedFull(store: Store, id: number, first: bigint, end: bigint): Promise<(index: number) => boolean> {
  const n = end > first ? Number(end - first) : 0;
  const bits = new Uint8Array(Math.ceil(n / 8));
  await scanIndexKeys(store.db, id, (_k, { index }) => {
    const i = index - Number(first);
    if (i >= 0 && i < n) bits[Math.floor(i / 8)]! |= 1 << (i % 8);
  }, Field.TIME);
  return (index) => {
    const i = index - Number(first);
    return i >= 0 && i < n && (bits[Math.floor(i / 8)]! & (1 << (i % 8))) !== 0;
  };
}

/**
 * `runBits`: entries per tally as a power of two (default 16); tests make it small to have many runs.
 * `progress`: called with the number of entries read so far at the end of each run (a long check says
 * how far it is). `indexKeys: false`: the index keys are counted, not compared with what the entries
 * imply (a store indexed by an older decoder, awaiting its re-index: store/reindex.ts); UUID keys still are.
 */
export async function checkLog(store: Store, log: string, fullIndex: FullIndex = () => store.indexMode === 'all', opts: { runBits?: number; progress?: (entries: number) => void; indexKeys?: boolean } = {}): Promise<LogCheck> {
  const compareIndex = opts.indexKeys ?? true;
  const shift = BigInt(opts.runBits ?? RUN_BITS);
  const state = await store.getLogState(log);
  if (!state) return { log, state, entries: 0, indexKeys: 0, rootCheck: 'none', problems: await stateless(store, log) };
  const id = await store.logId(log);
  const problems: string[] = [];
  const problem = (p: string) => void (problems.length < MAX_PROBLEMS && problems.push(p));
  const { start: first, end } = state ? heldRange(state) : { start: 0n, end: 0n };
  const full = fullIndex === 'recorded' ? await recordedFull(store, id, first, end) : fullIndex;
  const runs = new Map<bigint, RunTally>();
  const run = (index: bigint) => {
    const r = index >> shift;
    let t = runs.get(r);
    if (!t) runs.set(r, (t = new RunTally()));
    return t;
  };

  // Entries: contiguous from startIndex, what each implies tallied by run. When every entry held is in
  // the current tree (tiles, or Rekor v1 still in the tree it started in), the bodies appended to the
  // frontier before startIndex must give the state's frontier: from leaf 0 when the store holds the tree
  // from there, else from the verified start frontier.
  const tree = state ? startRange(state) : undefined;
  const rootCheck = !tree ? 'none' : tree.size === 0n ? 'full' : 'start-frontier';
  let next = first;
  let entries = 0;
  let undecodable = 0;
  const prefix = entryKey(id, 0).subarray(0, 3);
  await scanChunks(store.entryDb.iterator({ gte: prefix, lt: prefixEnd(prefix) }), ([k, v]) => {
    const index = readU64(k, 3);
    if (index !== next) problem(index > next ? `gap: entries ${next}..${index - 1n} missing` : `entry ${index} out of order`);
    next = index + 1n;
    entries++;
    if ((index + 1n) % (1n << shift) === 0n) opts.progress?.(entries);
    const t = run(index);
    let e;
    try {
      e = impliedKeys(v, log, id, index, full(Number(index)));
    } catch (err) {
      // A value too damaged to decode: said, and neither its keys nor the bodies' root can be compared.
      problem(describeError(err));
      t.undecodable++;
      undecodable++;
      return;
    }
    tree?.append(leafHash(e.body));
    for (const key of e.indexKeys) t.wantIndex.add(key);
    t.wantUuid.add(e.uuid);
  });
  if (undecodable > 0 && tree) problem(`the stored bodies were not hashed to the state's frontier: ${undecodable} entries could not be decoded`);
  if (undecodable === 0 && tree && state && !bytesEqual(tree.root(), CompactRange.deserialize(state.frontier).root())) {
    problem(`the stored bodies${rootCheck === 'full' ? '' : ', appended to the start frontier,'} hash to another root than the state's frontier`);
  }
  const held = end > first ? end - first : 0n;
  if (BigInt(entries) !== held || (entries > 0 && next !== end)) problem(`state says ${held} entries from ${first}, the store holds ${entries} ending at ${next}`);

  // The keys as stored, tallied by the run of the entry each names.
  let indexKeys = 0;
  const fields = new Set<number>(Object.values(Field));
  await scanIndexKeys(store.db, id, (k, { field, index }) => {
    indexKeys++;
    if (!fields.has(field)) problem(`index key with unknown field ${field}`);
    run(BigInt(index)).gotIndex.add(k);
  });
  await scanChunks(store.db.keys({ gte: new Uint8Array([Bucket.UUID]), lt: new Uint8Array([Bucket.UUID + 1]) }), (k) => {
    if (readU16(k, 33) === id) run(readU64(k, 35)).gotUuid.add(k);
  });

  const differing = [...runs].filter(([, t]) => !t.consistent(compareIndex)).map(([r]) => r).sort((a, b) => (a < b ? -1 : 1));
  await locate(store, log, id, { runs: new Set(differing.slice(0, LOCATE_RUNS)), shift, compareIndex }, full, problem);
  for (const r of differing.slice(LOCATE_RUNS)) {
    const t = runs.get(r)!;
    problem(`entries ${r << shift}..${((r + 1n) << shift) - 1n}: ${t.gotIndex.count} index and ${t.gotUuid.count} UUID keys stored, ${t.wantIndex.count} and ${t.wantUuid.count} implied, or other keys (not listed entry by entry)`);
  }
  return { log, state, entries, indexKeys, rootCheck, problems };
}

/**
 * The runs whose tallies differ, entry by entry: what each entry implies against the keys stored for it,
 * in one more pass over the entries of those runs and the keys. Entries whose value did not decode were
 * said already, and their keys are not reported as strays.
 */
async function locate(store: Store, log: string, id: number, { runs, shift, compareIndex }: { runs: ReadonlySet<bigint>; shift: bigint; compareIndex: boolean }, full: (index: number) => boolean, problem: (p: string) => void): Promise<void> {
  if (runs.size === 0) return;
  const want = new Map<bigint, { leafHash: string; index: KeyTally; uuidSeen: boolean }>();
  const undecodable = new Set<bigint>();
  for (const r of runs) {
    await scanChunks(store.entryDb.iterator({ gte: entryKey(id, r << shift), lt: entryKey(id, (r + 1n) << shift) }), ([k, v]) => {
      const index = readU64(k, 3);
      try {
        const e = impliedKeys(v, log, id, index, full(Number(index)));
        const t = new KeyTally();
        e.indexKeys.forEach((key) => t.add(key));
        want.set(index, { leafHash: e.leafHash, index: t, uuidSeen: false });
      } catch {
        undecodable.add(index);
      }
    });
  }
  const inRuns = (index: bigint) => runs.has(index >> shift);
  const found = new Map<bigint, KeyTally>();
  await scanIndexKeys(store.db, id, (k, parts) => {
    const index = BigInt(parts.index);
    if (!inRuns(index)) return;
    let t = found.get(index);
    if (!t) found.set(index, (t = new KeyTally()));
    t.add(k);
  });
  if (compareIndex) for (const [index, t] of found) if (!want.has(index) && !undecodable.has(index)) problem(`${t.count} index keys for entry ${index}, which is not stored`);
  if (compareIndex) for (const [index, w] of want) {
    const got = found.get(index) ?? new KeyTally();
    if (!got.equals(w.index)) problem(`entry ${index}: index keys differ from what it implies (expected ${w.index.count}, found ${got.count})`);
  }
  await scanChunks(store.db.keys({ gte: new Uint8Array([Bucket.UUID]), lt: new Uint8Array([Bucket.UUID + 1]) }), (k) => {
    if (readU16(k, 33) !== id) return;
    const index = readU64(k, 35);
    if (!inRuns(index)) return;
    const w = want.get(index);
    if (!w) {
      if (!undecodable.has(index)) problem(`UUID key for entry ${index}, which is not stored`);
    } else if (w.leafHash !== hex(k.subarray(1, 33))) problem(`UUID key for entry ${index} has another leaf hash`);
    else w.uuidSeen = true;
  });
  for (const [index, w] of want) if (!w.uuidSeen) problem(`entry ${index}: no UUID key`);
}

/** The frontier the stored entries extend, when they all belong to the current tree. */
/**
 * A log the store names but holds no state of. One whose first commit never happened holds at most a batch
 * or two of entry values; tree hashes and verified checkpoints are written only by commits, with the state,
 * so a log that has them lost its state, which is not to be taken for an empty log.
 */
async function stateless(store: Store, log: string): Promise<string[]> {
  const id = u16(await store.logId(log));
  const any = async (db: typeof store.db, bucket: number) => (await db.keys({ gte: key(bucket, id), lt: prefixEnd(key(bucket, id)), limit: 1 }).all()).length > 0;
  if (!(await any(store.db, Bucket.CHECKPOINT)) && !(await any(store.db, Bucket.NODE))) return [];
  const values = (await any(store.entryDb, Bucket.ENTRY)) ? 'entry values, ' : '';
  return [`the store holds no state of this log, yet its ${values}tree hashes or verified checkpoints: its state was lost; restore a backup`];
}

function startRange(state: LogState): CompactRange | undefined {
  if (startSeq(state) !== (state.shard?.seq ?? 0)) return undefined;
  if (state.startFrontier) return CompactRange.deserialize(state.startFrontier);
  return localStartIndex(state) === 0n ? CompactRange.empty() : undefined;
}
