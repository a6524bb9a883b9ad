/**
 * Judging a tree head the log signed (trust/log-checkpoint.ts) against the history the log published to
 * this mirror: the same root at that size is consistent; another root is a split view, since both were
 * signed by the log (c2sp.md §5, "Monitor recipe" step 3). A tree head past what the mirror has verified
 * cannot be judged yet; one of a tree the mirror does not hold (a Rekor v1 shard it never followed, or
 * below where it started) cannot be judged at all.
 */
import { treeRootAsync } from '../merkle/prove.ts';
import { treeIdOfNote } from '../note/rekor-v1-origin.ts';
import { localStartIndex, startSeq, type LogState, type VerifiedHead } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import type { SignedTree } from '../trust/log-checkpoint.ts';
import { bytesEqual } from '../util/bytes.ts';

export type TreeJudgement =
  | { kind: 'consistent'; seq: number }
  /** Another root at that size: the log's two signatures disagree. `mirrorNote` is the mirror's verified head of that tree. */
  | { kind: 'forked'; seq: number; mirrorRoot: Uint8Array; mirrorNote: string }
  /** Past the `verified` entries of its tree the mirror has verified: judge it again later. */
  | { kind: 'ahead'; verified: bigint }
  | { kind: 'not-comparable'; reason: string };

/**
 * A retired shard of a Rekor v1 log the mirror holds entries of: its sequence number in this mirror and its
 * final verified tree head, found by the tree ID in the head's origin line (`<origin> - <treeID>`, as the
 * follower checks it). A tree the mirror followed to its end, or one before the tree it started in once
 * `backfill` has committed entries of it (and with them its final head, keys.ts treeKey).
 */
export async function retiredTree(store: Store, state: LogState, treeID: string): Promise<{ seq: number; head: VerifiedHead } | undefined> {
  for (let seq = (state.shard?.seq ?? 0) - 1; seq >= startSeq(state); seq--) {
    const head = (await store.listCheckpoints(state.name, { limit: 1, tree: seq })).checkpoints[0];
    if (head && treeIdOfNote(head.note) === treeID) return { seq, head };
  }
  return undefined;
}

/**
 * The tree (its sequence in the store) a signed tree head is of, when the mirror verified that tree to at
 * least the head's size and can compute its root there: a tiles log's tree, the Rekor v1 tree the mirror
 * follows, or a retired one (named by its final checkpoint). The tree that holds the start (startSeq) has no
 * hashes left of it, so its roots below that size cannot be computed (store/tree-hashes.ts keeps the
 * start's frontier, enough for any size from the start on).
 */
export async function comparableTree(store: Store, signed: Pick<SignedTree, 'size' | 'treeID'>, state: LogState): Promise<{ seq: number; note: string } | { ahead: bigint } | undefined> {
  let tree: { seq: number; head: VerifiedHead | undefined } | undefined;
  if (!state.shard) tree = signed.treeID === undefined ? { seq: 0, head: state.verified } : undefined;
  else if (state.shard.treeID === signed.treeID) tree = { seq: state.shard.seq, head: state.verified };
  else if (signed.treeID !== undefined) tree = await retiredTree(store, state, signed.treeID);
  if (!tree) return undefined;
  const { seq, head } = tree;
  // A tree head past what the mirror verified of its tree cannot be judged yet: the caller says so.
  if (!head || signed.size > head.size) return { ahead: head?.size ?? 0n };
  // The tree that holds the start: from the start on; a tree before it is not held (retiredTree).
  if (seq === startSeq(state)) {
    const start = localStartIndex(state);
    if (start === undefined || signed.size < start) return undefined;
  }
  return { seq, note: head.note };
}

/** The signed tree head against the mirror's history of its tree: the root recomputed from stored hashes at its size. */
export async function judgeSignedTree(store: Store, state: LogState, signed: SignedTree): Promise<TreeJudgement> {
  const cmp = await comparableTree(store, signed, state);
  if (!cmp) {
    const tree = signed.treeID !== undefined ? `tree ${signed.treeID}` : 'the tree';
    return { kind: 'not-comparable', reason: `this mirror does not hold ${tree} at size ${signed.size} (another shard, or before where the mirror starts)` };
  }
  if ('ahead' in cmp) return { kind: 'ahead', verified: cmp.ahead };
  let mine: Uint8Array;
  try {
    mine = await treeRootAsync(signed.size, store.hashReader(state.name, cmp.seq));
  } catch (e) {
    return { kind: 'not-comparable', reason: `the root at size ${signed.size} could not be computed from the stored hashes: ${e instanceof Error ? e.message : String(e)}` };
  }
  return bytesEqual(mine, signed.rootHash) ? { kind: 'consistent', seq: cmp.seq } : { kind: 'forked', seq: cmp.seq, mirrorRoot: mine, mirrorNote: cmp.note };
}
