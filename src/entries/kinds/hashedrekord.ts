/**
 * hashedrekord 0.0.1 (Rekor v1): sigstore/rekor pkg/types/hashedrekord/v0.0.1/hashedrekord_v0_0_1_schema.json.
 * `spec.data.hash{algorithm: sha256|sha384|sha512, value: hex}` is the artifact digest;
 * `spec.signature.publicKey.content` is base64 of a PEM public key or Fulcio leaf certificate.
 */
import { type Facts, rec, v1Hash } from './common.ts';

export function hashedrekordV001(spec: Record<string, unknown>, f: Facts): void {
  f.digest(v1Hash(rec(rec(spec['data'])['hash'])), 'spec.data.hash');
  f.keyBase64(rec(rec(spec['signature'])['publicKey'])['content'], 'spec.signature.publicKey.content');
}
