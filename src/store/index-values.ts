/**
 * What one entry is indexed under, and when (DESIGN.md's index fields): the pure half of a commit, kept
 * apart from LevelDB so it can be tested on its own (test/unit/store/index-values.test.ts).
 */
import { sansOf } from '../entries/subject-alt-name.ts';
import type { Entry, Signer } from '../entries/types.ts';
import { watchValue } from '../monitor/eval/values.ts';
import { normalise } from '../monitor/rules/pattern.ts';
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

/** The Fulcio URI claims indexed by value (Field.REPOSITORY, OWNER, BUILD_SIGNER), by the rules' name for each. */
export type ClaimField = 'repository' | 'owner' | 'buildSigner';

/**
 * A signer's repository, owner or build signer URI as it is indexed and searched: the value the rules
 * watch (monitor/eval/values.ts watchValue, so also the one derived from an old GitHub Actions certificate:
 * its repository and owner from .5, its build signer from the SAN, before Fulcio had .12, .16 and .9),
 * normalised as the rules compare it (normaliseUri). A search finds what a watch sees.
 */
export function claimValue(s: Signer, field: ClaimField): string | undefined {
  const v = watchValue(s, field);
  return v === undefined ? undefined : normaliseUri(v);
}

/**
 * A repository, owner or build signer URI, indexed or asked for, as the rules compare them
 * (monitor/rules/pattern.ts normalise): scheme and host in lower case (RFC 3986 §6.2.2.1), and on github.com
 * the owner and repository too, which GitHub's names are case-insensitive and Fulcio writes as GitHub
 * spells them (`https://github.com/Azure/…`); a workflow's path and ref stay as signed.
 */
export const normaliseUri = (v: string): string => (MAY_FOLD.test(v) ? normalise('url', v) : v);
/**
 * What normalise can change: it only lower-cases, which leaves a value without ASCII capitals or non-ASCII
 * characters as it is. Most URIs are such; the test spares them its scan on every commit (~0.8 µs an entry).
 */
const MAY_FOLD = /[A-Z\u0080-\uffff]/;

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
  // One signer naming one identity gives each value at most once (a certificate's own fingerprint and its
  // key's differ: one hashes the certificate, the other a part of it); several signers, or a certificate
  // naming several identities (which may normalise alike), may repeat a value.
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
  const addClaim = (field: number, value: string | undefined) => {
    if (value) add(field, value);
  };
  for (const [i, s] of signers.entries()) {
    // Every identity the certificate names, so that a search or lookup by any of them finds the entry, as
    // Rekor files an entry under all of a certificate's SANs (entries/subject-alt-name.ts).
    for (const san of sans[i]!) add(Field.SAN, normaliseIdentity(san));
    if (s.issuer !== undefined) add(Field.ISSUER, s.issuer);
    add(Field.FINGERPRINT, s.fingerprint.slice('sha256:'.length), hexBytes);
    // A certificate also under its key's fingerprint (its SubjectPublicKeyInfo's, what the same key has as a
    // key signer), as watch.fingerprints sees it: a search for a long-lived key finds its signatures under a
    // certificate someone made around it too. Rekor files such an entry under the certificate alone, which
    // index/retrieve keeps to (api/index-retrieve.ts publicKeyLookup).
    if (s.keyFingerprint !== undefined) add(Field.FINGERPRINT, s.keyFingerprint.slice('sha256:'.length), hexBytes);
    if (only === undefined || only === Field.REPOSITORY) addClaim(Field.REPOSITORY, claimValue(s, 'repository'));
    if (only === undefined || only === Field.OWNER) addClaim(Field.OWNER, claimValue(s, 'owner'));
    if (only === undefined || only === Field.BUILD_SIGNER) addClaim(Field.BUILD_SIGNER, claimValue(s, 'buildSigner'));
  }
  if (only === undefined || only === Field.TIME) out.push([Field.TIME, EMPTY_BYTES]);
  return out;
}

/** The time an entry is indexed at: the log's integrated time, else when the mirror saw it. */
export const entryTime = (e: Entry) => e.integratedTime ?? e.observedAt ?? 0;
