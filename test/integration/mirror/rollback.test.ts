/**
 * A catch-up of several batches commits each batch as it goes, and only the last one compares the
 * recomputed root with the signed one. When an entry that is not the log's was committed on the way (a
 * CDN or proxy serving a rewritten entry bundle with a level-0 tile that agrees with it, or a Rekor v1 body
 * with a SET over it: the simulator's `rewrite` fault), the root does not match, and the entries fetched
 * beyond the verified checkpoint are rolled back (src/store/rollback.ts): unindexed, their values dropped,
 * the frontier back where it was verified. The next round then fetches them again and verifies, rather
 * than recomputing the same wrong root from the committed frontier until the log halts.
 * A simulator behind a loopback proxy, a real LevelDB, `tlogwatch check`'s checks.
 */
import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { CONFIRM_ROUNDS } from '../../../src/mirror/confirm-halt.ts';
import type { createMetrics } from '../../../src/metrics.ts';
import type { LogFollower } from '../../../src/mirror/follower.ts';
import type { MirrorHooks } from '../../../src/mirror/types.ts';
import { findingId } from '../../../src/monitor/finding.ts';
import { checkLog } from '../../../src/store/check.ts';
import { findingOps, FindingsRepo } from '../../../src/store/findings.ts';
import { digestToBytes, fetchedSize } from '../../../src/store/codec.ts';
import { hashRun } from '../../../src/merkle/tiles.ts';
import { Bucket, key, prefixEnd, readU64, treeSeq, u16 } from '../../../src/store/keys.ts';
import { rollBackTree, unverifiedFrom } from '../../../src/store/rollback.ts';
import { harnessPerTest } from '../../helpers/harness-per-test.ts';
import { reply, type Behaviour, type HostileProxy } from '../../helpers/hostile-proxy.ts';
import { refusingFrom } from '../../helpers/stall-proxy.ts';
import { canMountTmpfs, tmpfsDataDir } from '../../helpers/tmpfs.ts';
import { expectStoreMatchesManifest, manifestOf } from '../../helpers/mirror.ts';

const t = harnessPerTest();
const mountable = canMountTmpfs();

async function rolledBack(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  return (await metrics.entriesRolledBack.get()).values.find((v) => v.labels.log === 'sim')?.value ?? 0;
}

/** The digest the stored entry at `index` has and the log's entry there does not (the rewritten one). */
async function rewrittenDigest(index: number): Promise<string> {
  const stored = await t.h.store.getEntry('sim', index);
  const honest = manifestOf(t.h.sim).find((l) => l.index === index) as { digests: string[] };
  const extra = stored!.record.entry.digests.filter((d) => !honest.digests.includes(d));
  expect(extra.length).toBeGreaterThan(0);
  return extra[0]!;
}

/** What /v1/search and the store's digest index find under `digest`: the indexes of the entries. */
async function found(digest: string): Promise<{ api: number[]; index: number[] }> {
  const app = createApp({ store: t.h.store, metrics: t.h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
  const res = await app.request(`/v1/search?digest=${digest}`);
  expect(res.status).toBe(200);
  const api = ((await res.json()) as { entries: Array<{ index: number }> }).entries.map((e) => e.index);
  const index = (await t.h.store.search('DIGEST', digestToBytes(digest), { limit: 10 })).refs.map((r) => r.index);
  return { api, index };
}

/** Stored tree hashes of tree `seq` over any leaf at or past tree-local `size` (node (L, i) covers [i·2^L, (i+1)·2^L)). */
async function nodesPast(seq: number, size: bigint): Promise<number> {
  const prefix = key(Bucket.NODE, u16(await t.h.store.logId('sim')));
  let n = 0;
  for await (const k of t.h.store.db.keys({ gte: prefix, lt: prefixEnd(prefix) })) {
    if (treeSeq(k[3]! * 256 + k[4]!) === seq && (readU64(k, 6) + 1n) << BigInt(k[5]!) > size) n++;
  }
  return n;
}

const RULE = 'rollback-test';

/** Hooks that raise a finding, as a rule would, on each entry at `indexes`. */
function flagging(...indexes: number[]): MirrorHooks {
  return {
    onEntries: (log, entries, now) => ({
      ops: entries
        .filter((e) => indexes.includes(Number(e.entry.index)))
        .flatMap((e) => findingOps({ id: findingId(RULE, log, String(e.entry.index)), rule: RULE, kind: 'violation', severity: 'high', message: 'flagged', log, index: Number(e.entry.index), uuid: e.entry.uuid, firstSeen: now, status: 'open' })),
    }),
  };
}

async function expectChecked(): Promise<void> {
  const check = await checkLog(t.h.store, 'sim');
  expect(check.problems).toEqual([]);
}

describe('entries committed beyond the verified checkpoint whose root does not match are rolled back', () => {
  it('tiles: a rewritten bundle and tile committed in one round are dropped in the next, fetched again and verified', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'rollback-tiles' }, { batchSize: 256 });
    const proxy = await t.proxy();
    const { follower, metrics } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } }, flagging(299, 400));
    for (let i = 0; i < 10 && (await t.state())?.verified?.size !== 300n; i++) await follower.round();
    expect((await t.state())?.verified?.size).toBe(300n);
    h.sim.append(1200);
    // One round: entry 400 rewritten (bundle and level-0 tile agree), and bundles from 1024 on refused, so the
    // round commits [300, 1024) with it and stops before the root check.
    h.sim.faults.enable('rewrite', 400);
    let refusing = true;
    proxy.set(refusingFrom(1024, () => refusing));
    expect(await follower.round()).toBe('transient-error');
    let s = (await t.state())!;
    expect(s.verified?.size).toBe(300n);
    expect(fetchedSize(s)).toBe(1024n);
    const bad = await rewrittenDigest(400);
    expect(await found(bad)).toEqual({ api: [400], index: [400] });
    const raised = await new FindingsRepo(h.store).get(findingId(RULE, 'sim', '400'));
    expect(raised).toMatchObject({ index: 400, uuid: (await h.store.getEntry('sim', 400))!.record.entry.uuid });
    expect(raised?.entryRolledBack).toBeUndefined();

    // The fault is gone; the round reaches the root, which the committed entry 400 keeps from matching. It
    // committed [1024, 1280) first: the batch that reaches the checkpoint's size is the one that fails.
    h.sim.faults.disable('rewrite');
    refusing = false;
    expect(await follower.round()).toBe('transient-error');
    expect(follower.transientFault).toMatchObject({ code: 'VERIFY_ROOT_MISMATCH', message: expect.stringMatching(/not yet confirmed: 1 round\(s\) in a row.*; 980 entries fetched beyond the verified checkpoint were rolled back, to be fetched again\)$/) });
    s = (await t.state())!;
    expect(s.status).toBe('following');
    expect(s.verified?.size).toBe(300n);
    expect(fetchedSize(s)).toBe(300n);
    expect(await nodesPast(0, 300n)).toBe(0);
    expect(await rolledBack(metrics)).toBe(980);
    expect(await t.h.store.getEntry('sim', 400)).toBeUndefined();
    expect(await found(bad)).toEqual({ api: [], index: [] });
    await expectChecked();
    // The finding raised on the rewritten entry stays, marked: the log never verified that entry.
    const marked = await new FindingsRepo(h.store).get(findingId(RULE, 'sim', '400'));
    expect(marked).toMatchObject({ uuid: raised!.uuid, entryRolledBack: { reason: 'VERIFY_ROOT_MISMATCH', at: expect.any(Number) } });
    const verifiedOne = await new FindingsRepo(h.store).get(findingId(RULE, 'sim', '299'));
    expect(verifiedOne).toBeDefined();
    expect(verifiedOne?.entryRolledBack).toBeUndefined();

    // Fetched again, verified: exactly the log's entries.
    expect(await follower.round()).toBe('advanced');
    s = (await t.state())!;
    expect(s.verified?.size).toBe(1500n);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(1500);
    expect(await found(bad)).toEqual({ api: [], index: [] });
    const honest = (manifestOf(h.sim).find((l) => l.index === 400) as { digests: string[] }).digests[0]!;
    expect((await found(honest)).index).toContain(400);
    await expectChecked();
    // The entry the log has at 400 raises its own finding, in place of the marked one (one per rule and index).
    const again = await new FindingsRepo(h.store).get(findingId(RULE, 'sim', '400'));
    expect(again?.uuid).toBe((manifestOf(h.sim).find((l) => l.index === 400) as { uuid: string }).uuid);
    expect(again?.entryRolledBack).toBeUndefined();
  });

  it('Rekor v1: entries of a later tree, none of it verified yet, roll back to its first leaf at its virtual offset', async () => {
    const h = await t.harness({ api: 'v1', entries: 400, seed: 'rollback-v1', shards: 2 }, { batchSize: 40 });
    const proxy = await t.proxy();
    const { follower, metrics } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } });
    let refusing = true;
    proxy.set(refusingFrom(320, () => refusing));
    // The first tree verified to its end, the second followed from its first leaf (virtual 200), its entry 250
    // rewritten with a SET over the rewritten body, and the round stopped at 320.
    h.sim.faults.enable('rewrite', 250);
    for (let i = 0; i < 10 && (await t.state())?.shard?.seq !== 1; i++) await follower.round();
    let s = (await t.state())!;
    expect(s.shard).toMatchObject({ seq: 1, offset: 200n });
    expect(s.verified).toBeUndefined();
    expect(fetchedSize(s)).toBe(320n);
    const bad = await rewrittenDigest(250);
    expect((await found(bad)).index).toEqual([250]);

    h.sim.faults.disable('rewrite');
    refusing = false;
    expect(await follower.round()).toBe('transient-error');
    expect(follower.transientFault?.code).toBe('VERIFY_ROOT_MISMATCH');
    expect(follower.transientFault?.message).toMatch(/; 160 entries fetched beyond the verified checkpoint were rolled back/);
    s = (await t.state())!;
    expect(s.shard).toMatchObject({ seq: 1, offset: 200n });
    expect(fetchedSize(s)).toBe(200n);
    expect(await nodesPast(1, 0n)).toBe(0);
    expect(await nodesPast(0, 200n)).toBe(0);
    expect(await rolledBack(metrics)).toBe(160);
    // The first tree, verified, is untouched.
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 0, 200)).toBe(200);
    expect(await h.store.getEntry('sim', 200)).toBeUndefined();
    expect(await found(bad)).toEqual({ api: [], index: [] });
    await expectChecked();

    expect(await follower.round()).toBe('advanced');
    s = (await t.state())!;
    expect(s.verified?.size).toBe(200n);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(400);
    expect(await found(bad)).toEqual({ api: [], index: [] });
    await expectChecked();
  });

  it('still halts on a rewrite that persists, after CONFIRM_ROUNDS rounds, at the verified checkpoint, with the evidence', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'rollback-persists' }, { batchSize: 256 });
    const proxy = await t.proxy();
    const { follower, metrics } = t.followerVia();
    for (let i = 0; i < 10 && (await t.state())?.verified?.size !== 300n; i++) await follower.round();
    h.sim.append(700);
    h.sim.faults.enable('rewrite', 700);
    proxy.set(undefined);
    const outcomes = [];
    for (let i = 0; i < CONFIRM_ROUNDS; i++) outcomes.push(await follower.round());
    expect(outcomes).toEqual([...Array<string>(CONFIRM_ROUNDS - 1).fill('transient-error'), 'halted']);
    const s = (await t.state())!;
    expect(s.halt?.code).toBe('VERIFY_ROOT_MISMATCH');
    expect(s.halt?.evidence).toMatchObject({ recomputedRoot: expect.any(String) });
    expect(s.verified?.size).toBe(300n);
    // Each round committed up to 768 before the batch that reaches 1000 failed the root. The rounds before
    // the halt dropped [512, 768), the bundle of entry 700 (the log's tiles prove the store's frontier at
    // 512), and the next fetched it again; the halting round dropped everything past the verified size: the
    // halt holds the log at what it verified.
    expect(await rolledBack(metrics)).toBe(256 * (CONFIRM_ROUNDS - 1) + 468);
    expect(fetchedSize(s)).toBe(300n);
    expect(await nodesPast(0, 300n)).toBe(0);
    expect(await h.store.getEntry('sim', 700)).toBeUndefined();
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 0, 300)).toBe(300);
    await expectChecked();
  });

  it('rolls back a chunk at a time, each step a state a catch-up could have committed', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'rollback-chunks' }, { batchSize: 256 });
    const proxy = await t.proxy();
    const { follower } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } });
    for (let i = 0; i < 10 && (await t.state())?.verified?.size !== 300n; i++) await follower.round();
    h.sim.append(1200);
    h.sim.faults.enable('rewrite', 400);
    proxy.set(refusingFrom(1024, () => true));
    expect(await follower.round()).toBe('transient-error');
    expect(fetchedSize((await t.state())!)).toBe(1024n);
    // Part of the way, as a rollback cut short after some of its steps leaves it (steps of 100 entries):
    // the frontier at 700 rebuilt from the stored tree hashes, everything past it gone, and the store checks.
    const part = await rollBackTree(h.store, (await t.state())!, { size: 700n }, { chunk: 100n });
    expect(part.entries).toBe(324n);
    expect(fetchedSize(part.state)).toBe(700n);
    expect(await t.state()).toEqual(part.state);
    expect(await nodesPast(0, 700n)).toBe(0);
    expect(await h.store.getEntry('sim', 700)).toBeUndefined();
    expect(await h.store.getEntry('sim', 699)).toBeDefined();
    await expectChecked();
    // The rest, from where the state says: to the verified size, whose root the rebuilt frontier must give.
    const s = (await t.state())!;
    const rest = await rollBackTree(h.store, s, unverifiedFrom(s), { chunk: 100n });
    expect(rest.entries).toBe(400n);
    expect(fetchedSize((await t.state())!)).toBe(300n);
    await expectChecked();
    h.sim.faults.disable('rewrite');
    proxy.set(undefined);
    expect(await follower.round()).toBe('advanced');
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(1500);
    await expectChecked();
  });

  it.skipIf(!mountable)('a rollback the store cannot write (a full disk) changes nothing, and the round after the reopen rolls back', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'rollback-full' }, { batchSize: 256 }, undefined, { dataDir: tmpfsDataDir(96) });
    const proxy = await t.proxy();
    const { follower } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } });
    for (let i = 0; i < 10 && (await t.state())?.verified?.size !== 300n; i++) await follower.round();
    h.sim.append(1200);
    h.sim.faults.enable('rewrite', 400);
    let refusing = true;
    proxy.set(refusingFrom(1280, () => refusing));
    expect(await follower.round()).toBe('transient-error');
    expect(fetchedSize((await t.state())!)).toBe(1280n);
    h.sim.faults.disable('rewrite');
    refusing = false;
    // The volume full: the round's last batch [1280, 1500) fails the root before any write, and the rollback's
    // first write fails. Nothing of it is written: the state still holds [300, 1280).
    const filler = join(h.dataDir, 'filler');
    writeFileSync(filler, Buffer.alloc(statfsSync(h.dataDir).bavail * statfsSync(h.dataDir).bsize));
    expect(await follower.round()).toBe('transient-error');
    expect(follower.transientFault?.code).toBe('VERIFY_ROOT_MISMATCH');
    expect(follower.transientFault?.message).not.toMatch(/rolled back/);
    expect(h.store.writeFault).toBeDefined();
    expect(fetchedSize((await t.state())!)).toBe(1280n);
    expect((await h.store.getEntry('sim', 400))?.record.entry.uuid).not.toBe((manifestOf(h.sim).find((l) => l.index === 400) as { uuid: string }).uuid);
    // Room again: the next round reopens the store, meets the same root, and rolls back; the one after verifies.
    rmSync(filler);
    expect(await follower.round()).toBe('transient-error');
    expect(h.store.writeFault).toBeUndefined();
    expect(follower.transientFault?.message).toMatch(/not yet confirmed: 2 round\(s\) in a row.*; 980 entries fetched beyond the verified checkpoint were rolled back/);
    expect(fetchedSize((await t.state())!)).toBe(300n);
    await expectChecked();
    expect(await follower.round()).toBe('advanced');
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(1500);
    await expectChecked();
  });
});

/** Tiles above level 0: only a rollback's probes read them here (the catch-up reads bundles and level-0 tiles). */
const UPPER_TILES = /\/tile\/[1-9]\d*\//;

describe('a tiles log rolls back only from the first entry bundle its tiles do not prove', () => {
  /**
   * A log verified at 300 and grown to 3300, entry `bad` rewritten (its bundle and level-0 tile agree) for one
   * round, with `probing` answering the tiles above level 0 (undefined: as the log serves them): the round
   * commits [300, 2816) in batches of 512 on bundle boundaries ([300, 768), [768, 1280), …) and fails the
   * root on the last one, [2816, 3300).
   */
  async function failedLongCatchUp(seed: string, bad: number, probing?: Behaviour) {
    const h = await t.harness({ api: 'tiles', entries: 300, seed }, { batchSize: 512 });
    const proxy = await t.proxy();
    const { follower, metrics } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } });
    for (let i = 0; i < 10 && (await t.state())?.verified?.size !== 300n; i++) await follower.round();
    expect((await t.state())?.verified?.size).toBe(300n);
    h.sim.append(3000);
    h.sim.faults.enable('rewrite', bad);
    if (probing) proxy.set(async (req, res) => (UPPER_TILES.test(req.path) ? probing(req, res) : reply(res, await req.forward())));
    expect(await follower.round()).toBe('transient-error');
    expect(follower.transientFault?.code).toBe('VERIFY_ROOT_MISMATCH');
    h.sim.faults.disable('rewrite');
    proxy.set(undefined);
    return { h, proxy, follower, metrics };
  }

  /** The next round fetches what was dropped and verifies: the store is the log's, and checks. */
  async function verifiesNext(follower: LogFollower, proxy: HostileProxy): Promise<void> {
    const probes = proxy.count(UPPER_TILES);
    expect(await follower.round()).toBe('advanced');
    expect((await t.state())?.verified?.size).toBe(3300n);
    expect(proxy.count(UPPER_TILES)).toBe(probes);
    expect(await expectStoreMatchesManifest(t.h.store, t.h.sim)).toBe(3300);
    await expectChecked();
  }

  /** After a failed long catch-up whose probes proved nothing: everything since 300 rolled back, then verified. */
  async function expectProbedBackToVerified(follower: LogFollower, proxy: HostileProxy, metrics: ReturnType<typeof createMetrics>): Promise<void> {
    expect(proxy.count(UPPER_TILES)).toBeGreaterThan(0);
    expect(follower.transientFault?.message).toMatch(/; 2516 entries fetched beyond the verified checkpoint were rolled back, to be fetched again\)$/);
    expect(await rolledBack(metrics)).toBe(2516);
    expect(fetchedSize((await t.state())!)).toBe(300n);
    await expectChecked();
    await verifiesNext(follower, proxy);
  }

  it('one rewritten bundle in the middle: the bundles before it are kept, proven by a few tiles, and the next round verifies', async () => {
    const { h, proxy, follower, metrics } = await failedLongCatchUp('localise-middle', 1600);
    // Dropped from the bad bundle's start (1536, inside the batch [1280, 1792)) to what was committed (2816).
    expect(follower.transientFault?.message).toMatch(/not yet confirmed: 1 round\(s\) in a row.*; 1280 entries fetched beyond the verified checkpoint were rolled back \(from entry 1536: the 1236 before it, which the log's tiles prove, are kept\), to be fetched again\)$/);
    expect(await rolledBack(metrics)).toBe(1280);
    const s = (await t.state())!;
    expect(s.verified?.size).toBe(300n);
    expect(fetchedSize(s)).toBe(1536n);
    expect(await nodesPast(0, 1536n)).toBe(0);
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 0, 1536)).toBe(1536);
    expect(await h.store.getEntry('sim', 1536)).toBeUndefined();
    expect(await h.store.getEntry('sim', 1600)).toBeUndefined();
    await expectChecked();
    // ~log2(10 boundaries) probes; the tiles above level 0 of a 3300-entry tree are one partial tile, read once.
    expect(proxy.count(UPPER_TILES)).toBeGreaterThan(0);
    expect(proxy.count(UPPER_TILES)).toBeLessThanOrEqual(2);
    await verifiesNext(follower, proxy);
  });

  it('a rewritten entry in the first bundle past the verified size: back to the verified size', async () => {
    const { follower, proxy, metrics } = await failedLongCatchUp('localise-first', 300);
    await expectProbedBackToVerified(follower, proxy, metrics);
  });

  it('tiles forged on the way to agree with the rewritten entry prove nothing: every probe is bad, back to the verified size', async () => {
    // The level-1 tile as a path that rewrote entry 1600 would serve it to hide that: entry 6 (the MTH of
    // bundle 6) recomputed from the rewritten level-0 tile. The store's frontier at any size past 1536 then
    // agrees with the tiles; only a consistency proof to the signed root, which covers bundle 6, tells.
    const { follower, proxy, metrics } = await failedLongCatchUp('localise-forged-tiles', 1600, async (req, res) => {
      const u = await req.forward();
      const level0 = await req.forward(req.path.replace(/\/tile\/.*$/, '/tile/0/006'));
      const hashes = Array.from({ length: 256 }, (_, i) => level0.body.subarray(32 * i, 32 * i + 32));
      if (u.status === 200 && level0.status === 200 && u.body.length > 32 * 6) u.body.set(hashRun(hashes), 32 * 6);
      reply(res, u);
    });
    await expectProbedBackToVerified(follower, proxy, metrics);
  });

  it('a rewritten entry in the last, partial bundle, the log not grown since: no probe can verify, back to the verified size', async () => {
    // Entry 3200 was in the batch that failed the root ([2816, 3300)), so nothing committed is wrong; but every
    // consistency proof to 3300 needs the hashes over [3072, 3300), which only the level-0 tile the path
    // rewrote holds (localise-rollback.ts): against the one checkpoint there is, nothing can be proven.
    const { follower, proxy, metrics } = await failedLongCatchUp('localise-last', 3200);
    await expectProbedBackToVerified(follower, proxy, metrics);
  });

  it('a rewritten entry in the last, partial bundle, the log grown past it during the round: its latest checkpoint proves everything committed', async () => {
    let grown = false;
    const { h, proxy, follower, metrics } = await failedLongCatchUp('localise-last-grown', 3200, async (req, res) => {
      // The log appends while the probes run: its next checkpoint (3400) holds bundle 12 whole, hashed in a level-1 tile.
      if (!grown) t.h.sim.append(100);
      grown = true;
      reply(res, await req.forward());
    });
    expect(follower.transientFault?.message).toMatch(/not yet confirmed: 1 round\(s\) in a row; the log halts if the next 2 fail too\)$/);
    expect(await rolledBack(metrics)).toBe(0);
    const s = (await t.state())!;
    expect(s.verified?.size).toBe(300n);
    expect(fetchedSize(s)).toBe(2816n);
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 0, 2816)).toBe(2816);
    await expectChecked();
    expect(await follower.round()).toBe('advanced');
    expect((await t.state())?.verified?.size).toBe(3400n);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(3400);
    expect(proxy.count(UPPER_TILES)).toBeGreaterThan(0);
    await expectChecked();
  });

  it('a probe that fails with a transient error (tiles refused) ends the search: back to the verified size', async () => {
    const { follower, proxy, metrics } = await failedLongCatchUp('localise-refused-tiles', 1600, (_req, res) => void res.writeHead(400).end());
    expect(proxy.count(UPPER_TILES)).toBeGreaterThan(0);
    expect(follower.transientFault?.message).toMatch(/not yet confirmed: 1 round\(s\) in a row.*; 2516 entries fetched beyond the verified checkpoint were rolled back, to be fetched again\)$/);
    expect(await rolledBack(metrics)).toBe(2516);
    expect(fetchedSize((await t.state())!)).toBe(300n);
    await expectChecked();
    await verifiesNext(follower, proxy);
  });
});
