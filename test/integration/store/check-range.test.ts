/**
 * Part of a log checked (store/check-range.ts checkRange, `tlogwatch check --from/--to`) on mirrors the
 * follower wrote from the simulator: the range's entries, the keys they imply and the root their bodies
 * rebuild with the stored hashes beside them; damage in the range named, damage elsewhere not seen,
 * except in the few hashes beside it that vouch for it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/entries/types.ts';
import { treeRootAsync } from '../../../src/merkle/prove.ts';
import { checkLog, type FullIndex } from '../../../src/store/check.ts';
import { impliedKeys } from '../../../src/store/implied-keys.ts';
import { checkRange, type RangeCheck } from '../../../src/store/check-range.ts';
import type { LogState } from '../../../src/store/codec.ts';
import { Bucket, entryKey, Field, MARKER, nodeKey } from '../../../src/store/keys.ts';
import { harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const HEX = '[0-9a-f]{64}';

async function mirrored(sim: Parameters<typeof harness>[0], follow: Parameters<typeof harness>[1], size: bigint, seq = 0, index?: { isWatched: (e: Entry) => boolean }): Promise<Harness> {
  const m = await harness(sim, follow, index, index ? { indexMode: 'watched' } : {});
  await roundsUntil(m, async () => {
    const s = await m.store.getLogState('sim');
    return (s?.shard?.seq ?? 0) === seq && s?.verified?.size === size;
  });
  return m;
}

async function check(h: Harness, from: bigint, to: bigint, opts: { state?: LogState; full?: FullIndex } = {}): Promise<RangeCheck & { problems: string[] }> {
  const problems: string[] = [];
  const state = opts.state ?? (await h.store.getLogState('sim'))!;
  const r = await checkRange(h.store, 'sim', state, from, to, opts.full ?? (() => true), (p) => problems.push(p));
  return { ...r, problems };
}

/** Entry `index`'s stored value, and the keys it implies (every field). */
async function keysOf(h: Harness, index: number) {
  const id = await h.store.logId('sim');
  return impliedKeys(await h.store.entryDb.get(entryKey(id, index)), 'sim', id, BigInt(index), true);
}

describe('checkRange', () => {
  it('a consistent tiles mirror: each range rebuilds the verified root and has the keys a whole check counts', async () => {
    h = await mirrored({ api: 'tiles', entries: 700, seed: 'check-range' }, { batchSize: 100 }, 700n);
    const whole = await checkLog(h.store, 'sim');
    expect(await check(h, 0n, 699n)).toEqual({ entries: 700, indexKeys: whole.indexKeys, roots: [{ tree: 0, from: 0n, to: 699n, against: 'verified checkpoint', size: 700n }], unhashed: [], problems: [] });
    let keys = 0;
    for (const [from, to] of [[0n, 0n], [1n, 255n], [256n, 256n], [257n, 511n], [512n, 698n], [699n, 699n]] as const) {
      const r = await check(h, from, to);
      expect(r).toMatchObject({ entries: Number(to - from + 1n), problems: [], unhashed: [] });
      keys += r.indexKeys;
    }
    expect(keys).toBe(whole.indexKeys);
  });

  it('names damage in the range, not outside it; the hashes beside it vouch for it', async () => {
    h = await mirrored({ api: 'tiles', entries: 700, seed: 'check-range-damage' }, { batchSize: 100 }, 700n);
    const id = await h.store.logId('sim');
    const flip = async (index: number) => {
      const v = Buffer.from(await h!.store.entryDb.get(entryKey(id, index)));
      v[v.length - 1]! ^= 1;
      await h!.store.entryDb.put(entryKey(id, index), v);
    };
    await flip(120);
    await h.store.db.del((await keysOf(h, 130)).uuid);
    await h.store.db.del((await keysOf(h, 140)).indexKeys[0]!);
    await h.store.entryDb.del(entryKey(id, 150));
    // Outside the range: nothing said.
    expect(await check(h, 300n, 399n)).toMatchObject({ entries: 100, problems: [], unhashed: [] });
    // Inside it: each named.
    const r = await check(h, 100n, 199n);
    const keys140 = (await keysOf(h, 140)).indexKeys.length;
    expect(r.problems).toEqual([
      // Its leaf hash changed with its body, so the UUID key it implies is another.
      'entry 120: no UUID key',
      'entry 130: no UUID key',
      `entry 140: index keys differ from what it implies (expected ${keys140}, found ${keys140 - 1})`,
      'gap: entries 150..150 missing',
    ]);
    expect(r.unhashed).toEqual(['entries 100..199: some are missing']);
    expect(r.entries).toBe(99);
    // The body alone (the entry still stored): the root its bodies rebuild is not the verified one.
    expect((await check(h, 100n, 125n)).problems).toEqual([
      'entry 120: no UUID key',
      expect.stringMatching(new RegExp(`^entries 100\\.\\.125: their bodies, with the stored hashes beside them, give root ${HEX} for size 700, the verified checkpoint says ${HEX}$`)),
    ]);
    // A stored leaf hash inside the range is not read: its bodies are.
    await h.store.db.put(nodeKey(id, 0, 0, 350n), new Uint8Array(32));
    expect((await check(h, 300n, 399n)).problems).toEqual([]);
    // One beside it is: left of 400 the frontier (8, 0), (7, 2) over 256..383 (from the leaf hashes), (4, 24).
    expect((await check(h, 400n, 450n)).problems).toEqual([expect.stringMatching(/^entries 400\.\.450: their bodies, with the stored hashes beside them, give root/)]);
    // Left of 600 the frontier is (9, 0), which the two nodes of row 8 give: the leaf hash is not read.
    expect((await check(h, 600n, 650n)).problems).toEqual([]);
  });

  it("a range past the verified checkpoint rebuilds the state's frontier; one below it the checkpoint's root", async () => {
    h = await mirrored({ api: 'tiles', entries: 700, seed: 'check-range-frontier' }, { batchSize: 100 }, 700n);
    const state = (await h.store.getLogState('sim'))!;
    // As while a catch-up has fetched past its last verified checkpoint: verified at 300, fetched to 700.
    const rootHash = await treeRootAsync(300n, h.store.hashReader('sim'));
    const behind: LogState = { ...state, verified: { ...state.verified!, size: 300n, rootHash } };
    expect(await check(h, 100n, 299n, { state: behind })).toMatchObject({ roots: [{ against: 'verified checkpoint', size: 300n }], problems: [] });
    expect(await check(h, 250n, 400n, { state: behind })).toMatchObject({ roots: [{ against: 'frontier', size: 700n }], problems: [] });
    const wrong: LogState = { ...behind, verified: { ...behind.verified!, rootHash: new Uint8Array(32) } };
    expect((await check(h, 100n, 299n, { state: wrong })).problems).toEqual([expect.stringMatching(/^entries 100\.\.299: .* the verified checkpoint says 0{64}$/)]);
  });

  it('Rekor v1 across three trees: each tree rebuilds its own root, a retired one its final checkpoint', async () => {
    h = await mirrored({ api: 'v1', entries: 600, seed: 'check-range-v1', shards: 3 }, { batchSize: 100, start: 50n }, 200n, 2);
    const r = await check(h, 150n, 450n);
    expect(r).toMatchObject({ entries: 301, problems: [], unhashed: [] });
    const [t0, t1, t2] = h.sim.log.shards.map((s) => s.treeID);
    expect(r.roots).toEqual([
      { tree: 0, treeID: t0, from: 150n, to: 199n, against: 'final checkpoint', size: 200n },
      { tree: 1, treeID: t1, from: 200n, to: 399n, against: 'final checkpoint', size: 200n },
      { tree: 2, treeID: t2, from: 400n, to: 450n, against: 'verified checkpoint', size: 200n },
    ]);
    expect(await check(h, 50n, 60n)).toMatchObject({ problems: [], roots: [{ tree: 0, against: 'final checkpoint' }] });
  });

  it('index: watched: an entry has its digest keys alone or, as its time key says, all of them; never partly', async () => {
    h = await mirrored({ api: 'tiles', entries: 300, seed: 'check-range-watched' }, { batchSize: 100 }, 300n, 0, { isWatched: (e) => e.leafHash < '8' });
    expect(await check(h, 0n, 299n, { full: 'recorded' })).toMatchObject({ problems: [], indexKeys: (await checkLog(h.store, 'sim', 'recorded')).indexKeys });
    // A digest-only entry given one more of the keys a fully indexed entry has: partly indexed.
    let digestOnly = 0;
    while (!(await isDigestOnly(h, digestOnly))) digestOnly++;
    const extra = (await keysOf(h, digestOnly)).indexKeys.find((k) => k[1] !== Field.DIGEST && k[1] !== Field.TIME)!;
    expect(extra[0]).toBe(Bucket.INDEX);
    await h.store.db.put(extra, MARKER);
    const digests = (await keysOf(h, digestOnly)).indexKeys.filter((k) => k[1] === Field.DIGEST).length;
    expect((await check(h, 0n, 299n, { full: 'recorded' })).problems).toEqual([`entry ${digestOnly}: index keys differ from what it implies (expected ${digests}, found ${digests + 1})`]);
    expect((await check(h, BigInt(digestOnly) + 1n, 299n, { full: 'recorded' })).problems).toEqual([]);
  });

  it('an entry value too damaged to decode is said, and the root is not rebuilt', async () => {
    h = await mirrored({ api: 'tiles', entries: 100, seed: 'check-range-undecodable' }, { batchSize: 100 }, 100n);
    const id = await h.store.logId('sim');
    await h.store.entryDb.put(entryKey(id, 42), new Uint8Array([1, 2, 3]));
    const r = await check(h, 40n, 49n);
    expect(r.problems).toEqual([expect.stringMatching(/42/)]);
    expect(r).toMatchObject({ entries: 10, roots: [], unhashed: ['entries 40..49: some could not be decoded'] });
  });
});

/** Whether entry `index` of a watched store was indexed by its digests alone (no time key). */
async function isDigestOnly(h: Harness, index: number): Promise<boolean> {
  const time = (await keysOf(h, index)).indexKeys.find((k) => k[1] === Field.TIME)!;
  return (await h.store.db.get(time)) === undefined;
}
