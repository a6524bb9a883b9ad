/**
 * `serve`'s background trim of checkpoint histories kept before 3e6fdec (store/history-trim.ts says what it
 * rewrites and why it cannot race the followers' commits): once per followed log, with the keys the
 * follower verifies that log with (the trusted root's, the configured witnesses'). It logs each log's
 * counts when done, and warns of records no configured key verifies any more (left as they are). A failed
 * or interrupted pass resumes from its kept progress at the next start.
 */
import { describeError } from './errors.ts';
import type { Logger } from './logger.ts';
import { rekeptNote } from './mirror/checkpoint-decision.ts';
import type { NoteVerifier } from './note/note.ts';
import type { WitnessPolicy } from './note/witness-policy.ts';
import { trimCheckpointHistory } from './store/history-trim.ts';
import type { Store } from './store/store.ts';

export interface TrimmedLog {
  name: string;
  /** The log's checkpoint keys, as its follower has them. */
  verifiers: readonly NoteVerifier[];
  witnesses?: WitnessPolicy;
}

/** Resolves when every log is done, `signal` aborted, or a pass failed (logged; never rejects). */
export async function runHistoryTrim(store: Store, logs: readonly TrimmedLog[], logger: Logger, signal: AbortSignal, chunk?: number): Promise<void> {
  for (const l of logs) {
    if (signal.aborted) return;
    try {
      if ((await store.getHistoryTrim(l.name))?.done) continue;
      const started = performance.now();
      const p = await trimCheckpointHistory(store, l.name, (note) => rekeptNote(note, l.verifiers, l.witnesses), { signal, ...(chunk ? { chunk } : {}) });
      if (!p) return;
      const counts = { log: l.name, records: p.records, trimmed: p.trimmed, bytesSaved: p.bytesSaved, unverifiable: p.unverifiable, ms: Math.round(performance.now() - started) };
      if (p.trimmed > 0) logger.info(counts, `checkpoint history of ${l.name}: ${p.trimmed} records kept before this version with signature lines no configured key verified now keep only the verified ones`);
      if (p.unverifiable > 0) {
        logger.warn(counts, `checkpoint history of ${l.name}: ${p.unverifiable} records are verified by none of the log's configured keys (a key removed from the trusted root or config?) and were left as they are`);
      }
    } catch (e) {
      logger.error({ log: l.name, err: describeError(e) }, 'trimming the checkpoint history failed; it resumes where it stopped at the next start');
    }
  }
}
