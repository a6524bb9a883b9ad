/**
 * Re-indexing a store whose index keys an older decoder wrote (entries/decoder-epoch.ts): every held
 * entry's record is derived again by the current decoder; the index keys it implies that the store lacks
 * are written, and then the keys no entry implies any more (stale keys) are deleted. `serve` runs it in
 * the background when it opens a store at an older epoch (reindex-task.ts).
 *
 *   per log, chunks of entries in index order:
 *     values (entries db) ─▶ impliedKeys ─▶ hasMany ─▶ missing keys
 *     ─▶ one batch: the missing keys + META `reindex:<log>` {epoch, next, implied keys per run}
 *   then, when an epoch since the store's can drop keys (decoder-epoch.ts), the sweep: one scan of the
 *     index counts each run's stored keys; a run holding more than its entries imply (all of which are
 *     stored now) holds stale ones: its entries are derived again, and one more scan deletes its keys
 *     that none implies
 *   ─▶ the log's progress says `done`
 *   every log done ─▶ META `decoderEpoch` = DECODER_EPOCH, the progress keys deleted
 *
 * - Which entries get their full keys: all of them when the store records `index: all`; otherwise those
 *   whose time key is stored (written for exactly the fully indexed entries, index-values.ts), the rest
 *   their digests alone, as `tlogwatch check` judges a `watched` store (check.ts FullIndex `recorded`).
 * - Only the entries held when a log's pass starts (before `next`) are gone over: an entry committed after
 *   is indexed by this decoder already. A commit writes its own entries' keys only, so it cannot conflict
 *   with a batch, and a batch written twice (a restart resumes after the last batch whose progress was
 *   written with it) adds or deletes nothing the second time.
 * - Kept although no body implies it: a digest key of an entry that a bundle posted to POST /v1/bundles
 *   lent its subjects to (bundles-post.ts), and any key of an entry whose value does not decode (counted;
 *   `tlogwatch check` reports it). A bundle posted between the sweep's check and its delete could lose
 *   a subject key the entry's stale keys happened to hold; it is the one writer besides a commit.
 * - The counting keeps the sweep cheap where it finds nothing: one scan of the index (~20 s of CPU per
 *   million entries), no entry derived twice, and nothing held but a count per 65,536 entries.
 */
import { DECODER_EPOCH, mayHoldStaleKeys } from '../entries/decoder-epoch.ts';
import { heldRange } from './codec.ts';
import { impliedKeys, scanIndexKeys, storedKeys, timeKeyStored } from './implied-keys.ts';
import { entryKey, Field, MARKER, readU64 } from './keys.ts';
import type { BatchOp } from './level.ts';
import { RUN_ENTRIES, type ReindexProgress } from './reindex-progress.ts';
import type { Store } from './store.ts';

/** Entries per batch: ~45 µs each to derive (BENCHMARKS.md "Store"), so ~45 ms of the main thread at a time. */
export const REINDEX_CHUNK = 1024;
/**
 * Runs whose entries the sweep derives again and compares in one scan of the index: 1M entries, ~7M
 * keys' hashes, ~60 MB. Each group costs a scan (~30 s of CPU per million entries held).
 */
const SWEEP_RUNS = 16;

export interface ReindexCounts {
  /** Entries gone over. */
  entries: number;
  /** Index keys written: those the entries imply that the store lacked. */
  added: number;
  /** Index keys deleted: those of held entries that none implies (stale keys). */
  removed: number;
  /** Entries whose value did not decode (left as they are). */
  undecodable: number;
}

export interface ReindexOptions {
  signal?: AbortSignal;
  chunk?: number;
  /**
   * Whether to delete stale keys after a log's pass (the sweep). By default only when an epoch since the
   * store's says its change can drop keys (entries/decoder-epoch.ts mayHoldStaleKeys): otherwise the
   * store holds none, and the sweep's scan of the whole index would cost ~40% more for nothing.
   */
  sweep?: boolean;
  /** After each chunk written: the log, and how many of the entries held at its start are left. */
  progress?: (log: string, remaining: bigint) => void;
}

/** The first entry a log's re-index goes over: after its kept progress, or its first held entry. */
export function resumeAt(held: { start: bigint }, done: bigint | undefined): bigint {
  return done !== undefined && done > held.start ? done : held.start;
}

/** Which of an entry's implied keys it must have: all when fully indexed, else its digests. */
function wantedKeys(indexKeys: Uint8Array[], stored: boolean[], everyEntryFull: boolean): { keys: Uint8Array[]; stored: boolean[] } {
  if (everyEntryFull || timeKeyStored(indexKeys, stored)) return { keys: indexKeys, stored };
  const digests = indexKeys.map((k, i) => [k, stored[i]!] as const).filter(([k]) => k[1] === Field.DIGEST);
  return { keys: digests.map(([k]) => k), stored: digests.map(([, s]) => s) };
}

/** The entries in [from, to), derived: each one's wanted keys and which of them are stored, or undefined when its value does not decode. */
async function derive(store: Store, log: string, id: number, from: bigint, to: bigint, limit?: number): Promise<{ last: bigint | undefined; entries: Array<{ index: bigint; keys: Uint8Array[]; stored: boolean[] } | { index: bigint; keys: undefined }> }> {
  const values = await store.entryDb.iterator({ gte: entryKey(id, from), lt: entryKey(id, to), ...(limit ? { limit } : {}) }).all();
  const decoded = values.map(([k, v]) => {
    const index = readU64(k, 3);
    try {
      return { index, keys: impliedKeys(v, log, id, index, true).indexKeys };
    } catch {
      // A value too damaged to decode (check.ts says the same of it): what it implies is unknown.
      return { index, keys: undefined };
    }
  });
  const stored = await storedKeys(store.db, decoded.map((d) => d.keys ?? []));
  const everyEntryFull = store.recordedIndexMode === 'all';
  return {
    last: values.length ? readU64(values[values.length - 1]![0], 3) : undefined,
    entries: decoded.map((d, i) => (d.keys ? { index: d.index, ...wantedKeys(d.keys, stored[i]!, everyEntryFull) } : { index: d.index, keys: undefined })),
  };
}

/**
 * Re-indexes one log from where its progress stands (or its first held entry) to the end of what it holds
 * now, then sweeps its stale keys. Returns undefined when `signal` aborted it (its progress kept for the
 * next run).
 */
export async function reindexLog(store: Store, log: string, opts: ReindexOptions = {}): Promise<ReindexCounts | undefined> {
  const counts: ReindexCounts = { entries: 0, added: 0, removed: 0, undecodable: 0 };
  const state = await store.getLogState(log);
  if (!state) return counts;
  const kept = await store.getReindexProgress(log, DECODER_EPOCH);
  if (kept?.done) return counts;
  const id = await store.logId(log);
  const held = heldRange(state);
  const progress: ReindexProgress = { next: resumeAt(held, kept?.next), implied: new Map(kept?.implied ?? []), done: false };
  const chunk = opts.chunk ?? REINDEX_CHUNK;
  while (progress.next < held.end) {
    if (opts.signal?.aborted) return undefined;
    const { last, entries } = await derive(store, log, id, progress.next, held.end, chunk);
    if (last === undefined) break;
    const ops: BatchOp[] = [];
    for (const e of entries) {
      counts.entries++;
      if (!e.keys) {
        counts.undecodable++;
        continue;
      }
      const run = Number(e.index / BigInt(RUN_ENTRIES));
      progress.implied.set(run, (progress.implied.get(run) ?? 0) + e.keys.length);
      e.keys.forEach((key, i) => void (!e.stored[i] && ops.push({ type: 'put', key, value: MARKER })));
    }
    progress.next = last + 1n;
    await store.writeReindexed(log, DECODER_EPOCH, progress, ops);
    counts.added += ops.length;
    opts.progress?.(log, held.end - progress.next);
  }
  if (opts.signal?.aborted) return undefined;
  if (opts.sweep ?? mayHoldStaleKeys(store.indexedEpoch)) {
    const removed = await sweep(store, log, id, progress, opts.signal);
    if (removed === undefined) return undefined;
    counts.removed = removed;
  }
  await store.writeReindexed(log, DECODER_EPOCH, { ...progress, done: true }, []);
  return counts;
}

/** A log's index keys, with the entry each names, for entries before `end`. */
async function scanLogKeys(store: Store, id: number, end: bigint, visit: (key: Uint8Array, index: number) => void): Promise<void> {
  const last = Number(end);
  await scanIndexKeys(store.db, id, (k, { index }) => void (index < last && visit(k, index)));
}

/** A 53-bit FNV-1a-style hash of a key (two 32-bit lanes): a stale key taken for an implied one stays, nothing worse. */
function keyHash(k: Uint8Array): number {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (const byte of k) {
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

/**
 * Deletes the index keys of the log's entries before `progress.next` that none of them implies (see the
 * file comment); returns how many, or undefined when `signal` aborted it.
 */
async function sweep(store: Store, log: string, id: number, progress: ReindexProgress, signal?: AbortSignal): Promise<number | undefined> {
  const stored = new Map<number, number>();
  await scanLogKeys(store, id, progress.next, (_k, index) => {
    const run = Math.floor(index / RUN_ENTRIES);
    stored.set(run, (stored.get(run) ?? 0) + 1);
  });
  const differing = [...stored].filter(([run, n]) => n !== (progress.implied.get(run) ?? 0)).map(([run]) => run).sort((a, b) => a - b);
  let removed = 0;
  for (let at = 0; at < differing.length; at += SWEEP_RUNS) {
    if (signal?.aborted) return undefined;
    const runs = new Set(differing.slice(at, at + SWEEP_RUNS));
    // Sized by the pass's counts, which the same decoder gives again.
    let implied = new Float64Array([...runs].reduce((n, run) => n + (progress.implied.get(run) ?? 0), 0));
    let filled = 0;
    const add = (h: number) => {
      if (filled === implied.length) {
        const grown = new Float64Array(implied.length * 2 + REINDEX_CHUNK);
        grown.set(implied);
        implied = grown;
      }
      implied[filled++] = h;
    };
    const undecodable = new Set<number>();
    for (const run of runs) {
      const from = BigInt(run * RUN_ENTRIES);
      const to = BigInt((run + 1) * RUN_ENTRIES) < progress.next ? BigInt((run + 1) * RUN_ENTRIES) : progress.next;
      for (let next = from; next < to; ) {
        const { last, entries } = await derive(store, log, id, next, to, REINDEX_CHUNK);
        if (last === undefined) break;
        for (const e of entries) {
          if (e.keys) for (const k of e.keys) add(keyHash(k));
          else undecodable.add(Number(e.index));
        }
        next = last + 1n;
      }
    }
    const known = implied.subarray(0, filled).sort();
    const stale: Array<{ key: Uint8Array; index: number }> = [];
    await scanLogKeys(store, id, progress.next, (k, index) => {
      if (runs.has(Math.floor(index / RUN_ENTRIES)) && !undecodable.has(index) && !includes(known, keyHash(k))) stale.push({ key: k, index });
    });
    // A digest key may be a posted bundle's subject (bundles-post.ts): kept when the entry has one.
    const digests = stale.filter((s) => s.key[1] === Field.DIGEST);
    const lent = new Set((await store.postedBundles(log, digests.map((s) => s.index))).flatMap((has, i) => (has ? [digests[i]!.index] : [])));
    const dels = stale.filter((s) => !(s.key[1] === Field.DIGEST && lent.has(s.index))).map((s): BatchOp => ({ type: 'del', key: s.key }));
    for (let i = 0; i < dels.length; i += REINDEX_CHUNK) await store.writeReindexed(log, DECODER_EPOCH, progress, dels.slice(i, i + REINDEX_CHUNK));
    removed += dels.length;
  }
  return removed;
}

/** Binary search in a sorted array. */
function includes(sorted: Float64Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] === x;
}

/**
 * Re-indexes every log the store knows, then records DECODER_EPOCH. Returns the totals, or undefined when
 * `signal` aborted it (each log's progress kept). A store already at this epoch is left alone and gives
 * undefined too (one at a later epoch does not open: store.ts).
 */
export async function reindexStore(store: Store, opts: ReindexOptions = {}): Promise<(ReindexCounts & { logs: number }) | undefined> {
  if (store.indexedEpoch >= DECODER_EPOCH) return undefined;
  const logs = store.logNamesKnown().sort();
  const total: ReindexCounts & { logs: number } = { entries: 0, added: 0, removed: 0, undecodable: 0, logs: logs.length };
  for (const log of logs) {
    const c = await reindexLog(store, log, opts);
    if (!c) return undefined;
    total.entries += c.entries;
    total.added += c.added;
    total.removed += c.removed;
    total.undecodable += c.undecodable;
  }
  if (opts.signal?.aborted) return undefined;
  await store.recordIndexedEpoch(DECODER_EPOCH, logs);
  return total;
}
