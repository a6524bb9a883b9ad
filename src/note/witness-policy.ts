/**
 * A witness policy: a checkpoint counts only when at least `quorum` of the named witnesses cosigned it
 * (https://c2sp.org/tlog-cosignature, Ed25519 or ML-DSA-44; the k-of-n rule of https://c2sp.org/tlog-policy with
 * one group). A witness cosigns a checkpoint only after checking it is consistent with every checkpoint of
 * that origin it cosigned before (https://c2sp.org/tlog-witness), and clients that verify with a witness
 * policy accept only cosigned checkpoints. A monitor that requires the same cosignatures therefore sees
 * the view the witnesses saw, and a log cannot show it one tree and its clients another without also
 * deceiving a quorum of witnesses.
 *
 * Pure. verifyCheckpoint (checkpoint.ts) checks the log's own signature; this reads the other lines of
 * the same note. A witness's line that fails to verify does not reject the note (it is not the log's
 * signature): it counts as no cosignature, and is reported as invalid.
 */
import { parseNote, type Note, type NoteSignature } from './note.ts';
import type { CosignatureVerifier } from './cosignature.ts';
import { bytesEqual, parseBase64, toHex, utf8 } from '../util/bytes.ts';

export interface WitnessPolicy {
  /** Distinct witnesses (vkey type 0x04 Ed25519 or 0x06 ML-DSA-44), no two with one public key (`sharedWitnessKey`). */
  witnesses: readonly CosignatureVerifier[];
  /** How many of them must have cosigned; 1 ≤ quorum ≤ witnesses.length. */
  quorum: number;
}

export interface Cosignatures {
  /** Witnesses whose cosignature verifies, with the time it carries (POSIX seconds) and the note's line that carries it. */
  valid: Array<{ witness: string; timestamp: bigint; line: NoteSignature }>;
  /** Witnesses with a line under their name and key hash that does not verify. */
  invalid: string[];
  /** Witnesses with no line at all. */
  missing: string[];
  /** Whether `valid` reaches the quorum. */
  witnessed: boolean;
}

/** The key types a witness cosigns with, for messages that refuse another. */
export const WITNESS_KEY_TYPES = 'Ed25519 (cosignature/v1, type 0x04) or ML-DSA-44 (type 0x06)';
/** Why `sharedWitnessKey`'s pair is refused, for the messages that refuse it. */
export const SHARED_KEY_WHY = 'one key would count twice toward the quorum (tlog-policy allows no two witnesses one public key)';

/**
 * The first pair of `vkeys` (by position) that wrap one public key, or undefined. tlog-policy (§"Defining a
 * witness") allows no two witnesses with the same public key, "even if they differ by key name and key id",
 * and each cosignature type shows why:
 * - Ed25519 (0x04) does not sign the cosigner's name (tlog-cosignature §"Ed25519 signed message": one key
 *   "can't be used across multiple cosigners"): a line under one name, with the other name and key hash in
 *   front, verifies under the other, so anyone could make one cosigner count twice toward a quorum.
 * - ML-DSA-44 (0x06) signs the name, so only the key's holder can make the second line; but a quorum of k is
 *   worth k only when k key holders must agree, and one key under two names is one holder counted twice
 *   (the spec lets one operator's cosigners share a key, as distinct statements, not as distinct witnesses).
 * Compares the key after the type byte (parseVerifierKey takes canonical base64 only); an Ed25519 key and an
 * ML-DSA-44 key are never the same key.
 */
export function sharedWitnessKey(vkeys: readonly string[]): { first: number; second: number } | undefined {
  // A vkey with no key to read (its parse refuses it, and says so) shares none: two of them are not one key.
  const material = vkeys.map((k) => {
    const raw = parseBase64(k.slice(k.indexOf('+', k.indexOf('+') + 1) + 1));
    return raw && raw.length > 1 ? toHex(raw.subarray(1)) : undefined;
  });
  for (let second = 1; second < material.length; second++) {
    const first = material[second] === undefined ? -1 : material.indexOf(material[second]);
    if (first >= 0 && first < second) return { first, second };
  }
  return undefined;
}

/** Which of the policy's witnesses cosigned this signed note (a checkpoint as the log served it, or parsed). */
export function cosignaturesOf(signedNote: string | Note, policy: WitnessPolicy): Cosignatures {
  const note = typeof signedNote === 'string' ? parseNote(signedNote) : signedNote;
  const text = utf8.encode(note.text);
  const out: Cosignatures = { valid: [], invalid: [], missing: [], witnessed: false };
  for (const w of policy.witnesses) {
    const lines = note.signatures.filter((s) => s.name === w.name && bytesEqual(s.keyHash, w.keyHash));
    if (lines.length === 0) {
      out.missing.push(w.name);
      continue;
    }
    // One valid line is this witness's cosignature; a second, bad one beside it changes nothing.
    const good = lines.find((s) => w.verify(text, s.signature) === true);
    const timestamp = good && w.timestampOf(good.signature);
    if (good && timestamp !== undefined) out.valid.push({ witness: w.name, timestamp, line: good });
    else out.invalid.push(w.name);
  }
  out.witnessed = out.valid.length >= policy.quorum;
  return out;
}

/** One line: who cosigned and who did not, for logs, errors and /v1/logs. */
export function describeCosignatures(c: Cosignatures, policy: WitnessPolicy): string {
  const parts = [`cosigned by ${c.valid.length} of the ${policy.quorum} required witnesses${c.valid.length ? ` (${c.valid.map((v) => v.witness).join(', ')})` : ''}`];
  if (c.missing.length) parts.push(`no cosignature from ${c.missing.join(', ')}`);
  if (c.invalid.length) parts.push(`an invalid one from ${c.invalid.join(', ')}`);
  return parts.join('; ');
}
