/**
 * `serve`'s background re-index of a store indexed at an older decoder epoch (store/reindex.ts says what it
 * writes and why it cannot race the followers' commits): started once the followers run, it logs when it
 * starts and ends with its counts, publishes tlogwatch_store_reindex_remaining_entries per log, and retries
 * after a failure from the progress kept. The failure to expect is a write fault (a full disk): the store
 * then refuses every write until it has reopened (store/write-fault.ts), so a retry reopens it first, as a
 * follower's round does, rather than wait for a follower to.
 */
import { DECODER_EPOCH } from './entries/decoder-epoch.ts';
import { describeError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { abortableSleep } from './sources/http.ts';
import { heldRange } from './store/codec.ts';
import { reindexStore, resumeAt, type ReindexOptions } from './store/reindex.ts';
import type { Store } from './store/store.ts';
import { writeFailedError } from './store/write-fault.ts';

/** How long a failed pass waits before the next one resumes. */
export const REINDEX_RETRY_MS = 30_000;

/** The background re-index's tuning; the defaults are what `serve` runs with (tests shorten them). */
export interface ReindexTuning {
  /** Entries per batch (store/reindex.ts REINDEX_CHUNK). */
  chunk?: number;
  /** The wait after a failed pass before the next one (REINDEX_RETRY_MS). */
  retryMs?: number;
}

/** Entries of each log that a re-index has still to go over, from its kept progress. */
async function remaining(store: Store): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const log of store.logNamesKnown()) {
    const state = await store.getLogState(log);
    if (!state) continue;
    const held = heldRange(state);
    const kept = await store.getReindexProgress(log, DECODER_EPOCH);
    const next = kept?.done ? held.end : resumeAt(held, kept?.next);
    out.set(log, held.end > next ? held.end - next : 0n);
  }
  return out;
}

/**
 * Runs until the store records DECODER_EPOCH or `signal` aborts; resolves either way (never rejects). An
 * abort ends a pass after its current batch, and a wait for the retry at once.
 */
export async function runReindex(store: Store, metrics: Metrics, logger: Logger, signal: AbortSignal, tuning: ReindexTuning = {}): Promise<void> {
  if (store.indexedEpoch >= DECODER_EPOCH) return;
  const from = store.indexedEpoch;
  const started = performance.now();
  const retryMs = tuning.retryMs ?? REINDEX_RETRY_MS;
  const progress: ReindexOptions['progress'] = (log, n) => {
    metrics.storeReindexRemaining.set({ log }, Number(n));
    logger.debug({ log, remaining: Number(n) }, 're-indexed a batch');
  };
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      // After a write fault the store refuses writes until reopened; reopening waits for room (write-fault.ts).
      const fault = store.writeFault;
      if (fault && !(await store.recover())) throw writeFailedError(store.writeFault ?? fault);
      const left = await remaining(store);
      for (const [log, n] of left) metrics.storeReindexRemaining.set({ log }, Number(n));
      const entries = [...left.values()].reduce((a, b) => a + b, 0n);
      logger.info({ fromEpoch: from, toEpoch: DECODER_EPOCH, logs: left.size, entries: Number(entries), attempt }, `re-indexing the store in the background: its index keys were written by an older decoder (epoch ${from}, this one is ${DECODER_EPOCH}); searches may miss entries until it ends`);
      const done = await reindexStore(store, { signal, progress, ...(tuning.chunk ? { chunk: tuning.chunk } : {}) });
      if (!done) return; // aborted: the progress is kept for the next start
      for (const log of left.keys()) metrics.storeReindexRemaining.set({ log }, 0);
      logger.info({ epoch: DECODER_EPOCH, logs: done.logs, entries: done.entries, keysAdded: done.added, keysRemoved: done.removed, undecodable: done.undecodable, ms: Math.round(performance.now() - started) }, 're-indexing done: every entry has the index keys this decoder implies');
      if (done.undecodable > 0) logger.warn({ undecodable: done.undecodable }, 're-indexing left entries whose stored value does not decode: run tlogwatch check');
      return;
    } catch (e) {
      logger.error({ err: describeError(e), attempt, retryInMs: retryMs }, 're-indexing failed; it resumes where it stopped');
      await abortableSleep(retryMs, signal).catch(() => undefined);
    }
  }
}
