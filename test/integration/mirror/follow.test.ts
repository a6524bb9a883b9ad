/** The mirror against the simulator over loopback and a real LevelDB: catch-up, tailing, shards, bootstrap. */
import { afterEach, describe, expect, it } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { expectStoreMatchesManifest, harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe('mirror: tiles (Rekor v2)', () => {
  it('catches up from 0, verifies the root and matches the manifest entry for entry', async () => {
    h = await harness({ api: 'tiles', entries: 1300, seed: 'm1' });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 1300n);
    const state = (await h.store.getLogState('sim'))!;
    expect(state.status).toBe('following');
    expect(CompactRange.deserialize(state.frontier).size).toBe(1300n);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(1300);
    const cps = await h.store.listCheckpoints('sim', { limit: 10 });
    expect(cps.checkpoints[0]!.size).toBe(1300n);
  });

  it('tails a growing log, verifying each new checkpoint', async () => {
    h = await harness({ api: 'tiles', entries: 300, seed: 'm2' });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 300n);
    for (const n of [1, 255, 256, 3]) {
      h.sim.append(n);
      const want = BigInt(h.sim.log.size);
      await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === want);
    }
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(815);
    expect((await h.store.listCheckpoints('sim', { limit: 100 })).checkpoints.map((c) => c.size)).toEqual([815n, 812n, 556n, 301n, 300n]);
  });

  it('bootstraps at latest from tiles, then follows', async () => {
    h = await harness({ api: 'tiles', entries: 1000, seed: 'm3' }, { start: 'latest' });
    await h.follower.round();
    const state = (await h.store.getLogState('sim'))!;
    expect(state.verified?.size).toBe(1000n);
    expect(state.startIndex).toBe(1000n);
    expect(await h.store.getEntry('sim', 999)).toBeUndefined();
    h.sim.append(20);
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 1020n);
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 1000)).toBe(20);
  });

  it('bootstraps at N from tiles and verifies once caught up', async () => {
    h = await harness({ api: 'tiles', entries: 900, seed: 'm4' }, { start: 333n });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 900n);
    expect(await h.store.getEntry('sim', 332)).toBeUndefined();
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 333)).toBe(567);
  });
});

describe('mirror: Rekor v1', () => {
  it('catches up across retired shards with virtual indexes, and follows the active tree', async () => {
    h = await harness({ api: 'v1', entries: 700, seed: 'm5', shards: 3 }, { batchSize: 100, concurrency: 4 });
    await roundsUntil(h, async () => {
      const s = await h!.store.getLogState('sim');
      return s?.shard?.seq === 2 && s.verified?.size === BigInt(700 - 2 * 233);
    });
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(700);
    const e = await h.store.getEntry('sim', 500);
    expect(e!.record.v1?.treeIndex).toBe(String(500 - 466));
    h.sim.append(15);
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === BigInt(715 - 466));
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 700)).toBe(15);
  });

  it('bootstraps at latest from one verified inclusion proof', async () => {
    h = await harness({ api: 'v1', entries: 400, seed: 'm6' }, { start: 'latest' });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 400n);
    h.sim.append(7);
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 407n);
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 400)).toBe(7);
    expect(await h.store.getEntry('sim', 399)).toBeUndefined();
  });
});
