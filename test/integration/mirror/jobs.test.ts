/** Scheduled jobs: the re-verification sweep catches a store changed under the mirror; the daily digest. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { dailyDigest, restoreJobLastSuccess, retiredShards, reverify, reverifyLog, runJob, scheduleJobs, TASKS, type JobContext } from '../../../src/jobs.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics, type Metrics } from '../../../src/metrics.ts';
import { FindingRaiser } from '../../../src/monitor/raise.ts';
import { Backfiller } from '../../../src/mirror/backfill.ts';
import { checkRetiredShards } from '../../../src/store/check-tree.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { entryKey, nodeKey } from '../../../src/store/keys.ts';
import { Store } from '../../../src/store/store.ts';
import { checkpointVerifierForTlog, setKeyForTlog } from '../../../src/trust/trusted-root.ts';
import { toHex } from '../../../src/util/bytes.ts';
import { harness, jobContext, roundsUntil, type Harness } from '../../helpers/mirror.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

/** A backfiller for the harness's log, built as `tlogwatch backfill` builds one (without rules: no rule findings to tell apart). */
const backfiller = (h: Harness) =>
  new Backfiller(h.follower.cfg, { store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)], setKey: setKeyForTlog(h.tlog) });

/** Unix seconds the jobs run at in the backfill tests, so a finding's id (rule, log, episode) is known in advance. */
const NOW = 1_795_000_000;
const ZERO = '0'.repeat(64);

/** What every store-integrity finding raised at NOW for the log `sim` has. */
const storeIntegrity = () => ({ id: expect.stringMatching(/^[0-9a-f]{32}$/), rule: 'store-integrity', kind: 'integrity', severity: 'critical', log: 'sim', firstSeen: NOW, status: 'open' });

/**
 * Zeroes the stored leaf hash of `leaf` (tree 0; entry `index`) and runs reverify: exactly one
 * store-integrity finding, with the body's problem, then each stored node over the leaf whose run below
 * now hashes otherwise (`nodesOver`, as (level, index)), then the root's.
 */
async function expectChangedLeafFound(h: Harness, ctx: JobContext, findings: FindingsRepo, index: number, leaf: bigint, nodesOver: Array<[number, number]>) {
  const state = (await h.store.getLogState('sim'))!;
  const entry = (await h.store.getEntry('sim', index))!;
  await h.store.db.put(nodeKey(await h.store.logId('sim'), 0, 0, leaf), new Uint8Array(32));
  await reverify(ctx);
  const { findings: found } = await findings.list({ limit: 10 });
  expect(found).toHaveLength(1);
  // Each node named covers the leaf.
  for (const [level, i] of nodesOver) expect(leaf >> BigInt(level)).toBe(BigInt(i));
  expect(found[0]).toMatchObject({
    ...storeIntegrity(),
    evidence: {
      problems: [
        `entry ${index}: body hashes to ${entry.record.entry.leafHash}, the verified tree has ${ZERO}`,
        ...nodesOver.map(([level, i]) => expect.stringMatching(new RegExp(`^node \\(${level}, ${i}\\) is [0-9a-f]{64}, the hashes under it give [0-9a-f]{64}$`))),
        expect.stringMatching(new RegExp(`^stored tree gives root [0-9a-f]{64} for size ${state.verified!.size}, the verified checkpoint says ${toHex(state.verified!.rootHash)}$`)),
      ],
    },
  });
  return found[0]!;
}

/** A Rekor v1 mirror of three 200-entry trees, started at 50 in the first, followed into the third. */
async function threeTreesFrom50(seed: string): Promise<Harness> {
  const m = await harness({ api: 'v1', entries: 600, seed, shards: 3 }, { batchSize: 100, start: 50n });
  await roundsUntil(m, async () => {
    const s = await m.store.getLogState('sim');
    return s?.shard?.seq === 2 && s.verified?.size === 200n;
  });
  return m;
}

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
    // The changed leaf, the node over it (from the changed leaf), the changed node, and the root over both.
    expect(f!.evidence?.['problems']).toEqual([
      expect.stringMatching(/^entry 5: body hashes to [0-9a-f]{64}, the verified tree has 0{64}$/),
      expect.stringMatching(/^node \(8, 0\) is [0-9a-f]{64}, the hashes under it give [0-9a-f]{64}$/),
      expect.stringMatching(/^node \(8, 1\) is 0{64}, the hashes under it give [0-9a-f]{64}$/),
      expect.stringMatching(/^stored tree gives root /),
    ]);
    // The same damage found again is the same finding: not raised, counted or notified twice.
    await reverify(ctx);
    expect((await findings.list({ limit: 10 })).findings.map((x) => x.id)).toEqual([f!.id]);
    const raised = async () => (await h!.metrics.registry.getSingleMetric('tlogwatch_findings_total')!.get()).values.find((v) => v.labels.rule === 'store-integrity')?.value;
    expect(await raised()).toBe(1);
    // Other damage is another finding.
    await h.store.db.put(nodeKey(id, 0, 0, 600n), new Uint8Array(32));
    await reverify(ctx);
    expect((await findings.list({ limit: 10 })).findings).toHaveLength(2);
    expect(await raised()).toBe(2);
  });

  it('reverify carries on where its last window stopped, jobs.reverifyWindow entries at a time, and names missing entries', async () => {
    h = await harness({ api: 'tiles', entries: 700, seed: 'jobs-windows' }, { start: 100n });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 700n);
    const base = jobContext(h, new FindingsRepo(h.store));
    const ctx: JobContext = { ...base, config: { ...base.config, jobs: { ...base.config.jobs, reverifyWindow: 256 } } };
    const windows: number[] = [];
    for (let k = 0; k < 4; k++) windows.push((await reverifyLog(ctx, 'sim')).checked);
    // [100, 356), [356, 612), [612, 700), then from the start again.
    expect(windows).toEqual([256, 256, 88, 256]);
    // An entry value lost: its window says so, and still re-hashes the rest.
    await h.store.entryDb.del(entryKey(await h.store.logId('sim'), 400));
    const r = await reverifyLog(ctx, 'sim'); // [356, 612)
    expect(r.checked).toBe(255);
    expect(r.problems).toEqual(['entry 400 is missing from the store']);
  });

  it('a clean sweep of every held entry sets tlogwatch_store_verified_sweep_timestamp_seconds; a sweep with a problem, or begun above a start backfill lowered, does not', async () => {
    h = await harness({ api: 'tiles', entries: 700, seed: 'jobs-sweep' }, { start: 100n });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 700n);
    const base = jobContext(h, new FindingsRepo(h.store));
    let now = NOW * 1000;
    const ctx: JobContext = { ...base, now: () => now, config: { ...base.config, jobs: { ...base.config.jobs, reverifyWindow: 256 } } };
    const swept = async () => (await h!.metrics.registry.getSingleMetric('tlogwatch_store_verified_sweep_timestamp_seconds')!.get()).values.find((v) => v.labels['log'] === 'sim')?.value;
    const windows = async (n: number) => {
      for (let k = 0; k < n; k++) {
        now += 1000;
        await reverifyLog(ctx, 'sim');
      }
    };
    await windows(2); // [100, 356), [356, 612)
    expect(await swept()).toBeUndefined();
    await windows(1); // [612, 700): the sweep ends clean
    expect(await swept()).toBe(NOW + 3);
    // A changed leaf hash in the next sweep's first window: that sweep does not count, even once it is repaired.
    const id = await h.store.logId('sim');
    const leaf = await h.store.db.get(nodeKey(id, 0, 0, 150n));
    await h.store.db.put(nodeKey(id, 0, 0, 150n), new Uint8Array(32));
    await windows(1);
    await h.store.db.put(nodeKey(id, 0, 0, 150n), leaf);
    await windows(2);
    expect(await swept()).toBe(NOW + 3);
    await windows(3); // a clean sweep again
    expect(await swept()).toBe(NOW + 9);
    // Backfilled to 50 midway through a sweep: it ends without having seen [50, 100), so does not count.
    await windows(1); // [100, 356)
    expect(await backfiller(h).run({ to: 50n })).toMatchObject({ status: 'complete', after: 50n });
    await windows(2); // [356, 612), [612, 700)
    expect(await swept()).toBe(NOW + 9);
    await windows(3); // [50, 306), [306, 562), [562, 700)
    expect(await swept()).toBe(NOW + 15);
  });

  it('a restarted daemon carries on with its sweep where the store says it stood', async () => {
    h = await harness({ api: 'tiles', entries: 700, seed: 'jobs-resume' }, { start: 100n });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 700n);
    const base = jobContext(h, new FindingsRepo(h.store));
    const ctx: JobContext = { ...base, now: () => NOW * 1000, config: { ...base.config, jobs: { ...base.config.jobs, reverifyWindow: 256 } } };
    await reverifyLog(ctx, 'sim'); // [100, 356)
    expect(await h.store.getReverifySweep('sim')).toEqual({ next: 356, from: 100, clean: true });
    await h.store.close();
    const reopened = await Store.open(h.storeDir);
    try {
      const again: JobContext = { ...ctx, store: reopened, findings: new FindingsRepo(reopened) };
      expect((await reverifyLog(again, 'sim')).checked).toBe(256); // [356, 612)
      expect((await reverifyLog(again, 'sim')).checked).toBe(88); // [612, 700): the sweep begun before the restart ends
      const swept = (await again.metrics.registry.getSingleMetric('tlogwatch_store_verified_sweep_timestamp_seconds')!.get()).values;
      expect(swept).toEqual([expect.objectContaining({ labels: { log: 'sim' }, value: NOW })]);
      // The next sweep begins, keeping when the last one ended clean.
      expect(await reopened.getReverifySweep('sim')).toEqual({ next: 100, from: 100, clean: true, cleanAt: NOW });
      // A value no tlogwatch wrote counts as no sweep begun.
      await reopened.db.put(Buffer.concat([Buffer.of(0), Buffer.from('reverify:sim')]), Buffer.from('{"next":-1}'));
      expect(await reopened.getReverifySweep('sim')).toBeUndefined();
    } finally {
      await reopened.close();
    }
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
    // Both checks see it: the root rebuilt through it, and the start's frontier it is part of.
    expect(r.problems).toEqual([
      expect.stringMatching(/^stored tree gives root [0-9a-f]{64} for size 200, the verified checkpoint says/),
      expect.stringMatching(new RegExp(`^stored tree gives ${ZERO} for node \\(6, 0\\) of the start's verified frontier, which says [0-9a-f]{64}$`)),
    ]);
  });

  it("reverify checks the start's verified frontier after a partial backfill, which the root does not read", async () => {
    // Backfilled from 100 to 50: the new start's nodes (32, 16 and 2 leaves) are stored, but the root of 200
    // still resolves through the first start's node over 0..63. Proofs from 50 on rest on the new ones.
    h = await harness({ api: 'tiles', entries: 200, seed: 'jobs-partial' }, { start: 100n });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 200n);
    const ctx = jobContext(h, new FindingsRepo(h.store));
    expect(await backfiller(h).run({ to: 50n })).toMatchObject({ status: 'complete', after: 50n });
    expect((await reverifyLog(ctx, 'sim')).problems).toEqual([]);
    const want = toHex((await h.store.getLogState('sim'))!.startFrontier!.subarray(8, 40));
    await h.store.db.put(nodeKey(await h.store.logId('sim'), 0, 5, 0n), new Uint8Array(32));
    expect((await reverifyLog(ctx, 'sim')).problems).toEqual([`stored tree gives ${ZERO} for node (5, 0) of the start's verified frontier, which says ${want}`]);
  });

  it('reverify checks the nodes above its window, also those the root does not read: an earlier start\'s node now under backfilled leaves', async () => {
    // Started at 100, backfilled to 50: the first start's node (5, 2) over 64..95 stays stored, and the
    // root of 200 reads (6, 1) from the leaves instead. Proofs for leaves 64..95 still read it.
    h = await harness({ api: 'tiles', entries: 200, seed: 'jobs-nodes' }, { start: 100n });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 200n);
    const ctx = jobContext(h, new FindingsRepo(h.store));
    expect(await backfiller(h).run({ to: 50n })).toMatchObject({ status: 'complete', after: 50n });
    expect(await reverifyLog(ctx, 'sim')).toEqual({ checked: 150, problems: [] });
    const id = await h.store.logId('sim');
    await h.store.db.put(nodeKey(id, 0, 5, 2n), new Uint8Array(32));
    expect((await reverifyLog(ctx, 'sim')).problems).toEqual([expect.stringMatching(new RegExp(`^node \\(5, 2\\) is ${ZERO}, the hashes under it give [0-9a-f]{64}$`))]);
  });

  describe.each([
    // Down to leaf 0: the root of 200 is rebuilt from stored leaf hashes alone, the start's frontier nodes
    // (64, 32 and 4 leaves) no longer read. The one over 0..63 is still stored, and checked from its leaves.
    [0, 5, [[6, 0]]],
    // Down to 50: the rows over leaves 64..127 are complete again, so their leaf hashes replace the start's
    // nodes over 64..95 and 96..99; the start's node over 0..63 is still what the root is rebuilt from.
    // The one over 64..95 is checked from its leaves.
    [50, 70, [[5, 2]]],
  ] as const)('reverify after backfilling a tiles mirror started at 100 down to %s', (to, corrupt, nodesOver) => {
    it(`raises nothing on the backfilled store; a changed leaf hash at ${corrupt}, below the old start, raises store-integrity`, async () => {
      h = await harness({ api: 'tiles', entries: 200, seed: `jobs-backfill-${to}` }, { start: 100n });
      await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 200n);
      const findings = new FindingsRepo(h.store);
      const ctx: JobContext = { ...jobContext(h, findings), now: () => NOW * 1000 };
      // The job runs while the mirror follows, before anyone backfills: its window cursor is then at 100.
      expect(await reverifyLog(ctx, 'sim')).toEqual({ checked: 100, problems: [] });
      expect(await backfiller(h).run({ to: BigInt(to) })).toMatchObject({ status: 'complete', before: 100n, after: BigInt(to) });
      // The window carries on from its cursor, so this run re-hashes [100, 200) only: the root rebuilt from
      // the stored tree is all that covers the backfilled range here, and a legitimate backfill passes it.
      await reverify(ctx);
      expect((await findings.list({ limit: 10 })).findings).toEqual([]);
      // The next window starts at the new start: every backfilled body re-hashes to its stored leaf hash.
      expect(await reverifyLog(ctx, 'sim')).toEqual({ checked: 200 - to, problems: [] });

      // A leaf hash the backfill wrote, below where the mirror started. Its row of 64 is complete in the
      // store, so the root check hashes it (rather than the start's frontier node over it) and sees it too:
      // the finding has the body's problem, the stored node's over it, and the root's.
      const f = await expectChangedLeafFound(h, ctx, findings, corrupt, BigInt(corrupt), nodesOver.map(([l, i]) => [l, i]));
      expect(f.message).toMatch(new RegExp(`^the stored mirror of sim no longer matches what was verified: entry ${corrupt}: body hashes to [0-9a-f]{64}, the verified tree has 0{64}; node \\(\\d+, \\d+\\) is [0-9a-f]{64}, the hashes under it give [0-9a-f]{64}; stored tree gives root `));
    });
  });

  it('reverify after backfilling a Rekor v1 mirror started late in the active tree: clean, then a changed leaf hash is found', async () => {
    // Three trees of 200: [0, 200) and [200, 400) retired before the mirror started at 480 in [400, 600),
    // its tree 0 (store keys are per tree, leaf indexes local to it: virtual 410 is leaf 10).
    h = await harness({ api: 'v1', entries: 600, seed: 'jobs-backfill-v1', shards: 3 }, { start: 480n, batchSize: 100 });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 200n);
    const findings = new FindingsRepo(h.store);
    const ctx: JobContext = { ...jobContext(h, findings), now: () => NOW * 1000 };
    expect(await reverifyLog(ctx, 'sim')).toEqual({ checked: 120, problems: [] });
    // Batches of 30 down to the tree's first leaf: [450, 480), [420, 450), [400, 420).
    expect(await backfiller(h).run({ batchSize: 30, to: 400n })).toMatchObject({ status: 'complete', before: 480n, after: 400n, floor: 0n });
    await reverify(ctx); // window [480, 600), and the tree's root from the stored nodes
    expect(await reverifyLog(ctx, 'sim')).toEqual({ checked: 200, problems: [] }); // window [400, 600)
    expect((await findings.list({ limit: 10 })).findings).toEqual([]);

    // Leaf 10 is under nodes each start stored at its own level, now checked from their leaves: the
    // first start's over 0..63 (80 = 64 + 16), the backfill's batches' over 0..31 (at 50) and 0..15 (at 20).
    await expectChangedLeafFound(h, ctx, findings, 410, 10n, [[4, 0], [5, 0], [6, 0]]);
  });

  it('reverify raises nothing when the store closes under it (a reopen after a write fault), and re-verifies clean once opened again', async () => {
    h = await harness({ api: 'tiles', entries: 700, seed: 'jobs-closed' });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 700n);
    const findings = new FindingsRepo(h.store);
    const ctx = jobContext(h, findings);
    // The store's databases close while the window is being checked (as Store.recover closes them to
    // reopen): here at the root check's first read, after the leaves.
    const store = h.store;
    const hashReader = store.hashReader.bind(store);
    let reads = 0;
    store.hashReader = (log, tree) => {
      const read = hashReader(log, tree);
      return async (nodes) => {
        if (++reads === 1) await store.close();
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
    expect(await checkRetiredShards(ctx.store, 'sim')).toEqual([]);
    const id = await h.store.logId('sim');
    await h.store.entryDb.del(entryKey(id, 250));
    await retiredShards(ctx);
    const [f] = (await findings.list({ limit: 10 })).findings;
    expect(f?.message).toContain(`retired tree ${h.sim.log.shards[1]!.treeID}: 1 of its 200 entries are missing`);
  });

  it('retired shards: the first tree of a mirror started late is rebuilt from the frontier stored at its start', async () => {
    // start 50 in the first of three 200-entry trees: its leaves 0..49 are held only as frontier nodes (32, 16, 2).
    h = await threeTreesFrom50('shards-late');
    const findings = new FindingsRepo(h.store);
    const ctx = jobContext(h, findings);
    expect(await checkRetiredShards(ctx.store, 'sim')).toEqual([]);
    const id = await h.store.logId('sim');
    await h.store.db.put(nodeKey(id, 0, 5, 0n), new Uint8Array(32));
    // The root, and the start's verified frontier node by node: node (5, 0) is one of its nodes.
    const problems = await checkRetiredShards(ctx.store, 'sim');
    expect(problems).toHaveLength(2);
    const t0 = h.sim.log.shards[0]!.treeID;
    expect(problems[0]).toBe(`retired tree ${t0}: stored hashes do not rebuild the root of its final checkpoint (size 200)`);
    expect(problems[1]).toMatch(new RegExp(`^retired tree ${t0}: stored tree gives 0{64} for node \\(5, 0\\) of the start's verified frontier, which says [0-9a-f]{64}$`));
  });

  it('retired shards: the first tree, backfilled after it retired, rebuilds its root; a changed leaf hash below the old start is reported', async () => {
    // As above, start 50 in the first of three trees; it retires, then the backfill fills [0, 50).
    h = await threeTreesFrom50('shards-backfill');
    const findings = new FindingsRepo(h.store);
    const ctx: JobContext = { ...jobContext(h, findings), now: () => NOW * 1000 };
    // Batches of 20: [30, 50), [10, 30), [0, 10); the tree is then rebuilt from its stored leaf hashes.
    expect(await backfiller(h).run({ batchSize: 20 })).toMatchObject({ status: 'complete', before: 50n, after: 0n, floor: 0n, entries: 50n });
    expect(await checkRetiredShards(ctx.store, 'sim')).toEqual([]);
    await retiredShards(ctx);
    await reverify(ctx); // the active tree, untouched by the backfill
    expect((await findings.list({ limit: 10 })).findings).toEqual([]);

    // Leaf 10 of tree 0: no job re-hashes a retired tree's bodies, so only its root check can see this.
    const id = await h.store.logId('sim');
    await h.store.db.put(nodeKey(id, 0, 0, 10n), new Uint8Array(32));
    await retiredShards(ctx);
    const { findings: found } = await findings.list({ limit: 10 });
    expect(found).toHaveLength(1);
    const problem = `retired tree ${h.sim.log.shards[0]!.treeID}: stored hashes do not rebuild the root of its final checkpoint (size 200)`;
    expect(found[0]).toMatchObject({
      ...storeIntegrity(),
      message: `retired shards of sim are incomplete: ${problem}`,
      evidence: { problems: [problem] },
    });
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

describe("jobs' last success", () => {
  const lastSuccess = async (m: Metrics) => Object.fromEntries((await m.jobLastSuccess.get()).values.map((v) => [v.labels.task, v.value]));
  /** A daemon's job context over the store at `dir`, its clock at unix second `now`. */
  const context = (store: Store, now: number): JobContext => ({
    config: parseConfig('', 'test.yaml', {}),
    store,
    findings: new FindingsRepo(store),
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'silent' }),
    logNames: [],
    raiser: new FindingRaiser({ store, write: findingOps, metrics: createMetrics({ defaultMetrics: false }) }),
    refreshTrust: () => Promise.resolve(undefined),
    now: () => now * 1000,
  });

  it('is kept in the store: a restarted daemon publishes it before the job runs again, and a failure keeps it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-job-success-'));
    try {
      let store = await Store.open(dir);
      const first = context(store, NOW);
      await runJob(first, 'compaction', () => store.compact());
      await runJob(first, 'dailyDigest', () => dailyDigest(first));
      await runJob({ ...first, now: () => (NOW + 60) * 1000 }, 'dailyDigest', () => dailyDigest(first));
      await runJob(first, 'trustedRootRefresh', () => Promise.reject(new Error('TUF unreachable')));
      expect(await lastSuccess(first.metrics)).toEqual({ compaction: NOW, dailyDigest: NOW + 60 });
      await store.close();

      // The restart: a new process's gauges start empty, and the store says what they were.
      store = await Store.open(dir);
      const again = context(store, NOW + 3600);
      expect(await lastSuccess(again.metrics)).toEqual({});
      await restoreJobLastSuccess(store, again.metrics);
      expect(await lastSuccess(again.metrics)).toEqual({ compaction: NOW, dailyDigest: NOW + 60 });
      // A run that fails after the restart leaves the last success as it was, in the gauge and the store.
      await runJob(again, 'compaction', () => Promise.reject(new Error('disk full')));
      expect(await lastSuccess(again.metrics)).toEqual({ compaction: NOW, dailyDigest: NOW + 60 });
      expect(await store.getJobLastSuccess('compaction')).toBe(NOW);
      await runJob(again, 'compaction', () => store.compact());
      expect(await store.getJobLastSuccess('compaction')).toBe(NOW + 3600);
      // A value no tlogwatch wrote counts as no success recorded.
      await store.db.put(Buffer.concat([Buffer.of(0), Buffer.from('job:reverify')]), Buffer.from('{"lastSuccessAt":-5}'));
      await store.db.put(Buffer.concat([Buffer.of(0), Buffer.from('job:retiredShards')]), Buffer.from('not json'));
      const m = createMetrics({ defaultMetrics: false });
      await restoreJobLastSuccess(store, m);
      expect(await lastSuccess(m)).toEqual({ compaction: NOW + 3600, dailyDigest: NOW + 60 });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a store without the record (written before it was kept) opens, and publishes none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-job-success-old-'));
    try {
      const store = await Store.open(dir);
      for (const task of TASKS) expect(await store.getJobLastSuccess(task)).toBeUndefined();
      const m = createMetrics({ defaultMetrics: false });
      await restoreJobLastSuccess(store, m);
      expect(await lastSuccess(m)).toEqual({});
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('one run of a task at a time: a run still going when the task is next due is skipped, counted and said, not joined by another', { timeout: 20_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-job-overlap-'));
    const store = await Store.open(dir);
    let calls = 0;
    let finish!: () => void;
    const hung = new Promise<void>((r) => (finish = r));
    const warned: string[] = [];
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (chunk: Buffer, _enc, done) => (warned.push(chunk.toString()), done()) }) });
    const ctx: JobContext = {
      ...context(store, NOW),
      // Every second (node-cron's six-field form); the other tasks never come due in the test.
      config: parseConfig("jobs:\n  trustedRootRefresh: '* * * * * *'\n  reverify: '0 0 1 1 *'\n  dailyDigest: '0 0 1 1 *'\n  compaction: '0 0 1 1 *'\n", 'test.yaml', {}),
      logger,
      refreshTrust: async () => {
        calls++;
        await hung;
      },
    };
    const tasks = scheduleJobs(ctx);
    const runs = async () => Object.fromEntries((await ctx.metrics.jobRuns.get()).values.filter((v) => v.labels.task === 'trustedRootRefresh').map((v) => [v.labels.result, v.value]));
    try {
      expect(await runs()).toEqual({ ok: 0, error: 0, skipped: 0 });
      await new Promise((r) => setTimeout(r, 3500));
      expect(calls).toBe(1);
      const during = await runs();
      expect(during['skipped']).toBeGreaterThanOrEqual(2);
      expect(during['ok']).toBe(0);
      expect(warned.join('')).toContain('job still running from its last start: this run is skipped');
      finish();
      await new Promise((r) => setTimeout(r, 2500));
      expect(calls).toBeGreaterThanOrEqual(2);
      expect((await runs())['ok']).toBeGreaterThanOrEqual(2);
    } finally {
      finish();
      for (const t of tasks) await t.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
