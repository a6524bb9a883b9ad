/**
 * tlog-cosignature ML-DSA-44 cosignatures, signature type 0x06 (https://c2sp.org/tlog-cosignature, at
 * v1.1.0-rc.1; "The ML-DSA version SHOULD be used for new deployments").
 *
 * - Key ID = SHA-256(name || "\n" || 0x06 || 1312-byte ML-DSA-44 public key)[:4] (§"Format"); a vkey is
 *   `name+hash+base64(0x06 || key)`.
 * - The note signature is a `timestamped_signature`: u64 BE timestamp || 2420-byte ML-DSA-44 signature.
 * - The signature is FIPS 204 ML-DSA.Sign, pure (not HashML-DSA) with the empty context string: the spec
 *   names none, and Go's crypto/mldsa (torchwood cosignature.go, `mldsa.Verify(k, m, sig, nil)`) and
 *   @noble/post-quantum's defaults agree; node:crypto's `sign(null, …)` is the same.
 * - The signed message is `cosigned_message` (§"ML-DSA-44 signed message", RFC 8446 §3 encoding), which
 *   names the cosigner and signs the checkpoint's origin, size and root only: extension lines are not
 *   signed, and a cosignature says nothing about them. For a checkpoint, start = 0 and end = its size.
 *
 * Unlike torchwood, which refuses to sign or verify a checkpoint with extension lines, this verifies it as
 * the spec reads: the cosignature stands for the first three lines (the log's own signature, checked
 * separately, covers the rest).
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { TlogwatchError } from '../errors.ts';
import { concatBytes, toBase64, toHex, utf8 } from '../util/bytes.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { MAX_TIMESTAMP, timestamped, timestampOf, type CosignatureVerifier } from './cosignature.ts';
import { ALG_COSIGNATURE_MLDSA, c2spKeyId } from './key-id.ts';
import type { NoteSigner } from './note.ts';

export const MLDSA44_PUBLIC_KEY_BYTES = 1312;
export const MLDSA44_SIGNATURE_BYTES = 2420;

/**
 * DER SubjectPublicKeyInfo header of an ML-DSA-44 key (id-ml-dsa-44, OID 2.16.840.1.101.3.4.3.17, no
 * parameters, the key as the BIT STRING; as OpenSSL exports it); the raw key follows.
 */
const MLDSA44_SPKI_PREFIX = Buffer.from('30820532300b06096086480165030403110382052100', 'hex');

/** `label[12]`: "subtree/v1\n" and a zero byte. */
const LABEL = utf8.encode('subtree/v1\n\0');

/** `opaque x<1..2^8-1>`: a one-byte length, then the bytes. */
function opaque8(what: string, s: string): Uint8Array {
  const b = utf8.encode(s);
  if (b.length < 1 || b.length > 255) throw new RangeError(`${what} must be 1 to 255 bytes, is ${b.length}`);
  return concatBytes(Uint8Array.of(b.length), b);
}

function u64(x: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, x);
  return out;
}

/**
 * `cosigned_message` (§"ML-DSA-44 signed message") for the subtree [start, end) of `origin` with root
 * `hash`. Throws RangeError where the struct cannot hold the values or the spec forbids them: names and
 * origins of 1..255 bytes, timestamp ≤ 2^63-1 and zero when start is not, start ≤ end < 2^64.
 */
export function subtreeCosignedMessage(cosigner: string, timestamp: bigint, origin: string, start: bigint, end: bigint, hash: Uint8Array): Uint8Array {
  if (timestamp < 0n || timestamp > MAX_TIMESTAMP) throw new RangeError(`timestamp ${timestamp} is outside 0..2^63-1`);
  if (start !== 0n && timestamp !== 0n) throw new RangeError('a subtree that does not start at 0 must have timestamp 0');
  if (start < 0n || start > end || end >= 1n << 64n) throw new RangeError(`[${start}, ${end}) is not a subtree`);
  if (hash.length !== 32) throw new RangeError(`hash must be 32 bytes, is ${hash.length}`);
  return concatBytes(LABEL, opaque8('cosigner name', cosigner), u64(timestamp), opaque8('log origin', origin), u64(start), u64(end), hash);
}

/** The message a checkpoint's cosignature signs: its subtree [0, size), extension lines left out. */
export const checkpointCosignedMessage = (cosigner: string, timestamp: bigint, c: Checkpoint): Uint8Array =>
  subtreeCosignedMessage(cosigner, timestamp, c.origin, 0n, c.size, c.rootHash);

function badKey(why: string): TlogwatchError {
  return new TlogwatchError('NOTE_BAD_KEY', why);
}

export function mldsa44PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== MLDSA44_PUBLIC_KEY_BYTES) throw badKey(`ML-DSA-44 public key must be ${MLDSA44_PUBLIC_KEY_BYTES} bytes, got ${raw.length}`);
  try {
    return createPublicKey({ key: Buffer.concat([MLDSA44_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (e) {
    // Every 1312 bytes are a key (FIPS 204 pkDecode), so this is a runtime without ML-DSA: node:crypto has
    // it from Node.js 24.7 (OpenSSL 3.5), and package.json allows Node.js 22.
    throw new TlogwatchError('NOTE_BAD_KEY', `this Node.js ${process.versions.node} cannot load ML-DSA-44 keys (Node.js 24.7 or later can)`, { cause: e });
  }
}

/** The raw 1312-byte ML-DSA-44 public key of a KeyObject (public or private). */
export function rawMldsa44(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ml-dsa-44') throw badKey(`expected an ML-DSA-44 key, got ${pub.asymmetricKeyType}`);
  const der = pub.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(MLDSA44_SPKI_PREFIX.length));
}

/** The message's cosigner name must fit `cosigner_name<1..2^8-1>`: a longer key name can never cosign. */
function checkName(name: string): void {
  const n = utf8.encode(name).length;
  if (n > 255) throw badKey(`ML-DSA-44 cosigner name ${JSON.stringify(name.slice(0, 60))}… is ${n} bytes; the signed message holds at most 255`);
}

export function mldsaCosignatureVerifier(name: string, raw: Uint8Array): CosignatureVerifier {
  checkName(name);
  const key = mldsa44PublicKey(raw);
  return {
    name,
    keyHash: c2spKeyId(name, ALG_COSIGNATURE_MLDSA, raw).slice(0, 4),
    kind: 'cosignature',
    timestampOf: (sig) => timestampOf(sig, MLDSA44_SIGNATURE_BYTES),
    verify: (text, sig) => {
      const ts = timestampOf(sig, MLDSA44_SIGNATURE_BYTES);
      // A wrong-length line (an Ed25519 cosignature under a colliding hash) is another key's: skip it.
      if (ts === undefined) return undefined;
      let message: Uint8Array;
      try {
        // A note that is no checkpoint, or one whose origin the struct cannot hold, has no cosigned_message
        // this key could have signed.
        message = checkpointCosignedMessage(name, ts, parseCheckpoint(utf8.decode(text)));
      } catch {
        return false;
      }
      return verify(null, message, key, sig.subarray(8));
    },
  };
}

/** A witness's ML-DSA-44 signer of checkpoints; `timestamp` is read at each signature (the simulator passes its clock). */
export function mldsaCosignatureSigner(name: string, privateKey: KeyObject, timestamp: () => bigint | number): NoteSigner {
  checkName(name);
  return {
    name,
    keyHash: c2spKeyId(name, ALG_COSIGNATURE_MLDSA, rawMldsa44(privateKey)).slice(0, 4),
    sign: (text) => {
      const checkpoint = parseCheckpoint(utf8.decode(text));
      return timestamped(BigInt(timestamp()), (ts) => sign(null, checkpointCosignedMessage(name, ts, checkpoint), privateKey));
    },
  };
}

/** An ML-DSA-44 witness's verifier key (signed-note §"Verifier keys"): `name+hash+base64(0x06 || key)`. */
export function mldsaCosignatureVkey(name: string, raw: Uint8Array): string {
  return `${name}+${toHex(c2spKeyId(name, ALG_COSIGNATURE_MLDSA, raw).slice(0, 4))}+${toBase64(concatBytes(Uint8Array.of(ALG_COSIGNATURE_MLDSA), raw))}`;
}
