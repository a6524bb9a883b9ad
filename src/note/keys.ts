/**
 * Note verifier keys (https://c2sp.org/signed-note §"Verifier keys"), and the one place that re-exports
 * every key type, so callers import keys from here:
 *
 * - 0x01 Ed25519 (ed25519.ts): logs that follow C2SP, Rekor v2.
 * - 0x02 ECDSA (ecdsa.ts): Rekor v1, key hash SHA-256(SPKI)[:4] without the name.
 * - 0x04 cosignature/v1 (cosignature.ts): witnesses, timestamped Ed25519.
 * - 0x05 RFC 6962 STH (rfc6962.ts): static-CT and classic CT logs.
 * - 0x06 ML-DSA-44 cosignature (cosignature-mldsa.ts): witnesses, post-quantum, the cosigner's name signed.
 *
 * A vkey is `name+hash+base64(type || key)`; the base64 may itself contain '+', so split on the first two.
 */
import { TlogwatchError } from '../errors.ts';
import { parseBase64, toBase64 } from '../util/bytes.ts';
import { cosignatureVerifier } from './cosignature.ts';
import { mldsaCosignatureVerifier } from './cosignature-mldsa.ts';
import { ecdsaVerifier } from './ecdsa.ts';
import { ed25519Verifier } from './ed25519.ts';
import { ALG_COSIGNATURE_MLDSA, ALG_COSIGNATURE_V1, ALG_ECDSA, ALG_ED25519, ALG_RFC6962_STH, keyHashHex } from './key-id.ts';
import { isValidKeyName, type NoteVerifier } from './note.ts';
import { rfc6962Verifier } from './rfc6962.ts';

export { ALG_COSIGNATURE_MLDSA, ALG_COSIGNATURE_V1, ALG_ECDSA, ALG_ED25519, ALG_RFC6962_STH, c2spKeyId } from './key-id.ts';
export { ed25519KeyHash, ed25519KeyId, ed25519Signer, ed25519Verifier, rawEd25519 } from './ed25519.ts';
export { ecdsaKeyHash, ecdsaSigner, ecdsaVerifier } from './ecdsa.ts';
export { cosignatureSigner, cosignatureVerifier, cosignatureVkey, cosignedMessage, type CosignatureVerifier } from './cosignature.ts';
export { mldsaCosignatureSigner, mldsaCosignatureVerifier, mldsaCosignatureVkey, rawMldsa44, subtreeCosignedMessage } from './cosignature-mldsa.ts';
export { rfc6962Verifier } from './rfc6962.ts';

function badKey(why: string): TlogwatchError {
  return new TlogwatchError('NOTE_BAD_KEY', why);
}

/** Parses a `name+hash+base64(alg||key)` verifier key; the hash must be the one the key and name give. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw badKey('verifier key must be name+hash+base64');
  const name = vkey.slice(0, first);
  const hashHex = vkey.slice(first + 1, second);
  const b64 = vkey.slice(second + 1);
  const raw = parseBase64(b64);
  // Canonical base64 only: two spellings of one key would be two different configuration strings.
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(hashHex) || !raw || raw.length < 2 || toBase64(raw) !== b64) {
    throw badKey(`malformed verifier key ${JSON.stringify(vkey.slice(0, 60))}`);
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
    case ALG_COSIGNATURE_MLDSA:
      v = mldsaCosignatureVerifier(name, key);
      break;
    default:
      throw badKey(`unsupported verifier key type 0x${alg.toString(16).padStart(2, '0')} for ${name}`);
  }
  if (keyHashHex(v.keyHash) !== hashHex) throw badKey(`verifier key hash ${hashHex} does not match the key of ${name} (${keyHashHex(v.keyHash)})`);
  return v;
}
