/**
 * The DSSE v1 pre-authentication encoding (DSSE protocol.md, "Signature definition"):
 * `DSSEv1 <len(type)> <type> <len(body)> <body>`, lengths in bytes as ASCII decimal. A DSSE signature is
 * over these bytes, and a client that logs a DSSE signature as hashedrekord (sigstore-java's Rekor v2
 * bundles, 4855114 in test/fixtures/realdata) logs their SHA-256 as the signed digest: the digest then
 * commits to the payload as a dsse entry's payload hash does.
 */
import { sha256Hex } from '../util/sha256.ts';
import type { Entry } from './types.ts';

export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

/**
 * Whether `payload` is the DSSE payload that this entry's body commits to. Rekor v1 keeps attestations
 * outside the log (rekor.md §2: intoto's envelope is "stored in separate attestation storage, not the
 * log"; dsse's payload hash is `spec.payloadHash`), and a posted bundle's envelope is the poster's: no
 * leaf hash, inclusion proof or SET covers them. Only the payload hash in the verified body ties one to
 * its entry, so anything else is not the entry's and must not lend it subjects or provenance. (A dsse or
 * intoto body binds the payloadType otherwise, which a bundle's check compares: verify/logged-envelope.ts.)
 */
export function isEntryPayload(entry: Entry, payload: Uint8Array, payloadType?: string): boolean {
  if (entry.kind === 'intoto' || entry.kind === 'dsse') return entry.digests.includes(`sha256:${sha256Hex(payload)}`);
  // A DSSE signature logged as hashedrekord: the signed digest is the envelope's PAE (above), which
  // commits to the payload and its type. Only a bundle carries the type; an attestation alone does not.
  return entry.kind === 'hashedrekord' && payloadType !== undefined && entry.digests.includes(`sha256:${sha256Hex(dssePae(payloadType, payload))}`);
}
