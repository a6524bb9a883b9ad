/**
 * Which tree a backfill batch fills, and what authenticates it (rekor.md §1.5: Rekor v1 Merkle math is per
 * tree, virtual indexes count the earlier trees' sizes). Backfill goes down from the log's start:
 *
 *   the tree the mirror started in (seq 0; retired since, perhaps): down to its first leaf, against its
 *     latest verified checkpoint (the forward mirror's, or its final one);
 *   then, Rekor v1, each tree before it, newest first (seq −1, −2, …; LogState.priorTrees): each a finished
 *     tree whose final signed tree head (LogInfo `inactiveShards`) the follower verified and kept; its first
 *     batch reproduces that head's root, and commits the head as the tree's verified checkpoint.
 *
 * A tree before the start is checked with the trusted root's key for it: the one of the log's keys (its
 * signer name) that signed its final tree head, which must also have signed each entry's SET, and which
 * the trusted root says was valid when each entry was integrated (`validFor`, as Sigstore clients judge a
 * log key against an entry's integrated time). Rekor lets an inactive shard keep a key of its own.
 */
import { TlogwatchError } from '../errors.ts';
import type { SetKey } from '../entries/set.ts';
import { verifyCheckpoint } from '../note/checkpoint.ts';
import type { NoteVerifier } from '../note/note.ts';
import { shardOrigin } from '../note/rekor-v1-origin.ts';
import { priorTreeSpans, type LogState, type VerifiedHead } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import { bytesEqual } from '../util/bytes.ts';
import { validAt } from '../trust/trusted-root.ts';
import type { FollowConfig } from './types.ts';

/** One of the log's keys as the trusted root lists it (trusted-root.ts rekorV1KeysOf). */
export interface TreeKey {
  verifier: NoteVerifier;
  /** Rekor v1: the same key, to check each entry's signed entry timestamp. */
  setKey?: SetKey | undefined;
  /** The trusted root's `validFor`: [validFrom, validUntil], both ends included (validAt), open where absent. */
  validFrom?: Date;
  validUntil?: Date;
}

/** The tree a batch fills: where its leaves are, and the checkpoint and key that authenticate them. */
export interface FillTree {
  /** Sequence in this mirror (store keys: keys.ts treeKey). */
  seq: number;
  /** Virtual index of its leaf 0. */
  offset: bigint;
  /** Rekor v1 tree ID, and the origin its checkpoints carry. */
  treeID?: string;
  origin: string;
  /** Its latest verified checkpoint (a retired tree's final one): size, root and the signed note. */
  head: VerifiedHead;
  /** Tree-local startIndex: backfill fills [target, local). */
  local: bigint;
  /**
   * A tree before the one the mirror started in that backfill has not entered yet (local = its size): no
   * frontier of it is verified, so the first batch must reproduce `head`'s root, and commits `head`.
   */
  fresh: boolean;
  /** The key its checkpoints and SETs are checked with. */
  verifiers: readonly NoteVerifier[];
  setKey?: SetKey | undefined;
  /** When set, every entry's integrated time must fall in one of these (the key's validity). */
  validity?: ReadonlyArray<Pick<TreeKey, 'validFrom' | 'validUntil'>>;
}

export interface TreeDeps {
  store: Store;
  /** The log's key (its checkpoints and SETs): the tree the mirror started in is checked with it. */
  verifiers: readonly NoteVerifier[];
  setKey?: SetKey | undefined;
  /** Every key the trusted root lists for the log, for the trees before the start (default: the above, valid at any time). */
  keys?: readonly TreeKey[];
}

export const refused = (reason: string, message: string) => new TlogwatchError('BACKFILL_REFUSED', message, { kind: 'fatal', data: { reason } });

/**
 * The tree the mirror started in (seq 0), from the store only: for tiles and a Rekor v1 mirror still in it,
 * with the latest verified checkpoint; once retired, with its final verified head, at the current tree's
 * offset less the retired trees' sizes (trees are contiguous in virtual indexes).
 */
export async function firstTree(cfg: FollowConfig, state: LogState, deps: TreeDeps): Promise<FillTree> {
  const own = { verifiers: deps.verifiers, setKey: deps.setKey, fresh: false };
  const notVerified = () => refused('no-verified-checkpoint', `log ${cfg.name} has no verified checkpoint of the tree it started in yet: let tlogwatch serve catch up and verify one, then backfill`);
  if (cfg.type === 'tiles') {
    if (!state.verified) throw notVerified();
    return { seq: 0, offset: 0n, origin: cfg.origin, head: state.verified, local: state.startIndex, ...own };
  }
  const shard = state.shard;
  if (!shard) throw new TlogwatchError('STORE_CORRUPT', `Rekor v1 log ${cfg.name} has no shard position in its state`, { kind: 'fatal' });
  if (shard.seq === 0) {
    if (!state.verified) throw notVerified();
    return { seq: 0, offset: shard.offset, treeID: shard.treeID, origin: shardOrigin(cfg.origin, shard.treeID), head: state.verified, local: state.startIndex - shard.offset, ...own };
  }
  const finals: VerifiedHead[] = [];
  for (let seq = 0; seq < shard.seq; seq++) {
    const head = (await deps.store.listCheckpoints(cfg.name, { limit: 1, tree: seq })).checkpoints[0];
    if (!head) throw new TlogwatchError('STORE_CORRUPT', `retired tree ${seq} of ${cfg.name} has no verified final checkpoint`, { kind: 'fatal' });
    finals.push(head);
  }
  const head = finals[0]!;
  const offset = shard.offset - finals.reduce((sum, f) => sum + f.size, 0n);
  const origin = head.note.slice(0, head.note.indexOf('\n'));
  const prefix = `${cfg.origin} - `;
  if (!origin.startsWith(prefix)) throw new TlogwatchError('STORE_CORRUPT', `the first tree's checkpoint of ${cfg.name} has origin "${origin}", not "${prefix}<treeID>"`, { kind: 'fatal' });
  return { seq: 0, offset, treeID: origin.slice(prefix.length), origin, head, local: state.startIndex - offset, ...own };
}

/**
 * The lowest index backfill can reach: 0, or for a Rekor v1 log whose trees before the one the mirror
 * started in are not known yet (the follower records their final heads once it has verified them:
 * LogState.priorTrees) the first leaf of that tree.
 */
export function floorOf(state: LogState, first: FillTree): bigint {
  return first.offset === 0n || state.priorTrees ? 0n : first.offset;
}

/**
 * The tree the next batch fills: the one that holds startIndex, or when the start is at a tree's first leaf
 * the tree before it, entered fresh. Undefined when there is none (the start is at 0).
 */
export async function treeToFill(cfg: FollowConfig, state: LogState, deps: TreeDeps): Promise<FillTree | undefined> {
  const first = await firstTree(cfg, state, deps);
  if (first.local > 0n) {
    if (state.shard && state.shard.seq > 0 && first.local > first.head.size) {
      throw new TlogwatchError('STORE_CORRUPT', `startIndex ${state.startIndex} of ${cfg.name} is not in its first tree [${first.offset}, ${first.offset + first.head.size})`, { kind: 'fatal' });
    }
    return first;
  }
  if (state.startIndex === 0n) return undefined;
  if (!state.priorTrees) throw refused('prior-trees-unknown', `the trees of ${cfg.name} before index ${first.offset} are not known to this mirror yet: run tlogwatch serve until it has verified their final tree heads (GET /api/v1/log answers), then backfill again`);
  const prior = priorTreeSpans(state);
  const sum = prior.reduce((n, t) => n + t.head.size, 0n);
  if (sum !== first.offset) {
    throw refused('prior-trees-inconsistent', `the final tree heads of the trees of ${cfg.name} before the one the mirror started in add up to ${sum} entries, but that tree starts at index ${first.offset}: not backfilled`);
  }
  // Trees are contiguous: the newest one that starts below the start holds the leaf just below it (an
  // empty tree never does), and the start is in it, or at its end when nothing of it is held yet.
  const t = prior.findLast((p) => p.offset < state.startIndex);
  if (!t) throw new TlogwatchError('STORE_CORRUPT', `startIndex ${state.startIndex} of ${cfg.name} is in none of its trees`, { kind: 'fatal' });
  const local = state.startIndex - t.offset;
  return { seq: t.seq, offset: t.offset, treeID: t.treeID, origin: shardOrigin(cfg.origin, t.treeID), head: t.head, local, fresh: local === t.head.size, ...keyForTree(cfg, t.treeID, t.head, deps) };
}

/**
 * The key a tree before the start is checked with: the log's key (one the trusted root lists under its
 * signer name) that verifies the tree's final head under `<origin> - <treeID>`, for that size and root,
 * with its SET key and every validity period the root gives it. None: refused, as the trusted root lists
 * no key of this log for that tree.
 */
export function keyForTree(cfg: Pick<FollowConfig, 'name' | 'origin'>, treeID: string, head: VerifiedHead, deps: Omit<TreeDeps, 'store'>): Pick<FillTree, 'verifiers' | 'setKey' | 'validity'> {
  const keys: readonly TreeKey[] = deps.keys ?? deps.verifiers.map((verifier) => ({ verifier, setKey: deps.setKey }));
  const origin = shardOrigin(cfg.origin, treeID);
  const signers = keys.filter((k) => {
    try {
      const { checkpoint } = verifyCheckpoint(head.note, origin, [k.verifier]);
      return checkpoint.size === head.size && bytesEqual(checkpoint.rootHash, head.rootHash);
    } catch {
      return false;
    }
  });
  const key = signers[0];
  if (!key) throw refused('no-key-for-tree', `the final tree head of tree ${treeID} of ${cfg.name} does not verify with any key the trusted root lists for ${cfg.origin}: not backfilled`);
  // A key listed more than once (for several periods) verifies as each of them: all its periods count.
  const same = signers.filter((k) => bytesEqual(k.verifier.keyHash, key.verifier.keyHash));
  return { verifiers: [key.verifier], setKey: key.setKey, ...(deps.keys ? { validity: same } : {}) };
}

/** Whether a key whose validity is `validity` was the log's at `integratedTime` (Unix seconds): any of its periods, ends included (validAt). */
export function validAtTime(validity: FillTree['validity'], integratedTime: number): boolean {
  if (!validity) return true;
  const at = new Date(integratedTime * 1000);
  return validity.some((v) => validAt(v, at));
}
