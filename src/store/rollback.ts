/**
 * Rolling a log's current tree back to a smaller size: the entries fetched beyond it forgotten as if they
 * had never been committed. The follower does this when the root recomputed over entries it committed
 * does not match the signed one (mirror/follower.ts rollBackUnverified): one of them is not the log's,
 * and until they go every later round would recompute the same wrong root from the committed frontier.
 *
 *   entries [to, fetched), last chunk first:
 *     values (entries db) ─▶ impliedKeys ─▶ del index + UUID keys ─┐
 *     tree hashes over any leaf ≥ X ─▶ del ────────────────────────┼─▶ one batch with the state at X
 *     frontier at X (stored hashes left of X) ─▶ state ────────────┘   then the values [X, …) dropped
 *
 * Each chunk [X, end) is one atomic batch of the main database (store.ts writeState) that deletes the
 * chunk's index and UUID keys and every stored tree hash over a leaf at or past X, and moves the state's
 * frontier back to X; its entry values are dropped after it (values beyond the state are invisible and
 * dropped at the next open anyway, store.ts). So every state written on the way is one a catch-up could
 * have committed: a crash, or a write fault, between two chunks leaves a log whose frontier ends at X,
 * and whose next round either verifies (the bad entry was past X) or rolls back again. One batch for the
 * whole range would hold ~11 deletions per entry in memory at once (index keys, UUID, tree hashes).
 */
import { TlogwatchError } from '../errors.ts';
import { CompactRange } from '../merkle/compact.ts';
import { frontierNodeIds } from '../merkle/tiles.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';
import { frontierSize, startSeq, type LogState } from './codec.ts';
import type { Finding } from '../monitor/finding.ts';
import { findingOps, FindingsRepo } from './findings.ts';
import { fileRolledBack } from './rolled-back-findings.ts';
import { impliedKeys } from './implied-keys.ts';
import { Bucket, entryKey, key, nodeKey, prefixEnd, readU64, treeKey, u16, u64 } from './keys.ts';
import type { BatchOp } from './level.ts';
import type { Store } from './store.ts';

/** Entries per atomic step, as the re-index's chunks (reindex.ts): a few MB of deletions at most. */
export const ROLLBACK_CHUNK = 4096n;

/** Tree levels a node key can have (a u64 index: a node above level 63 covers more leaves than a tree has). */
const LEVELS = 64;

/**
 * The size of the current tree the entries committed beyond were never verified from, and the frontier
 * there as the state knows it (or undefined: rebuilt from the stored tree hashes):
 * - the verified checkpoint's size, when one of this tree is verified;
 * - else where the mirror's held range starts in this tree: a Rekor v1 tree entered after the one the
 *   mirror started in is held from its first leaf, whatever the state says of the start (a store from
 *   before start frontiers that moved on to a later tree cannot say where the first tree's entries start,
 *   and need not); the tree that holds startIndex from there, whose frontier (startFrontier) was verified
 *   when it was written, or in a store from before start frontiers rebuilt from the tree hashes kept left
 *   of the start (tree-hashes.ts preStartNodes). Below a verified checkpoint `backfill`'s range
 *   [startIndex, …) is never reached; with none verified yet it may be, and is then fetched again by the
 *   catch-up, from the frontier backfill verified.
 */
export function unverifiedFrom(state: LogState): { size: bigint; frontier?: CompactRange } {
  if (state.verified) return { size: state.verified.size };
  const seq = state.shard?.seq ?? 0;
  if (startSeq(state) !== seq) return { size: 0n, frontier: CompactRange.empty() };
  if (state.startFrontier) return { size: frontierSize(state.startFrontier), frontier: CompactRange.deserialize(state.startFrontier) };
  // The current tree holds startIndex: the one the mirror started in (a tree before it has a negative
  // sequence, never the current one's), whose leaf 0 is at the shard's offset.
  return { size: state.startIndex - (state.shard?.offset ?? 0n) };
}

/** The frontier of the current tree's [0, size) from the stored tree hashes (tree-hashes.ts readNode). */
export async function storedFrontier(store: Store, state: LogState, size: bigint): Promise<CompactRange> {
  if (size === 0n) return CompactRange.empty();
  return CompactRange.fromNodes(size, await store.hashReader(state.name, state.shard?.seq ?? 0)(frontierNodeIds(size)));
}

/** Deletions of every stored tree hash of tree `seq` over a leaf at or past `from`: node (L, i) covers [i·2^L, (i+1)·2^L). */
async function nodesFrom(store: Store, id: number, seq: number, from: bigint): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  for (let level = 0; level < LEVELS; level++) {
    const end = prefixEnd(key(Bucket.NODE, u16(id), u16(treeKey(seq)), level));
    for await (const k of store.db.keys({ gte: nodeKey(id, seq, level, from >> BigInt(level)), lt: end })) ops.push({ type: 'del', key: k });
  }
  return ops;
}

/**
 * Deletions of the index and UUID keys the entries (virtual indexes) [from, to) were committed with
 * (implied-keys.ts), with each entry's UUID by index and the earliest time one was observed (ingest.ts).
 */
async function entryKeys(store: Store, log: string, id: number, from: bigint, to: bigint): Promise<{ ops: BatchOp[]; uuids: Map<number, string>; observedSince: number }> {
  const ops: BatchOp[] = [];
  const uuids = new Map<number, string>();
  let observedSince = Number.MAX_SAFE_INTEGER;
  for (const [k, v] of await store.entryDb.iterator({ gte: entryKey(id, from), lt: entryKey(id, to) }).all()) {
    const index = readU64(k, 3);
    let implied;
    try {
      // Every key an entry can have (full): a key not stored (`index: watched`) is deleted as nothing.
      implied = impliedKeys(v, log, id, index, true);
    } catch (e) {
      // Committed by this tlogwatch moments ago, a value that no longer decodes is damage on disk: which keys
      // it had is unknown, so nothing of it is rolled back (a scan of the whole index would be needed).
      throw new TlogwatchError('STORE_CORRUPT', `entry ${index} of ${log} does not decode, so its index keys cannot be deleted: run tlogwatch check`, { kind: 'fatal', cause: e });
    }
    for (const ik of implied.indexKeys) ops.push({ type: 'del', key: ik });
    ops.push({ type: 'del', key: implied.uuid });
    uuids.set(Number(index), implied.entry.uuid);
    observedSince = Math.min(observedSince, implied.entry.observedAt ?? 0);
  }
  return { ops, uuids, observedSince };
}

/** This log's findings raised on entries, by entry index (virtual): their IDs, as the time index gives them. */
type FindingsByIndex = ReadonlyMap<number, readonly string[]>;

/**
 * The log's findings raised on entries from a time on, read from the findings' time index once per rollback:
 * each chunk asks from its entries' earliest observation on (a rule's finding is raised when its entry is
 * observed: its firstSeen is the entry's observedAt), and only the part of the index no chunk has read yet
 * is read. Read for each chunk from its time to the end, as before, a rollback of C chunks read every
 * finding raised since its last chunk's entries C times over (BENCHMARKS.md "Rolled-back findings").
 * Only IDs are kept: each is read again when its chunk marks it, so that a change made to it since (an
 * acknowledgement) is not written over with what was read here.
 */
function findingsOfLog(store: Store, log: string): (since: number) => Promise<FindingsByIndex> {
  const findings = new FindingsRepo(store);
  const byIndex = new Map<number, string[]>();
  let readFrom: number | undefined;
  return async (since) => {
    if (readFrom !== undefined && since >= readFrom) return byIndex;
    const lt = readFrom === undefined ? prefixEnd(key(Bucket.FINDING_BY_TIME)) : key(Bucket.FINDING_BY_TIME, u64(readFrom));
    for await (const k of store.db.keys({ gte: key(Bucket.FINDING_BY_TIME, u64(since)), lt })) {
      const id = Buffer.from(k.subarray(9)).toString('hex');
      const f = await findings.get(id).catch(() => undefined);
      if (!f || f.log !== log || f.index === undefined || f.kind === 'integrity') continue;
      const ids = byIndex.get(f.index);
      if (ids) ids.push(id);
      else byIndex.set(f.index, [id]);
    }
    readFrom = since;
    return byIndex;
  };
}

/**
 * The findings raised on the dropped entries (`uuids` by index; `raised` the log's findings by index),
 * marked `entryRolledBack` (Finding's): the rules raise them at ingest, before the root check, so each names
 * an entry the log never verified.
 */
async function markFindings(store: Store, logId: number, uuids: ReadonlyMap<number, string>, raised: FindingsByIndex, mark: NonNullable<Finding['entryRolledBack']>): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  const findings = new FindingsRepo(store);
  for (const [index, uuid] of uuids) {
    for (const id of raised.get(index) ?? []) {
      const f = await findings.get(id).catch(() => undefined);
      // Filed under its entry too, so that the entry ingested again does not raise it a second time.
      if (f && !f.entryRolledBack && (f.uuid === undefined || f.uuid === uuid)) ops.push(...findingOps({ ...f, entryRolledBack: mark }), fileRolledBack(logId, { ...f, index }));
    }
  }
  return ops;
}

/**
 * Rolls `state`'s current tree back to tree-local size `to` (below its frontier), `frontier` the one known
 * there (else rebuilt from the stored hashes, and then checked against the verified root when `to` is the
 * verified size). Returns the state written last and how many entries were dropped. The state's other
 * fields are kept as given.
 */
export async function rollBackTree(store: Store, state: LogState, to: { size: bigint; frontier?: CompactRange }, opts: { chunk?: bigint; mark?: NonNullable<Finding['entryRolledBack']> } = {}): Promise<{ state: LogState; entries: bigint }> {
  const chunk = opts.chunk ?? ROLLBACK_CHUNK;
  const id = await store.logId(state.name);
  const seq = state.shard?.seq ?? 0;
  const offset = state.shard?.offset ?? 0n;
  let end = frontierSize(state.frontier);
  if (to.size >= end) return { state, entries: 0n };
  // The target first: a store that cannot rebuild it, or rebuilds another root, is left as it is.
  const target = to.frontier ?? (await storedFrontier(store, state, to.size));
  if (!to.frontier && state.verified?.size === to.size && !bytesEqual(target.root(), state.verified.rootHash)) {
    throw new TlogwatchError('STORE_CORRUPT', `the stored tree hashes of ${state.name} give root ${toHex(target.root())} at the verified size ${to.size}, not the verified ${toHex(state.verified.rootHash)}: run tlogwatch check`, { kind: 'fatal' });
  }
  let current = state;
  let entries = 0n;
  const raisedSince = findingsOfLog(store, state.name);
  while (end > to.size) {
    const from = end - chunk > to.size ? end - chunk : to.size;
    const frontier = from === to.size ? target : await storedFrontier(store, current, from);
    const keys = await entryKeys(store, state.name, id, offset + from, offset + end);
    const nodes = await nodesFrom(store, id, seq, from);
    const marked = opts.mark && keys.uuids.size > 0 ? await markFindings(store, id, keys.uuids, await raisedSince(keys.observedSince), opts.mark) : [];
    const next: LogState = { ...current, frontier: frontier.serialize() };
    await store.writeRollback(next, [...keys.ops, ...nodes, ...marked], offset + from, offset + end);
    entries += end - from;
    current = next;
    end = from;
  }
  return { state: current, entries };
}
