/** Scheduled jobs: the re-verification sweep catches a store changed under the mirror; the daily digest. */
import { afterEach, describe, expect, it } from 'vitest';
import { checkRetiredShards, dailyDigest, retiredShards, reverify, reverifyLog, type JobContext } from '../../../src/jobs.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { entryKey, nodeKey } from '../../../src/store/keys.ts';
import { Store } from '../../../src/store/store.ts';
import { harness, jobContext, roundsUntil, type Harness } from '../../helpers/mirror.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe('jobs', () => {
  it('reverify passes on an intact mirror and raises store-integrity when a stored hash changes', async () => {
    h = await harness({ api: 'tiles', entries: 700, seed: 'jobs' });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 700n);
    const findings = new FindingsRepo(h.store);
    const ctx = jobContext(h, findings);
    expect(await reverifyLog(ctx, 'sim')).toEqual({ checked: 700, problems: [] });
    await reverify(ctx);
    expect((await findings.list({ limit: 10 })).findings).toHaveLength(0);
    const id = await h.store.logId('sim');
    await h.store.db.put(nodeKey(id, 0, 0, 5n), new Uint8Array(32)); // a leaf hash: caught by re-hashing the body
    await h.store.db.put(nodeKey(id, 0, 8, 1n), new Uint8Array(32)); // a tile-row node: caught by recomputing the root
    await reverify(ctx);
    const [f] = (await findings.list({ limit: 10 })).findings;
    expect(f).toMatchObject({ rule: 'store-integrity', severity: 'critical' });
    expect(f!.message).toMatch(/entry 5: body hashes to/);
    expect(f!.message).toMatch(/stored tree gives root/);
  });

  it('reverify rebuilds the verified root of a mirror started late, from the frontier it stored at its start', async () => {
    // start 100: leaves 0..99 were never fetched; the store keeps the start's frontier nodes (64, 32 and 4
    // leaves). Below 256 leaves no tile-row node covers them, so the root of 200 is built from them.
    h = await harness({ api: 'tiles', entries: 200, seed: 'jobs-late' }, { start: 100n });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 200n);
    const findings = new FindingsRepo(h.store);
    const ctx = jobContext(h, findings);
    expect(await reverifyLog(ctx, 'sim')).toEqual({ checked: 100, problems: [] });
    const id = await h.store.logId('sim');
    // The pre-start node over leaves 0..63: no body re-hashes to it, so only the root check can see it changed.
    await h.store.db.put(nodeKey(id, 0, 6, 0n), new Uint8Array(32));
    const r = await reverifyLog(ctx, 'sim');
    expect(r.checked).toBe(100);
    expect(r.problems).toEqual([expect.stringMatching(/^stored tree gives root [0-9a-f]{64} for size 200, the verified checkpoint says/)]);
  });

  it('reverify raises nothing when the store closes under it (a reopen after a write fault), and re-verifies clean once opened again', async () => {
    h = await harness({ api: 'tiles', entries: 700, seed: 'jobs-closed' });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 700n);
    const findings = new FindingsRepo(h.store);
    const ctx = jobContext(h, findings);
    // The store's databases close while the window is being read (as Store.recover closes them to reopen).
    const store = h.store;
    const hashReader = store.hashReader.bind(store);
    let reads = 0;
    store.hashReader = (log, tree) => {
      const read = hashReader(log, tree);
      return async (nodes) => {
        if (++reads === 300) await store.close();
        return read(nodes);
      };
    };
    const r = await reverifyLog(ctx, 'sim');
    expect(r).toMatchObject({ checked: 0, problems: [], skipped: expect.stringMatching(/checked again next time/) });
    await reverify(ctx); // a closed store: skipped again, no finding and no error
    // Opened again, the store holds no finding and re-verifies clean.
    const reopened = await Store.open(h.storeDir);
    try {
      const again: JobContext = { ...ctx, store: reopened, findings: new FindingsRepo(reopened) };
      expect((await again.findings.list({ limit: 10 })).findings).toEqual([]);
      expect(await reverifyLog(again, 'sim')).toEqual({ checked: 700, problems: [] });
    } finally {
      await reopened.close();
    }
  });

  it('retired shards: complete trees pass; a lost entry of a finished tree is reported', async () => {
    h = await harness({ api: 'v1', entries: 600, seed: 'shards', shards: 3 }, { batchSize: 100 });
    await roundsUntil(h, async () => {
      const s = await h!.store.getLogState('sim');
      return s?.shard?.seq === 2 && s.verified?.size === 200n;
    });
    const findings = new FindingsRepo(h.store);
    const ctx = jobContext(h, findings);
    expect(await checkRetiredShards(ctx, 'sim')).toEqual([]);
    const id = await h.store.logId('sim');
    await h.store.entryDb.del(entryKey(id, 250));
    await retiredShards(ctx);
    const [f] = (await findings.list({ limit: 10 })).findings;
    expect(f?.message).toMatch(/retired tree 1: 1 of its 200 entries are missing/);
  });

  it('retired shards: the first tree of a mirror started late is rebuilt from the frontier stored at its start', async () => {
    // start 50 in the first of three 200-entry trees: its leaves 0..49 are held only as frontier nodes (32, 16, 2).
    h = await harness({ api: 'v1', entries: 600, seed: 'shards-late', shards: 3 }, { batchSize: 100, start: 50n });
    await roundsUntil(h, async () => {
      const s = await h!.store.getLogState('sim');
      return s?.shard?.seq === 2 && s.verified?.size === 200n;
    });
    const findings = new FindingsRepo(h.store);
    const ctx = jobContext(h, findings);
    expect(await checkRetiredShards(ctx, 'sim')).toEqual([]);
    const id = await h.store.logId('sim');
    await h.store.db.put(nodeKey(id, 0, 5, 0n), new Uint8Array(32));
    expect(await checkRetiredShards(ctx, 'sim')).toEqual(['retired tree 0: stored hashes do not rebuild the root of its final checkpoint (size 200)']);
  });

  it('the daily digest summarises the last day once per day', async () => {
    h = await harness({ api: 'tiles', entries: 10, seed: 'digest' });
    const findings = new FindingsRepo(h.store);
    const now = 1_795_000_000;
    await h.store.db.batch(findingOps({ id: 'ab'.repeat(16), rule: 'r', kind: 'violation', severity: 'high', message: 'm', log: 'sim', firstSeen: now - 100, status: 'open' }));
    const ctx: JobContext = { ...jobContext(h, findings), now: () => now * 1000 };
    await dailyDigest(ctx);
    await dailyDigest(ctx);
    const digests = (await findings.list({ limit: 10, rule: 'daily-digest' })).findings;
    expect(digests).toHaveLength(1);
    expect(digests[0]!.message).toBe('1 finding(s) in the last 24 hours (1 high), 1 still open');
  });
});
