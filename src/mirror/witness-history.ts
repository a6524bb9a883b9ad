/**
 * Each configured witness's newest valid cosignature the store holds for a log (https://c2sp.org/tlog-cosignature),
 * read at start so that `tlogwatch_witness_cosignature_timestamp_seconds` has a series for every witness before
 * the log answers. Rounds set it only from checkpoints they poll, so without this a witness that had stopped
 * cosigning before a restart had no series at all, and TlogwatchWitnessCosignatureStale (which compares it with
 * the freshest witness's) stayed silent for exactly that witness.
 *
 *   verified note ─▶ checkpoint history of the current tree, newest first, a page at a time:
 *     each note ─▶ cosignaturesOf(the witnesses not found yet) ─▶ found: its timestamp
 *   ─▶ stop when every witness is found, or past the scan's bounds (WITNESS_HISTORY_SCAN)
 *
 * The history keeps each verified checkpoint's note with the configured witnesses' valid cosignatures
 * (checkpoint-decision.ts keptNote); records written before that keep more, so each line is verified again.
 */
import { cosignaturesOf, type WitnessPolicy } from '../note/witness-policy.ts';
import type { LogState } from '../store/codec.ts';
import type { Store } from '../store/store.ts';

/**
 * How far back the scan goes for a witness it has not found. A day before the newest checkpoint kept is far
 * more than the alert's hour: a witness with no cosignature in it would fire the alert whatever older one the
 * history holds. The record cap bounds the start's cost: reading a record took 10-36 µs (the store's read and
 * JSON decode; a stopped witness has no line to verify), 40-80 µs with an invalid line to verify in each, so
 * 20,000 take 0.2-0.7 s (0.8-1.6 s), measured on 2 shared cores. That is 28 h of checkpoints at the default 5 s
 * poll interval; on a log polled faster than every 0.18 s it is less than the alert's hour, and a witness that
 * stopped within the hour before a restart shows as 0 (firing the alert a little before it would have anyway).
 */
export const WITNESS_HISTORY_SCAN = { seconds: 86_400, records: 20_000, page: 512 };

export interface WitnessHistory {
  /** Witness name → the timestamp (POSIX seconds) in its newest valid cosignature found. */
  newest: Map<string, bigint>;
  /** Checkpoint records read. */
  scanned: number;
}

/** The newest valid cosignature of each of `policy`'s witnesses among `state`'s verified checkpoint and the history kept before it. */
export async function newestCosignatures(store: Store, state: Readonly<LogState>, policy: WitnessPolicy, scan = WITNESS_HISTORY_SCAN): Promise<WitnessHistory> {
  const newest = new Map<string, bigint>();
  const take = (note: string) => {
    // A witness that stopped has no line on the notes kept since: most records need no parse (c2sp.org/signed-note:
    // a signature line is "— <name> <base64>").
    const left = policy.witnesses.filter((w) => !newest.has(w.name) && note.includes(`\n\u2014 ${w.name} `));
    if (left.length === 0) return;
    for (const v of cosignaturesOf(note, { witnesses: left, quorum: 1 }).valid) newest.set(v.witness, v.timestamp);
  };
  if (state.verified) take(state.verified.note);
  let scanned = 0;
  let cursor: string | undefined;
  let since: number | undefined;
  while (newest.size < policy.witnesses.length && scanned < scan.records) {
    const page = await store.listCheckpoints(state.name, { limit: Math.min(scan.page, scan.records - scanned), tree: state.shard?.seq ?? 0, ...(cursor !== undefined ? { cursor } : {}) });
    for (const head of page.checkpoints) {
      since ??= head.at - scan.seconds;
      if (head.at < since) return { newest, scanned };
      scanned++;
      take(head.note);
      if (newest.size === policy.witnesses.length) break;
    }
    if (page.next === null) break;
    cursor = page.next;
  }
  return { newest, scanned };
}
