/**
 * Which misbehaviour a log halts on at once, and which must be seen again first.
 *
 * A halt is sticky (DESIGN.md principle 2): it stays until someone looks at the evidence. Evidence made of
 * two statements the log signed (two roots for one size, a checkpoint smaller than one verified, a
 * checkpoint the log's key signed that names another origin, is malformed or is of a tree past 2^53
 * entries) cannot be undone by a retry, so it halts at once. Evidence resting on bytes nobody signed can:
 * a level-0 tile or an entry bundle that disagree (`VERIFY_TILE_MISMATCH`), leaves whose root is not the
 * signed one (`VERIFY_ROOT_MISMATCH`), a checkpoint whose signature does not verify or that no key of the
 * log signed, LogInfo fields (the sizes that place a Rekor v1 tree past 2^53 among them) or an inclusion
 * proof that contradict the signed tree head (`VERIFY_BAD_CHECKPOINT`), a
 * bad signed entry timestamp (`VERIFY_BAD_SET`), an entry not served (`VERIFY_MISSING_ENTRY`). One byte
 * changed on the way (a cache, a proxy, a CDN serving one bad object) makes any of these, and anyone on
 * the path can; none of it proves anything against the log. So the follower halts on such a failure only
 * when it comes back `CONFIRM_ROUNDS` rounds in a row, each fetching everything again (certspotter
 * retries a root mismatch every tick for ever; a monitor that halts keeps its halts for what persists).
 * Meanwhile the log's verified checkpoint does not move, /v1/logs shows the failure as the log's transient
 * error, and `tlogwatch_verification_unconfirmed_total` counts it.
 *
 * "Fetching everything again" needs one more step for a catch-up of several batches: each batch commits as
 * it goes (entries, index keys, tree hashes, the fetched frontier), and only the last one compares the
 * recomputed root with the signed one. A root that does not match may come from any entry committed since
 * the verified checkpoint, and a round resumes from the committed frontier, so that entry would be in
 * every later round's root too. Those entries are rolled back to the verified size first (mirror/follower.ts,
 * store/rollback.ts) when `implicatesCommitted` says the failure may rest on them; a tiles log's, in a round
 * that does not halt, only from the first entry bundle its tiles do not prove (localise-rollback.ts).
 */
import type { TlogwatchError } from '../errors.ts';

/** Rounds in a row a failure resting on unsigned bytes must be met in before the log halts on it. */
export const CONFIRM_ROUNDS = 3;

/** Checkpoint errors that come after the log's key verified the note: the log signed what they show. */
const SIGNED_CHECKPOINT_REASONS: ReadonlySet<unknown> = new Set(['CHECKPOINT_WRONG_ORIGIN', 'CHECKPOINT_MALFORMED', 'CHECKPOINT_TOO_LARGE']);

/** True when `e` (misbehaviour) may be a corruption on the way, so a retry can tell (see above). */
export function restsOnUnsignedBytes(e: TlogwatchError): boolean {
  switch (e.code) {
    case 'VERIFY_FORK':
      // Two signed roots for one size; or a Rekor v1 consistency proof that failed on every attempt of one
      // request (start-frontier.ts proveConsistent), which is unsigned and, from a cache, can stay wrong a while.
      return e.data['kind'] === 'inconsistent';
    case 'VERIFY_SIZE_SHRANK':
      return false;
    case 'VERIFY_BAD_CHECKPOINT':
      return !SIGNED_CHECKPOINT_REASONS.has(e.data['reason']);
    default:
      return true;
  }
}

/**
 * True when `e` (misbehaviour resting on unsigned bytes) may come from an entry already committed beyond the
 * verified checkpoint, so that the next round must not resume from the committed frontier. Only a root
 * mismatch: the recomputed root covers every leaf since the verified size, whichever batch committed it.
 * The others are about what the failing round fetched before committing it (a bundle against its own
 * level-0 tile, an entry's SET, an entry not served: ingest.ts checks them before the batch's commit) or
 * about the checkpoint and proofs (checked before any entry is fetched), and retrying them from the
 * committed frontier fetches everything they rest on again.
 */
export function implicatesCommitted(e: TlogwatchError): boolean {
  return e.code === 'VERIFY_ROOT_MISMATCH';
}
