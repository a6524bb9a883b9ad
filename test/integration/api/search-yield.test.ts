/**
 * A search page gives the event loop back while it decodes and views its entries (api/search.ts): the mirror
 * runs on the same loop, and a 1,000-entry page decoded in one stretch held it for 30–100 ms on this machine
 * (BENCHMARKS.md "Catch-up under heavy searches"). Counted in turns of the loop, not milliseconds, so a loaded
 * machine does not change the answer: a callback queued with setImmediate runs between slices of the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchEntries } from '../../../src/api/search.ts';
import { SearchQuery } from '../../../src/api/params.ts';
import { harness, type Harness } from '../../helpers/mirror.ts';
import { type IndexLookup, MAX_SCANNED, retrieveEntries } from '../../../src/api/index-retrieve.ts';
import type { Store } from '../../../src/store/store.ts';
import { SELECTORS } from '../../../src/api/selectors.ts';

describe('a 1,000-entry search page', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ api: 'tiles', entries: 1200, seed: 'search-yield' });
    while ((await h.store.getLogState('sim'))?.verified?.size !== 1200n) await h.follower.round();
  }, 60_000);
  afterAll(() => h.cleanup());

  it('lets the loop turn between slices of its entries, not only at its reads', async () => {
    const page = searchEntries(h.store, SearchQuery.parse({ limit: '1000' }));
    let turns = 0;
    let done = false;
    void page.finally(() => (done = true));
    const turn = () => {
      if (done) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    const r = await page;
    expect(r.entries).toHaveLength(1000);
    // 1,000 entries decoded, then viewed, 100 at a time: at least 18 turns besides those of the page's reads.
    expect(turns).toBeGreaterThanOrEqual(18);
  });

  it("and Rekor's index retrieve lets the loop turn between slices of the candidates it decodes (index-retrieve.ts), and resizes its hold to each page of them", async () => {
    // Every entry GitHub's issuer signed: the lookup reads them as index/retrieve reads a subject's. Its
    // test runs once a page is decoded, so the turns between the page's read and the first test are the
    // decoding's (its reads turn the loop too, many times on a busy disk: those are not counted).
    let turns = 0;
    let decodedFrom: number | undefined;
    let decodedTo: number | undefined;
    const issuer = SELECTORS.find((s) => s.param === 'issuer')!;
    const lookup: IndexLookup = {
      what: 'issuer',
      field: issuer.field,
      values: [issuer.lookup('https://token.actions.githubusercontent.com').value],
      matches: () => {
        decodedTo ??= turns;
        return true;
      },
    };
    const store = Object.create(h.store) as Store;
    store.getEntryValues = async (refs) => {
      const values = await h.store.getEntryValues(refs);
      decodedFrom ??= turns;
      return values;
    };
    const sizes: number[] = [];
    const retrieve = retrieveEntries(store, 'sim', [lookup], 'or', MAX_SCANNED, { resize: (n) => Promise.resolve(void sizes.push(n)) });
    let done = false;
    void retrieve.finally(() => (done = true));
    const turn = () => {
      if (done) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    const found = await retrieve;
    expect(found.length).toBeGreaterThan(500);
    expect(sizes).toEqual([Math.min(found.length, 1000), ...(found.length > 1000 ? [found.length - 1000] : [])]);
    // One turn at least between slices of 100 candidates (none without them: the decoding ran in one stretch).
    expect(decodedTo! - decodedFrom!).toBeGreaterThanOrEqual(Math.floor(Math.min(found.length, 1000) / 100) - 1);
  });
});
