/**
 * Note verifier and signer keys.
 *
 * - Ed25519 (alg 0x01, C2SP signed-note): key ID = SHA-256(name || 0x0A || 0x01 || key); hash = its first 4 bytes.
 * - ECDSA P-256 as Rekor v1 signs checkpoints (alg 0x02 in transparency-dev/formats vkeys): key hash =
 *   SHA-256(SPKI DER)[:4], no name in the hash (rekor.md §1.8); ASN.1 DER signature over SHA-256(text).
 * - cosignature/v1 (alg 0x04, https://c2sp.org/tlog-cosignature): Ed25519 over
 *   "cosignature/v1\ntime <T>\n" || text; the signature is 8-byte big-endian T || 64-byte signature.
 * - RFC 6962 STH (alg 0x05, https://c2sp.org/static-ct-api): key hash = SHA-256(name || 0x0A || 0x05 || logID)[:4]
 *   with logID = SHA-256(SPKI); signature = 8-byte timestamp || TLS DigitallySigned over the TreeHeadSignature.
 * A vkey is `name+hash+base64(alg || key)`.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { TlogwatchError } from '../errors.ts';
import { concatBytes, parseBase64, utf8 } from '../util/bytes.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { isValidKeyName, type NoteSigner, type NoteVerifier } from './note.ts';

const sha256 = (...parts: Uint8Array[]) => new Uint8Array(createHash('sha256').update(concatBytes(...parts)).digest());
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const ALG_ED25519 = 0x01;
export const ALG_ECDSA = 0x02;
export const ALG_COSIGNATURE_V1 = 0x04;
export const ALG_RFC6962_STH = 0x05;

/** The full 32-byte C2SP key ID of a key of type `alg` (its first 4 bytes are the key hash). */
export function c2spKeyId(name: string, alg: number, key: Uint8Array): Uint8Array {
  return sha256(utf8.encode(`${name}\n`), new Uint8Array([alg]), key);
}
export const ed25519KeyId = (name: string, raw: Uint8Array) => c2spKeyId(name, ALG_ED25519, raw);
export const ed25519KeyHash = (name: string, raw: Uint8Array) => ed25519KeyId(name, raw).slice(0, 4);
export const ecdsaKeyHash = (spkiDer: Uint8Array) => sha256(spkiDer).slice(0, 4);

function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new TlogwatchError('NOTE_BAD_KEY', `Ed25519 public key must be 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function spkiPublicKey(spki: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw new TlogwatchError('NOTE_BAD_KEY', 'public key is not a valid DER SubjectPublicKeyInfo', { cause: e });
  }
}

/** The raw 32-byte Ed25519 key from a KeyObject (public or private). */
export function rawEd25519(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

export function ed25519Verifier(name: string, raw: Uint8Array): NoteVerifier {
  const key = ed25519PublicKey(raw);
  return {
    name,
    keyHash: ed25519KeyHash(name, raw),
    kind: 'ed25519',
    verify: (text, sig) => (sig.length === 64 ? verify(null, text, key, sig) : false),
  };
}

export function ecdsaVerifier(name: string, spkiDer: Uint8Array): NoteVerifier {
  const key = spkiPublicKey(spkiDer);
  if (key.asymmetricKeyType !== 'ec') throw new TlogwatchError('NOTE_BAD_KEY', `expected an ECDSA key, got ${key.asymmetricKeyType}`);
  return {
    name,
    keyHash: ecdsaKeyHash(spkiDer),
    kind: 'ecdsa',
    verify: (text, sig) => {
      try {
        return verify('sha256', text, { key, dsaEncoding: 'der' }, sig);
      } catch {
        return false;
      }
    },
  };
}

/** The message a cosignature/v1 signs (tlog-cosignature §"Signed message"). */
export function cosignedMessage(timestamp: bigint, text: Uint8Array): Uint8Array {
  return concatBytes(utf8.encode(`cosignature/v1\ntime ${timestamp}\n`), text);
}

export interface CosignatureVerifier extends NoteVerifier {
  /** Timestamp of the last signature this verifier accepted (seconds), for witness freshness checks. */
  timestampOf(signature: Uint8Array): bigint | undefined;
}

export function cosignatureVerifier(name: string, raw: Uint8Array): CosignatureVerifier {
  const key = ed25519PublicKey(raw);
  const timestampOf = (sig: Uint8Array) => (sig.length === 72 ? new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0) : undefined);
  return {
    name,
    keyHash: c2spKeyId(name, ALG_COSIGNATURE_V1, raw).slice(0, 4),
    kind: 'cosignature',
    timestampOf,
    verify: (text, sig) => {
      const ts = timestampOf(sig);
      if (ts === undefined) return undefined;
      return verify(null, cosignedMessage(ts, text), key, sig.subarray(8));
    },
  };
}

/** RFC 6962 §3.5 TreeHeadSignature: version v1(0), signature_type tree_hash(1), timestamp, tree_size, root. */
function treeHeadSignatureInput(timestamp: bigint, size: bigint, root: Uint8Array): Uint8Array {
  const b = new Uint8Array(2 + 8 + 8 + 32);
  const dv = new DataView(b.buffer);
  b[0] = 0;
  b[1] = 1;
  dv.setBigUint64(2, timestamp);
  dv.setBigUint64(10, size);
  b.set(root, 18);
  return b;
}

export function rfc6962Verifier(name: string, spkiDer: Uint8Array): NoteVerifier {
  const key = spkiPublicKey(spkiDer);
  const logId = sha256(spkiDer);
  return {
    name,
    keyHash: c2spKeyId(name, ALG_RFC6962_STH, logId).slice(0, 4),
    kind: 'rfc6962',
    verify: (text, sig) => {
      // timestamp(8) || hash alg(1) || sig alg(1) || uint16 length || signature
      if (sig.length < 12) return undefined;
      const dv = new DataView(sig.buffer, sig.byteOffset, sig.byteLength);
      const len = dv.getUint16(10);
      if (sig.length !== 12 + len || sig[8] !== 4 /* sha256 */) return false;
      let cp;
      try {
        cp = parseCheckpoint(utf8.decode(text));
      } catch {
        return false;
      }
      if (cp.extensions.length > 0) return false;
      const input = treeHeadSignatureInput(dv.getBigUint64(0), cp.size, cp.rootHash);
      try {
        return verify('sha256', input, { key, dsaEncoding: 'der' }, sig.subarray(12));
      } catch {
        return false;
      }
    },
  };
}

/** Parses a `name+hash+base64(alg||key)` verifier key; the hash must match the key. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw new TlogwatchError('NOTE_BAD_KEY', 'verifier key must be name+hash+base64');
  const name = vkey.slice(0, first);
  const hashHex = vkey.slice(first + 1, second);
  const raw = parseBase64(vkey.slice(second + 1));
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(hashHex) || !raw || raw.length < 2) {
    throw new TlogwatchError('NOTE_BAD_KEY', `malformed verifier key ${JSON.stringify(vkey.slice(0, 60))}`);
  }
  const alg = raw[0]!;
  const key = raw.subarray(1);
  let v: NoteVerifier;
  switch (alg) {
    case ALG_ED25519:
      v = ed25519Verifier(name, key);
      break;
    case ALG_ECDSA:
      v = ecdsaVerifier(name, key);
      break;
    case ALG_COSIGNATURE_V1:
      v = cosignatureVerifier(name, key);
      break;
    case ALG_RFC6962_STH:
      v = rfc6962Verifier(name, key);
      break;
    default:
      throw new TlogwatchError('NOTE_BAD_KEY', `unknown verifier key algorithm 0x${alg.toString(16)}`);
  }
  if (Buffer.from(v.keyHash).toString('hex') !== hashHex) throw new TlogwatchError('NOTE_BAD_KEY', `verifier key hash ${hashHex} does not match the key`);
  return v;
}

export function ed25519Signer(name: string, privateKey: KeyObject): NoteSigner {
  return { name, keyHash: ed25519KeyHash(name, rawEd25519(privateKey)), sign: (text) => new Uint8Array(sign(null, text, privateKey)) };
}

export function ecdsaSigner(name: string, privateKey: KeyObject): NoteSigner {
  const spki = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  return { name, keyHash: ecdsaKeyHash(spki), sign: (text) => new Uint8Array(sign('sha256', text, { key: privateKey, dsaEncoding: 'der' })) };
}

export function cosignatureSigner(name: string, privateKey: KeyObject, timestamp: () => bigint | number): NoteSigner {
  return {
    name,
    keyHash: c2spKeyId(name, ALG_COSIGNATURE_V1, rawEd25519(privateKey)).slice(0, 4),
    sign: (text) => {
      const ts = BigInt(timestamp());
      const out = new Uint8Array(72);
      new DataView(out.buffer).setBigUint64(0, ts);
      out.set(sign(null, cosignedMessage(ts, text), privateKey), 8);
      return out;
    },
  };
}
