/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the body of a signed note.
 *
 *   <origin>\n<size, decimal>\n<base64 root hash>\n[<extension line>\n]*
 *
 * Strict: the size is ASCII decimal without leading zeros (it must print back identically), the root is
 * exactly 32 bytes of standard base64, extension lines are non-empty (old Rekor v1 checkpoints carry
 * `Timestamp: <ns>`).
 */
import { TlogwatchError } from '../errors.ts';
import { parseBase64, toBase64 } from '../util/bytes.ts';
import { controlCharAt, hasLoneSurrogate, verifyNote, type Note, type NoteSignature, type NoteVerifier } from './note.ts';

export interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Uint8Array;
  extensions: string[];
}

const MAX_SIZE = (1n << 63n) - 1n;

function malformed(why: string): TlogwatchError {
  return new TlogwatchError('CHECKPOINT_MALFORMED', `malformed checkpoint: ${why}`);
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw malformed('body must end with a newline');
  // Already true of a verified note's text (signed-note §Format); checked again for direct callers.
  if (controlCharAt(text) >= 0) throw malformed(`control character at offset ${controlCharAt(text)}`);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed(`needs origin, size and root lines, got ${lines.length} line(s)`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw malformed('empty origin');
  if (!/^(0|[1-9]\d{0,18})$/.test(sizeText)) throw malformed(`size ${JSON.stringify(sizeText.slice(0, 30))} is not a canonical decimal`);
  const size = BigInt(sizeText);
  if (size > MAX_SIZE) throw malformed('size exceeds 2^63-1');
  const rootHash = parseBase64(rootText, 32);
  // Canonical only (zero padding bits), so one checkpoint has one text and split views compare by text.
  if (!rootHash || toBase64(rootHash) !== rootText) throw malformed('root hash is not 32 bytes of canonical standard base64');
  if (extensions.some((e) => e.length === 0)) throw malformed('empty extension line');
  return { origin, size, rootHash, extensions };
}

/** The note body of `c`; refuses what `parseCheckpoint` would refuse, so format never emits an unparsable body. */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin.length === 0 || c.origin.includes('\n')) throw malformed('origin must be one non-empty line');
  for (const line of [c.origin, ...c.extensions]) {
    if (controlCharAt(line) >= 0) throw malformed(`control character at offset ${controlCharAt(line)} of ${JSON.stringify(line.slice(0, 40))}`);
    if (hasLoneSurrogate(line)) throw malformed('a line is not valid UTF-8 (lone surrogate)');
  }
  if (c.size < 0n || c.size > MAX_SIZE) throw malformed('size out of range');
  if (c.rootHash.length !== 32) throw malformed('root hash must be 32 bytes');
  if (c.extensions.some((e) => e.length === 0 || e.includes('\n'))) throw malformed('extension lines must be non-empty single lines');
  return [c.origin, c.size.toString(), toBase64(c.rootHash), ...c.extensions].join('\n') + '\n';
}

/**
 * Verifies the note's signatures, parses the checkpoint and checks its origin (when one is expected).
 * Pass the log's own keys: a witness cosignature alone must not make a checkpoint the log's, and
 * witness policy (k of n) is checked separately over `note.signatures`.
 */
export function verifyCheckpoint(
  msg: string | Uint8Array,
  expectedOrigin: string | undefined,
  verifiers: readonly NoteVerifier[],
): { checkpoint: Checkpoint; note: Note; verifiedBy: NoteSignature[] } {
  const { note, verifiedBy } = verifyNote(msg, verifiers);
  const checkpoint = parseCheckpoint(note.text);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    // The origin is the sender's line, any length up to the note's: only its start goes into the message.
    const origin = checkpoint.origin.length > 200 ? `${checkpoint.origin.slice(0, 200)}…` : checkpoint.origin;
    throw new TlogwatchError('CHECKPOINT_WRONG_ORIGIN', `checkpoint origin ${JSON.stringify(origin)} is not the expected ${JSON.stringify(expectedOrigin)}`);
  }
  return { checkpoint, note, verifiedBy };
}
