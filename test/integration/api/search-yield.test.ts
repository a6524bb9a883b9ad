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
});
