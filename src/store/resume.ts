/**
 * Resuming a halted log (`tlogwatch resume`), once an operator has looked at the evidence and found the
 * cause outside the log: a wrong key in a pinned trusted root, a configuration mistake, a proxy that
 * served bad bytes for longer than the follower's confirmation rounds. A halt is sticky (DESIGN.md
 * principle 2) and tlogwatch never lifts one on its own; before this command the only way back was to move
 * the whole store away, every log's entries with it.
 *
 * Resuming keeps what was verified and nothing else:
 *
 *   halted, with a verified checkpoint in the current tree (or entries held past its verified start, or a
 *   Rekor v1 tree entered after the first, held from its leaf 0; rollback.ts unverifiedFrom):
 *     entries fetched beyond it ─▶ rolled back (rollback.ts: index keys, tree hashes, values; findings
 *     raised on them marked) ─▶ state `following` at the verified frontier, no halt
 *   halted before anything of it was verified or stored (a wrong key at the first checkpoint, a start
 *   frontier that did not check):
 *     its state and any tree hashes written for it deleted ─▶ the next start bootstraps it as new
 *
 * Either way the follower re-fetches and re-verifies everything past the last verified checkpoint, so a
 * log that really misbehaved halts again, with new evidence. The halt itself is kept: the `log-integrity`
 * finding stays as it was (open until acked), and each resume appends the halt it lifted, when, why and
 * by how many entries it rolled back to the log's resume history (META `resumed:<log>`), which no later
 * state write touches.
 */
import { TlogwatchError } from '../errors.ts';
import type { Finding } from '../monitor/finding.ts';
import { encodeJson, decodeJson, fetchedSize, logPhase, startSeq, type HaltInfo, type LogState, type LogStatus } from './codec.ts';
import { Bucket, key, prefixEnd, u16 } from './keys.ts';
import type { BatchOp } from './level.ts';
import { rollBackTree, unverifiedFrom } from './rollback.ts';
import type { Store } from './store.ts';

/** One lifted halt, as the resume history keeps it. */
export interface ResumeRecord {
  halt: Pick<HaltInfo, 'code' | 'message' | 'at'>;
  /** Unix seconds. */
  resumedAt: number;
  reason: string;
  /** Entries rolled back to the verified checkpoint (as a decimal string: BigInt has no JSON form). */
  rolledBack: string;
  /** True when nothing of the log was verified or stored and it starts again as new. */
  reset: boolean;
}

/** Records kept per log: the newest. */
export const RESUME_HISTORY_MAX = 100;

export type ResumeOutcome =
  | { resumed: false; status: LogStatus }
  | { resumed: true; record: ResumeRecord; verifiedSize: bigint | undefined; fetched: bigint };

const historyKey = (log: string) => key(Bucket.META, 'resumed:', log);

/** The log's resume history, oldest first. */
export async function resumeHistory(store: Store, log: string): Promise<ResumeRecord[]> {
  const v = await store.db.get(historyKey(log));
  return v === undefined ? [] : decodeJson<ResumeRecord[]>(v);
}

/**
 * True when the log's halted state holds nothing verified and no entries: the halt came before its first
 * verified checkpoint and before a first batch committed (a halt then may also carry a start frontier the
 * failing round built in memory and never committed, which must not be followed from). The entries held,
 * not the start frontier, say so: a store from before start frontiers has none however many it holds, and
 * forgetting its state would leave their values and index keys with no state to account for them.
 */
function neverStored(state: LogState): boolean {
  if (state.verified || (state.shard?.seq ?? 0) !== startSeq(state)) return false;
  return fetchedSize(state) <= state.startIndex;
}

/**
 * Lifts `log`'s halt as the file comment says. `reason` is required: a resume is a decision someone
 * made about evidence of misbehaviour, and the history says who decided what. `now` in unix seconds.
 */
export async function resumeLog(store: Store, log: string, reason: string, now: number): Promise<ResumeOutcome> {
  if (reason.trim() === '') throw new TlogwatchError('CONFIG_INVALID', 'a reason is required: say why the halt no longer stands (it is kept in the log\'s resume history)', { kind: 'fatal' });
  const state = await store.getLogState(log);
  if (!state) {
    // Known by name with no state: resumed as new before, and not yet bootstrapped again.
    if (store.logNamesKnown().includes(log)) return { resumed: false, status: 'bootstrapping' };
    throw new TlogwatchError('CONFIG_INVALID', `the store has no state for log ${log}: it was never mirrored`, { kind: 'fatal' });
  }
  if (state.status !== 'halted' || !state.halt) return { resumed: false, status: logPhase(state) };
  const halt = state.halt;
  const history = await resumeHistory(store, log);
  const record = (rolledBack: bigint, reset: boolean): ResumeRecord => ({ halt: { code: halt.code, message: halt.message, at: halt.at }, resumedAt: now, reason, rolledBack: rolledBack.toString(), reset });
  const historyOp = (r: ResumeRecord): BatchOp => ({ type: 'put', key: historyKey(log), value: encodeJson([...history, r].slice(-RESUME_HISTORY_MAX)) });

  if (neverStored(state)) {
    const id = await store.logId(log);
    const r = record(0n, true);
    const ops: BatchOp[] = [historyOp(r)];
    // Tree hashes a bootstrap may have written for a start frontier (tree-hashes.ts preStartNodes), of every
    // tree: the next bootstrap may start elsewhere (`latest`), and none of them was verified against a root.
    for await (const k of store.db.keys({ gte: key(Bucket.NODE, u16(id)), lt: prefixEnd(key(Bucket.NODE, u16(id))) })) ops.push({ type: 'del', key: k });
    await store.forgetLogState(log, ops);
    return { resumed: true, record: r, verifiedSize: undefined, fetched: 0n };
  }

  const to = unverifiedFrom(state);
  // Entries past the verified checkpoint were fetched by the rounds that led to the halt, or before it:
  // none of them was verified, and the evidence may rest on them. Findings raised on them are marked.
  const mark: NonNullable<Finding['entryRolledBack']> = { at: now, reason: halt.code };
  const { state: rolled, entries } = await rollBackTree(store, state, to, { mark });
  const { halt: _lifted, ...rest } = rolled;
  const resumed: LogState = { ...rest, status: 'following' };
  const r = record(entries, false);
  await store.putLogState(resumed, [historyOp(r)]);
  return { resumed: true, record: r, verifiedSize: resumed.verified && (resumed.shard?.offset ?? 0n) + resumed.verified.size, fetched: fetchedSize(resumed) };
}
