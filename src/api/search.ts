/**
 * GET /v1/search: one indexed selector drives the scan (newest first, cursor-paged); any other selectors
 * given filter the page. Identity `foo*` is a prefix search (newest first within each identity). With no
 * selector it lists the fully indexed entries by time, newest first (`since`/`until` bound the window).
 */
import type { z } from 'zod';
import type { Entry } from '../entries/types.ts';
import type { LogState } from '../store/codec.ts';
import { stillFiled } from '../store/implied-keys.ts';
import { Field, type FieldName } from '../store/keys.ts';
import { decodeEntryValue } from '../store/entry-value.ts';
import type { Store } from '../store/store.ts';
import type { SearchQuery } from './params.ts';
import { SELECTORS, type Selector } from './selectors.ts';
import { entryView } from './views.ts';
import { EMPTY_BYTES } from '../util/bytes.ts';
import type { Hold } from './search-gate.ts';

type Q = z.output<typeof SearchQuery>;

/**
 * Entries decoded (or viewed) between two turns of the event loop: a 1,000-entry page otherwise holds the
 * loop the mirror runs on for its whole decoding, and the mirror's callbacks wait behind it (search-gate.ts).
 * Rekor's index/retrieve decodes its candidates in the same slices (index-retrieve.ts).
 */
export const SLICE = 100;
export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The selector that drives the scan (the table's first one given), with the index value it scans. */
function primary(q: Q): { selector: Selector | undefined; field: FieldName; value: Uint8Array; prefix: boolean } {
  for (const selector of SELECTORS) {
    const v = q[selector.param];
    if (v !== undefined) return { selector, field: selector.field, ...selector.lookup(v) };
  }
  // No selector: the time index (store/index-values.ts, Field.TIME), which holds every fully indexed
  // entry: all of them with `index: all`, the watched ones with `index: watched`.
  return { selector: undefined, field: 'TIME', value: EMPTY_BYTES, prefix: false };
}

/** The selectors given besides the one the index matched: each filters the page. */
function secondaries(q: Q, primary: Selector | undefined): Array<[Selector, string]> {
  const out: Array<[Selector, string]> = [];
  for (const s of SELECTORS) {
    const v = q[s.param];
    if (v !== undefined && s !== primary) out.push([s, v]);
  }
  return out;
}

function matches(e: Entry, filters: ReadonlyArray<[Selector, string]>): boolean {
  const signers = e.signers ?? (e.signer ? [e.signer] : []);
  return filters.every(([s, v]) => s.matches(e, signers, v));
}

/**
 * One index scan, one multi-get for the page's entries (store.getEntryValues), the log state from the
 * store's read cache; each entry's record is derived from its stored body (entry-value.ts).
 */
export async function searchEntries(store: Store, q: Q, hold?: Hold): Promise<{ entries: Array<Record<string, unknown>>; next: string | null }> {
  const p = primary(q);
  const page = await store.search(p.field, p.value, {
    prefix: p.prefix,
    limit: q.limit,
    ...(q.since !== undefined ? { since: q.since } : {}),
    ...(q.until !== undefined ? { until: q.until } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
  });
  // The rest of the work is the entries found (search-gate.ts): a digest lookup holds 1, not its limit.
  await hold?.resize(page.refs.length);
  const filters = secondaries(q, p.selector);
  const values = await store.getEntryValues(page.refs);
  const listed = [];
  for (const [i, ref] of page.refs.entries()) {
    if (i > 0 && i % SLICE === 0) await yieldToLoop();
    const value = values[i];
    if (value) listed.push({ ...ref, record: decodeEntryValue(value, ref.log, ref.index).record, value: p.value });
  }
  // A key an older decoder wrote (a stale key; the re-index deletes them) would list an entry whose record
  // does not match the query: each is checked against the value scanned (the time key, every entry's).
  const filed = await stillFiled(store, Field[p.field], listed, p.prefix);
  const states = new Map<string, Readonly<LogState> | undefined>();
  const entries: Array<Record<string, unknown>> = [];
  for (const [i, { log, record }] of listed.entries()) {
    if (i > 0 && i % SLICE === 0) await yieldToLoop();
    if (!filed[i]) continue;
    if (filters.length > 0 && !matches(record.entry, filters)) continue;
    if (!states.has(log)) states.set(log, await store.readLogState(log));
    const s = states.get(log);
    if (s) entries.push(entryView(s, record));
  }
  return { entries, next: page.next };
}
