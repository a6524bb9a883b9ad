/**
 * Re-indexing a store whose index keys an older decoder wrote (entries/decoder-epoch.ts): every held
 * entry's record is derived again by the current decoder, and the index keys it implies that the store
 * lacks are written. `serve` runs it in the background when it opens a store at an older epoch (daemon.ts).
 *
 *   per log, chunks of entries in index order:
 *     values (entries db) ─▶ impliedKeys (check.ts, as a commit builds them) ─▶ hasMany ─▶ missing keys
 *     ─▶ one batch: the missing keys + META `reindex:<log>` {epoch, next}
 *   every log done ─▶ META `decoderEpoch` = DECODER_EPOCH, the progress keys deleted
 *
 * - Which entries get their full keys: all of them when the store records `index: all`; otherwise those
 *   whose time key is stored (written for exactly the fully indexed entries, index-values.ts), the rest
 *   their digests alone, as `tlogwatch check` judges a `watched` store (check.ts FullIndex `recorded`).
 * - Only the entries held when a log's re-index starts are gone over: an entry committed after is indexed
 *   by this decoder already. Keys are only added, never deleted, so a commit writing at the same time
 *   cannot conflict with a chunk, and neither can a chunk written twice (a restart resumes after the last
 *   batch whose progress was written with it).
 * - Keys an older decoder wrote that this one does not imply stay: nothing says what that decoder derived,
 *   and the index also holds keys no body implies (digests of bundles posted to POST /v1/bundles). They
 *   are docs/architecture.md's "stale keys".
 * - An entry whose value does not decode is counted and left: `tlogwatch check` reports it.
 */
import { DECODER_EPOCH } from '../entries/decoder-epoch.ts';
import { heldRange } from './codec.ts';
import { impliedKeys, timeKeyStored } from './check.ts';
import { MARKER, entryKey, Field, readU64 } from './keys.ts';
import type { BatchOp } from './level.ts';
import type { Store } from './store.ts';

/** Entries per batch: ~45 µs each to derive (BENCHMARKS.md "Store"), so ~45 ms of the main thread at a time. */
export const REINDEX_CHUNK = 1024;

export interface ReindexCounts {
  /** Entries gone over. */
  entries: number;
  /** Index keys written: those the entries imply that the store lacked. */
  added: number;
  /** Entries whose value did not decode (left as they are). */
  undecodable: number;
}

export interface ReindexOptions {
  signal?: AbortSignal;
  chunk?: number;
  /** After each chunk written: the log, and how many of the entries held at its start are left. */
  progress?: (log: string, remaining: bigint) => void;
}

/** The first entry a log's re-index goes over: after its kept progress, or its first held entry. */
export function resumeAt(held: { start: bigint }, done: bigint | undefined): bigint {
  return done !== undefined && done > held.start ? done : held.start;
}

/**
 * Re-indexes one log from where its progress stands (or its first held entry) to the end of what it holds
 * now. Returns undefined when `signal` aborted it (its progress kept for the next run).
 */
export async function reindexLog(store: Store, log: string, opts: ReindexOptions = {}): Promise<ReindexCounts | undefined> {
  const counts: ReindexCounts = { entries: 0, added: 0, undecodable: 0 };
  const state = await store.getLogState(log);
  if (!state) return counts;
  const id = await store.logId(log);
  const held = heldRange(state);
  let next = resumeAt(held, await store.getReindexProgress(log, DECODER_EPOCH));
  const chunk = opts.chunk ?? REINDEX_CHUNK;
  const everyEntryFull = store.recordedIndexMode === 'all';
  while (next < held.end) {
    if (opts.signal?.aborted) return undefined;
    const values = await store.entryDb.iterator({ gte: entryKey(id, next), lt: entryKey(id, held.end), limit: chunk }).all();
    if (values.length === 0) break;
    const implied: Array<ReturnType<typeof impliedKeys>> = [];
    for (const [k, v] of values) {
      counts.entries++;
      try {
        implied.push(impliedKeys(v, log, id, readU64(k, 3), true));
      } catch {
        // A value too damaged to decode (check.ts says the same of it): what it implies is unknown.
        counts.undecodable++;
      }
    }
    const keys = implied.flatMap((i) => i.indexKeys);
    const has = keys.length ? await store.db.hasMany(keys) : [];
    const ops: BatchOp[] = [];
    let at = 0;
    for (const { indexKeys } of implied) {
      const stored = has.slice(at, at + indexKeys.length);
      at += indexKeys.length;
      const full = everyEntryFull || timeKeyStored(indexKeys, stored);
      indexKeys.forEach((key, i) => {
        if (!stored[i] && (full || key[1] === Field.DIGEST)) ops.push({ type: 'put', key, value: MARKER });
      });
    }
    const last = values[values.length - 1]![0];
    next = readU64(last, 3) + 1n;
    await store.writeReindexed(log, DECODER_EPOCH, next, ops);
    counts.added += ops.length;
    opts.progress?.(log, held.end - next);
  }
  return counts;
}

/**
 * Re-indexes every log the store knows, then records DECODER_EPOCH. Returns the totals, or undefined when
 * `signal` aborted it (each log's progress kept). A store already at this epoch (or a later one, which
 * this decoder cannot judge) is left alone and gives undefined too.
 */
export async function reindexStore(store: Store, opts: ReindexOptions = {}): Promise<(ReindexCounts & { logs: number }) | undefined> {
  if (store.indexedEpoch >= DECODER_EPOCH) return undefined;
  const logs = store.logNamesKnown().sort();
  const total: ReindexCounts & { logs: number } = { entries: 0, added: 0, undecodable: 0, logs: logs.length };
  for (const log of logs) {
    const c = await reindexLog(store, log, opts);
    if (!c) return undefined;
    total.entries += c.entries;
    total.added += c.added;
    total.undecodable += c.undecodable;
  }
  if (opts.signal?.aborted) return undefined;
  await store.recordIndexedEpoch(DECODER_EPOCH, logs);
  return total;
}
