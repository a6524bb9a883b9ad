/**
 * Ed25519 note keys, signature type 0x01 (https://c2sp.org/signed-note §"Ed25519"): the signature is
 * RFC 8032 Ed25519 over the note text, the key ID is SHA-256(name || 0x0A || 0x01 || 32-byte key).
 * Rekor v2 signs its checkpoints this way, and its trusted-root logId.keyId is the full key ID (rekor.md §3.3).
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { TlogwatchError } from '../errors.ts';
import { ALG_ED25519, c2spKeyId } from './key-id.ts';
import type { NoteSigner, NoteVerifier } from './note.ts';

/** DER SubjectPublicKeyInfo header of an Ed25519 key (RFC 8410 §4); the raw key follows. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const ed25519KeyId = (name: string, raw: Uint8Array): Uint8Array => c2spKeyId(name, ALG_ED25519, raw);
export const ed25519KeyHash = (name: string, raw: Uint8Array): Uint8Array => ed25519KeyId(name, raw).slice(0, 4);

export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new TlogwatchError('NOTE_BAD_KEY', `Ed25519 public key must be 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The raw 32-byte Ed25519 key from a KeyObject (public or private). */
export function rawEd25519(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') throw new TlogwatchError('NOTE_BAD_KEY', `expected an Ed25519 key, got ${pub.asymmetricKeyType}`);
  const der = pub.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

export function ed25519Verifier(name: string, raw: Uint8Array): NoteVerifier {
  const key = ed25519PublicKey(raw);
  return {
    name,
    keyHash: ed25519KeyHash(name, raw),
    kind: 'ed25519',
    // A known key whose signature has the wrong length has failed, as in Go's note.Open.
    verify: (text, sig) => sig.length === 64 && verify(null, text, key, sig),
  };
}

export function ed25519Signer(name: string, privateKey: KeyObject): NoteSigner {
  return { name, keyHash: ed25519KeyHash(name, rawEd25519(privateKey)), sign: (text) => new Uint8Array(sign(null, text, privateKey)) };
}
