/**
 * The canonical form Rekor gives a minisign public key (sigstore/rekor pkg/pki/minisign/minisign.go,
 * over github.com/jedisct1/go-minisign): base64 of the algorithm (2 bytes), key ID (8) and Ed25519 key (32),
 * with no comment and no newline. Rekor reads the key file (a comment line, then that base64), the base64
 * alone, or the 32 raw key bytes of entries logged before rekor#562 (algorithm `Ed`, key ID zero).
 */
import { goBase64 } from '../proposed-entry.ts';

export class MinisignKeyError extends Error {}

/** Rekor's canonical form of a minisign public key; MinisignKeyError when Rekor would refuse it. */
export function canonicalMinisignKey(material: Uint8Array): string {
  const text = Buffer.from(material).toString('latin1');
  const nl = text.indexOf('\n');
  // DecodePublicKey: everything after the first line; NewPublicKey: the whole text. Go's base64 skips line breaks.
  for (const candidate of nl >= 0 ? [text.slice(nl + 1), text] : [text]) {
    const b = goBase64(candidate);
    if (b?.length === 42) return b.toString('base64');
  }
  if (material.length === 32) return Buffer.concat([Buffer.from('Ed'), Buffer.alloc(8), material]).toString('base64');
  throw new MinisignKeyError('unable to read minisign public key: invalid encoded public key');
}
