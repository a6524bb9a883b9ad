/**
 * tlog-cosignature (https://c2sp.org/tlog-cosignature): what every cosignature type shares, and the
 * Ed25519 type, signature type 0x04 ("cosignature/v1"). ML-DSA-44 (0x06) is in cosignature-mldsa.ts.
 *
 * The note signature of either type is a `timestamped_signature` (§"Format"): u64 big-endian T (POSIX
 * seconds) || the signature (64 bytes for Ed25519, 2420 for ML-DSA-44). An Ed25519 witness signs
 * "cosignature/v1\ntime <T>\n" || <checkpoint note text, extension lines included> (§"Ed25519 signed
 * message"). The message does not name the cosigner, so a key must not be shared between cosigners.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { concatBytes, toBase64, toHex, utf8 } from '../util/bytes.ts';
import { ALG_COSIGNATURE_V1, c2spKeyId } from './key-id.ts';
import { ed25519PublicKey, rawEd25519 } from './ed25519.ts';
import type { NoteSigner, NoteVerifier } from './note.ts';

/** §"Format": the timestamp MUST NOT exceed 2^63-1, so it fits a signed 64-bit integer everywhere. */
export const MAX_TIMESTAMP = (1n << 63n) - 1n;

/** The message a cosignature/v1 signs (§"Ed25519 signed message"). */
export function cosignedMessage(timestamp: bigint, text: Uint8Array): Uint8Array {
  return concatBytes(utf8.encode(`cosignature/v1\ntime ${timestamp}\n`), text);
}

export interface CosignatureVerifier extends NoteVerifier {
  /** The timestamp (seconds) a cosignature carries, for witness freshness checks; undefined if it has the wrong length. */
  timestampOf(signature: Uint8Array): bigint | undefined;
}

/**
 * The timestamp of a `timestamped_signature` whose signature part is `signatureLength` bytes; undefined for
 * any other length (a line of another cosignature type under a colliding key hash).
 */
export function timestampOf(sig: Uint8Array, signatureLength: number): bigint | undefined {
  if (sig.length !== 8 + signatureLength) return undefined;
  return new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0);
}

/** A `timestamped_signature`: `ts` (checked against §"Format"'s range) before the signature `signWith` makes for it. */
export function timestamped(ts: bigint, signWith: (ts: bigint) => Uint8Array): Uint8Array {
  if (ts < 0n || ts > MAX_TIMESTAMP) throw new RangeError(`cosignature timestamp ${ts} is outside 0..2^63-1`);
  const signature = signWith(ts);
  const out = new Uint8Array(8 + signature.length);
  new DataView(out.buffer).setBigUint64(0, ts);
  out.set(signature, 8);
  return out;
}

const ED25519_SIGNATURE = 64;

export function cosignatureVerifier(name: string, raw: Uint8Array): CosignatureVerifier {
  const key = ed25519PublicKey(raw);
  return {
    name,
    keyHash: c2spKeyId(name, ALG_COSIGNATURE_V1, raw).slice(0, 4),
    kind: 'cosignature',
    timestampOf: (sig) => timestampOf(sig, ED25519_SIGNATURE),
    verify: (text, sig) => {
      const ts = timestampOf(sig, ED25519_SIGNATURE);
      // A wrong-length line (e.g. an ML-DSA cosignature under a colliding hash) is another key's: skip it.
      if (ts === undefined) return undefined;
      if (ts > MAX_TIMESTAMP) return false;
      return verify(null, cosignedMessage(ts, text), key, sig.subarray(8));
    },
  };
}

/** A witness's signer; `timestamp` is read at each signature (the simulator passes its clock). */
export function cosignatureSigner(name: string, privateKey: KeyObject, timestamp: () => bigint | number): NoteSigner {
  return {
    name,
    keyHash: c2spKeyId(name, ALG_COSIGNATURE_V1, rawEd25519(privateKey)).slice(0, 4),
    sign: (text) => timestamped(BigInt(timestamp()), (ts) => sign(null, cosignedMessage(ts, text), privateKey)),
  };
}

/** A witness's verifier key as operators publish it (signed-note §"Verifier keys"): `name+hash+base64(0x04 || key)`. */
export function cosignatureVkey(name: string, raw: Uint8Array): string {
  return `${name}+${toHex(c2spKeyId(name, ALG_COSIGNATURE_V1, raw).slice(0, 4))}+${toBase64(concatBytes(Uint8Array.of(ALG_COSIGNATURE_V1), raw))}`;
}
