/**
 * POST /api/v1/index/retrieve over the mirrored Rekor v1 log (rekor.md §1.10; Rekor pkg/api/index.go
 * SearchIndexHandler): the entry IDs filed under each value asked for, all of them, their union (`or`, the
 * default) or intersection (`and`). Rekor answers whole sets, so a client cannot tell a truncated answer
 * from a complete one: this reads each value's entries through every page of the store's index, and
 * refuses rather than truncates when a value has more than it will read.
 */
import type { Entry } from '../entries/types.ts';
import { decodeEntryValue } from '../store/entry-value.ts';
import { indexValues } from '../store/index-values.ts';
import { Field, type FieldName } from '../store/keys.ts';
import type { EntryRef, Store } from '../store/store.ts';
import { apiError } from './errors.ts';
import { normaliseDigest } from './selectors.ts';

/** What one query field looks up: an index and the value under it (`what` names it in errors). */
export interface IndexLookup {
  what: string;
  field: FieldName;
  value: Uint8Array;
}

/** Rekor's bare digest lengths (pkg/util/sha.go PrefixSHA): a hash without an algorithm is named by its length. */
const BARE = new Map([[40, 'sha1'], [64, 'sha256'], [96, 'sha384'], [128, 'sha512']]);

/**
 * The digest a `hash` names, as Rekor reads it: `alg:HEX`, or bare hex whose length names the algorithm
 * (PrefixSHA, so 128 digits are sha512, not an error), case-insensitive. sha1 is valid there, but the
 * mirror indexes only sha256, sha384 and sha512 digests, so an sha1 query is refused rather than
 * answered with an empty list that would claim the log has no such entry.
 */
export function rekorHash(v: string): ReturnType<typeof normaliseDigest> {
  const named = v.includes(':') ? v : `${BARE.get(v.length) ?? 'sha256'}:${v}`;
  if (/^sha1:/i.test(named)) throw apiError('API_BAD_REQUEST', 'hash: sha1 digests are not indexed by this mirror (sha256, sha384 and sha512 are)');
  return normaliseDigest(named);
}

/** Index keys read for one value before giving up on reading all of them (every log's entries count). */
export const MAX_SCANNED = 10_000;
const PAGE = 1000;

/** The log's entries under one value, newest first; `complete` when the index had no more. */
async function entriesUnder(store: Store, log: string, l: IndexLookup, maxScanned: number): Promise<{ indexes: number[]; complete: boolean }> {
  const indexes: number[] = [];
  let scanned = 0;
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Store['search']>> = await store.search(l.field, l.value, { limit: PAGE, ...(cursor ? { cursor } : {}) });
    scanned += page.refs.length;
    for (const r of page.refs) if (r.log === log) indexes.push(r.index);
    cursor = page.next;
  } while (cursor !== null && scanned < maxScanned);
  return { indexes, complete: cursor === null };
}

/** Whether the store files this entry under the lookup's value (index-values.ts, the source of every index key). */
function filedUnder(e: Entry, l: IndexLookup): boolean {
  const want = Buffer.from(l.value);
  return indexValues(e, true).some(([f, v]) => f === Field[l.field] && want.equals(v));
}

const tooMany = (l: IndexLookup, maxScanned: number) =>
  apiError('API_BAD_REQUEST', `more than ${maxScanned} index entries are filed under ${l.what}, more than this endpoint reads; page through them with GET /v1/search`);

/**
 * The indexes of the log's entries matching `lookups` under `operator`. For `and`, a value with too many
 * entries to read is checked on the candidates the other values give instead (a candidate is kept when the
 * store files it under that value too), so only an intersection of values that are all too large is refused.
 */
export async function retrieveIndexes(store: Store, log: string, lookups: readonly IndexLookup[], operator: 'and' | 'or', maxScanned = MAX_SCANNED): Promise<number[]> {
  const sets = [];
  for (const l of lookups) sets.push({ l, ...(await entriesUnder(store, log, l, maxScanned)) });
  if (operator === 'or') {
    const large = sets.find((s) => !s.complete);
    if (large) throw tooMany(large.l, maxScanned);
    return [...new Set(sets.flatMap((s) => s.indexes))];
  }
  const complete = sets.filter((s) => s.complete);
  if (complete.length === 0) throw tooMany(sets[0]!.l, maxScanned);
  let candidates = complete[0]!.indexes;
  for (const s of complete.slice(1)) {
    const has = new Set(s.indexes);
    candidates = candidates.filter((i) => has.has(i));
  }
  const large = sets.filter((s) => !s.complete).map((s) => s.l);
  if (large.length === 0 || candidates.length === 0) return candidates;
  const refs: EntryRef[] = candidates.map((index) => ({ log, index }));
  const values = await store.getEntryValues(refs);
  return candidates.filter((index, i) => {
    const v = values[i];
    if (!v) return false;
    const { record } = decodeEntryValue(v, log, index);
    return large.every((l) => filedUnder(record.entry, l));
  });
}
