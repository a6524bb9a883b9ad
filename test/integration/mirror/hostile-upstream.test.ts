/**
 * Hostile upstream behaviour the simulator's faults do not play (test/sim/faults.ts), served through a
 * loopback proxy that edits the simulator's answers (test/helpers/hostile-proxy.ts): the mirror must not
 * crash, skip or misplace an entry, advance its verified state past bad data, or hang, and must say what
 * happened (the halt, its reason in tlogwatch_verification_failures_total, the log's state).
 */
import { describe, expect, it } from 'vitest';
import { harnessPerTest } from '../../helpers/harness-per-test.ts';
import { expectStoreMatchesManifest } from '../../helpers/mirror.ts';
import { createHash, sign } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { editJson, reply, type Behaviour, type ProxiedRequest } from '../../helpers/hostile-proxy.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { LogFollower } from '../../../src/mirror/follower.ts';
import { checkpointVerifierForTlog, setKeyForTlog } from '../../../src/trust/trusted-root.ts';
import { fetchedSize } from '../../../src/store/codec.ts';
import { parseNote, signNote } from '../../../src/note/note.ts';
import { ed25519Signer } from '../../../src/note/ed25519.ts';
import { startStaticTilesLog } from '../../helpers/static-tiles-log.ts';
import { startSparseTilesLog } from '../../helpers/sparse-tiles-log.ts';
import { integrityHooks } from '../../../src/daemon.ts';
import { monitorHooks } from '../../../src/monitor/hooks.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { checkLog } from '../../../src/store/check.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { toHex } from '../../../src/util/bytes.ts';
import { createApp } from '../../../src/api/app.ts';
import { canonicalSetPayload } from '../../sim/server-v1.ts';
import { CONFIRM_ROUNDS } from '../../../src/mirror/confirm-halt.ts';

const t = harnessPerTest();
const state = t.state;

async function failures(metrics: ReturnType<typeof createMetrics>, reason: string): Promise<number | undefined> {
  return (await metrics.verificationFailures.get()).values.find((v) => v.labels.reason === reason)?.value;
}

describe('Rekor v1 LogInfo that moves the trees already verified', () => {
  it('halts when an earlier tree is listed with another size, instead of placing the next tree at the wrong virtual indexes', async () => {
    const h = await t.harness({ api: 'v1', entries: 300, seed: 'moved-shards', shards: 3 }, { batchSize: 40 });
    const proxy = await t.proxy();
    const { follower, metrics } = t.followerVia();
    // Follow the first tree to its end and into the second, where the round stops: the log refuses (400,
    // final) entries past 150 for now.
    proxy.set((req, res) => {
      if (req.path.endsWith('/entries/retrieve') && (JSON.parse(req.body.toString()) as { logIndexes: number[] }).logIndexes.some((i) => i >= 150)) return void res.writeHead(400).end();
      return editJson(req, res, (doc) => doc);
    });
    for (let i = 0; i < 10 && (await state())?.shard?.seq !== 1; i++) await follower.round();
    expect((await state())!.shard).toMatchObject({ seq: 1, offset: 100n });
    // From now on the log lists its first tree 5 entries longer: every later tree's virtual indexes move up.
    proxy.set((req, res) =>
      /\/api\/v1\/log$/.test(req.path)
        ? editJson(req, res, (info) => {
            info.inactiveShards[0].treeSize += 5;
          })
        : editJson(req, res, (doc) => doc),
    );
    for (let i = 0; i < 40 && (await state())?.status !== 'halted'; i++) await follower.round();
    const s = (await state())!;
    expect(s.status).toBe('halted');
    expect(s.halt?.code).toBe('VERIFY_BAD_CHECKPOINT');
    expect(s.halt?.message).toMatch(/virtual index/);
    expect(await failures(metrics, 'VERIFY_BAD_CHECKPOINT')).toBe(1);
    // Nothing was fetched at the moved indexes: the store holds exactly the entries of the first tree, and
    // whatever of the second it fetched before the move, each where the log put it.
    expect(s.shard).toMatchObject({ seq: 1, offset: 100n });
    const fetched = Number(fetchedSize(s));
    expect(fetched).toBeGreaterThanOrEqual(140);
    expect(fetched).toBeLessThanOrEqual(200);
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 0, fetched)).toBe(fetched);
    expect(await h.store.getEntry('sim', fetched)).toBeUndefined();
  });
});

describe('Rekor v1 LogInfo that drops or repeats the tree being followed', () => {
  for (const [what, edit, code] of [
    ['no longer lists it (another active tree, the old one not among the inactive)', (info: any) => ({ ...info, treeID: '999', inactiveShards: [] }), 'VERIFY_MISSING_ENTRY'],
    ['lists it twice, retired and active', (info: any) => ({ ...info, inactiveShards: [...(info.inactiveShards ?? []), { ...info }] }), 'VERIFY_BAD_CHECKPOINT'],
  ] as const) {
    it(`halts when it ${what}, with nothing stored past what it verified`, async () => {
      const h = await t.harness({ api: 'v1', entries: 100, seed: `listing-${code}` }, { batchSize: 40 });
      const proxy = await t.proxy();
      const { follower, metrics } = t.followerVia();
      for (let i = 0; i < 10 && (await state())?.verified?.size !== 100n; i++) await follower.round();
      expect((await state())!.verified?.size).toBe(100n);
      proxy.set((req, res) => editJson(req, res, (doc) => (/\/api\/v1\/log$/.test(req.path) ? edit(doc) : doc)));
      for (let i = 0; i < 5 && (await state())?.status !== 'halted'; i++) await follower.round();
      const s = (await state())!;
      expect(s.status).toBe('halted');
      expect(s.halt?.code).toBe(code);
      expect(await failures(metrics, code)).toBe(1);
      // The halt keeps the tree it followed and its verified head, which /v1/logs and the proofs read.
      expect(s.shard).toMatchObject({ seq: 0, offset: 0n });
      expect(s.verified?.size).toBe(100n);
      expect(fetchedSize(s)).toBe(100n);
      expect(await h.store.getEntry('sim', 100)).toBeUndefined();
    });
  }
});

describe('Rekor v1 LogInfo sizes that are not int64 decimals', () => {
  // The active tree's treeSize as the JSON text spells it: past 2^53, where JSON.parse rounds it (refused:
  // retried, then a transient fault), and the verified size in another spelling, a number all the same (not
  // the size the signed tree head says: a halt). Each is 120 entries in truth.
  for (const [spelled, expected] of [
    ['9007199254740993', 'transient-error'],
    ['1e2', 'halted'],
  ] as const) {
    it(`keeps what it verified when treeSize is ${spelled}: ${expected}`, async () => {
      const h = await t.harness({ api: 'v1', entries: 100, seed: 'odd-sizes' }, { batchSize: 50 });
      const proxy = await t.proxy();
      // Short retries: a refused LogInfo is asked for again within each round.
      const { follower, metrics } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } });
      for (let i = 0; i < 10 && (await state())?.verified?.size !== 100n; i++) await follower.round();
      h.sim.append(20);
      proxy.set(async (req, res) => {
        const u = await req.forward();
        if (!/\/api\/v1\/log$/.test(req.path)) return reply(res, u);
        reply(res, { ...u, body: Buffer.from(u.body.toString().replace(/"treeSize":\d+/, `"treeSize":${spelled}`)) });
      });
      // A LogInfo field is unsigned: the halt waits for CONFIRM_ROUNDS rounds in a row (mirror/confirm-halt.ts).
      const outcomes = [];
      for (let i = 0; i < CONFIRM_ROUNDS; i++) outcomes.push(await follower.round());
      expect(outcomes).toEqual([...Array<string>(CONFIRM_ROUNDS - 1).fill('transient-error'), expected]);
      const s = (await state())!;
      expect(s.verified?.size).toBe(100n);
      expect(fetchedSize(s)).toBe(100n);
      if (expected === 'halted') {
        expect(s.halt?.code).toBe('VERIFY_BAD_CHECKPOINT');
        expect(s.halt?.evidence['kind']).toBe('loginfo-mismatch');
        expect(await failures(metrics, 'VERIFY_BAD_CHECKPOINT')).toBe(1);
      } else expect(follower.transientFault?.code).toBe('SOURCE_MALFORMED');
    });
  }
});

describe('Rekor v1 bootstrap at N from an inclusion proof the log serves wrong', () => {
  /** The entry at `index` as the log serves it by index, edited by `edit` (the LogEntry's one value). */
  const editEntry =
    (index: number, edit: (v: any) => void): Behaviour =>
    (req, res) =>
      editJson(req, res, (doc) => {
        if (req.path.endsWith(`logIndex=${index}`)) for (const v of Object.values(doc as Record<string, unknown>)) edit(v);
      });

  for (const [what, edit] of [
    ['a body that is not the leaf its proof proves', (v: any) => (v.body = Buffer.from('{"not":"the entry"}').toString('base64'))],
    ['a proof whose hashes are not the tree\'s', (v: any) => (v.verification.inclusionProof.hashes[0] = 'ab'.repeat(32))],
    ['a proof for another tree size than its checkpoint\'s', (v: any) => (v.verification.inclusionProof.treeSize += 1)],
  ] as const) {
    it(`halts before mirroring anything on ${what}, as backfill does`, async () => {
      const h = await t.harness({ api: 'v1', entries: 200, seed: 'bad-start-proof' }, { start: 150n });
      await t.proxy(editEntry(149, edit));
      const { follower, metrics } = t.followerVia();
      for (let i = 0; i < 5 && (await state())?.status !== 'halted'; i++) await follower.round();
      const s = (await state())!;
      expect(s.status).toBe('halted');
      expect(s.halt?.code).toBe('VERIFY_BAD_CHECKPOINT');
      expect(s.halt?.evidence['kind']).toMatch(/^(bad-inclusion|bootstrap)-proof$/);
      expect(typeof s.halt?.evidence['receivedNote']).toBe('string');
      expect(await failures(metrics, 'VERIFY_BAD_CHECKPOINT')).toBe(1);
      expect(s.verified).toBeUndefined();
      expect(await h.store.getEntry('sim', 150)).toBeUndefined();
    });
  }
});

describe('Rekor v1 entries by index that are not the entry asked for', () => {
  /** Retrieve omits entry 45, so the mirror asks for it alone; `byIndex` answers that request. */
  const omitting45 =
    (byIndex: (req: ProxiedRequest, res: ServerResponse) => Promise<void>): Behaviour =>
    (req, res) => {
      if (req.path.endsWith('logIndex=45')) return byIndex(req, res);
      return editJson(req, res, (doc) => (Array.isArray(doc) ? doc.filter((m) => Object.values(m as Record<string, { logIndex: number }>)[0]!.logIndex !== 45) : doc));
    };

  it('retries an answer for another index (a cache that ignores the query) and mirrors every entry once it gets the right one', async () => {
    const h = await t.harness({ api: 'v1', entries: 60, seed: 'wrong-index-once' }, { batchSize: 20 });
    let wrong = 0;
    await t.proxy(
      omitting45(async (req, res) => {
        if (wrong++ < 2) return reply(res, await req.forward(req.path.replace('logIndex=45', 'logIndex=44')));
        reply(res, await req.forward());
      }),
    );
    const { follower, metrics } = t.followerVia();
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 60n; i++) await follower.round();
    expect((await state())!.status).toBe('following');
    expect((await state())!.verified?.size).toBe(60n);
    expect(wrong).toBe(3);
    expect(await failures(metrics, 'VERIFY_MISSING_ENTRY')).toBeUndefined();
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(60);
  });

  it('takes the entry asked for from an answer that holds another one before it', async () => {
    const h = await t.harness({ api: 'v1', entries: 60, seed: 'two-entries' }, { batchSize: 20 });
    const proxy = await t.proxy(
      omitting45(async (req, res) => {
        const other = await req.forward(req.path.replace('logIndex=45', 'logIndex=44'));
        const own = await req.forward();
        const both = { ...JSON.parse(other.body.toString()), ...JSON.parse(own.body.toString()) };
        reply(res, { ...own, body: Buffer.from(JSON.stringify(both)) });
      }),
    );
    const { follower, metrics } = t.followerVia();
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 60n && (await state())?.status !== 'halted'; i++) await follower.round();
    expect((await state())!.status).toBe('following');
    expect((await state())!.verified?.size).toBe(60n);
    expect(proxy.count(/logIndex=45$/)).toBe(1);
    expect((await metrics.verificationFailures.get()).values).toEqual([]);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(60);
  });

  it('halts as withholding the entry when every attempt answers another one', async () => {
    const h = await t.harness({ api: 'v1', entries: 60, seed: 'wrong-index-always' }, { batchSize: 20 });
    await t.proxy(
      omitting45(async (req, res) => reply(res, await req.forward(req.path.replace('logIndex=45', 'logIndex=44')))),
    );
    // Short retries: the entry is asked for again within each of the CONFIRM_ROUNDS rounds that halt.
    const { follower, metrics } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } });
    for (let i = 0; i < 10 && (await state())?.status !== 'halted'; i++) await follower.round();
    const s = (await state())!;
    expect(s.status).toBe('halted');
    expect(s.halt?.code).toBe('VERIFY_MISSING_ENTRY');
    expect(s.halt?.message).toMatch(/entry 44/);
    expect(s.halt?.evidence['index']).toBe('45');
    expect(await failures(metrics, 'VERIFY_MISSING_ENTRY')).toBe(1);
    expect(await h.store.getEntry('sim', 39)).toBeDefined();
    expect(await h.store.getEntry('sim', 40)).toBeUndefined();
  });
});

describe('Rekor v1 consistency proofs for other sizes than asked', () => {
  /** Answers the proof request from `verified` to the new size with the log's proof from `verified - 1` instead. */
  const otherSizes = (req: ProxiedRequest) => req.forward(req.path.replace(/firstSize=(\d+)/, (_, n: string) => `firstSize=${Number(n) - 1}`));

  it('asks again when the proof does not verify (a cache that ignores the query), and follows once one does', async () => {
    const h = await t.harness({ api: 'v1', entries: 60, seed: 'proof-once' }, { batchSize: 20 });
    let wrong = 0;
    await t.proxy(async (req, res) => {
      if (req.path.includes('/log/proof?') && wrong++ < 2) return reply(res, await otherSizes(req));
      reply(res, await req.forward());
    });
    const { follower, metrics } = t.followerVia();
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 60n; i++) await follower.round();
    h.sim.append(20);
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 80n && (await state())?.status !== 'halted'; i++) await follower.round();
    expect((await state())!.status).toBe('following');
    expect((await state())!.verified?.size).toBe(80n);
    expect(wrong).toBe(3);
    expect((await metrics.verificationFailures.get()).values).toEqual([]);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(80);
  });

  it('halts as inconsistent, with the last proof as evidence, when no attempt serves a proof that verifies', async () => {
    const h = await t.harness({ api: 'v1', entries: 60, seed: 'proof-always' }, { batchSize: 20 });
    const proxy = await t.proxy(async (req, res) => reply(res, req.path.includes('/log/proof?') ? await otherSizes(req) : await req.forward()));
    // Short retries: the proof is asked for again within each of the CONFIRM_ROUNDS rounds that halt.
    const { follower, metrics } = t.followerVia({ retryDelays: { baseMs: 1, maxMs: 4 } });
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 60n; i++) await follower.round();
    h.sim.append(20);
    for (let i = 0; i < 10 && (await state())?.status !== 'halted'; i++) await follower.round();
    const s = (await state())!;
    expect(s.halt?.code).toBe('VERIFY_FORK');
    expect(s.halt?.message).toMatch(/no proof the log served on any attempt verifies/);
    expect(s.verified?.size).toBe(60n);
    expect(Array.isArray(s.halt?.evidence['consistencyProof'])).toBe(true);
    expect(proxy.count(/\/log\/proof\?/)).toBeGreaterThan(1);
    expect(await failures(metrics, 'VERIFY_FORK')).toBe(1);
    // An unsigned proof halts only when CONFIRM_ROUNDS rounds in a row meet it (mirror/confirm-halt.ts).
    expect((await metrics.verificationUnconfirmed.get()).values.map((v) => [v.labels.reason, v.value])).toEqual([['VERIFY_FORK', CONFIRM_ROUNDS - 1]]);
  });
});

describe('tiles: checkpoints the log signs oddly', () => {
  /** A note over `text` signed with the simulator's log key, as the log would sign it. */
  const logSigned = (text: string) => signNote(text, [ed25519Signer(t.h.sim.log.name, t.h.sim.log.logKey.privateKey)]);
  const serveCheckpoint =
    (note: (honest: string) => string): Behaviour =>
    async (req, res) => {
      const u = await req.forward();
      if (!req.path.endsWith('/checkpoint') || u.status !== 200) return reply(res, u);
      reply(res, { ...u, body: Buffer.from(note(u.body.toString('utf8'))) });
    };

  it('ignores signature lines of unknown keys, a duplicate of the log\'s own, and another key under the log\'s name', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'odd-sig-lines' });
    const stranger = ed25519Signer('witness.example/w1', h.sim.log.wrongKey.privateKey);
    // The log's name with the other key: its key hash differs, so it is not the log's key and is ignored.
    const namesake = ed25519Signer(h.sim.log.name, h.sim.log.wrongKey.privateKey);
    await t.proxy(
      serveCheckpoint((honest) => {
        const text = parseNote(honest).text;
        const own = honest.slice(honest.indexOf('\n\n') + 2);
        const extra = signNote(text, [stranger, namesake]);
        return `${extra}${own}${own}`;
      }),
    );
    const { follower, metrics } = t.followerVia();
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 300n; i++) await follower.round();
    expect((await state())!.verified?.size).toBe(300n);
    expect((await metrics.verificationFailures.get()).values).toEqual([]);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(300);
  });

  for (const [what, note, reason] of [
    ['a size past 2^63 - 1', (cp: string) => cp.replace(/\n\d+\n/, '\n9223372036854775808\n'), 'CHECKPOINT_MALFORMED'],
    ['another origin', (cp: string) => cp.replace(/^[^\n]+/, 'other.example/log'), 'CHECKPOINT_WRONG_ORIGIN'],
    ['an empty root hash line', (cp: string) => cp.replace(/\n[A-Za-z0-9+/=]{44}\n/, '\n\n'), 'CHECKPOINT_MALFORMED'],
  ] as const) {
    it(`halts on a checkpoint signed by the log with ${what}, keeping what it verified`, async () => {
      const h = await t.harness({ api: 'tiles', entries: 300, seed: `odd-cp-${reason}` });
      const proxy = await t.proxy();
      const { follower, metrics } = t.followerVia();
      for (let i = 0; i < 10 && (await state())?.verified?.size !== 300n; i++) await follower.round();
      h.sim.append(100);
      proxy.set(serveCheckpoint((honest) => logSigned(note(parseNote(honest).text))));
      for (let i = 0; i < 5 && (await state())?.status !== 'halted'; i++) await follower.round();
      const s = (await state())!;
      expect(s.status).toBe('halted');
      expect(s.halt?.code).toBe('VERIFY_BAD_CHECKPOINT');
      expect(s.halt?.evidence['reason']).toBe(reason);
      expect(s.verified?.size).toBe(300n);
      expect(await failures(metrics, 'VERIFY_BAD_CHECKPOINT')).toBe(1);
    });
  }
});

describe('tiles: entry bundles and tiles of another shape than asked', () => {
  /** Rewrites the entry bundle (decompressed) the log serves for `path`; everything else passes. */
  const bundle =
    (edit: (path: string, data: Buffer, req: ProxiedRequest) => Promise<Buffer | undefined> | Buffer | undefined): Behaviour =>
    async (req, res) => {
      const u = await req.forward();
      const out = u.status === 200 && /\/tile\/entries\//.test(req.path) ? await edit(req.path, u.body, req) : undefined;
      reply(res, out ? { ...u, body: out } : u);
    };
  const frame = (entries: Buffer[]) => Buffer.concat(entries.flatMap((e) => [Buffer.from([e.length >> 8, e.length & 0xff]), e]));

  it('takes the first W items of a full bundle and level-0 tile served for partial ones, and mirrors every entry', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'full-for-partial' });
    // 300 entries: bundle and tile 001 are partial (.p/44). Serve each with 212 more items that are not in the tree.
    const extra = Array.from({ length: 212 }, (_, i) => Buffer.from(`{"extra":${i}}`));
    const proxy = await t.proxy(async (req, res) => {
      const u = await req.forward();
      if (req.path.endsWith('/tile/entries/001.p/44')) return reply(res, { ...u, body: Buffer.concat([u.body, frame(extra)]) });
      if (req.path.endsWith('/tile/0/001.p/44')) return reply(res, { ...u, body: Buffer.concat([u.body, ...extra.map((e) => createHash('sha256').update(e).digest())]) });
      reply(res, u);
    });
    const { follower, metrics } = t.followerVia();
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 300n && (await state())?.status !== 'halted'; i++) await follower.round();
    expect(proxy.count(/\.p\/44$/)).toBe(2);
    const s = (await state())!;
    expect(s.halt).toBeUndefined();
    expect(s.verified?.size).toBe(300n);
    expect((await metrics.verificationFailures.get()).values).toEqual([]);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(300);
  });

  it('retries a tile above level 0 served short while it bootstraps at N (a cut response), instead of halting on it', async () => {
    const h = await t.harness({ api: 'tiles', entries: 900, seed: 'short-upper-tile' }, { start: 333n });
    let cut = 0;
    // Node (8, 0), the first of the frontier at 333, is in tile/1/000 (width 3 at size 900): served with 2 hashes, twice.
    await t.proxy(async (req, res) => {
      const u = await req.forward();
      if (/\/tile\/1\/000(\.p\/3)?$/.test(req.path) && u.status === 200 && cut++ < 2) return reply(res, { ...u, body: u.body.subarray(0, 64) });
      reply(res, u);
    });
    const { follower, metrics } = t.followerVia();
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 900n && (await state())?.status !== 'halted'; i++) await follower.round();
    expect(cut).toBeGreaterThanOrEqual(2);
    const s = (await state())!;
    expect(s.halt).toBeUndefined();
    expect(s.verified?.size).toBe(900n);
    expect((await metrics.verificationFailures.get()).values).toEqual([]);
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 333)).toBe(900 - 333);
  });

  it('retries a bundle whose length prefix runs past its end, and mirrors every entry once it is whole', async () => {
    const h = await t.harness({ api: 'tiles', entries: 300, seed: 'overrun' });
    let bad = 0;
    await t.proxy(
      bundle((path, data) => {
        if (!path.endsWith('/000') || bad++ >= 2) return undefined;
        const out = Buffer.from(data);
        out.writeUInt16BE(0xffff, 0); // the first entry claims 65535 bytes
        return out;
      }),
    );
    const { follower, metrics } = t.followerVia();
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 300n; i++) await follower.round();
    expect(bad).toBeGreaterThanOrEqual(2);
    expect((await state())!.verified?.size).toBe(300n);
    expect((await metrics.verificationFailures.get()).values).toEqual([]);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(300);
  });
});

describe('a tiles log that signs garbage', () => {
  /** Bodies a log could accept and sign, but no honest Rekor would write: each is the log's all the same. */
  function garbage(real: readonly Buffer[]): Buffer[] {
    const doc = (b: Buffer) => JSON.parse(b.toString('utf8'));
    const withCert = (b: Buffer, edit: (der: Buffer) => Buffer) => {
      const d = doc(b);
      const cert = d.spec.hashedRekordV002.signature.verifier.x509Certificate;
      cert.rawBytes = edit(Buffer.from(cert.rawBytes, 'base64')).toString('base64');
      return Buffer.from(JSON.stringify(d));
    };
    const flipped = (der: Buffer, every: number) => {
      const out = Buffer.from(der);
      for (let i = 3; i < out.length; i += every) out[i] = out[i]! ^ 0x5a;
      return out;
    };
    const nested = '['.repeat(32_000) + ']'.repeat(32_000);
    const x509 = real.filter((b) => b.includes('"hashedRekordV002"') && b.includes('"x509Certificate"'));
    return [
      Buffer.alloc(0),
      Buffer.from('not json at all'),
      Buffer.from([0xff, 0xfe, 0xfd]),
      Buffer.from(nested),
      Buffer.from('{"kind":"hashedrekord","apiVersion":"0.0.2","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"!!!"},"signature":{"content":"AA==","verifier":{"x509Certificate":{"rawBytes":"MIIB"},"keyDetails":"PKIX_ECDSA_P256_SHA_256"}}}}}'),
      Buffer.from('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},"kind":"dsse","apiVersion":"0.0.2","spec":{"dsseV002":{"envelope":"x","verifiers":[{"x509Certificate":{"rawBytes":7}}]}}}'),
      Buffer.from(JSON.stringify({ kind: 'k'.repeat(65), apiVersion: '0.0.2', spec: {} })),
      Buffer.from('{"kind":7,"apiVersion":[],"spec":null}'),
      Buffer.from(JSON.stringify({ kind: 'hashedrekord', apiVersion: '0.0.2', spec: { hashedRekordV002: { data: { algorithm: 'SHA2_256', digest: 'A'.repeat(65_400) } } } })),
      withCert(x509[0]!, (der) => der.subarray(0, der.length >> 1)),
      withCert(x509[1]!, (der) => flipped(der, 7)),
      withCert(x509[2]!, (der) => flipped(der, 61)),
      withCert(x509[3]!, (der) => Buffer.concat([der, der])),
      withCert(x509[4]!, (der) => { const out = Buffer.from(der); out[1] = 0x84; out.writeUInt32BE(0xffffffff, 2); return out; }),
      ...real,
    ];
  }

  it('mirrors, indexes and checks every entry against the rules, and verifies the root, without stopping', async () => {
    const h = await t.harness({ api: 'tiles', entries: 40, seed: 'garbage' });
    const bodies = garbage(Array.from({ length: 40 }, (_, i) => h.sim.log.bodies.get(i)));
    expect(Math.max(...bodies.map((b) => b.length))).toBeGreaterThan(65_000);
    const log = await startStaticTilesLog({ bodies, origin: h.tlog.name, signer: ed25519Signer(h.sim.log.name, h.sim.log.logKey.privateKey), prefix: '/api/v2' });
    try {
      const metrics = createMetrics({ defaultMetrics: false });
      const r = checkRules([{ name: 'all.yaml', text: "rules:\n  - id: every-signer\n    severity: info\n    watch: { identities: ['**'] }\n    expect: { timeWindow: { timezone: Europe/Berlin, weekdays: [mon, tue, wed, thu, fri], hours: '08:00-18:00' } }\n" }]);
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      const hooks = integrityHooks(metrics, monitorHooks(() => r.ruleSet, metrics), findingOps);
      const follower = new LogFollower({ ...h.follower.cfg, url: log.url }, { store: h.store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)], hooks });
      for (let i = 0; i < 5 && (await state())?.verified?.size !== BigInt(bodies.length); i++) expect(await follower.round()).not.toBe('transient-error');
      const s = (await state())!;
      expect(s.status).toBe('following');
      expect(s.verified?.size).toBe(BigInt(bodies.length));
      for (let i = 0; i < bodies.length; i++) {
        const got = (await h.store.getEntry('sim', i))!;
        expect(Buffer.from(got.body).equals(bodies[i]!), `entry ${i}`).toBe(true);
        expect(got.record.entry.uuid).toBe(toHex(leafHash(bodies[i]!)));
        // The garbage is recorded as such, and the real entries after it decode as before.
        if (i < 9) expect(got.record.entry.problem, `entry ${i}`).toBeDefined();
        if (i >= 14) expect(got.record.entry.problem, `entry ${i}`).toBeUndefined();
      }
      expect((await metrics.verificationFailures.get()).values).toEqual([]);
      // The rule ran over them: the real entries signed outside its window are findings.
      expect((await new FindingsRepo(h.store).list({ rule: 'every-signer', limit: 1000 })).findings.length).toBeGreaterThan(0);
      const check = await checkLog(h.store, 'sim');
      expect(check.problems).toEqual([]);
      expect(check.entries).toBe(bodies.length);
    } finally {
      await log.close();
    }
  });
});

describe('a Rekor v1 log that signs an integrated time no date can hold', () => {
  it('mirrors and serves the entry, and a time-window rule says the time is not an instant', async () => {
    // Past ECMAScript's ±8.64e15 ms, still a safe integer the SET payload can carry, signed by the log.
    const far = 8_700_000_000_000;
    const metrics = createMetrics({ defaultMetrics: false });
    const r = checkRules([{ name: 'all.yaml', text: "rules:\n  - id: every-signer\n    severity: info\n    watch: { identities: ['**'] }\n    expect: { timeWindow: { timezone: Europe/Berlin, hours: '00:00-24:00' } }\n" }]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const hooks = integrityHooks(metrics, monitorHooks(() => r.ruleSet, metrics), findingOps);
    const h = await t.harness({ api: 'v1', entries: 60, seed: 'far-time' }, { batchSize: 20 }, hooks);
    const key = h.sim.log.logKey.privateKey;
    const proxy = await t.proxy((req, res) =>
      editJson(req, res, (doc) => {
        for (const m of Array.isArray(doc) ? doc : [doc]) {
          for (const v of Object.values(m as Record<string, any>)) {
            if (v.logIndex !== 45) continue;
            v.integratedTime = far;
            const payload = canonicalSetPayload({ body: v.body, integratedTime: far, logID: v.logID, logIndex: 45 });
            v.verification.signedEntryTimestamp = sign('sha256', Buffer.from(payload), { key, dsaEncoding: 'der' }).toString('base64');
          }
        }
      }),
    );
    const follower = new LogFollower({ ...h.follower.cfg, url: proxy.url }, { store: h.store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)], setKey: setKeyForTlog(h.tlog), hooks });
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 60n; i++) expect(await follower.round()).not.toBe('transient-error');
    expect((await state())!.status).toBe('following');
    expect((await h.store.getEntry('sim', 45))!.record.entry.integratedTime).toBe(far);
    const app = createApp({ store: h.store, metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    for (const path of ['/v1/entries/sim/45', '/api/v1/log/entries?logIndex=45', '/v1/entries/sim/45/bundle']) expect((await app.request(path)).status, path).toBe(200);
    const { findings } = await new FindingsRepo(h.store).list({ rule: 'every-signer', limit: 1000 });
    expect(findings.find((f) => f.index === 45)?.message).toMatch(/not a valid instant/);
  });
});

describe('a Rekor v1 log that signs hostile keys and certificates', () => {
  it('mirrors, decodes what it can, checks every entry against the rules and verifies the root, without stopping', async () => {
    const junk = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + seed * 17) & 0xff)).toString('base64');
    const inject = [
      ...(['pgp', 'ssh', 'minisign', 'x509'] as const).flatMap((format, k) => [
        { at: 10 + 2 * k, rekord: { format, content: junk(300, k) } },
        { at: 11 + 2 * k, rekord: { format, content: 'AA==' } },
      ]),
      // Valid DER, hostile contents: a 20,000-character SAN, control and bidi characters, non-ASCII in an IA5String.
      { at: 20, cert: { san: `https://github.com/acme/${'a'.repeat(20_000)}/.github/workflows/x.yml@refs/heads/main`, issuer: 'https://token.actions.githubusercontent.com' } },
      { at: 21, cert: { san: 'evil\u0000@acme.com\n\u202egnp.exe', issuer: 'https://accounts.google.com' } },
      { at: 22, cert: { san: 'älice@acme.com', issuer: 'https://accounts.google.com', extensions: { sourceRepositoryURI: '\u0000'.repeat(100), runnerEnvironment: 'x'.repeat(5000) } } },
      { at: 23, cert: { san: 'https://github.com/acme/api/.github/workflows/r.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com', untrustedCA: true } },
    ];
    const metrics = createMetrics({ defaultMetrics: false });
    const r = checkRules([{ name: 'acme.yaml', text: "rules:\n  - id: acme\n    severity: high\n    watch: { identities: ['**'], repositories: ['github.com/acme/**'] }\n    expect: { runnerEnvironment: [github-hosted], timeWindow: { timezone: America/New_York, hours: '09:00-17:00' } }\n" }]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const hooks = integrityHooks(metrics, monitorHooks(() => r.ruleSet, metrics), findingOps);
    const h = await t.harness({ api: 'v1', entries: 60, seed: 'hostile-certs', inject }, { batchSize: 20 }, hooks);
    for (let i = 0; i < 10 && (await state())?.verified?.size !== 60n; i++) expect(await h.follower.round()).not.toBe('transient-error');
    expect((await state())!.status).toBe('following');
    expect((await h.metrics.verificationFailures.get()).values).toEqual([]);
    for (let i = 10; i < 24; i++) expect(await h.store.getEntry('sim', i), `entry ${i}`).toBeDefined();
    expect(await expectStoreMatchesManifest(h.store, h.sim, 'sim', 24)).toBe(36);
    expect((await new FindingsRepo(h.store).list({ rule: 'acme', limit: 1000 })).findings.some((f) => f.index === 23)).toBe(true);
    const check = await checkLog(h.store, 'sim');
    expect(check.problems).toEqual([]);
  });
});

describe('a tiles log that signs a tree past 2^53 entries', () => {
  // The log's first leaves exist only as level-48 hashes of its choosing (test/helpers/sparse-tiles-log.ts),
  // so a mirror starting after them finds a well-formed log: tiles that prove the frontier, bundles that
  // hash to the signed root. Entry indexes are safe integers (entries/types.ts): before the refusal, every
  // round ended in "u64 out of range: 9007199254740992" from the store's key encoding, a transient error,
  // for ever, with no halt and no finding.
  const follow = async (offset: bigint) => {
    const h = await t.harness({ api: 'tiles', entries: 8, seed: `sparse-${offset}` });
    const bodies = Array.from({ length: 8 }, (_, i) => h.sim.log.bodies.get(i));
    const log = await startSparseTilesLog({ offset, bodies, origin: h.tlog.name, signer: ed25519Signer(h.sim.log.name, h.sim.log.logKey.privateKey), prefix: '/api/v2' });
    try {
      const metrics = createMetrics({ defaultMetrics: false });
      const follower = new LogFollower({ ...h.follower.cfg, url: log.url, start: offset }, { store: h.store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)] });
      const outcomes = [];
      for (let i = 0; i < 3; i++) outcomes.push(await follower.round());
      return { h, bodies, outcomes, metrics, state: (await state())!, size: log.size };
    } finally {
      await log.close();
    }
  };

  it('is mirrored up to just below 2^53: entries at indexes past 2^52 keep their own index', async () => {
    const offset = (1n << 53n) - (1n << 48n);
    const { h, bodies, state: s, size } = await follow(offset);
    expect(s.status).toBe('following');
    expect(s.verified?.size).toBe(size);
    for (let i = 0; i < bodies.length; i++) {
      const got = (await h.store.getEntry('sim', Number(offset) + i))!;
      expect(got.record.entry.index).toBe(Number(offset) + i);
      expect(got.record.entry.uuid).toBe(toHex(leafHash(bodies[i]!)));
    }
  });

  it('halts at once on a signed checkpoint past 2^53, with the note as evidence, storing nothing', async () => {
    const { h, outcomes, metrics, state: s, size } = await follow(1n << 53n);
    expect(outcomes).toEqual(['halted', 'halted', 'halted']);
    expect(s.status).toBe('halted');
    expect(s.halt?.code).toBe('VERIFY_BAD_CHECKPOINT');
    expect(s.halt?.message).toBe(`checkpoint size ${size} is past 2^53 entries, more than any log can hold or tlogwatch can index`);
    expect(s.halt?.evidence).toMatchObject({ kind: 'bad-checkpoint', reason: 'CHECKPOINT_TOO_LARGE', receivedNote: expect.stringContaining(`\n${size}\n`) });
    expect(s.verified).toBeUndefined();
    expect(await failures(metrics, 'VERIFY_BAD_CHECKPOINT')).toBe(1);
    expect((await checkLog(h.store, 'sim')).entries).toBe(0);
  });
});
