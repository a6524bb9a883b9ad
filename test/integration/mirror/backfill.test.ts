/**
 * Backfill against the simulator over loopback and a real LevelDB: a mirror started at N fills [0, N)
 * backwards, verified batch by batch; afterwards the whole tree checks out (checkLog's full-root check,
 * the manifest entry for entry) and proofs below the old start verify. A log that lies below the start
 * halts the log with the evidence, and the batch that lied commits nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { integrityHooks } from '../../../src/daemon.ts';
import { isTlogwatchError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/logger.ts';
import { verifyInclusion } from '../../../src/merkle/proof.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { Backfiller, type BackfillOptions } from '../../../src/mirror/backfill.ts';
import { monitorHooks } from '../../../src/monitor/hooks.ts';
import type { RuleSet } from '../../../src/monitor/compile.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { checkLog } from '../../../src/store/check.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { checkpointVerifierForTlog, setKeyForTlog } from '../../../src/trust/trusted-root.ts';
import type { FollowConfig } from '../../../src/mirror/types.ts';
import { asksBelow, startStallingProxy } from '../../helpers/stall-proxy.ts';
import { expectStoreMatchesManifest, harness, jobContext, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import { reverifyLog } from '../../../src/jobs.ts';
import { nodeKey } from '../../../src/store/keys.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const state = async () => (await h!.store.getLogState('sim'))!;
/** Before the first round there is no state yet. */
const maybeState = () => h!.store.getLogState('sim');

/** Rules that fire on every entry, so findings from history are visible. */
function everyEntryRules(): RuleSet {
  const r = checkRules([{ name: 'all.yaml', text: 'rules:\n  - id: every-entry\n    severity: info\n    notify: all\n    watch: { identities: ["**"] }\n' }]);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.ruleSet;
}

function backfiller(hooks = integrityHooks(h!.metrics, undefined, findingOps), cfg: Partial<FollowConfig> = {}): Backfiller {
  return new Backfiller({ ...h!.follower.cfg, ...cfg }, { store: h!.store, metrics: h!.metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h!.tlog)], setKey: setKeyForTlog(h!.tlog), hooks });
}

async function mirrorFrom(start: bigint, size: bigint) {
  await roundsUntil(h!, async () => (await maybeState())?.verified?.size === size);
  expect((await state()).startIndex).toBe(start);
}

function apiOf(): Hono {
  return createApp({ store: h!.store, metrics: h!.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
}

/** The API's inclusion proof of entry i, checked against the signed checkpoint it names. */
async function expectProofVerifies(app: Hono, i: number) {
  const res = await app.request(`/v1/entries/sim/${i}?include=body,proof`);
  expect(res.status, `proof of ${i}`).toBe(200);
  const body = (await res.json()) as { body: string; inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[]; checkpoint: string } };
  const p = body.inclusionProof;
  const { checkpoint } = verifyCheckpoint(p.checkpoint, undefined, [checkpointVerifierForTlog(h!.tlog)]);
  expect(checkpoint.size).toBe(BigInt(p.treeSize));
  verifyInclusion(BigInt(p.logIndex), BigInt(p.treeSize), leafHash(b64(body.body)), p.hashes.map(b64), checkpoint.rootHash);
}

describe.each([
  ['tiles', 1000n, 1500n, 256],
  ['v1', 420n, 600n, 50],
] as const)('backfill a %s mirror started at N', (api, start, size, batchSize) => {
  it('fills [0, N) verified: checkLog passes with the full root, the store equals the manifest, proofs below N verify', async () => {
    const rules = everyEntryRules();
    h = await harness({ api, entries: Number(size), seed: `bf-${api}` }, { start, batchSize });
    await mirrorFrom(start, size);
    expect((await checkLog(h.store, 'sim')).rootCheck).toBe('start-frontier');
    const app = apiOf();
    // Before the backfill: proofs from the start on (over the start's frontier), nothing before it.
    for (const i of [Number(start), Number(start) + 7, Number(size) - 1]) await expectProofVerifies(app, i);
    expect((await app.request(`/v1/entries/sim/${start - 1n}?include=proof`)).status).toBe(404);

    const batches: Array<[bigint, bigint]> = [];
    const hooks = integrityHooks(h.metrics, monitorHooks(() => rules, h.metrics), findingOps);
    const r = await backfiller(hooks).run({ onBatch: (p) => batches.push([p.from, p.to]) });
    expect(r).toMatchObject({ status: 'complete', before: start, after: 0n, target: 0n, floor: 0n, entries: start });
    // Backwards, contiguous, each batch one commit.
    expect(batches[0]![1]).toBe(start);
    expect(batches.at(-1)![0]).toBe(0n);
    for (let i = 1; i < batches.length; i++) expect(batches[i]![1]).toBe(batches[i - 1]![0]);
    if (api === 'tiles') expect(batches.slice(1).every(([a]) => a % 256n === 0n)).toBe(true);

    const s = await state();
    expect(s.startIndex).toBe(0n);
    expect(s.status).toBe('following');
    const check = await checkLog(h.store, 'sim');
    expect(check.problems).toEqual([]);
    expect(check.rootCheck).toBe('full');
    expect(check.entries).toBe(Number(size));
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(Number(size));
    for (const i of [0, 1, 255, 256, Number(start) - 1, Number(start), Number(size) - 1]) await expectProofVerifies(app, i);
    // The scheduled re-verification (jobs.ts) over the filled tree: every body re-hashed, the root rebuilt
    // from stored nodes, now all the way from leaf 0; a legitimate backfill gives it nothing to report.
    const jobs = jobContext(h, new FindingsRepo(h.store));
    expect(await reverifyLog(jobs, 'sim')).toEqual({ checked: Number(size), problems: [] });
    // The rules saw history: one finding per backfilled entry the rule watches.
    const findings = await new FindingsRepo(h.store).list({ rule: 'every-entry', limit: 1000 });
    const watched = manifestOf(h.sim).filter((m: { index: number; san: string | null }) => m.index < Number(start) && m.san !== null).length;
    expect(findings.findings.length).toBe(watched);
    expect(Math.max(...findings.findings.map((f) => f.index!))).toBeLessThan(Number(start));

    // A complete log has nothing to backfill, and the forward mirror carries on from the same state.
    expect((await backfiller().run()).status).toBe('nothing-to-do');
    h.sim.append(30);
    await roundsUntil(h, async () => (await state()).verified?.size === size + 30n);
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(Number(size) + 30);

    // A node the backfill wrote, over leaves 0..255 (no body re-hashes to it), changed under the mirror:
    // the window's node check sees it from the leaves under it, and the root check from above. A start's
    // node stored over it (at level 9, when the mirror started past 512) is now checked against it too.
    await h.store.db.put(nodeKey(await h.store.logId('sim'), 0, 8, 0n), new Uint8Array(32));
    const again = await reverifyLog(jobs, 'sim');
    expect(again.checked).toBe(Number(size) + 30);
    expect(again.problems[0]).toMatch(/^node \(8, 0\) is 0{64}, the hashes under it give [0-9a-f]{64}$/);
    expect(again.problems.slice(1, -1).every((p) => /^node \(\d+, 0\) is [0-9a-f]{64}, the hashes under it give/.test(p))).toBe(true);
    expect(again.problems.at(-1)).toMatch(new RegExp(`^stored tree gives root [0-9a-f]{64} for size ${size + 30n}, the verified checkpoint says`));
  });

  it('a store from before startFrontier existed: obtains the start frontier verified, then fills (--to)', async () => {
    h = await harness({ api, entries: Number(size), seed: `bf-old-${api}` }, { start, batchSize });
    await mirrorFrom(start, size);
    const old = await state();
    delete old.startFrontier;
    await h.store.putLogState(old);
    const to = start - BigInt(batchSize) - 3n;
    const r = await backfiller().run({ to, batchSize });
    expect(r).toMatchObject({ status: 'complete', after: to, entries: start - to });
    const s = await state();
    expect(s.startFrontier).toBeDefined();
    const check = await checkLog(h.store, 'sim');
    expect(check.problems).toEqual([]);
    expect(check.rootCheck).toBe('start-frontier');
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', Number(to))).toBe(Number(size - to));
    expect(await h.store.getEntry('sim', to - 1n)).toBeUndefined();
  });
});

describe.each(['tiles', 'v1'] as const)('backfill from a flaky %s log', (api) => {
  it('retries 503s and garbage like the follower, and loses or skips nothing', async () => {
    const n = api === 'v1' ? 300 : 700;
    h = await harness({ api, entries: n, seed: `bf-flaky-${api}` }, { start: 'latest', batchSize: api === 'v1' ? 100 : 256, concurrency: 4 });
    await mirrorFrom(BigInt(n), BigInt(n));
    h.sim.faults.enable('http-503', api === 'v1' ? 7 : 3);
    h.sim.faults.enable('garbage', api === 'v1' ? 9 : 4);
    expect(await backfiller().run()).toMatchObject({ status: 'complete', after: 0n });
    const errors = await h.metrics.upstreamErrors.get();
    expect(errors.values.reduce((a, v) => a + v.value, 0)).toBeGreaterThan(0);
    const check = await checkLog(h.store, 'sim');
    expect(check.problems).toEqual([]);
    expect(check.rootCheck).toBe('full');
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(n);
  });
});

describe('backfill interrupted', () => {
  it('stops once the batch in progress has committed, and a second run resumes there', async () => {
    h = await harness({ api: 'tiles', entries: 1500, seed: 'bf-abort' }, { start: 'latest', batchSize: 256 });
    await mirrorFrom(1500n, 1500n);
    const abort = new AbortController();
    const batches: bigint[] = [];
    const r = await backfiller().run({ signal: abort.signal, onBatch: (p) => (batches.push(p.from), abort.abort()) });
    expect(r).toMatchObject({ status: 'interrupted', before: 1500n, after: 1280n, entries: 220n });
    expect(batches).toEqual([1280n]);
    expect((await state()).startIndex).toBe(1280n);
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
    expect(await backfiller().run()).toMatchObject({ status: 'complete', before: 1280n, after: 0n, entries: 1280n });
    expect((await checkLog(h.store, 'sim')).rootCheck).toBe('full');
  });
});

// Where the log stalls, and where backfill gets to before it: a Rekor v1 batch [a, b) also asks for entry
// a-1 (its inclusion proof gives the frontier before a).
describe.each([
  ['tiles', 1500, 256, 1024, 1024],
  ['v1', 600, 40, 519, 520],
] as const)('backfill stopped while a %s log stalls', (api, n, batchSize, stallBelow, reached) => {
  it('aborts the requests in flight at once: what committed stays, the stalled batch commits nothing, a rerun resumes', { timeout: 60_000 }, async () => {
    h = await harness({ api, entries: n, seed: `bf-stall-${api}` }, { start: 'latest', batchSize });
    await mirrorFrom(BigInt(n), BigInt(n));
    // Entries from `stallBelow` up come through; a request for one below it is never answered (the client
    // would wait 20 s for each of its 7 attempts).
    const proxy = await startStallingProxy(h.sim.url, asksBelow(stallBelow));
    try {
      const abort = new AbortController();
      const committed: bigint[] = [];
      const run = backfiller(undefined, { url: proxy.url }).run({ signal: abort.signal, onBatch: (p) => committed.push(p.from) });
      // Every batch above the stall has committed, and the next one waits on the log.
      while (committed.at(-1) !== BigInt(reached) || proxy.stalled === 0) await new Promise((r) => setTimeout(r, 5));
      const stopped = performance.now();
      abort.abort();
      const r = await run;
      expect(performance.now() - stopped).toBeLessThan(3_000);
      expect(r).toMatchObject({ status: 'interrupted', before: BigInt(n), after: BigInt(reached), entries: BigInt(n - reached) });
      const s = await state();
      expect(s.startIndex).toBe(BigInt(reached));
      expect(s.status).toBe('following');
      expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
      expect(await h.store.getEntry('sim', reached - 1)).toBeUndefined();
    } finally {
      await proxy.close();
    }
    expect(await backfiller().run()).toMatchObject({ status: 'complete', before: BigInt(reached), after: 0n });
    const check = await checkLog(h.store, 'sim');
    expect(check.problems).toEqual([]);
    expect(check.rootCheck).toBe('full');
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(n);
  });
});

describe('backfill from a log that lies below the start', () => {
  async function expectHaltedAt(code: string, startIndex: bigint, run: (o?: BackfillOptions) => Promise<unknown>) {
    const err = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTlogwatchError(err) && err.kind === 'misbehaviour', String(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    const s = await state();
    expect(s.status).toBe('halted');
    expect(s.halt?.code).toBe(code);
    expect(s.startIndex).toBe(startIndex);
    expect(s.verified?.size).toBeDefined();
    // Nothing of the lying batch was committed: the store is contiguous from the unchanged startIndex.
    const check = await checkLog(h!.store, 'sim');
    expect(check.problems).toEqual([]);
    expect(await h!.store.getEntry('sim', startIndex - 1n)).toBeUndefined();
    const found = await new FindingsRepo(h!.store).list({ rule: 'log-integrity', limit: 10 });
    expect(found.findings).toHaveLength(1);
    expect(found.findings[0]!.evidence?.['verifiedNote']).toBe(s.verified!.note);
    // The halt is sticky: backfill refuses a halted log from then on.
    await expect(backfiller().run()).rejects.toSatisfy((e) => isTlogwatchError(e, 'BACKFILL_REFUSED') && e.data['reason'] === 'halted');
    return s;
  }

  it('tiles, rewrite: a changed body (and its level-0 tile hash) does not reproduce the verified frontier', async () => {
    h = await harness({ api: 'tiles', entries: 1500, seed: 'bf-lie1' }, { start: 1000n, batchSize: 256 });
    await mirrorFrom(1000n, 1500n);
    h.sim.log.faults.enable('rewrite', 600);
    // Batches [768, 1000) commits; [512, 768) holds the rewritten entry.
    const s = await expectHaltedAt('VERIFY_ROOT_MISMATCH', 768n, (o) => backfiller().run(o));
    expect(s.halt?.evidence).toMatchObject({ kind: 'backfill-mismatch', from: '512', to: '768' });
  });

  it("rules' findings are stored, counted and logged only for the batches that commit", async () => {
    h = await harness({ api: 'tiles', entries: 1500, seed: 'bf-lie-findings' }, { start: 1000n, batchSize: 256 });
    await mirrorFrom(1000n, 1500n);
    const rules = everyEntryRules();
    const logged: string[] = [];
    const hooks = integrityHooks(h.metrics, monitorHooks(() => rules, h.metrics, (found) => logged.push(...found.map((f) => f.id))), findingOps);
    const before = (await h.metrics.findings.get()).values.find((v) => v.labels.rule === 'every-entry')?.value ?? 0;
    const fromFollowing = (await new FindingsRepo(h.store).list({ rule: 'every-entry', limit: 2000 })).findings.length;
    h.sim.log.faults.enable('rewrite', 600);
    // [768, 1000) commits; [512, 768) is decoded and checked against the rules, then fails its root check.
    await expect(backfiller(hooks).run()).rejects.toSatisfy((e) => isTlogwatchError(e, 'VERIFY_ROOT_MISMATCH'));
    const all = (await new FindingsRepo(h.store).list({ rule: 'every-entry', limit: 2000 })).findings;
    const backfilled = all.filter((f) => f.index !== undefined && f.index < 1000);
    expect(backfilled.length).toBeGreaterThan(0);
    expect(backfilled.every((f) => f.index! >= 768)).toBe(true);
    expect(all.length - fromFollowing).toBe(backfilled.length);
    expect(((await h.metrics.findings.get()).values.find((v) => v.labels.rule === 'every-entry')?.value ?? 0) - before).toBe(backfilled.length);
    expect(logged.sort()).toEqual(backfilled.map((f) => f.id).sort());
  });

  it('tiles, tile-mismatch: a body that disagrees with its level-0 tile', async () => {
    h = await harness({ api: 'tiles', entries: 1500, seed: 'bf-lie2' }, { start: 1000n, batchSize: 256 });
    await mirrorFrom(1000n, 1500n);
    h.sim.log.faults.enable('tile-mismatch', 900);
    const s = await expectHaltedAt('VERIFY_TILE_MISMATCH', 1000n, (o) => backfiller().run(o));
    expect(s.halt?.evidence['index']).toBe('900');
  });

  /**
   * A tiles log of 1,500 entries mirrored from 1000 through a loopback proxy that then flips hash 1 of tile
   * 1/000, node (8, 1), leaves [256, 512), each time `flip()` says so: every candidate frontier above 512 is
   * built from it, so the first batch, [768, 1000), already meets the lie.
   */
  async function behindLevel1Flip(seed: string, flip: () => boolean, test: () => Promise<void>) {
    let target = '';
    let armed = false;
    const proxy = createServer((req, res) => {
      void (async () => {
        const r = await fetch(`${target}${req.url}`);
        const body = Buffer.from(await r.arrayBuffer());
        if (armed && /\/tile\/1\/000/.test(req.url ?? '') && body.length >= 64 && flip()) body[32] = body[32]! ^ 0x01;
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
        res.end(body);
      })();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (proxy.address() as AddressInfo).port;
      h = await harness({ api: 'tiles', entries: 1500, seed }, { start: 1000n, batchSize: 256, url: `http://127.0.0.1:${port}/api/v2` });
      target = new URL(h.sim.url).origin;
      await mirrorFrom(1000n, 1500n);
      armed = true;
      await test();
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  }

  it('tiles: a proxy that flips one hash of a level-1 tile below the start (the candidate frontier lies)', async () => {
    await behindLevel1Flip('bf-lie3', () => true, async () => {
      const s = await expectHaltedAt('VERIFY_ROOT_MISMATCH', 1000n, (o) => backfiller().run(o));
      expect(s.halt?.evidence).toMatchObject({ kind: 'backfill-mismatch', from: '768', to: '1000' });
    });
  });

  it('tiles: the same flip served once is tried again from the last commit, and the fill completes (confirm-halt.ts)', async () => {
    let flips = 0;
    await behindLevel1Flip('bf-lie3-once', () => flips++ === 0, async () => {
      expect(await backfiller().run()).toMatchObject({ status: 'complete', after: 0n });
      expect(flips).toBeGreaterThan(1);
      expect((await state()).status).toBe('following');
      expect((await h!.metrics.verificationUnconfirmed.get()).values.map((v) => [v.labels.reason, v.value])).toEqual([['VERIFY_ROOT_MISMATCH', 1]]);
      expect((await h!.metrics.verificationFailures.get()).values).toEqual([]);
      expect((await checkLog(h!.store, 'sim')).problems).toEqual([]);
      expect(await expectStoreMatchesManifest(h!.store, h!.sim)).toBe(1500);
    });
  });

  it('v1, rewrite: a changed body below the start', async () => {
    h = await harness({ api: 'v1', entries: 600, seed: 'bf-lie4' }, { start: 420n, batchSize: 50 });
    await mirrorFrom(420n, 600n);
    h.sim.log.faults.enable('rewrite', 333);
    // [370, 420) commits; [320, 370) holds the rewritten body.
    const s = await expectHaltedAt('VERIFY_ROOT_MISMATCH', 370n, (o) => backfiller().run(o));
    expect(s.halt?.evidence).toMatchObject({ kind: 'backfill-mismatch', from: '320', to: '370' });
  });
});

describe('backfill of Rekor v1 shards', () => {
  it('fills the tree the mirror started in down to its first leaf (--to there)', async () => {
    // Three trees of 200: [0, 200) and [200, 400) retired, [400, 600) active. Start at 480.
    h = await harness({ api: 'v1', entries: 600, seed: 'bf-shards', shards: 3 }, { start: 480n, batchSize: 30 });
    await roundsUntil(h, async () => (await maybeState())?.verified?.size === 200n);
    const r = await backfiller().run({ to: 400n });
    expect(r).toMatchObject({ status: 'complete', after: 400n, target: 400n, floor: 0n, entries: 80n });
    const check = await checkLog(h.store, 'sim');
    expect(check.problems).toEqual([]);
    expect(check.rootCheck).toBe('full');
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 400)).toBe(200);
    expect(await h.store.getEntry('sim', 399)).toBeUndefined();
    const app = apiOf();
    for (const i of [400, 401, 479, 480, 599]) await expectProofVerifies(app, i);
    expect((await app.request('/v1/entries/sim/410/bundle')).status).toBe(200);

    // The tree it started in retires: its entries are then proven against its final head, and a later
    // backfill still knows where that tree begins.
    h.sim.append(10);
    h.sim.rotate();
    h.sim.append(5);
    await roundsUntil(h, async () => (await state()).shard?.seq === 1 && (await state()).verified?.size === 5n);
    expect((await backfiller().run({ to: 400n })).status).toBe('nothing-to-do');
    await expectProofVerifies(app, 405);
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 400)).toBe(215);
  });

  it('fills a tree the mirror started in after it was retired', async () => {
    h = await harness({ api: 'v1', entries: 600, seed: 'bf-retired', shards: 3 }, { start: 250n, batchSize: 40 });
    await roundsUntil(h, async () => (await maybeState())?.shard?.seq === 1 && (await state()).verified?.size === 200n);
    const r = await backfiller().run({ to: 200n });
    expect(r).toMatchObject({ status: 'complete', after: 200n, floor: 0n, entries: 50n });
    expect((await state()).startFrontier).toBeDefined();
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 200)).toBe(400);
    const app = apiOf();
    for (const i of [200, 230, 249, 250, 399, 400]) await expectProofVerifies(app, i);
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
  });
});
