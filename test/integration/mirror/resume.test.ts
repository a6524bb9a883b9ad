/**
 * `tlogwatch resume` (src/store/resume.ts): a halted log is lifted once an operator says why, keeping what
 * was verified, rolling back what was fetched beyond it, and starting a log that never stored anything as
 * new. The simulator behind a loopback proxy and a real LevelDB; the follower afterwards is the daemon's.
 */
import { describe, expect, it } from 'vitest';
import { CONFIRM_ROUNDS } from '../../../src/mirror/confirm-halt.ts';
import { checkLog } from '../../../src/store/check.ts';
import { digestToBytes, fetchedSize } from '../../../src/store/codec.ts';
import { resumeHistory, resumeLog } from '../../../src/store/resume.ts';
import { harnessPerTest } from '../../helpers/harness-per-test.ts';
import { expectStoreMatchesManifest, manifestOf } from '../../helpers/mirror.ts';
import { refusingFrom } from '../../helpers/stall-proxy.ts';

const t = harnessPerTest();
const NOW = 1_800_000_000;

async function roundsUntil(follower: { round: () => Promise<string> }, done: () => Promise<boolean>, max = 20): Promise<void> {
  for (let i = 0; i < max && !(await done()); i++) await follower.round();
  expect(await done()).toBe(true);
}

/** The indexes the store's digest index files under `digest` (hex). */
async function filed(digest: string): Promise<number[]> {
  return (await t.h.store.search('DIGEST', digestToBytes(digest), { limit: 10 })).refs.map((r) => Number(r.index));
}

describe('resuming a halted log', () => {
  it.each([
    ['tiles', { api: 'tiles' as const, entries: 300 }, { batchSize: 256 }, 1200, 1024, 400],
    ['Rekor v1', { api: 'v1' as const, entries: 300 }, { batchSize: 64 }, 300, 492, 400],
  ])('%s: keeps what was verified, rolls back what was fetched beyond it, and follows again to the log', async (_name, sim, follow, added, stopAt, rewritten) => {
    const h = await t.harness({ ...sim, seed: `resume-${sim.api}` }, follow);
    const proxy = await t.proxy();
    const { follower } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } });
    await roundsUntil(follower, async () => (await t.state())?.verified?.size === 300n);
    // A round commits [300, stopAt) with entry `rewritten` not the log's, and stops before the root check.
    h.sim.append(added);
    h.sim.faults.enable('rewrite', rewritten);
    let refusing = true;
    proxy.set(refusingFrom(stopAt, () => refusing));
    expect(await follower.round()).toBe('transient-error');
    expect(fetchedSize((await t.state())!)).toBe(BigInt(stopAt));
    const honest = manifestOf(h.sim).find((l) => l.index === rewritten) as { digests: string[] };
    const stored = (await h.store.getEntry('sim', rewritten))!.record.entry.digests;
    const bad = stored.find((d) => !honest.digests.includes(d))!;
    expect(await filed(bad)).toEqual([rewritten]);
    // Then checkpoints whose signature does not verify, round after round: halted, with the entries kept.
    h.sim.faults.disable('rewrite');
    refusing = false;
    h.sim.faults.enable('bad-sig');
    for (let i = 0; i < CONFIRM_ROUNDS; i++) await follower.round();
    let s = (await t.state())!;
    expect(s).toMatchObject({ status: 'halted', halt: { code: 'VERIFY_BAD_CHECKPOINT' } });
    expect(fetchedSize(s)).toBe(BigInt(stopAt));
    expect(await follower.round()).toBe('halted');

    // The proxy was at fault: resumed.
    h.sim.faults.disable('bad-sig');
    const out = await resumeLog(h.store, 'sim', 'a proxy rewrote checkpoints; replaced', NOW);
    expect(out).toMatchObject({ resumed: true, verifiedSize: 300n, fetched: 300n, record: { reset: false, rolledBack: String(stopAt - 300), reason: 'a proxy rewrote checkpoints; replaced', resumedAt: NOW, halt: { code: 'VERIFY_BAD_CHECKPOINT' } } });
    s = (await t.state())!;
    expect(s.status).toBe('following');
    expect(s.halt).toBeUndefined();
    expect(s.verified?.size).toBe(300n);
    expect(await filed(bad)).toEqual([]);
    expect(await h.store.getEntry('sim', rewritten)).toBeUndefined();
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
    expect(await resumeHistory(h.store, 'sim')).toEqual([out.resumed && out.record]);

    // A follower (a restarted daemon's) verifies everything past 300 again and ends with the log's entries.
    const next = t.followerVia();
    await roundsUntil(next.follower, async () => (await t.state())?.verified?.size === BigInt(300 + added));
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(300 + added);
    expect(await filed(bad)).toEqual([]);
    expect(await filed(honest.digests[0]!)).toContain(rewritten);
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
  });

  it.each([
    ['tiles', 'tiles' as const],
    ['Rekor v1', 'v1' as const],
  ])('%s: a log halted at its first checkpoint (a wrong key), nothing stored, starts again as new', async (_name, api) => {
    const h = await t.harness({ api, entries: 120, seed: `resume-new-${api}` }, { batchSize: 64 });
    await t.proxy();
    const { follower } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } });
    h.sim.faults.enable('wrong-key');
    for (let i = 0; i < CONFIRM_ROUNDS; i++) await follower.round();
    expect(await t.state()).toMatchObject({ status: 'halted', halt: { code: 'VERIFY_BAD_CHECKPOINT' } });
    // A second resume of the same halt is not one: the log is no longer halted.
    h.sim.faults.disable('wrong-key');
    const out = await resumeLog(h.store, 'sim', 'the pinned trusted root had a stale key', NOW);
    expect(out).toMatchObject({ resumed: true, record: { reset: true, rolledBack: '0' } });
    expect(await t.state()).toBeUndefined();
    expect(await resumeLog(h.store, 'sim', 'again', NOW + 1)).toEqual({ resumed: false, status: 'bootstrapping' });
    expect(await resumeHistory(h.store, 'sim')).toHaveLength(1);

    const next = t.followerVia();
    await roundsUntil(next.follower, async () => (await t.state())?.verified?.size === 120n);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(120);
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
  });

  /**
   * A Rekor v1 log of two trees of 200, mirrored from 50 in a store from before start frontiers (the
   * state's `startFrontier` removed, as such a store has none), a round stopped at `stopAt` before its root
   * check, then halted by checkpoints whose signature does not verify.
   */
  async function haltedOldStore(seed: string, stopAt: number) {
    const h = await t.harness({ api: 'v1', entries: 400, seed, shards: 2 }, { batchSize: 40 });
    const proxy = await t.proxy(refusingFrom(stopAt, () => true));
    const { follower } = t.followerVia({ start: 50n, retryDelays: { baseMs: 1, maxMs: 4 } });
    await roundsUntil(follower, async () => {
      const st = await t.state();
      return st !== undefined && fetchedSize(st) === BigInt(stopAt);
    });
    const old = (await t.state())!;
    delete old.startFrontier;
    await h.store.putLogState(old);
    proxy.set(undefined);
    h.sim.faults.enable('bad-sig');
    for (let i = 0; i < CONFIRM_ROUNDS; i++) await follower.round();
    const s = (await t.state())!;
    expect(s).toMatchObject({ status: 'halted', startIndex: 50n, halt: { code: 'VERIFY_BAD_CHECKPOINT' } });
    expect(s.startFrontier).toBeUndefined();
    expect(s.verified).toBeUndefined();
    expect(fetchedSize(s)).toBe(BigInt(stopAt));
    h.sim.faults.disable('bad-sig');
    return { h, s };
  }

  /** The digests of the log's entry at `index`, by the manifest. */
  const digestsOf = (index: number) => (manifestOf(t.h.sim).find((l) => l.index === index) as { digests: string[] }).digests;

  /** A restarted daemon's follower verifies the log to its end from 50, and the store checks. */
  async function followsToTheEnd(): Promise<void> {
    const next = t.followerVia({ start: 50n });
    await roundsUntil(next.follower, async () => (await t.state())?.shard?.seq === 1 && (await t.state())?.verified?.size === 200n);
    expect(await expectStoreMatchesManifest(t.h.store, t.h.sim, 'sim', 50)).toBe(350);
    expect((await checkLog(t.h.store, 'sim')).problems).toEqual([]);
  }

  it('Rekor v1, a store from before start frontiers that moved to a later tree: that tree is held from its first leaf, so it goes back there', async () => {
    // The state cannot say where the first tree's entries start (localStartIndex), and need not: only the
    // current tree is rolled back, and a tree entered after the first is held from its leaf 0.
    const { h, s } = await haltedOldStore('resume-old-later', 320);
    expect(s.shard).toMatchObject({ seq: 1, offset: 200n });
    const out = await resumeLog(h.store, 'sim', 'a proxy rewrote checkpoints; replaced', NOW);
    expect(out).toMatchObject({ resumed: true, verifiedSize: undefined, fetched: 200n, record: { reset: false, rolledBack: '120' } });
    expect(await t.state()).toMatchObject({ status: 'following', startIndex: 50n, shard: { seq: 1, offset: 200n } });
    expect(await filed(digestsOf(250)[0]!)).toEqual([]);
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 50, 200)).toBe(150);
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
    await followsToTheEnd();
  });

  it('Rekor v1, a store from before start frontiers halted in its first tree before a checkpoint verified: rolled back to its start, not forgotten with its entries indexed', async () => {
    const { h } = await haltedOldStore('resume-old-first', 130);
    const held = digestsOf(100)[0]!;
    expect(await filed(held)).toEqual([100]);
    const out = await resumeLog(h.store, 'sim', 'a proxy rewrote checkpoints; replaced', NOW);
    // Its start frontier, verified when the mirror started, is rebuilt from the tree hashes kept left of 50.
    expect(out).toMatchObject({ resumed: true, verifiedSize: undefined, fetched: 50n, record: { reset: false, rolledBack: '80' } });
    expect(await t.state()).toMatchObject({ status: 'following', startIndex: 50n, shard: { seq: 0 } });
    expect(await filed(held)).toEqual([]);
    expect(await h.store.getEntry('sim', 100)).toBeUndefined();
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
    await followsToTheEnd();
  });

  it('refuses without a reason, and says so for a log that was never mirrored; a following log is left as it is', async () => {
    const h = await t.harness({ api: 'tiles', entries: 20, seed: 'resume-refuse' });
    await roundsUntil(h.follower, async () => (await t.state())?.verified?.size === 20n);
    await expect(resumeLog(h.store, 'sim', '  ', NOW)).rejects.toThrow(/a reason is required/);
    await expect(resumeLog(h.store, 'other', 'x', NOW)).rejects.toThrow(/no state for log other/);
    const before = await t.state();
    expect(await resumeLog(h.store, 'sim', 'x', NOW)).toEqual({ resumed: false, status: 'following' });
    expect(await t.state()).toEqual(before);
    expect(await resumeHistory(h.store, 'sim')).toEqual([]);
  });
});
