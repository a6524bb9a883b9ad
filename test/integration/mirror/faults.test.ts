/**
 * Every simulator fault against the mirror: attacks halt the log at its last verified state with the
 * evidence kept; transient faults delay but never lose or skip an entry.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { FaultName } from '../../sim/faults.ts';
import { harnessPerTest } from '../../helpers/harness-per-test.ts';
import { expectStoreMatchesManifest, roundsUntil } from '../../helpers/mirror.ts';
import { verifyNote } from '../../../src/note/note.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { toHex } from '../../../src/util/bytes.ts';
import { fetchedSize } from '../../../src/store/codec.ts';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { parseNote } from '../../../src/note/note.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { LogFollower } from '../../../src/mirror/follower.ts';
import { CONFIRM_ROUNDS } from '../../../src/mirror/confirm-halt.ts';
import { checkpointVerifierForTlog, setKeyForTlog } from '../../../src/trust/trusted-root.ts';

const t = harnessPerTest();
const state = t.state;
const verifiedSize = async () => (await state())?.verified?.size;

async function followTo(size: bigint) {
  await roundsUntil(t.h, async () => (await verifiedSize()) === size);
}

async function expectHalted(code: string, verifiedAt: bigint) {
  await roundsUntil(t.h, async () => (await state())?.status === 'halted', 40);
  const s = (await state())!;
  expect(s.halt?.code).toBe(code);
  expect(s.verified?.size).toBe(verifiedAt);
  // Halting is sticky: later rounds keep polling (upstream is tracked) but never advance.
  expect(await t.h.follower.round()).toBe('halted');
  expect((await state())!.verified?.size).toBe(verifiedAt);
  const failures = await t.h.metrics.verificationFailures.get();
  expect(failures.values.find((v) => v.labels.reason === code)?.value).toBe(1);
  return s;
}

/** The halt's evidence holds a checkpoint the log signed whose tree covers `size` leaves (it implies the entry at size-1). */
function expectSignedCover(ev: Readonly<Record<string, unknown>>, size: bigint) {
  const note = ev['receivedNote'];
  expect(typeof note).toBe('string');
  const { checkpoint } = verifyCheckpoint(note as string, undefined, [checkpointVerifierForTlog(t.h.tlog)]);
  expect(checkpoint.size).toBeGreaterThanOrEqual(size);
}

describe.each(['tiles', 'v1'] as const)('attacks on a %s log', (api) => {
  it('fork: a second signed root for a verified size halts with both notes as evidence', async () => {
    const h = await t.harness({ api, entries: 300, seed: 'f1' });
    await followTo(300n);
    h.sim.log.faults.enable('fork', 120);
    const s = await expectHalted('VERIFY_FORK', 300n);
    const ev = s.halt!.evidence as { verifiedNote: string; receivedNote: string };
    expect(ev.verifiedNote).not.toBe(ev.receivedNote);
    // Both are validly signed by the log: offline proof of equivocation.
    expect(parseNote(ev.verifiedNote).text.split('\n')[1]).toBe(parseNote(ev.receivedNote).text.split('\n')[1]);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(300);
  });

  it('fork while growing: the new checkpoint is inconsistent with the verified one', async () => {
    // Short retries: a Rekor v1 proof that never verifies is asked for again within each round, and halts
    // once CONFIRM_ROUNDS rounds meet it (confirm-halt.ts).
    const h = await t.harness({ api, entries: 300, seed: 'f2' }, { retryDelays: { baseMs: 1, maxMs: 4 } });
    await followTo(300n);
    h.sim.log.faults.enable('fork', 100);
    h.sim.append(40);
    const s = await expectHalted(api === 'v1' ? 'VERIFY_FORK' : 'VERIFY_ROOT_MISMATCH', 300n);
    expect(s.halt?.evidence['receivedNote']).toBeDefined();
  });

  it('rewrite: a changed past body does not recompute to the signed root', async () => {
    const h = await t.harness({ api, entries: 300, seed: 'f3' });
    h.sim.log.faults.enable('rewrite', 250);
    await expectHalted('VERIFY_ROOT_MISMATCH', undefined as unknown as bigint);
    // Nothing past the last batch that verified is claimed as verified, and what was stored is honest.
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 0, 250 - (250 % 256))).toBeGreaterThanOrEqual(0);
  });

  for (const [fault, what, reason, seed] of [
    ['bad-sig', 'a corrupted checkpoint signature', 'NOTE_BAD_SIGNATURE', 'f4'],
    ['wrong-key', 'a checkpoint signed by an unlisted key', 'NOTE_NO_VERIFIED_SIGNATURE', 'f5'],
  ] as const) {
    it(`${fault}: ${what} halts`, async () => {
      const h = await t.harness({ api, entries: 100, seed });
      await followTo(100n);
      h.sim.log.faults.enable(fault);
      h.sim.append(5);
      const s = await expectHalted('VERIFY_BAD_CHECKPOINT', 100n);
      expect(s.halt?.evidence['reason']).toBe(reason);
    });
  }

  it('shrink: a smaller signed checkpoint halts', async () => {
    const h = await t.harness({ api, entries: 200, seed: 'f6' });
    await followTo(200n);
    h.sim.log.faults.enable('shrink');
    await expectHalted('VERIFY_SIZE_SHRANK', 200n);
  });

  it('drop: an entry the checkpoint covers is missing', async () => {
    // Short retries: a missing entry is asked for again within each of the CONFIRM_ROUNDS rounds that halt.
    const h = await t.harness({ api, entries: 300, seed: 'f7' }, { retryDelays: { baseMs: 1, maxMs: 4 } });
    h.sim.log.faults.enable('drop', 77);
    const s = await expectHalted('VERIFY_MISSING_ENTRY', undefined as unknown as bigint);
    expect(s.halt?.message).toMatch(/77|holds 255/);
    expect(await h.store.getEntry('sim', 77)).toBeUndefined();
    expectSignedCover(s.halt!.evidence, 78n);
  });
});

describe('a Rekor v1 log that misbehaves before the mirror has its start frontier', () => {
  it('stays halted, and later rounds say so and track its size (found by model.test.ts)', async () => {
    const h = await t.harness({ api: 'v1', entries: 20, seed: 'f-boot' }, { start: 'latest' });
    // The start frontier comes from the inclusion proof of the last entry, under a checkpoint this key did not
    // sign: unsigned evidence, so it halts once CONFIRM_ROUNDS rounds in a row meet it (confirm-halt.ts).
    h.sim.log.faults.enable('wrong-key');
    for (let i = 1; i < CONFIRM_ROUNDS; i++) expect(await h.follower.round()).toBe('transient-error');
    expect(await h.follower.round()).toBe('halted');
    expect((await state())!.halt?.code).toBe('VERIFY_BAD_CHECKPOINT');
    h.sim.log.faults.disable('wrong-key');
    h.sim.append(5);
    // The state has no tree yet: every round failed with an internal error (reading its treeID) instead.
    expect(await h.follower.round()).toBe('halted');
    expect(h.follower.transientFault).toBeUndefined();
    const s = (await state())!;
    expect(s).toMatchObject({ status: 'halted', upstream: { size: 25n } });
    expect(s.halt?.code).toBe('VERIFY_BAD_CHECKPOINT');
  });
});

describe('tiles-only attacks', () => {
  it('tile-mismatch: an entry bundle that disagrees with the level-0 tile halts', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'f8' }, { batchSize: 256 });
    h.sim.log.faults.enable('tile-mismatch', 260);
    const s = await expectHalted('VERIFY_TILE_MISMATCH', undefined as unknown as bigint);
    expect(s.halt?.evidence['index']).toBe('260');
    // Re-verifiable offline: the served body's hash is the one named, under a checkpoint the log signed that covers it.
    expect(toHex(leafHash(Buffer.from(s.halt!.evidence['body'] as string, 'base64')))).toBe(s.halt!.evidence['entryLeafHash']);
    expectSignedCover(s.halt!.evidence, 261n);
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 0, 256)).toBe(256);
    expect(await h.store.getEntry('sim', 260)).toBeUndefined();
  });

  it('witness cosignatures from unknown witnesses are ignored, and not kept with the verified checkpoint', async () => {
    const h = await t.harness({ api: 'tiles', entries: 50, seed: 'f9', witnesses: 2 });
    await followTo(50n);
    const note = (await state())!.verified!.note;
    // Served with the log's line and two witnesses', none of them configured: the log's is what verified.
    expect(parseNote(note).signatures.map((s) => s.name)).toEqual([h.tlog.name]);
    expect(() => verifyNote(note, [])).toThrow();
    expect(verifyNote(note, [checkpointVerifierForTlog(h.tlog)]).verifiedBy).toHaveLength(1);
  });
});

describe.each(['tiles', 'v1'] as const)('transient faults on a %s log', (api) => {
  it.each<[FaultName, number | undefined]>([
    ['http-429', 3],
    ['http-503', 3],
    ['truncate', 3],
    ['garbage', 3],
    ['slow', 100],
  ])('%s: delays, never halts, never skips an entry', async (fault, param) => {
    const n = api === 'v1' ? 250 : 600;
    const h = await t.harness({ api, entries: n, seed: `t-${fault}` }, { batchSize: api === 'v1' ? 50 : 256, concurrency: 5 });
    h.sim.log.faults.enable(fault, param);
    await roundsUntil(h, async () => (await verifiedSize()) === BigInt(n), 400);
    expect((await state())!.status).toBe('following');
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(n);
    const errors = await h.metrics.upstreamErrors.get();
    if (fault !== 'slow') expect(errors.values.reduce((a, v) => a + v.value, 0)).toBeGreaterThan(0);
  });

  it('stale: the mirror holds at the published checkpoint, then catches up when it moves', async () => {
    const h = await t.harness({ api, entries: 100, seed: 'stale' });
    await followTo(100n);
    h.sim.log.faults.enable('stale');
    h.sim.append(30);
    for (let i = 0; i < 3; i++) expect(await h.follower.round()).toBe('unchanged');
    expect(await verifiedSize()).toBe(100n);
    h.sim.log.faults.disable('stale');
    h.sim.log.publish();
    await followTo(130n);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(130);
  });
});

describe('transient faults in /v1/logs', () => {
  it('shows the error ending the latest rounds while they fail, and clears it once a round succeeds', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 't-view' });
    await roundsUntil(h, async () => (await verifiedSize()) === 300n);
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], transientFault: () => h.follower.transientFault });
    const logs = async () => ((await (await app.request('/v1/logs')).json()) as Array<Record<string, unknown>>)[0]!;
    expect(await logs()).not.toHaveProperty('transientError');
    h.sim.log.faults.enable('garbage', 1); // every response: the checkpoint does not parse
    expect(await h.follower.round()).toBe('transient-error');
    expect(await h.follower.round()).toBe('transient-error');
    const shown = await logs();
    expect(shown['state']).toBe('following');
    expect(shown['transientError']).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/), rounds: 2 });
    expect(Date.parse((shown['transientError'] as { at: string }).at)).toBeGreaterThan(Date.now() - 60_000);
    h.sim.log.faults.disable('garbage');
    expect(await h.follower.round()).not.toBe('transient-error');
    expect(await logs()).not.toHaveProperty('transientError');
    expect(await verifiedSize()).toBe(300n);
  });
});

describe.each(['tiles', 'v1'] as const)('stopping a %s follower while the log stalls', (api) => {
  it('aborts the requests in flight instead of waiting out their timeouts and retries, and resumes where it committed', async () => {
    const h = await t.harness({ api, entries: 300, seed: `stall-${api}` });
    await followTo(300n);
    // Every response now takes a minute: without the abort, the round would wait 7 attempts of 20 s.
    h.sim.log.faults.enable('slow', 60_000, 1);
    h.sim.append(300);
    const stop = new AbortController();
    const running = h.follower.run(stop.signal);
    await new Promise((r) => setTimeout(r, 300)); // the checkpoint request is in flight and stalled
    const began = performance.now();
    stop.abort(new Error('shutdown'));
    await running;
    expect(performance.now() - began).toBeLessThan(2000);
    expect(h.follower.transientFault).toBeUndefined(); // a stop is not a fault of the log
    expect(await verifiedSize()).toBe(300n);
    // The next run (a restart) is not aborted by the last one's signal.
    h.sim.log.faults.clear();
    await followTo(600n);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(600);
  }, 30_000);
});

describe('an older checkpoint served while entries past it are fetched but not yet verified', () => {
  /** The simulator behind a proxy that answers 400 (final, not retried) for the paths `refuse` matches while it is set. */
  async function refusingProxy(target: string) {
    const upstream = new URL(target).origin;
    const proxy = { refuse: undefined as RegExp | undefined, url: '', close: () => Promise.resolve() };
    const server = createServer((req, res) => {
      if (proxy.refuse?.test(req.url!)) return void res.writeHead(400).end();
      void fetch(`${upstream}${req.url}`)
        .then(async (r) => res.writeHead(r.status).end(Buffer.from(await r.arrayBuffer())))
        .catch(() => res.writeHead(502).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    proxy.url = target.replace(upstream, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    proxy.close = () => new Promise((r) => server.close(() => r()));
    return proxy;
  }

  it('is not a shrink: nothing verified is contradicted, so the mirror waits for a checkpoint that covers them', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'behind-frontier' }, { batchSize: 256 });
    const proxy = await refusingProxy(h.sim.url);
    try {
      const follower = new LogFollower({ ...h.follower.cfg, url: proxy.url }, { store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)] });
      for (let i = 0; i < 10 && (await verifiedSize()) !== 300n; i++) await follower.round();
      h.sim.append(500); // checkpoint 800: batches [300, 512), [512, 768), [768, 800)
      // The last batch cannot be fetched this round: two batches commit, the root at 800 is not reached.
      proxy.refuse = /\/tile\/(entries|0)\/003/;
      expect(await follower.round()).toBe('transient-error');
      expect(fetchedSize((await state())!)).toBe(768n);
      expect(await verifiedSize()).toBe(300n);
      // Then a cache or a replica behind serves an older checkpoint, properly signed: 720 entries.
      proxy.refuse = undefined;
      h.sim.log.faults.enable('shrink');
      expect(await follower.round()).toBe('unchanged');
      expect((await state())!.status).toBe('following');
      expect(await verifiedSize()).toBe(300n);
      h.sim.log.faults.disable('shrink');
      for (let i = 0; i < 10 && (await verifiedSize()) !== 800n; i++) await follower.round();
      expect(await verifiedSize()).toBe(800n);
      expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(800);
    } finally {
      await proxy.close();
    }
  });
});

describe('Rekor v1 signed entry timestamps', () => {
  /**
   * A proxy over loopback that answers as the simulator does, except that it rewrites the entries it
   * serves (as a network in between could): the Merkle proofs still hold, only what the SET vouches for changes.
   */
  async function rewritingProxy(upstream: string, rewrite: (entry: Record<string, unknown>) => void): Promise<{ url: string; close(): Promise<void> }> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const body = chunks.length ? Buffer.concat(chunks) : undefined;
          const r = await fetch(`${upstream}${req.url}`, { method: req.method!, ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}) });
          let text = await r.text();
          if (r.ok && req.url!.startsWith('/api/v1/log/entries')) {
            const doc = JSON.parse(text) as unknown;
            for (const e of Array.isArray(doc) ? doc : [doc]) for (const v of Object.values(e as Record<string, Record<string, unknown>>)) rewrite(v);
            text = JSON.stringify(doc);
          }
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(text);
        })().catch(() => res.writeHead(502).end());
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
  }

  for (const [what, rewrite, why] of [
    ['an integrated time the log did not sign', (v: Record<string, unknown>) => (v['integratedTime'] = (v['integratedTime'] as number) + 3 * 3600), /does not verify with the log's key/],
    ['no signed entry timestamp', (v: Record<string, unknown>) => delete (v['verification'] as Record<string, unknown>)['signedEntryTimestamp'], /without a signed entry timestamp/],
    ['another log ID', (v: Record<string, unknown>) => (v['logID'] = 'ab'.repeat(32)), /is not the log's key ID/],
  ] as const) {
    it(`halts on an entry served with ${what}, keeping the entry as evidence and nothing of its batch`, async () => {
      const h = await t.harness({ api: 'v1', entries: 60, seed: `set-${what}` }, { batchSize: 20 });
      const proxy = await rewritingProxy(h.sim.url, (v) => {
        if (v['logIndex'] === 45) rewrite(v);
      });
      try {
        const metrics = createMetrics({ defaultMetrics: false });
        const follower = new LogFollower({ ...h.follower.cfg, url: proxy.url }, { store: h.store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)], setKey: setKeyForTlog(h.tlog) });
        for (let i = 0; i < 20 && (await state())?.status !== 'halted'; i++) await follower.round();
        const s = (await state())!;
        expect(s.status).toBe('halted');
        expect(s.halt?.code).toBe('VERIFY_BAD_SET');
        expect(s.halt?.message).toMatch(why);
        expect(s.halt?.evidence['index']).toBe('45');
        expect(typeof s.halt?.evidence['body']).toBe('string');
        // The batches before it are mirrored; the one holding it is not.
        expect(await h.store.getEntry('sim', 39)).toBeDefined();
        expect(await h.store.getEntry('sim', 45)).toBeUndefined();
      } finally {
        await proxy.close();
      }
    });
  }

  it('mirrors every entry when the SETs verify', async () => {
    const h = await t.harness({ api: 'v1', entries: 120, seed: 'set-ok', shards: 2 }, { batchSize: 50 });
    await roundsUntil(h, async () => (await state())?.shard?.seq === 1 && (await verifiedSize()) === 60n);
    expect((await state())?.status).not.toBe('halted');
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(120);
  });
});
