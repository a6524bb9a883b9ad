/**
 * The decoder epoch: which derivation of an entry's indexed facts (its digests, and its signers' SANs,
 * issuers, fingerprints and Fulcio claims: store/index-values.ts) this tlogwatch implements.
 *
 * The store keeps each entry's body and derives the Entry from it on every read (store/entry-value.ts),
 * but it writes the entry's index keys once, at ingest, from what the decoder derived then. When the
 * decoder changes what it derives, entries indexed before the change read with the new facts and are still
 * found only under the old ones. A store records the epoch its index keys were written at (store.ts
 * `indexedEpoch`, META `decoderEpoch`); `serve` re-indexes a store at an older one in the background
 * (store/reindex.ts) and then records this one. A store at a newer one is refused (a downgrade).
 *
 * BUMP THIS whenever a change to src/entries alters any fact index-values.ts indexes, for any body: which
 * signers an entry has, a signer's SAN, issuer, fingerprint or Fulcio claims, or the entry's digests (the
 * statement's subjects included). Say here what the new epoch changed. A change that only adds facts
 * nothing indexes, or only rewords a problem, needs no bump. test/unit/entries/decoder-epoch.test.ts
 * fails when the index keys of the real fixtures (and of certificates it makes) change at the same epoch.
 *
 * 0: a store that records no epoch: indexed by a tlogwatch from before epochs were recorded, with any of
 *    the derivations below missing.
 * 1: the first recorded epoch. Against what stores without one may have been indexed with:
 *    - a certificate with a malformed Fulcio extension value (47def5f), a malformed otherName SAN
 *      (f8be602) or a validity time outside RFC 5280's profile (9938aaa) keeps its signer, less the value
 *      it cannot read (before: no signer at all, so no SAN, issuer, fingerprint or Fulcio keys);
 *    - up to 1024 signatures and every subject a statement holds are read (766ae89; before: 64 and 256).
 *    Not a change to what a stored entry implies: a DSSE signature logged as hashedrekord lends its
 *    statement's subjects (f71387a) only with the payload type, which only a bundle posted to
 *    POST /v1/bundles carries; those keys are written by that POST (bundles-post.ts), and such bundles
 *    were refused before, so no store lacks keys for them.
 * 2: every identity a certificate's SubjectAltName names is indexed (entries/subject-alt-name.ts `sans`: its
 *    URIs, emails, DNS names, IP addresses and Fulcio usernames, up to 128 of them), where only the primary SAN
 *    (first URI, else email, else username) was: a self-made certificate naming a watched identity second
 *    was not found by `/v1/search?identity=` or `POST /api/v1/index/retrieve` under it.
 * 3: every name of the SubjectAltName is read, where epoch 2 read the first 128 (MAX_SANS, now gone): a
 *    certificate naming more had the identities past the 128th neither indexed nor watched, though Rekor
 *    files the entry under them.
 * 4: what `/v1/search` finds is what the rules see (store/index-values.ts claimValue): a certificate is also
 *    filed under its key's fingerprint (Signer.keyFingerprint, its SubjectPublicKeyInfo's SHA-256, ac4f908);
 *    a repository, owner or build signer URI is filed as the rules compare it, scheme, host and a github.com
 *    owner and repository lower-cased (`https://github.com/Azure/x` under `https://github.com/azure/x`,
 *    58fcee9); and a GitHub Actions certificate older than Fulcio's .9, .12 and .16 is filed under the build
 *    signer (its SAN, d7858f6), repository and owner (from .5) the rules derive for it. Drops keys: a URI
 *    with capitals where it is now lower-cased was filed as signed.
 */
export const DECODER_EPOCH = 4;

/**
 * The epochs whose change can stop a body implying a key an earlier epoch's decoder derived from it (a
 * value corrected or dropped, not only one added): a store indexed before one of them may hold stale keys,
 * and its re-index then also deletes those (store/reindex.ts sweep: one more scan of the whole index,
 * ~20 s per million entries on the 2-core machine). When a bump does that, add its epoch here. Every change
 * up to epoch 3 only added signers, values (epochs 2 and 3: the SANs after the primary one) or digests;
 * epoch 4 re-spells the URIs it lower-cases, so the keys under their old spelling go.
 */
export const EPOCHS_DROPPING_KEYS: readonly number[] = [4];

/** Whether a store indexed at `indexedEpoch` may hold keys this decoder no longer implies. */
export function mayHoldStaleKeys(indexedEpoch: number, dropping: readonly number[] = EPOCHS_DROPPING_KEYS): boolean {
  return dropping.some((e) => e > indexedEpoch && e <= DECODER_EPOCH);
}
