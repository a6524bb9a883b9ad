/**
 * What one entry is indexed under, and when (DESIGN.md's index fields): the pure half of a commit, kept
 * apart from LevelDB so it can be tested on its own (test/unit/store/index-values.test.ts).
 */
import { sansOf } from '../entries/subject-alt-name.ts';
import type { Entry } from '../entries/types.ts';
import { indexableDigestBytes, isIndexableDigest } from './codec.ts';
import { Field } from './keys.ts';
import { EMPTY_BYTES } from '../util/bytes.ts';

export type IndexMode = 'all' | 'watched';

const enc = (s: string) => Buffer.from(s, 'utf8');
const hexBytes = (h: string) => Buffer.from(h, 'hex');

/** Identities are indexed case-insensitively where the field is (emails; URIs keep their case). */
export function normaliseIdentity(san: string): string {
  return san.includes('://') ? san : san.toLowerCase();
}

/**
 * Every (field, value) an entry is indexed under (digests always; the rest unless filtered), each once.
 * A value with a NUL byte would break the key layout; such a value is hostile, not an identity, and is left
 * out. Hot path of every commit: values are checked and deduplicated as strings, before encoding.
 * `only`: those of one field alone, as a search checks the entries a key listed (implied-keys.ts filedUnder).
 */
export function indexValues(e: Entry, full: boolean, only?: number): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  const seen = new Set<string>();
  if (only === undefined || only === Field.DIGEST) for (const d of e.digests) {
    if (seen.has(d) || !isIndexableDigest(d)) continue;
    seen.add(d);
    out.push([Field.DIGEST, indexableDigestBytes(d)]);
  }
  if (!full || only === Field.DIGEST) return out;
  const signers = e.signers ?? (e.signer ? [e.signer] : []);
  const sans = signers.map(sansOf);
  // One signer naming one identity gives each field at most once; several signers, or a certificate naming
  // several identities (which may normalise alike), may repeat a value.
  const dedupe = signers.length > 1 || sans.some((n) => n.length > 1);
  const add = (field: number, value: string, bytes: (v: string) => Uint8Array = enc) => {
    if (only !== undefined && field !== only) return;
    if (field !== Field.FINGERPRINT && value.includes('\0')) return;
    if (dedupe) {
      const k = `${field}:${value}`;
      if (seen.has(k)) return;
      seen.add(k);
    }
    out.push([field, bytes(value)]);
  };
  for (const [i, s] of signers.entries()) {
    // Every identity the certificate names, so that a search or lookup by any of them finds the entry, as
    // Rekor files an entry under all of a certificate's SANs (entries/subject-alt-name.ts).
    for (const san of sans[i]!) add(Field.SAN, normaliseIdentity(san));
    if (s.issuer !== undefined) add(Field.ISSUER, s.issuer);
    add(Field.FINGERPRINT, s.fingerprint.slice('sha256:'.length), hexBytes);
    const f = s.fulcio;
    if (f?.sourceRepositoryURI) add(Field.REPOSITORY, f.sourceRepositoryURI);
    if (f?.sourceRepositoryOwnerURI) add(Field.OWNER, f.sourceRepositoryOwnerURI);
    if (f?.buildSignerURI) add(Field.BUILD_SIGNER, f.buildSignerURI);
  }
  if (only === undefined || only === Field.TIME) out.push([Field.TIME, EMPTY_BYTES]);
  return out;
}

/** The time an entry is indexed at: the log's integrated time, else when the mirror saw it. */
export const entryTime = (e: Entry) => e.integratedTime ?? e.observedAt ?? 0;
