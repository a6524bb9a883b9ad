/**
 * The whole stored tree checked (store/check-tree.ts checkTreeHashes, `tlogwatch check`): clean on mirrors
 * the follower and backfill wrote (tiles from 0, started late, backfilled; Rekor v1 across trees), and each
 * kind of damage to a stored hash named, with the hash it should have been.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { Backfiller } from '../../../src/mirror/backfill.ts';
import { checkCheckpointHistory, checkNodesOver, checkTreeHashes, type EntryWindow, type TreeHashesCheck } from '../../../src/store/check-tree.ts';
import { Bucket, key, nodeKey, prefixEnd, treeKey, u16 } from '../../../src/store/keys.ts';
import { decodeJson, encodeJson, type VerifiedHead } from '../../../src/store/codec.ts';
import { checkpointVerifierForTlog, setKeyForTlog } from '../../../src/trust/trusted-root.ts';
import { toHex } from '../../../src/util/bytes.ts';
import { harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const ZERO = '0'.repeat(64);
const HEX = '[0-9a-f]{64}';

async function check(h: Harness, window?: EntryWindow): Promise<TreeHashesCheck & { problems: string[] }> {
  const problems: string[] = [];
  const r = await checkTreeHashes(h.store, 'sim', (await h.store.getLogState('sim'))!, (p) => problems.push(p), undefined, window);
  return { ...r, problems };
}

async function mirrored(sim: Parameters<typeof harness>[0], follow: Parameters<typeof harness>[1], size: bigint, seq = 0): Promise<Harness> {
  const m = await harness(sim, follow);
  await roundsUntil(m, async () => {
    const s = await m.store.getLogState('sim');
    return (s?.shard?.seq ?? 0) === seq && s?.verified?.size === size;
  });
  return m;
}

const backfill = (h: Harness, to: bigint) =>
  new Backfiller(h.follower.cfg, { store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)], setKey: setKeyForTlog(h.tlog) }).run({ to });

describe('checkTreeHashes', () => {
  it('a tiles mirror from leaf 0: every leaf hash re-hashed from its body, both complete rows of 256 from their children', async () => {
    h = await mirrored({ api: 'tiles', entries: 700, seed: 'check-tree' }, {}, 700n);
    expect(await check(h)).toEqual({ leaves: 700, nodes: 2, uncovered: 0, problems: [] });
  });

  it('names each kind of damage to the stored tree', async () => {
    h = await mirrored({ api: 'tiles', entries: 700, seed: 'check-tree-damage' }, {}, 700n);
    const id = await h.store.logId('sim');
    const db = h.store.db;
    const body5 = (await h.store.getEntry('sim', 5))!.body;
    const node81 = toHex((await db.get(nodeKey(id, 0, 8, 1n))));
    await db.put(nodeKey(id, 0, 0, 5n), new Uint8Array(32)); // a leaf hash changed
    await db.del(nodeKey(id, 0, 0, 300n)); // a leaf hash lost: its run of 256 is no longer complete
    await db.put(nodeKey(id, 0, 0, 800n), new Uint8Array(32)); // a leaf hash past what the mirror holds
    await db.put(nodeKey(id, 0, 8, 0n), new Uint8Array(32)); // a tile-row node changed
    await db.put(nodeKey(id, 0, 0, 600n), new Uint8Array(31)); // a truncated hash
    const r = await check(h);
    // In key order: row 0 (gaps and strays as met, bodies compared a chunk at a time), its complete runs'
    // parents as each run completes. The changed leaf 5 is also in (8, 0)'s run.
    expect(r.problems).toEqual([
      expect.stringMatching(new RegExp(`^node \\(8, 0\\) is ${ZERO}, the 256 hashes under it give ${HEX}$`)),
      'no leaf hash for entries 300..300',
      'node (0, 600) is 31 bytes, not 32',
      'leaf hash stored for entry 800, past the entries the mirror holds (700)',
      `entry 5: body hashes to ${toHex(leafHash(body5))}, the stored tree has ${ZERO}`,
    ]);
    // (8, 1) has lost a child: nothing to compare it with, so it rests on the root check.
    expect(r).toMatchObject({ nodes: 1, uncovered: 1 });
    expect(node81).toMatch(new RegExp(HEX));
  });

  it('windows of any size over the tree check each stored node above the leaves once, as the whole-tree pass does', async () => {
    h = await mirrored({ api: 'tiles', entries: 700, seed: 'check-tree-windows' }, { start: 100n }, 700n);
    expect(await backfill(h, 30n)).toMatchObject({ status: 'complete', after: 30n });
    const id = await h.store.logId('sim');
    // Every stored node above the leaves whose run below is stored: what checkTreeHashes compares.
    const whole = await check(h);
    const over = async (from: bigint, to: bigint) => (await checkNodesOver(h!.store, 'sim', { seq: 0 }, from, to)).nodes;
    for (const size of [1n, 7n, 64n, 256n, 4096n]) {
      let nodes = 0;
      for (let from = 0n; from < 700n; from += size) nodes += await over(from, from + size > 700n ? 700n : from + size);
      expect(nodes).toBe(whole.nodes);
    }
    expect(await over(0n, 700n)).toBe(whole.nodes);
    // A changed node is seen by the window holding its first leaf, and only by it.
    await h.store.db.put(nodeKey(id, 0, 8, 1n), new Uint8Array(32));
    expect((await checkNodesOver(h.store, 'sim', { seq: 0 }, 250n, 260n)).problems).toEqual([expect.stringMatching(new RegExp(`^node \\(8, 1\\) is ${ZERO}, the hashes under it give ${HEX}$`))]);
    expect((await checkNodesOver(h.store, 'sim', { seq: 0 }, 257n, 700n)).problems).toEqual([]);
  });

  it('every leaf hash lost, the tile-row nodes over them kept: each missing leaf hash is said', async () => {
    h = await mirrored({ api: 'tiles', entries: 512, seed: 'check-tree-no-leaves' }, {}, 512n);
    const id = await h.store.logId('sim');
    await h.store.db.clear({ gte: nodeKey(id, 0, 0, 0n), lt: nodeKey(id, 0, 1, 0n) });
    // The root of 512 reads (8, 0) and (8, 1) alone, so nothing else notices: proofs need the leaf hashes.
    expect(await check(h)).toEqual({ leaves: 0, nodes: 0, uncovered: 2, problems: ['no leaf hash for entries 0..511'] });
  });

  it('a missing tile-row node under which all 256 hashes are stored', async () => {
    h = await mirrored({ api: 'tiles', entries: 300, seed: 'check-tree-missing' }, {}, 300n);
    await h.store.db.del(nodeKey(await h.store.logId('sim'), 0, 8, 0n));
    expect((await check(h)).problems).toEqual(['node (8, 0) is missing, though the 256 hashes under it are stored']);
  });

  it("a mirror started at 100: the start's frontier nodes rest on the root check until backfill stores what is under them", async () => {
    h = await mirrored({ api: 'tiles', entries: 600, seed: 'check-tree-late' }, { start: 100n }, 600n);
    // Left of 100: nodes over 0..63, 64..95, 96..99 (levels 6, 5, 2); row 8's (8, 0) over 0..255 has no stored run under it.
    expect(await check(h)).toEqual({ leaves: 500, nodes: 1, uncovered: 4, problems: [] });
    expect(await backfill(h, 50n)).toMatchObject({ status: 'complete', after: 50n });
    // The start's nodes over 0..31, 32..47, 48..49 are new; over 64..95 and 96..99 the leaves are stored now.
    expect(await check(h)).toEqual({ leaves: 550, nodes: 3, uncovered: 5, problems: [] });
    // The node over 64..95 the first start stored: nothing reads it now, but a changed one is damage.
    const id = await h.store.logId('sim');
    await h.store.db.put(nodeKey(id, 0, 5, 2n), new Uint8Array(32));
    expect((await check(h)).problems).toEqual([expect.stringMatching(new RegExp(`^node \\(5, 2\\) is ${ZERO}, the hashes under it give ${HEX}$`))]);
    await h.store.db.del(nodeKey(id, 0, 5, 2n));
    expect(await backfill(h, 0n)).toMatchObject({ status: 'complete', after: 0n });
    // From leaf 0: the nodes over 0..63 (the first start's) and 0..31, 32..47 are checked from their leaves
    // and (1, 24) over 48..49 as well; (8, 0) and (8, 1) from their runs.
    const full = await check(h);
    expect(full).toMatchObject({ leaves: 600, uncovered: 0, problems: [] });
    // A leaf hash changed under nodes of every kind.
    await h.store.db.put(nodeKey(id, 0, 0, 2n), new Uint8Array(32));
    const leaf2 = toHex(leafHash((await h.store.getEntry('sim', 2))!.body));
    // So do the nodes over it that were stored at their own level: the starts' (6, 0) and (5, 0).
    expect((await check(h)).problems).toEqual([
      expect.stringMatching(/^node \(8, 0\) is /),
      `entry 2: body hashes to ${leaf2}, the stored tree has ${ZERO}`,
      expect.stringMatching(/^node \(5, 0\) is /),
      expect.stringMatching(/^node \(6, 0\) is /),
    ]);
  });

  it('an odd start keeps one leaf hash left of it, the frontier node; any other there is damage', async () => {
    h = await mirrored({ api: 'tiles', entries: 120, seed: 'check-tree-odd' }, { start: 101n }, 120n);
    expect(await check(h)).toMatchObject({ leaves: 19, problems: [] });
    await h.store.db.put(nodeKey(await h.store.logId('sim'), 0, 0, 99n), new Uint8Array(32));
    expect((await check(h)).problems).toEqual(['leaf hash stored for entry 99, left of where the mirror holds the log (101)']);
  });

  it('Rekor v1 across three trees, started at 50 in the first: each tree checked, damage named with the entry index', async () => {
    h = await mirrored({ api: 'v1', entries: 600, seed: 'check-tree-v1', shards: 3 }, { batchSize: 100, start: 50n }, 200n, 2);
    expect(await check(h)).toMatchObject({ leaves: 550, problems: [] });
    const id = await h.store.logId('sim');
    const body = (await h.store.getEntry('sim', 210))!.body;
    await h.store.db.put(nodeKey(id, 1, 0, 10n), new Uint8Array(32));
    await h.store.db.del(nodeKey(id, 2, 0, 199n));
    expect((await check(h)).problems).toEqual([`entry 210: body hashes to ${toHex(leafHash(body))}, the stored tree has ${ZERO}`, `tree ${h.sim.log.shards[2]!.treeID}: no leaf hash for entries 599..599`]);
  });

  it('Rekor v1: the checkpoint history and the nodes over a window name a tree by the ID the log gives it', async () => {
    h = await mirrored({ api: 'v1', entries: 600, seed: 'check-tree-v1-names', shards: 2 }, { batchSize: 100 }, 300n, 1);
    const [t0, t1] = h.sim.log.shards.map((s) => s.treeID);
    const id = await h.store.logId('sim');
    const history = async (seq: number) => h!.store.db.iterator({ gte: key(Bucket.CHECKPOINT, u16(id), u16(treeKey(seq))), lt: prefixEnd(key(Bucket.CHECKPOINT, u16(id), u16(treeKey(seq)))) }).all();
    // The retired tree's final record with a bit of its root flipped: named from its note's origin.
    const [k0, v0] = (await history(0)).at(-1)!;
    const head = decodeJson<VerifiedHead>(v0);
    head.rootHash = Uint8Array.from(head.rootHash, (b, i) => (i === 0 ? b ^ 1 : b));
    await h.store.db.put(k0, encodeJson(head));
    // The current tree's one record unreadable: named from the state.
    expect(await history(1)).toHaveLength(1);
    const [k1, v1] = (await history(1))[0]!;
    await h.store.db.put(k1, v1.subarray(0, -1));
    const problems = await checkCheckpointHistory(h.store, 'sim', (await h.store.getLogState('sim'))!);
    expect(problems).toEqual([`verified checkpoint of size 300 (tree ${t0}): its root and its signed note disagree`, expect.stringMatching(new RegExp(`^verified checkpoint of size 300 \\(tree ${t1}\\): STORE_CORRUPT: unreadable stored record`)), "no verified checkpoint of the current tree is stored; the state's is of size 300"]);
    await h.store.db.put(nodeKey(id, 1, 8, 0n), new Uint8Array(32));
    expect((await checkNodesOver(h.store, 'sim', { seq: 1, treeID: t1! }, 0n, 300n)).problems).toEqual([expect.stringMatching(new RegExp(`^tree ${t1}: node \\(8, 0\\) is ${ZERO}, the hashes under it give ${HEX}$`))]);
  });

  it('a row of 256 tile-row nodes completes, and is checked against, the row-16 node over 65,536 leaves', async () => {
    h = await mirrored({ api: 'tiles', entries: 65_536 + 10, seed: 'check-tree-16' }, { batchSize: 4096 }, 65_546n);
    expect(await check(h)).toEqual({ leaves: 65_546, nodes: 257, uncovered: 0, problems: [] });
    // Progress after each chunk of 1,024 leaf hashes compared, and the last, short one.
    const progress: number[] = [];
    await checkTreeHashes(h.store, 'sim', (await h.store.getLogState('sim'))!, () => undefined, (n) => progress.push(n));
    expect(progress).toEqual([...Array.from({ length: 64 }, (_, k) => (k + 1) * 1024), 65_546]);
    await h.store.db.put(nodeKey(await h.store.logId('sim'), 0, 16, 0n), new Uint8Array(32));
    expect((await check(h)).problems).toEqual([expect.stringMatching(new RegExp(`^node \\(16, 0\\) is ${ZERO}, the 256 hashes under it give ${HEX}$`))]);
  }, 120_000);

  describe('over a window of entries (tlogwatch check --from/--to)', () => {
    it("checks the window's leaf hashes and the nodes over them, nothing else", async () => {
      h = await mirrored({ api: 'tiles', entries: 700, seed: 'check-tree-window' }, {}, 700n);
      // The whole tree in windows: every leaf once; (8, 0) and (8, 1) by the windows under them.
      expect(await check(h, { from: 0n, end: 700n })).toEqual(await check(h));
      expect(await check(h, { from: 300n, end: 310n })).toEqual({ leaves: 10, nodes: 1, uncovered: 0, problems: [] });
      expect(await check(h, { from: 600n, end: 700n })).toEqual({ leaves: 100, nodes: 0, uncovered: 0, problems: [] });
      const id = await h.store.logId('sim');
      const body = async (i: number) => toHex(leafHash((await h!.store.getEntry('sim', i))!.body));
      // Damage left of, right of and inside the window.
      await h.store.db.put(nodeKey(id, 0, 0, 5n), new Uint8Array(32));
      await h.store.db.put(nodeKey(id, 0, 0, 650n), new Uint8Array(32));
      await h.store.db.put(nodeKey(id, 0, 0, 305n), new Uint8Array(32));
      await h.store.db.del(nodeKey(id, 0, 0, 307n));
      expect((await check(h, { from: 300n, end: 310n })).problems).toEqual([
        'no leaf hash for entries 307..307',
        `entry 305: body hashes to ${await body(305)}, the stored tree has ${ZERO}`,
      ]);
      // Under the (8, 0) the windows below reach: its run of 256 read whole, and damaged at 5.
      expect((await check(h, { from: 250n, end: 260n })).problems).toEqual([expect.stringMatching(new RegExp(`^node \\(8, 0\\) is ${HEX}, the 256 hashes under it give ${HEX}$`))]);
      expect((await check(h, { from: 600n, end: 640n })).problems).toEqual([]);
      expect((await check(h, { from: 640n, end: 660n })).problems).toEqual([`entry 650: body hashes to ${await body(650)}, the stored tree has ${ZERO}`]);
      // Every leaf hash of a window lost: said for the window alone.
      await h.store.db.clear({ gte: nodeKey(id, 0, 0, 600n), lt: nodeKey(id, 0, 0, 700n) });
      expect(await check(h, { from: 610n, end: 620n })).toEqual({ leaves: 0, nodes: 0, uncovered: 0, problems: ['no leaf hash for entries 610..619'] });
    });

    it('Rekor v1: a window across trees is checked in each, named with the entry index', async () => {
      h = await mirrored({ api: 'v1', entries: 600, seed: 'check-tree-v1-window', shards: 3 }, { batchSize: 100, start: 50n }, 200n, 2);
      expect(await check(h, { from: 150n, end: 450n })).toMatchObject({ leaves: 300, problems: [] });
      const id = await h.store.logId('sim');
      await h.store.db.put(nodeKey(id, 1, 0, 10n), new Uint8Array(32)); // entry 210
      await h.store.db.put(nodeKey(id, 2, 0, 100n), new Uint8Array(32)); // entry 500
      const body = toHex(leafHash((await h.store.getEntry('sim', 210))!.body));
      expect((await check(h, { from: 150n, end: 450n })).problems).toEqual([`entry 210: body hashes to ${body}, the stored tree has ${ZERO}`]);
      expect((await check(h, { from: 50n, end: 210n })).problems).toEqual([]);
    });
  });
});
