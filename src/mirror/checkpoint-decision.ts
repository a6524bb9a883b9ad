/**
 * What a newly fetched checkpoint means for a log's verified state (DESIGN.md principle 2; c2sp.md §2.4 step 1).
 * Pure: the caller fetches, this decides.
 *
 * - The note must carry a valid signature from the log's key (unknown signers, e.g. witnesses, are ignored;
 *   a known signer whose signature fails rejects the note) and the expected origin.
 * - A size smaller than the verified one is misbehaviour (`VERIFY_SIZE_SHRANK`).
 * - The same size with a different root is a fork (`VERIFY_FORK`): two signed, conflicting views.
 * - A tree past 2^53 entries (MAX_MIRRORED_SIZE) is refused (`VERIFY_BAD_CHECKPOINT`).
 * Misbehaviour errors carry both signed notes as evidence, so a finding can be re-verified offline.
 *
 * A note that verifies is kept (`keptNote`) with the signature lines tlogwatch verified and no others.
 */
import { TlogwatchError, isTlogwatchError } from '../errors.ts';
import { verifyCheckpoint, type Checkpoint } from '../note/checkpoint.ts';
import { formatNote, verifyNote, type Note, type NoteSignature, type NoteVerifier } from '../note/note.ts';
import { cosignaturesOf, type Cosignatures, type WitnessPolicy } from '../note/witness-policy.ts';
import { bytesEqual, toBase64, toHex } from '../util/bytes.ts';

export interface VerifiedHead {
  size: bigint;
  rootHash: Uint8Array;
  /** The signed note that was verified, as kept (`keptNote`). */
  note: string;
}

/** What every decision carries: the checkpoint, the note to keep of it (`keptNote`), and its witnesses' cosignatures. */
interface Decided {
  checkpoint: Checkpoint;
  /** The note as the mirror keeps and serves it (`keptNote`), not as it was received. */
  note: string;
  /** With a witness policy: who cosigned the note as received (invalid lines included, which `note` drops). */
  cosignatures?: Cosignatures;
}

export type CheckpointDecision =
  /** Nothing new: same size and root as the verified head. */
  | ({ action: 'unchanged' } & Decided)
  /** A larger, validly signed checkpoint: fetch [verified.size, checkpoint.size) and recompute its root. */
  | ({ action: 'grow' } & Decided);

/**
 * The signed note as the mirror keeps it as evidence (its checkpoint history, its state, `/v1/logs/{log}/
 * checkpoints`, `/api/v1/log`, findings): the text unchanged, extension lines and all (the log signed
 * them), and of the signature lines only those tlogwatch verified: the log's own (`verifiedBy`) and the
 * cosignatures of the log's configured witnesses that verified. Those are what the mirror can vouch for.
 * A line from any other key is dropped: verifiers ignore it (signed-note §Verification), so anyone on the
 * path can add up to MAX_SIGNATURES of them, ~530 KB per checkpoint, which the history would keep forever.
 * What is left is a valid signed note whose lines are the received ones, byte for byte (note.ts
 * `formatNote`): it verifies with the log's key and the witnesses' as the received note did. A note that
 * carried nothing else (a Rekor v1 checkpoint, which only the log signs) is kept exactly as received.
 */
export function keptNote(note: Note, verifiedBy: readonly NoteSignature[], cosignatures?: Cosignatures): string {
  const keep = new Set<NoteSignature>([...verifiedBy, ...(cosignatures?.valid.map((v) => v.line) ?? [])]);
  return formatNote({ text: note.text, signatures: note.signatures.filter((s) => keep.has(s)) });
}

/**
 * A note kept before keptNote existed (each verified checkpoint as received, padding and all), as keptNote
 * keeps one now: verified again with the log's keys and its witnesses' (the record was verified when
 * stored, so this only tells which lines to keep). Throws as verifyNote does when none of `verifiers`
 * verifies it (the log's key is no longer configured): the caller leaves such a record as it is.
 */
export function rekeptNote(note: string, verifiers: readonly NoteVerifier[], witnesses?: WitnessPolicy): string {
  const { note: parsed, verifiedBy } = verifyNote(note, verifiers);
  return keptNote(parsed, verifiedBy, witnesses && cosignaturesOf(parsed, witnesses));
}

export function evidence(kind: string, previous: VerifiedHead | undefined, received: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind,
    ...(previous ? { verifiedNote: previous.note, verifiedSize: previous.size.toString(), verifiedRoot: toBase64(previous.rootHash) } : {}),
    receivedNote: received,
    ...extra,
  };
}

/** Misbehaviour: the root recomputed from the leaves (or the log's tiles) is not the one the log signed. */
export function rootMismatch(root: Uint8Array, cp: Checkpoint, note: string, verified: VerifiedHead | undefined, extra: Record<string, unknown> = {}, what = 'recomputed root'): TlogwatchError {
  return new TlogwatchError('VERIFY_ROOT_MISMATCH', `${what} ${toHex(root)} for size ${cp.size} differs from the signed checkpoint's ${toHex(cp.rootHash)}`, {
    kind: 'misbehaviour',
    data: evidence('root-mismatch', verified, note, { recomputedRoot: toBase64(root), ...extra }),
  });
}

/**
 * The largest tree the mirror takes: its last entry's (virtual) index, 2^53 - 1, is the largest safe integer,
 * which an Entry's index is (entries/types.ts) and the store's keys take. Checkpoints may say up to 2^63 - 1
 * (note/checkpoint.ts), and one larger than this cannot be honest: at a million entries a second, 2^53 take
 * 285 years to log. Signed, it is the log's claim to a tree no one can hold, and a halt with the note as
 * evidence; followed, every round failed on the first index past 2^53 - 1 as a transient error, for ever.
 */
export const MAX_MIRRORED_SIZE = 1n << 53n;

export function decideCheckpoint(
  received: string,
  expectedOrigin: string,
  verifiers: readonly NoteVerifier[],
  verified: VerifiedHead | undefined,
  witnesses?: WitnessPolicy,
  /** The tree's first virtual index (a Rekor v1 shard's offset). */
  offset = 0n,
): CheckpointDecision {
  let checkpoint: Checkpoint;
  let note: Note;
  let verifiedBy: NoteSignature[];
  try {
    ({ checkpoint, note, verifiedBy } = verifyCheckpoint(received, expectedOrigin, verifiers));
  } catch (e) {
    // Bytes that are not a signed note at all (an error page served with 200, a mangled response) carry
    // no signature, so they are evidence of nothing against the log: a transient fault, retried next
    // round, like the simulator's `garbage` (issue 4 lists it with 429, 503 and truncation).
    if (isTlogwatchError(e, 'NOTE_MALFORMED')) {
      throw new TlogwatchError('SOURCE_MALFORMED', `the log's checkpoint response is not a signed note (${e.message}); nothing was verified, retrying`, { kind: 'transient', cause: e });
    }
    // A note that fails its signature, is signed by no key of the log, or names another origin is
    // signed misbehaviour or an attack on the transport; either way the log must not advance on it.
    const code = isTlogwatchError(e) ? e.code : 'INTERNAL'; // malformed notes returned above: this is none of ours
    // Signed by no key of the log before any checkpoint of it verified: most often the operator's trusted
    // root is not this log's (another deployment's, a simulator's earlier run), which the halt should say
    // first, as a real key rotation or impersonation is the rarer cause.
    const hint = code === 'NOTE_NO_VERIFIED_SIGNATURE' && !verified ? '; no checkpoint of this log has verified yet, so the likelier cause is a trusted root that gives it another key than the one it signs with (check --trusted-root or trustedRoot)' : '';
    throw new TlogwatchError('VERIFY_BAD_CHECKPOINT', `checkpoint rejected: ${(e as Error).message}${hint}`, {
      kind: 'misbehaviour',
      data: evidence('bad-checkpoint', verified, received, { reason: code }),
      cause: e,
    });
  }
  const cosignatures = witnesses && cosignaturesOf(note, witnesses);
  const decided: Decided = { checkpoint, note: keptNote(note, verifiedBy, cosignatures), ...(cosignatures ? { cosignatures } : {}) };
  if (offset + checkpoint.size > MAX_MIRRORED_SIZE) {
    // A size alone is the log's signed word; an offset adds sizes LogInfo lists, which no signature covers
    // (mirror/confirm-halt.ts tells the two apart by the reason).
    const [reason, where] = offset > 0n ? ['OFFSET_TOO_LARGE', ` from virtual index ${offset}`] : ['CHECKPOINT_TOO_LARGE', ''];
    throw new TlogwatchError('VERIFY_BAD_CHECKPOINT', `checkpoint size ${checkpoint.size}${where} is past 2^53 entries, more than any log can hold or tlogwatch can index`, {
      kind: 'misbehaviour',
      data: evidence('bad-checkpoint', verified, decided.note, { reason, offset: offset.toString() }),
    });
  }
  if (verified) {
    if (checkpoint.size < verified.size) {
      throw new TlogwatchError('VERIFY_SIZE_SHRANK', `checkpoint size ${checkpoint.size} is smaller than the verified size ${verified.size}`, {
        kind: 'misbehaviour',
        data: evidence('shrink', verified, decided.note),
      });
    }
    if (checkpoint.size === verified.size) {
      if (!bytesEqual(checkpoint.rootHash, verified.rootHash)) {
        throw new TlogwatchError('VERIFY_FORK', `two different roots signed for size ${checkpoint.size}`, {
          kind: 'misbehaviour',
          data: evidence('fork', verified, decided.note),
        });
      }
      return { action: 'unchanged', ...decided };
    }
  }
  return { action: 'grow', ...decided };
}
