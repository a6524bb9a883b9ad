/**
 * The frontier (compact range) of a log's leaves [0, n), obtained from the log itself, for mirrors that do
 * not start at a tree's first leaf (DESIGN.md principle 1: "the frontier at a start index comes from one
 * verified inclusion proof or from tiles"). Used by the follower's bootstrap and by `backfill`.
 *
 * - Tiles (https://c2sp.org/tlog-tiles): the frontier's nodes are read from the right-edge tiles and
 *   authenticated by a consistency proof, built from the same tiles, from the frontier's root to a verified
 *   checkpoint's (RFC 9162 §2.1.4.2).
 * - Rekor v1: the left siblings of an inclusion proof of leaf n-1 (RFC 9162 §2.1.3.2) are exactly the
 *   perfect subtrees covering [0, n-1) (compact.ts `fromInclusionProof`); the proof is verified against the
 *   signed checkpoint that comes with it.
 */
import { TlogwatchError, isTlogwatchError } from '../errors.ts';
import { CompactRange } from '../merkle/compact.ts';
import { verifyConsistency, verifyInclusion } from '../merkle/proof.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import { verifiedFrontierFromTiles, type TileReader } from '../merkle/tiles.ts';
import { verifyCheckpoint, type Checkpoint } from '../note/checkpoint.ts';
import type { NoteVerifier } from '../note/note.ts';
import { causeOfClass, ProofRefused, type RekorV1Source, type V1Leaf } from '../sources/rekor-v1.ts';
import { bytesEqual, toBase64 } from '../util/bytes.ts';
import { evidence, type VerifiedHead } from './checkpoint-decision.ts';

/**
 * The frontier of [0, size) from tiles, authenticated against the verified checkpoint `cp` (signed note
 * `note`); tiles that do not prove it are misbehaviour (`VERIFY_TILE_MISMATCH`), never a frontier to trust.
 */
export async function verifiedTilesFrontier(size: bigint, cp: Pick<Checkpoint, 'size' | 'rootHash'>, note: string, read: TileReader, previous?: VerifiedHead): Promise<CompactRange> {
  try {
    return await verifiedFrontierFromTiles(size, cp, read);
  } catch (e) {
    if (!(e instanceof TlogwatchError) || !e.code.startsWith('MERKLE_')) throw e;
    throw new TlogwatchError('VERIFY_TILE_MISMATCH', `the log's tiles do not prove the frontier at ${size} consistent with its signed checkpoint of size ${cp.size}: ${e.message}`, {
      kind: 'misbehaviour',
      cause: e,
      data: evidence('bootstrap-inconsistent', previous, note, { start: size.toString() }),
    });
  }
}

/**
 * `e` as the misbehaviour it is when it is a proof, note or checkpoint that did not verify (a Merkle,
 * note or checkpoint error from `v1FrontierFromProof` or the tiles): `code` with `message` and the
 * evidence `data`. Anything else (a request that failed, a malformed response) is returned as it is.
 */
export function proofMisbehaviour(e: unknown, code: 'VERIFY_ROOT_MISMATCH' | 'VERIFY_TILE_MISMATCH' | 'VERIFY_BAD_CHECKPOINT', message: string, data: Record<string, unknown>): unknown {
  if (!isTlogwatchError(e) || !/^(MERKLE_|NOTE_|CHECKPOINT_)/.test(e.code)) return e;
  return new TlogwatchError(code, `${message}: ${e.message}`, { kind: 'misbehaviour', cause: e, data });
}

/** A tree's size and root, as a checkpoint or a verified head carries them. */
type TreeHead = Pick<Checkpoint, 'size' | 'rootHash'>;

/**
 * Proves a Rekor v1 tree's checkpoint `last` consistent with `first`, both signed by the log (RFC 9162
 * §2.1.4.2), from the proof the log serves. The proof is unsigned, so one that does not verify is asked for
 * again (rekor-v1.ts fetchConsistencyProof); only when no attempt serves one that verifies is it
 * `VERIFY_FORK`: `message`, with `against` (the store's verified head) and `note` (the one received) and
 * the last proof as evidence.
 */
export async function proveConsistent(src: RekorV1Source, treeID: string, first: TreeHead, last: TreeHead, message: string, against: VerifiedHead, note: string): Promise<void> {
  await src.fetchConsistencyProof(first.size, last.size, treeID, (proof) => verifyConsistency(first.size, last.size, proof, first.rootHash, last.rootHash)).catch((e: unknown) => {
    const refused = causeOfClass(e, ProofRefused);
    if (!refused) throw e;
    throw new TlogwatchError('VERIFY_FORK', `${message}: no proof the log served on any attempt verifies (${refused.message})`, {
      kind: 'misbehaviour',
      cause: refused.cause,
      data: evidence('inconsistent', against, note, { consistencyProof: refused.proof.map(toBase64) }),
    });
  });
}

export interface V1ProvenFrontier {
  /** The frontier of the tree's leaves [0, local). */
  frontier: CompactRange;
  /** The signed checkpoint the inclusion proof verified against, and its note. */
  checkpoint: Checkpoint;
  note: string;
  leaf: V1Leaf;
}

/**
 * The frontier of leaves [0, local) of one Rekor v1 tree (`tree.offset` = the virtual index of its leaf 0,
 * `origin` = `<host> - <treeID>`), from the inclusion proof the log returns with leaf local-1, verified
 * against the signed checkpoint in that proof. A response without a usable proof is transient
 * (`SOURCE_MALFORMED`); a checkpoint or proof that does not verify throws the note or merkle error, and the
 * caller decides what it means.
 */
export async function v1FrontierFromProof(src: RekorV1Source, verifiers: readonly NoteVerifier[], origin: string, tree: { offset: bigint }, local: bigint): Promise<V1ProvenFrontier> {
  if (local <= 0n) throw new RangeError(`no leaf before tree index ${local}`);
  const leaf = await src.fetchEntryByIndex(tree.offset + local - 1n, tree.offset);
  const p = leaf?.inclusionProof;
  if (!leaf || !p || p.treeIndex !== local - 1n || !p.checkpoint) {
    throw new TlogwatchError('SOURCE_MALFORMED', `entry ${tree.offset + local - 1n} came without a usable inclusion proof`, { kind: 'transient' });
  }
  // The proof must verify against a checkpoint signed by the log for this tree.
  const { checkpoint } = verifyCheckpoint(p.checkpoint, origin, verifiers);
  if (checkpoint.size !== p.treeSize || !bytesEqual(checkpoint.rootHash, p.rootHash)) {
    throw new TlogwatchError('VERIFY_BAD_CHECKPOINT', 'inclusion proof root differs from its checkpoint', { kind: 'misbehaviour', data: evidence('bootstrap-proof', undefined, p.checkpoint) });
  }
  const lh = leafHash(leaf.body);
  verifyInclusion(local - 1n, p.treeSize, lh, p.hashes, p.rootHash);
  return { frontier: CompactRange.fromInclusionProof(local - 1n, p.treeSize, lh, p.hashes), checkpoint, note: p.checkpoint, leaf };
}
