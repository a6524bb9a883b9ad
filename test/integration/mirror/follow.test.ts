/** The mirror against the simulator over loopback and a real LevelDB: catch-up, tailing, shards, bootstrap. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { GcPacer } from '../../../src/mirror/gc-pacer.ts';
import { expectStoreMatchesManifest, harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import { CONFIRM_ROUNDS } from '../../../src/mirror/confirm-halt.ts';

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

  it('asks its GC pacer between batches, not before the first, and still mirrors every entry', async () => {
    // External memory that grows a step between every two reads: each tick after the first collects.
    let external = 0;
    let collections = 0;
    const pacer = new GcPacer({ gc: () => void collections++, read: () => (external += 1 << 20), stepBytes: 1 << 20 });
    h = await harness({ api: 'tiles', entries: 1300, seed: 'm-gc' }, { batchSize: 256 }, undefined, { gcPacer: pacer });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 1300n);
    // Six batches ([0, 256) … [1280, 1300)): five ticks, the first of which only sets the floor.
    expect(collections).toBe(4);
    expect(pacer.collections).toBe(4);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(1300);
  });

  it('is bootstrapping until its first checkpoint verifies, and notes each batch it stores as progress', async () => {
    const seen: Array<{ state: string | undefined; storedAt: number | undefined }> = [];
    const hooks = {
      afterCommit: () => {
        const f = h!.follower;
        void h!.metrics.logState.get().then((m) => seen.push({ state: m.values.find((v) => v.labels.log === 'sim' && v.value === 1)?.labels.state as string | undefined, storedAt: f.lastStoredAt }));
      },
    };
    h = await harness({ api: 'tiles', entries: 1300, seed: 'm-phase' }, { batchSize: 256 }, hooks);
    expect(h.follower.lastStoredAt).toBeUndefined();
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 1300n);
    await new Promise((r) => setTimeout(r, 50));
    // Six batches: the five before the checkpoint's size are stored unverified, the last verifies.
    expect(seen.map((x) => x.state)).toEqual(['bootstrapping', 'bootstrapping', 'bootstrapping', 'bootstrapping', 'bootstrapping', 'following']);
    expect(seen.every((x) => x.storedAt !== undefined && Math.abs(x.storedAt - Date.now() / 1000) < 60)).toBe(true);
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

  it('halts before mirroring anything when the tiles lie about the frontier it starts from, in every round', async () => {
    // A loopback proxy in front of the simulator flips a byte of the level-1 tile that holds node (8, 0),
    // the first frontier node of a mirror started at 333. The checkpoint stays honest and signed.
    let target = '';
    const proxy = createServer((req, res) => {
      void (async () => {
        const r = await fetch(`${target}${req.url}`);
        const body = Buffer.from(await r.arrayBuffer());
        if (/\/tile\/1\/000/.test(req.url ?? '') && body.length > 0) body[0] = body[0]! ^ 0x01;
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
        res.end(body);
      })();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (proxy.address() as AddressInfo).port;
      h = await harness({ api: 'tiles', entries: 900, seed: 'm4b' }, { start: 333n, url: `http://127.0.0.1:${port}/api/v2` });
      target = new URL(h.sim.url).origin;
      // Tiles are unsigned: the halt waits until the lie comes back CONFIRM_ROUNDS rounds in a row
      // (mirror/confirm-halt.ts), mirroring nothing meanwhile.
      for (let i = 1; i < CONFIRM_ROUNDS; i++) {
        expect(await h.follower.round()).toBe('transient-error');
        expect(h.follower.transientFault).toMatchObject({ code: 'VERIFY_TILE_MISMATCH', message: expect.stringMatching(new RegExp(`not yet confirmed: ${i} round\\(s\\) in a row`)) });
        expect((await h.store.getLogState('sim'))?.status).not.toBe('halted');
      }
      expect(await h.follower.round()).toBe('halted');
      const state = (await h.store.getLogState('sim'))!;
      expect(state.status).toBe('halted');
      expect(state.halt?.code).toBe('VERIFY_TILE_MISMATCH');
      expect(state.halt?.message).toMatch(/do not prove the frontier at 333 consistent/);
      expect(state.halt?.evidence['receivedNote']).toMatch(/^.+\n900\n/);
      expect(await h.store.getEntry('sim', 333)).toBeUndefined();
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
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

  it('cuts a batch short once its entries reach the byte budget, goes on from where it ended, and mirrors every entry', async () => {
    // A budget of one byte: each batch stops starting retrieve groups after its first response, so it holds
    // between one and `concurrency` groups of 10 instead of 100 entries (batchSize).
    let commits = 0;
    h = await harness({ api: 'v1', entries: 700, seed: 'm5b', shards: 3 }, { batchSize: 100, concurrency: 2, batchMaxBytes: 1 }, { afterCommit: () => void commits++ });
    await roundsUntil(h, async () => {
      const s = await h!.store.getLogState('sim');
      return s?.shard?.seq === 2 && s.verified?.size === BigInt(700 - 2 * 233);
    }, 400);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(700);
    // Full batches would be 3 per tree; batches of at most 20 entries are at least 12 per tree.
    expect(commits).toBeGreaterThanOrEqual(36);
  });

  it('follows a rotation to a new, still empty tree, and then its first entries', async () => {
    h = await harness({ api: 'v1', entries: 50, seed: 'm7' }, { batchSize: 100 });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 50n);
    h.sim.rotate();
    await roundsUntil(h, async () => {
      const s = await h!.store.getLogState('sim');
      return s?.shard?.seq === 1 && s.verified?.size === 0n;
    });
    // Nothing needs proving from an empty tree (there is no consistency proof from size 0).
    h.sim.append(20);
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 20n);
    const s = await h.store.getLogState('sim');
    expect(s?.status).not.toBe('halted');
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(70);
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
