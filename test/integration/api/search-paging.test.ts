/**
 * GET /v1/search paged while the mirror commits batches: a cursor is a position in the index, so the
 * pages of one traversal never repeat an entry, and every entry committed before the traversal began is on
 * one of its pages, whatever commits between two pages (an iterator reused across a commit must not
 * serve the snapshot from before it, store/key-cursors.ts).
 */
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { fetchedSize } from '../../../src/store/codec.ts';
import { harness, manifestOf, type Harness } from '../../helpers/mirror.ts';

describe.each(['v1', 'tiles'] as const)('/v1/search paging over a %s mirror that is catching up', (api) => {
  let h: Harness;
  let app: Hono;
  beforeAll(async () => {
    h = await harness({ api, entries: 1500, seed: `paging-${api}` }, { batchSize: 256, concurrency: 1 });
    app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
  }, 60_000);
  afterAll(() => h.cleanup());

  /** One traversal, a page at a time, with `between` run after each page. */
  async function traverse(query: string, between: () => Promise<void>): Promise<{ seen: number[]; before: bigint }> {
    const seen: number[] = [];
    let before = -1n;
    let cursor: string | null = null;
    do {
      if (before < 0n) before = fetchedSize((await h.store.getLogState('sim'))!);
      const res = await app.request(`/v1/search?${query}&limit=37${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { entries: Array<{ index: number }>; next: string | null };
      seen.push(...page.entries.map((e) => e.index));
      cursor = page.next;
      await between();
    } while (cursor);
    return { seen, before };
  }

  it('never repeats or skips an entry across pages while batches commit', async () => {
    let rounds = 0;
    // Between two pages the log grows and the mirror commits what it grew by.
    const step = async () => {
      if (rounds++ >= 40) return;
      h.sim.append(23);
      await h.follower.round();
    };
    await h.follower.round();
    const m = manifestOf(h.sim);
    for (const query of ['', `issuer=${encodeURIComponent('https://token.actions.githubusercontent.com')}`]) {
      rounds = 0;
      const { seen, before } = await traverse(query, step);
      expect(new Set(seen).size, `${query}: no entry twice`).toBe(seen.length);
      const want = m.filter((l) => l.index < Number(before) && (query === '' || l.issuer === 'https://token.actions.githubusercontent.com')).map((l) => l.index);
      const got = new Set(seen);
      expect(want.filter((i) => !got.has(i)), `${query}: committed before the traversal, yet on no page`).toEqual([]);
      expect(fetchedSize((await h.store.getLogState('sim'))!), 'the mirror committed while paging').toBeGreaterThan(before);
    }
  });
});
