/**
 * GET /v1/search: one indexed selector drives the scan (newest first, cursor-paged); any other selectors
 * given filter the page. Identity `foo*` is a prefix search (newest first within each identity). With no
 * selector it lists the fully indexed entries by time, newest first (`since`/`until` bound the window).
 */
import type { z } from 'zod';
import type { Entry } from '../entries/types.ts';
import { digestToBytes, type LogState } from '../store/codec.ts';
import type { FieldName } from '../store/keys.ts';
import { decodeEntryValue } from '../store/entry-value.ts';
import { normaliseIdentity } from '../store/index-values.ts';
import type { Store } from '../store/store.ts';
import { apiError } from './errors.ts';
import type { SearchQuery } from './params.ts';
import { entryView } from './views.ts';
import { EMPTY_BYTES } from '../util/bytes.ts';

type Q = z.output<typeof SearchQuery>;

export function normaliseDigest(d: string): `sha256:${string}` | `sha384:${string}` | `sha512:${string}` {
  const v = d.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(v)) return `sha256:${v}`;
  const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(v);
  const len = { sha256: 64, sha384: 96, sha512: 128 } as const;
  if (!m || m[2]!.length !== len[m[1] as keyof typeof len]) throw apiError('API_BAD_REQUEST', 'digest must be sha256:HEX, sha384:HEX, sha512:HEX or 64 bare hex digits');
  return `${m[1] as 'sha256'}:${m[2]!}`;
}

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

function primary(q: Q): { field: FieldName; value: Uint8Array; prefix: boolean } {
  if (q.digest) return { field: 'DIGEST', value: digestToBytes(normaliseDigest(q.digest)), prefix: false };
  if (q.fingerprint) return { field: 'FINGERPRINT', value: new Uint8Array(Buffer.from(q.fingerprint.replace(/^sha256:/, ''), 'hex')), prefix: false };
  if (q.identity) {
    const prefix = q.identity.endsWith('*');
    const v = prefix ? q.identity.slice(0, -1) : q.identity;
    if (v.includes('*')) throw apiError('API_BAD_REQUEST', 'identity: only a trailing * is supported');
    if (prefix && v.length < 3) throw apiError('API_BAD_REQUEST', 'identity: a prefix needs at least 3 characters');
    return { field: 'SAN', value: enc(normaliseIdentity(v)), prefix };
  }
  if (q.repository) return { field: 'REPOSITORY', value: enc(q.repository), prefix: false };
  if (q.owner) return { field: 'OWNER', value: enc(q.owner), prefix: false };
  if (q.buildSigner) return { field: 'BUILD_SIGNER', value: enc(q.buildSigner), prefix: false };
  if (q.issuer) return { field: 'ISSUER', value: enc(q.issuer), prefix: false };
  // No selector: the time index (store/index-values.ts, Field.TIME), which holds every fully indexed
  // entry: all of them with `index: all`, the watched ones with `index: watched`.
  return { field: 'TIME', value: EMPTY_BYTES, prefix: false };
}

/** The secondary selectors (the primary one was matched by the index, which also holds attestation subjects). */
function matches(e: Entry, q: Q, primary: FieldName): boolean {
  const signers = e.signers ?? (e.signer ? [e.signer] : []);
  if (q.digest && primary !== 'DIGEST' && !e.digests.includes(normaliseDigest(q.digest))) return false;
  if (q.fingerprint && !signers.some((s) => s.fingerprint === `sha256:${q.fingerprint!.replace(/^sha256:/, '')}`)) return false;
  if (q.identity) {
    const want = normaliseIdentity(q.identity.replace(/\*$/, ''));
    const prefix = q.identity.endsWith('*');
    if (!signers.some((s) => s.san !== undefined && (prefix ? normaliseIdentity(s.san).startsWith(want) : normaliseIdentity(s.san) === want))) return false;
  }
  if (q.repository && !signers.some((s) => s.fulcio?.sourceRepositoryURI === q.repository)) return false;
  if (q.owner && !signers.some((s) => s.fulcio?.sourceRepositoryOwnerURI === q.owner)) return false;
  if (q.buildSigner && !signers.some((s) => s.fulcio?.buildSignerURI === q.buildSigner)) return false;
  if (q.issuer && !signers.some((s) => s.issuer === q.issuer)) return false;
  return true;
}

/** True when the query has selectors besides the primary one (the index matched that one exactly). */
function hasSecondary(q: Q, primary: FieldName): boolean {
  const given: Array<[FieldName, unknown]> = [['DIGEST', q.digest], ['FINGERPRINT', q.fingerprint], ['SAN', q.identity], ['REPOSITORY', q.repository], ['OWNER', q.owner], ['BUILD_SIGNER', q.buildSigner], ['ISSUER', q.issuer]];
  return given.some(([f, v]) => v !== undefined && f !== primary);
}

/**
 * One index scan, one multi-get for the page's entries (store.getEntryValues), the log state from the
 * store's read cache; each entry's record is derived from its stored body (entry-value.ts).
 */
export async function searchEntries(store: Store, q: Q): Promise<{ entries: Array<Record<string, unknown>>; next: string | null }> {
  const p = primary(q);
  const page = await store.search(p.field, p.value, {
    prefix: p.prefix,
    limit: q.limit,
    ...(q.since !== undefined ? { since: q.since } : {}),
    ...(q.until !== undefined ? { until: q.until } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
  });
  const filter = hasSecondary(q, p.field);
  const values = await store.getEntryValues(page.refs);
  const states = new Map<string, Readonly<LogState> | undefined>();
  const entries: Array<Record<string, unknown>> = [];
  for (let i = 0; i < page.refs.length; i++) {
    const ref = page.refs[i]!;
    const value = values[i];
    if (!value) continue;
    const { record } = decodeEntryValue(value, ref.log, ref.index);
    if (filter && !matches(record.entry, q, p.field)) continue;
    if (!states.has(ref.log)) states.set(ref.log, await store.readLogState(ref.log));
    const s = states.get(ref.log);
    if (s) entries.push(entryView(s, record));
  }
  return { entries, next: page.next };
}
