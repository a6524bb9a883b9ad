/**
 * rekord 0.0.1 (Rekor v1): sigstore/rekor pkg/types/rekord/v0.0.1/rekord_v0_0_1_schema.json.
 * `spec.data.hash` (server-computed) is the artifact digest; `spec.signature{format: pgp|minisign|x509|ssh,
 * publicKey.content}` the key. PGP, SSH and minisign keys are fingerprinted by their bytes.
 */
import { type Facts, rec, v1Hash } from './common.ts';

export function rekordV001(spec: Record<string, unknown>, f: Facts): void {
  f.digest(v1Hash(rec(rec(spec['data'])['hash'])), 'spec.data.hash');
  f.keyBase64(rec(rec(spec['signature'])['publicKey'])['content'], 'spec.signature.publicKey.content');
}
