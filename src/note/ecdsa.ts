/**
 * ECDSA note keys, signature type 0x02, as Rekor v1 signs its checkpoints (rekor.md §1.8) and
 * transparency-dev/formats verifies them: ASN.1 DER ECDSA over SHA-256(note text); the key hash is
 * SHA-256(SPKI DER)[:4] with no name in it, so the same key verifies under any signer name.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { TlogwatchError } from '../errors.ts';
import { sha256 } from './key-id.ts';
import type { NoteSigner, NoteVerifier } from './note.ts';

/** Node's names of the curves signed-note allows (NIST P-256, P-384, P-521). */
const NOTE_CURVES: ReadonlySet<string> = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

export const ecdsaKeyHash = (spkiDer: Uint8Array): Uint8Array => sha256(spkiDer).slice(0, 4);

export function spkiPublicKey(spki: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw new TlogwatchError('NOTE_BAD_KEY', 'public key is not a valid DER SubjectPublicKeyInfo', { cause: e });
  }
}

export function ecdsaVerifier(name: string, spkiDer: Uint8Array): NoteVerifier {
  const key = spkiPublicKey(spkiDer);
  if (key.asymmetricKeyType !== 'ec') throw new TlogwatchError('NOTE_BAD_KEY', `expected an ECDSA key, got ${key.asymmetricKeyType}`);
  // signed-note, type 0x02: "The ECDSA curve MUST be one of NIST P-256, NIST P-384, or NIST P-521."
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === undefined || !NOTE_CURVES.has(curve)) throw new TlogwatchError('NOTE_BAD_KEY', `ECDSA note keys must be on P-256, P-384 or P-521, not ${curve ?? 'an unnamed curve'}`);
  return {
    name,
    keyHash: ecdsaKeyHash(spkiDer),
    kind: 'ecdsa',
    verify: (text, sig) => {
      try {
        return verify('sha256', text, { key, dsaEncoding: 'der' }, sig);
      } catch {
        return false; // not DER at all
      }
    },
  };
}

export function ecdsaSigner(name: string, privateKey: KeyObject): NoteSigner {
  const spki = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  return { name, keyHash: ecdsaKeyHash(spki), sign: (text) => new Uint8Array(sign('sha256', text, { key: privateKey, dsaEncoding: 'der' })) };
}
