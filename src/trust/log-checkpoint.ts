/**
 * A checkpoint the log itself signed, whoever handed it to us (a bundle's inclusion proof, a witness, a
 * distributor, a peer): its signature verifies with the log's key from the trusted root, and its origin
 * is the log's (c2sp.md §1.2: tiles logs name their origin exactly; rekor.md §1.8: Rekor v1 checkpoints
 * name `<signer> - <treeID>`, one tree per shard). Two such checkpoints that disagree are portable proof
 * that the log showed two histories (c2sp.md §5, "Monitor recipe").
 */
import { verifyCheckpoint } from '../note/checkpoint.ts';
import { v1TreeOf } from '../note/rekor-v1-origin.ts';
import { checkpointVerifierForTlog, type TlogTrust } from './trusted-root.ts';

/** The tree head a log signed: its size and root, the note as given, and for Rekor v1 the tree it is of. */
export interface SignedTree {
  size: bigint;
  rootHash: Uint8Array;
  note: string;
  /** Rekor v1: the tree ID in the origin line. */
  treeID?: string;
}

/**
 * Verifies `note` as a checkpoint signed with `tlog`'s key for the log whose origin (Rekor v1: signer
 * name) is `origin`. Throws a TlogwatchError (bad signature, not a checkpoint) or an Error (another log's
 * origin) that says why.
 */
export function verifyLogCheckpoint(note: string, tlog: TlogTrust, origin: string = tlog.name): SignedTree {
  const { checkpoint } = verifyCheckpoint(note, undefined, [checkpointVerifierForTlog(tlog)]);
  const treeID = tlog.type === 'rekor-v1' ? v1TreeOf(checkpoint.origin, origin) : undefined;
  const originOk = tlog.type === 'tiles' ? checkpoint.origin === origin : treeID !== undefined;
  if (!originOk) throw new Error(`checkpoint origin ${JSON.stringify(checkpoint.origin)} is not log ${origin}`);
  return { size: checkpoint.size, rootHash: checkpoint.rootHash, note, ...(treeID !== undefined ? { treeID } : {}) };
}

export { v1TreeOf };
