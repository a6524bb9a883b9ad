/**
 * POST /api/v1/index/retrieve with a value filed under more index entries than the endpoint reads
 * (MAX_SCANNED, 10,000): an `and` narrows it through the other values' candidates. Pinned against the
 * upstream log's own answer, over real HTTP, with the entry values each candidate costs counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnLoopback, type Loopback } from '../../helpers/loopback.ts';
import { createApp } from '../../../src/api/app.ts';
import { MAX_SCANNED } from '../../../src/api/index-retrieve.ts';
import { createLogger } from '../../../src/logger.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const FLOOD = 'flood@example.com';
const FLOODED = MAX_SCANNED + 60;
const ENTRIES = FLOODED + 240;

describe('index/retrieve past the scanned bound', () => {
  let h: Harness;
  let server: Loopback;
  let url: string;
  let m: any[];
  /** Entry values read through the store, by the route and everything under it. */
  let reads = 0;
  beforeAll(async () => {
    const inject = Array.from({ length: FLOODED }, (_, i) => ({ at: 100 + i, cert: { san: FLOOD, issuer: 'https://accounts.google.com' } }));
    h = await harness({ api: 'v1', entries: ENTRIES, seed: 'index-retrieve-large', inject }, { batchSize: 2048 });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(ENTRIES), 400);
    const getEntryValues = h.store.getEntryValues.bind(h.store);
    h.store.getEntryValues = async (refs) => {
      reads += refs.length;
      return getEntryValues(refs);
    };
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    server = await serveOnLoopback(app);
    url = server.url;
    m = manifestOf(h.sim);
  }, 300_000);
  afterAll(async () => {
    await server.close();
    await h.cleanup();
  });

  const ask = async (base: string, query: unknown): Promise<{ status: number; ids: string[]; body: unknown }> => {
    const res = await fetch(`${base}/api/v1/index/retrieve`, { method: 'POST', body: JSON.stringify(query), headers: { 'content-type': 'application/json' } });
    const body: unknown = await res.json();
    return { status: res.status, ids: res.status === 200 ? [...(body as string[])].sort() : [], body };
  };

  it('answers an `and` through the smaller values, reading each candidate entry once', async () => {
    const flooded = m.filter((l) => l.san === FLOOD);
    expect(flooded).toHaveLength(FLOODED);
    // The oldest, the newest and one in the middle of the flood: each `and` with its hash is that entry alone.
    for (const line of [flooded[0], flooded[FLOODED >> 1], flooded[FLOODED - 1]]) {
      const q = { email: FLOOD, hash: line.digests[0], operator: 'and' };
      reads = 0;
      const mine = await ask(url, q);
      expect(mine.status).toBe(200);
      expect(mine.ids.map((id) => id.slice(16))).toEqual([line.uuid]);
      expect(mine.ids).toEqual((await ask(h.sim.url, q)).ids);
      expect(reads).toBe(1);
    }
    // An entry of someone else: the intersection is empty, and that one candidate was read to say so.
    const other = m.find((l) => l.san !== FLOOD && l.kind === 'hashedrekord')!;
    reads = 0;
    const none = await ask(url, { email: FLOOD, hash: other.digests[0], operator: 'and' });
    expect(none).toMatchObject({ status: 200, ids: [] });
    expect((await ask(h.sim.url, { email: FLOOD, hash: other.digests[0], operator: 'and' })).ids).toEqual([]);
    expect(reads).toBe(1);
  });

  it('refuses a union, or an intersection of values all too large, rather than truncating it', async () => {
    for (const q of [{ email: FLOOD }, { email: FLOOD, hash: m[0].digests[0] }, { email: FLOOD, subject: FLOOD, operator: 'and' }]) {
      const r = await ask(url, q);
      expect(r.status, JSON.stringify(q)).toBe(400);
      expect((r.body as { code: number; message: string }).code).toBe(400);
      expect((r.body as { message: string }).message).toMatch(/more than 10000 index entries are filed under (email|subject)/);
    }
  });
});
