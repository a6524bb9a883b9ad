/**
 * POST /api/v1/index/retrieve over the mirrored Rekor v1 log (rekor.md §1.10; Rekor pkg/api/index.go
 * SearchIndexHandler): the entry IDs filed under each value asked for, all of them, their union (`or`, the
 * default) or intersection (`and`). Rekor answers whole sets, so a client cannot tell a truncated answer
 * from a complete one: this reads each value's entries through every page of the store's index, and
 * refuses rather than truncates when a value has more than it will read.
 *
 * Each lookup names the index values that hold every entry it may match, and may say which of those
 * entries Rekor files under the value asked for. The candidates' entry values are read once, in pages, and
 * that one read both decides membership and gives the route what it answers with.
 *
 * Bounded with the searches (search-gate.ts): it holds what a page of its index scan costs while it scans,
 * then each page of candidates while it decodes them, yielding to the event loop every SLICE entries, so
 * the mirror's callbacks run between them (BENCHMARKS.md "Catch-up under heavy reads of the other routes").
 */
import { describeError } from '../errors.ts';
import { canonicalPublicKeys, indexedKeyContent, type RekorKeyFormat } from '../entries/rekor-pki/public-key.ts';
import { signerFromKeyMaterial, uncachedCertificates } from '../entries/signer.ts';
import { sansOf } from '../entries/subject-alt-name.ts';
import { decodeEntryValue } from '../store/entry-value.ts';
import { sha256Hex } from '../util/sha256.ts';
import { signersOf } from '../monitor/eval/values.ts';
import type { StoredRecord } from '../store/codec.ts';
import { filedUnder, stillFiled } from '../store/implied-keys.ts';
import { Field, type FieldName } from '../store/keys.ts';
import type { Store } from '../store/store.ts';
import { apiError } from './errors.ts';
import { caseForms, goLower } from './rekor-case.ts';
import { normaliseDigest } from './selectors.ts';
import { SLICE, yieldToLoop } from './search.ts';
import { storedSpellings } from '../store/stored-spellings.ts';
import type { Hold } from './search-gate.ts';

/** What one query field looks up (`what` names it in errors). */
export interface IndexLookup {
  what: string;
  field: FieldName;
  /** Index values whose entries include every entry this lookup matches. */
  values: readonly Uint8Array[];
  /**
   * Whether Rekor files this entry under the value asked for, when `values` can hold entries it does not.
   * Either way an entry matches only when the index holds it under one of `values` by a key today's decoder
   * implies (member): found there and still filed there, or, for a lookup with too many entries to read,
   * filed there by index-values.ts (the source of every index key).
   */
  matches?: (record: StoredRecord, body: Uint8Array) => boolean;
}

/** An entry of the answer: its index in the log and its record, read once. */
export interface RetrievedEntry {
  index: number;
  record: StoredRecord;
}

/**
 * Rekor's bare digest lengths (pkg/util/sha.go PrefixSHA): a hash without an algorithm is named by its
 * length. The schema's pattern (rekor-swagger.ts HASH_PATTERN) lets only sha1, sha256 and sha512 through,
 * bare or prefixed (in lower case), so sha384 is never asked for here.
 */
const BARE = new Map([[40, 'sha1'], [64, 'sha256'], [128, 'sha512']]);

/**
 * The digest a `hash` names, as Rekor reads it once its pattern has passed: `alg:HEX`, or bare hex whose
 * length names the algorithm (PrefixSHA, so 128 digits are sha512), hex in either case. sha1 is valid
 * there, but the mirror indexes only sha256, sha384 and sha512 digests, so an sha1 query is refused
 * rather than answered with an empty list that would claim the log has no such entry.
 */
export function rekorHash(v: string): ReturnType<typeof normaliseDigest> {
  const named = v.includes(':') ? v : `${BARE.get(v.length) ?? 'sha256'}:${v}`;
  if (/^sha1:/i.test(named)) throw apiError('API_BAD_REQUEST', 'hash: sha1 digests are not indexed by this mirror (sha256, sha384 and sha512 are)');
  return normaliseDigest(named);
}

/** Index keys read for one lookup (all its values) before giving up on reading all of them (every log's entries count). */
export const MAX_SCANNED = 10_000;
/** Index keys read per store.search, and candidates decoded per multi-get. */
export const PAGE = 1000;

/**
 * `email` or `subject`: the entries with a SAN that folds to the value as Rekor folds both (rekor-case.ts),
 * found under every spelling of it the SAN index holds. Rekor's index keys are one space, so either field
 * matches any SAN; the mirror's hold no other kind of key under these names.
 */
export async function identityLookup(store: Store, what: 'email' | 'subject', v: string): Promise<IndexLookup> {
  const folded = goLower(v);
  const values = await storedSpellings(store.db, Field.SAN, caseForms(folded), MAX_SCANNED);
  if (!values) throw apiError('API_BAD_REQUEST', `${what}: the SAN index holds more spellings of it, in upper and lower case, than this endpoint reads`);
  return {
    what,
    field: 'SAN',
    values,
    // Rekor files an entry under every SAN of its certificate (pkg/pki/x509 Subjects), so any may match.
    matches: ({ entry: e }) => signersOf(e).some((s) => sansOf(s).some((san) => goLower(san) === folded)),
  };
}

/**
 * The log's entries under a lookup's values, each with the values it was found under (newest first per
 * value); `complete` when the index had no more.
 */
async function entriesUnder(store: Store, log: string, l: IndexLookup, maxScanned: number): Promise<{ found: Map<number, Uint8Array[]>; complete: boolean }> {
  const found = new Map<number, Uint8Array[]>();
  let scanned = 0;
  for (const value of l.values) {
    let cursor: string | null = null;
    do {
      if (scanned >= maxScanned) return { found, complete: false };
      const page: Awaited<ReturnType<Store['search']>> = await store.search(l.field, value, { limit: PAGE, ...(cursor ? { cursor } : {}) });
      scanned += page.refs.length;
      for (const r of page.refs) {
        if (r.log !== log) continue;
        const under = found.get(r.index);
        if (under) under.push(value);
        else found.set(r.index, [value]);
      }
      cursor = page.next;
    } while (cursor !== null);
  }
  return { found, complete: true };
}

/**
 * `publicKey`: the entries Rekor files under the SHA-256 of the key's canonical form in its format
 * (entries/rekor-pki). The store's fingerprint index holds them: the SHA-256 of the DER certificate or key
 * (x509), or of the key as the body gives it, which is that canonical form (pgp, ssh, minisign). Each is
 * kept when its body's key, where Rekor hashes it, hashes to one of the forms: so dsse and intoto entries,
 * which Rekor files under `sha256:`-prefixed key hashes, are not, nor a certificate chain's leaf alone, nor
 * a certificate made around the key, which the fingerprint index lists under the key's fingerprint too (as
 * GET /v1/search finds it, store/index-values.ts) but Rekor files under the certificate alone.
 */
export function publicKeyLookup(format: RekorKeyFormat, material: Uint8Array): IndexLookup {
  if (format === 'tuf') throw apiError('API_BAD_REQUEST', 'publicKey: tuf roots are not indexed by this mirror (pgp, x509, minisign and ssh keys are)');
  // Rekor reads an empty or absent content as a key that does not parse (400, malformedPublicKey).
  if (material.length === 0) throw apiError('API_BAD_REQUEST', 'public key provided could not be parsed: publicKey.content is empty');
  let forms: Uint8Array[];
  let values: Uint8Array[];
  try {
    forms = canonicalPublicKeys(format, material);
    values = format === 'x509' ? [Buffer.from(signerFromKeyMaterial(forms[0]!, uncachedCertificates).fingerprint.slice('sha256:'.length), 'hex')] : forms.map((f) => Buffer.from(sha256Hex(f), 'hex'));
  } catch (e) {
    // A key Rekor could not read is the client's mistake (400, malformedPublicKey).
    throw apiError('API_BAD_REQUEST', `public key provided could not be parsed: ${describeError(e)}`);
  }
  const hashes = new Set(forms.map((f) => sha256Hex(f)));
  return {
    what: 'publicKey',
    field: 'FINGERPRINT',
    values,
    matches: (_record, body) => {
      const key = indexedKeyContent(body);
      return key !== undefined && hashes.has(sha256Hex(key));
    },
  };
}

type Scanned = { l: IndexLookup; found: Map<number, Uint8Array[]>; complete: boolean };
type Candidate = { index: number; record: StoredRecord; body: Uint8Array };

/**
 * Which of a page of candidates match a scanned lookup. As GET /v1/search checks what it scanned (stale
 * keys, docs/architecture.md "When the decoder changes"), an entry a complete scan found is kept only where
 * a key it was found under is one today's decoder implies, or a bundle posted for it lent it (a digest:
 * implied-keys.ts stillFiled); a lookup too large to read keeps an entry today's decoder files under one of
 * its values. Then the lookup's own test, if it has one.
 */
async function member(store: Store, log: string, s: Scanned, page: readonly Candidate[]): Promise<boolean[]> {
  const field = Field[s.l.field];
  const test = ({ record, body }: Candidate) => s.l.matches?.(record, body) ?? true;
  if (!s.complete) return page.map((c) => s.l.values.some((v) => filedUnder(c.record, field, v)) && test(c));
  const listed = page.flatMap(({ index, record }) => (s.found.get(index) ?? []).map((value) => ({ log, index, record, value })));
  const filed = await stillFiled(store, field, listed);
  const held = new Set(listed.filter((_, i) => filed[i]).map((l) => l.index));
  return page.map((c) => held.has(c.index) && test(c));
}

const tooMany = (l: IndexLookup, maxScanned: number) =>
  apiError('API_BAD_REQUEST', `more than ${maxScanned} index entries are filed under ${l.what}, more than this endpoint reads; page through them with GET /v1/search`);

/**
 * The log's entries matching `lookups` under `operator`, each candidate's value read once. For `and`, a
 * value with too many entries to read is checked on the candidates the other values give instead (a
 * candidate is kept when it matches that value too), so only an intersection of values that are all too
 * large is refused.
 */
export async function retrieveEntries(store: Store, log: string, lookups: readonly IndexLookup[], operator: 'and' | 'or', maxScanned = MAX_SCANNED, hold?: Hold): Promise<RetrievedEntry[]> {
  const sets: Scanned[] = [];
  for (const l of lookups) sets.push({ l, ...(await entriesUnder(store, log, l, maxScanned)) });
  let candidates: number[];
  if (operator === 'or') {
    const large = sets.find((s) => !s.complete);
    if (large) throw tooMany(large.l, maxScanned);
    candidates = [...new Set(sets.flatMap((s) => [...s.found.keys()]))];
  } else {
    const complete = sets.filter((s) => s.complete);
    if (complete.length === 0) throw tooMany(sets[0]!.l, maxScanned);
    candidates = [...complete[0]!.found.keys()].filter((i) => complete.every((s) => s.found.has(i)));
  }
  const out: RetrievedEntry[] = [];
  for (let at = 0; at < candidates.length; at += PAGE) {
    const indexes = candidates.slice(at, at + PAGE);
    await hold?.resize(indexes.length);
    const values = await store.getEntryValues(indexes.map((index) => ({ log, index })));
    const page: Candidate[] = [];
    for (const [i, index] of indexes.entries()) {
      if (i > 0 && i % SLICE === 0) await yieldToLoop();
      const v = values[i];
      if (v) page.push({ index, ...decodeEntryValue(v, log, index) });
    }
    const members = await Promise.all(sets.map((s) => member(store, log, s, page)));
    page.forEach(({ index, record }, i) => {
      if (operator === 'or' ? members.some((m) => m[i]) : members.every((m) => m[i])) out.push({ index, record });
    });
  }
  return out;
}
