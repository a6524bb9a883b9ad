/**
 * Trimming a checkpoint history kept before 3e6fdec, when each verified checkpoint was kept as received:
 * a proxy or upstream that padded notes with signature lines of unknown keys (up to MAX_SIGNATURES, ~480
 * KB a note) left records that big for good. Each record's note is kept again as the mirror keeps one
 * now (mirror/checkpoint-decision.ts rekeptNote: the log's verified line and its configured witnesses'
 * valid cosignatures), so a store made before shrinks. `serve` runs it in the background once per log
 * (history-trim-task.ts): the keys it needs come from the trusted root and the configuration.
 *
 *   per log, records in key order (tree, size), `chunk` at a time:
 *     value ─▶ one signature line? nothing to drop, next
 *           ─▶ rekeptNote ─▶ shorter? the record again with that note (size, root, time unchanged)
 *                         ─▶ no key of the log verifies it (its key left the config)? left as it is, counted
 *     ─▶ one batch: the rewritten records + META `history-trim:<log>` {next key, counts}
 *   ─▶ the progress says `done`; later starts skip the log
 *
 * A commit appends records of larger sizes and never rewrites one this pass read, so the two cannot
 * conflict; a restart resumes after the last batch written (a batch written twice changes nothing more).
 */
import { TlogwatchError } from '../errors.ts';
import { toHex } from '../util/bytes.ts';
import { decodeJson, encodeJson, type VerifiedHead } from './codec.ts';
import type { BatchOp } from './level.ts';
import type { Store } from './store.ts';

/** Records per batch: a verification each (~50-100 µs), so a few tens of ms of the main thread at a time. */
export const HISTORY_TRIM_CHUNK = 512;

export interface HistoryTrimProgress {
  /** Hex of the last record key gone over; absent before the first batch. */
  after?: string;
  done: boolean;
  /** Records gone over, rewritten shorter, and left as they are because no configured key verifies them. */
  records: number;
  trimmed: number;
  unverifiable: number;
  /** Bytes of notes dropped. */
  bytesSaved: number;
}

const SIGNATURE_LINE = /\n\u2014 /g;
const signatureLines = (note: string) => note.match(SIGNATURE_LINE)?.length ?? 0;

/**
 * Goes over `log`'s history from where its kept progress stands, rewriting each record whose note
 * `rekeep` shortens; returns the progress when done, or undefined when `signal` aborted (kept for the next start).
 */
export async function trimCheckpointHistory(store: Store, log: string, rekeep: (note: string) => string, opts: { signal?: AbortSignal; chunk?: number } = {}): Promise<HistoryTrimProgress | undefined> {
  const chunk = opts.chunk ?? HISTORY_TRIM_CHUNK;
  const p: HistoryTrimProgress = (await store.getHistoryTrim(log)) ?? { done: false, records: 0, trimmed: 0, unverifiable: 0, bytesSaved: 0 };
  while (!p.done) {
    if (opts.signal?.aborted) return undefined;
    const records = await store.checkpointRecords(log, p.after, chunk);
    const ops: BatchOp[] = [];
    for (const r of records) {
      const head = decodeJson<VerifiedHead>(r.value);
      p.records++;
      if (signatureLines(head.note) <= 1) continue; // keptNote keeps the log's line: nothing to drop
      let kept: string;
      try {
        kept = rekeep(head.note);
      } catch (e) {
        if (!(e instanceof TlogwatchError)) throw e;
        p.unverifiable++;
        continue;
      }
      if (kept.length >= head.note.length) continue;
      p.trimmed++;
      p.bytesSaved += Buffer.byteLength(head.note) - Buffer.byteLength(kept);
      ops.push({ type: 'put', key: r.key, value: encodeJson({ ...head, note: kept }) });
    }
    if (records.length > 0) p.after = toHex(records[records.length - 1]!.key);
    p.done = records.length < chunk;
    await store.writeHistoryTrim(log, p, ops);
  }
  return p;
}
