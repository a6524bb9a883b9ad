/**
 * Checkpoint sources (config `checkpointSources`) against a mirror filled from the simulator, each source a
 * real HTTP server on loopback: a checkpoint the log signed is consistent, pending until the mirror gets
 * there, or a split view (a critical finding with both signed notes); a note the log did not sign proves
 * nothing. The forked checkpoints are the simulator's own `fork` fault, switched on only while one is
 * fetched: validly signed by the log, another history than it publishes to the mirror.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import type { CheckpointSourceConfigT } from '../../../src/config/schema.ts';
import { createLogger } from '../../../src/logger.ts';
import { CheckpointSources, type WatchedLog } from '../../../src/monitor/checkpoint-sources.ts';
import { HttpClient } from '../../../src/sources/http.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { verifyLogCheckpoint } from '../../../src/trust/log-checkpoint.ts';
import { harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import { FindingRaiser } from '../../../src/monitor/raise.ts';

let h: Harness | undefined;
const servers: Array<Server | ServerType> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  await h?.cleanup();
  h = undefined;
});

/** A loopback HTTP server answering each path from `routes` (404 otherwise); `routes` may change between requests. */
async function source(routes: Map<string, { status: number; body: string }>): Promise<string> {
  const s = createServer((req, res) => {
    const r = routes.get(req.url ?? '');
    res.writeHead(r?.status ?? 404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(r?.body ?? 'not found');
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** A tiles log of 200 entries, mirrored and verified. */
async function mirrored200(seed: string): Promise<Harness> {
  const m = await harness({ api: 'tiles', entries: 200, seed });
  await roundsUntil(m, async () => (await verified(m)) === 200n);
  return m;
}

/** A source server with no routes yet: the test fills them. */
async function emptySource(): Promise<{ routes: Map<string, { status: number; body: string }>; base: string }> {
  const routes = new Map<string, { status: number; body: string }>();
  return { routes, base: await source(routes) };
}

const checkpointOf = async (h: Harness) => (await fetch(`${h.sim.url}/checkpoint`)).text();
/** The checkpoint a reader sees while the simulator forks its history from `at`: the log's signature, another root. */
async function forkedCheckpoint(h: Harness, at: number): Promise<string> {
  h.sim.faults.enable('fork', at);
  try {
    return await checkpointOf(h);
  } finally {
    h.sim.faults.disable('fork');
  }
}

function watch(h: Harness, sources: CheckpointSourceConfigT[], now?: () => number) {
  const log: WatchedLog = { name: 'sim', origin: h.tlog.name, tlog: h.tlog };
  let notified = 0;
  const w = new CheckpointSources({
    ...(now ? { now } : {}),
    sources,
    logs: () => [log],
    store: h.store,
    metrics: h.metrics,
    logger: createLogger({ level: 'silent' }),
    raiser: new FindingRaiser({ store: h.store, write: findingOps, metrics: h.metrics, onRaised: () => void notified++ }),
    client: new HttpClient({ retries: 0, timeoutMs: 5000 }),
  });
  return { w, notified: () => notified };
}
const src = (name: string, kind: CheckpointSourceConfigT['kind'], url: string, more: Partial<CheckpointSourceConfigT> = {}): CheckpointSourceConfigT => ({ name, kind, url, interval: 300_000, ...more });
const verified = async (h: Harness) => (await h.store.getLogState('sim'))?.verified?.size;
const metric = async (h: Harness, name: string) => (await h.metrics.registry.getSingleMetric(name)!.get()).values;

describe('checkpoint sources: tiles log', () => {
  it('finds a source consistent, a split view critical with both signed notes, and an unsigned note invalid', { timeout: 60_000 }, async () => {
    h = await harness({ api: 'tiles', entries: 300, seed: 'cs1' });
    await roundsUntil(h, async () => (await verified(h!)) === 300n);
    const honest = await checkpointOf(h);
    const forked = await forkedCheckpoint(h, 100);
    expect(verifyLogCheckpoint(forked, h.tlog).size).toBe(300n);
    expect(forked).not.toBe(honest);
    // A note whose root was changed: the log's signature no longer verifies.
    const lines = honest.split('\n');
    const tampered = [lines[0], lines[1], Buffer.alloc(32, 7).toString('base64'), ...lines.slice(3)].join('\n');
    const routes = new Map([
      ['/honest', { status: 200, body: honest }],
      ['/forked', { status: 200, body: forked }],
      ['/tampered', { status: 200, body: tampered }],
      ['/broken', { status: 500, body: 'oops' }],
    ]);
    const base = await source(routes);
    const sources = [
      src('honest', 'checkpoint', `${base}/honest`, { logs: ['sim'] }),
      src('forked', 'checkpoint', `${base}/forked`, { logs: ['sim'] }),
      src('tampered', 'checkpoint', `${base}/tampered`, { logs: ['sim'] }),
      src('missing', 'checkpoint', `${base}/missing/{log}`),
      src('broken', 'checkpoint', `${base}/broken`, { logs: ['sim'] }),
    ];
    const { w, notified } = watch(h, sources);
    const results = [];
    for (const s of sources) results.push(...(await w.checkSource(s)));
    expect(results.map((r) => [r.source, r.result])).toEqual([
      ['honest', 'consistent'],
      ['forked', 'split_view'],
      ['tampered', 'invalid'],
      ['missing', 'absent'],
      ['broken', 'unavailable'],
    ]);
    expect(results[2]!.reason).toMatch(/^not a checkpoint the log signed: /);
    expect(results[3]!.reason).toContain(`${base}/missing/sim`);

    const split = results[1]!.finding!;
    expect(split).toMatchObject({ rule: 'log-integrity', severity: 'critical', kind: 'integrity', log: 'sim', status: 'open' });
    expect(split.message).toMatch(/^log sim: checkpoint source forked shows a tree head of size 300, signed by the log, whose root is not in the history/);
    // Both sides, each signed by the log: anyone can check the proof offline with the log's key.
    const ev = split.evidence as Record<string, string>;
    expect(ev['sourceCheckpoint']).toBe(forked);
    expect(ev['mirrorCheckpoint']).toBe(honest);
    expect(verifyLogCheckpoint(ev['sourceCheckpoint']!, h.tlog).rootHash).not.toEqual(verifyLogCheckpoint(ev['mirrorCheckpoint']!, h.tlog).rootHash);
    expect(ev['mirrorRoot']).toBe(Buffer.from(verifyLogCheckpoint(honest, h.tlog).rootHash).toString('hex'));
    expect(ev['sourceUrl']).toBe(`${base}/forked`);
    expect(await new FindingsRepo(h.store).get(split.id)).toMatchObject({ id: split.id, severity: 'critical' });
    expect(notified()).toBe(1);

    // The same split view again is the same finding, not a second one.
    const again = await w.checkSource(sources[1]!);
    expect(again[0]).toMatchObject({ result: 'split_view', finding: { id: split.id } });
    expect((await new FindingsRepo(h.store).list({ limit: 10 })).findings).toHaveLength(1);
    expect(notified()).toBe(1);
    expect(await metric(h, 'tlogwatch_findings_total')).toEqual([expect.objectContaining({ labels: { rule: 'log-integrity', severity: 'critical' }, value: 1 })]);

    const checks = await metric(h, 'tlogwatch_checkpoint_source_checks_total');
    const count = (source: string, result: string) => checks.find((v) => v.labels['source'] === source && v.labels['result'] === result)?.value;
    expect([count('honest', 'consistent'), count('forked', 'split_view'), count('tampered', 'invalid'), count('missing', 'absent'), count('broken', 'unavailable')]).toEqual([1, 2, 1, 1, 1]);
    expect((await metric(h, 'tlogwatch_checkpoint_source_tree_size')).map((v) => [v.labels['source'], v.value])).toEqual([
      ['honest', 300],
      ['forked', 300],
    ]);
    expect((await metric(h, 'tlogwatch_checkpoint_source_consistent_timestamp_seconds')).map((v) => v.labels['source'])).toEqual(['honest']);
    expect(w.latest('sim').map((c) => c.result)).toEqual(['consistent', 'split_view', 'invalid', 'absent', 'unavailable']);
  });

  it('keeps a tree head past the mirror, and judges it once the mirror has verified that far', { timeout: 60_000 }, async () => {
    h = await mirrored200('cs2');
    const { routes, base } = await emptySource();
    const s = src('peer', 'checkpoint', `${base}/{origin}/checkpoint`);
    const { w } = watch(h, [s]);
    const path = `/${encodeURIComponent(h.tlog.name)}/checkpoint`;

    // Honest, ahead of the mirror: pending, then consistent once the mirror catches up.
    h.sim.append(30);
    routes.set(path, { status: 200, body: await checkpointOf(h) });
    expect((await w.checkSource(s))[0]).toMatchObject({ result: 'pending', size: 230n, reason: expect.stringMatching(/past the 200 entries/) });
    await roundsUntil(h, async () => (await verified(h!)) === 230n);
    expect((await w.checkSource(s))[0]).toMatchObject({ result: 'consistent', size: 230n });

    // Forked, ahead of the mirror: kept while the source moves on to honest checkpoints, and judged a
    // split view once the mirror has verified the size it was of.
    h.sim.append(20);
    const forked = await forkedCheckpoint(h, 220);
    routes.set(path, { status: 200, body: forked });
    expect((await w.checkSource(s))[0]).toMatchObject({ result: 'pending', size: 250n });
    h.sim.append(5);
    routes.set(path, { status: 200, body: await checkpointOf(h) });
    expect((await w.checkSource(s))[0]).toMatchObject({ result: 'pending', size: 255n });
    await roundsUntil(h, async () => (await verified(h!)) === 255n);
    const [judged, now] = await w.checkSource(s);
    expect(judged).toMatchObject({ result: 'split_view', size: 250n, finding: { severity: 'critical', evidence: { sourceCheckpoint: forked, size: '250' } } });
    // The honest checkpoint the source serves now is judged in the same round, and nothing is kept after it.
    expect(now).toMatchObject({ result: 'consistent', size: 255n });
    expect(await w.checkSource(s)).toMatchObject([{ result: 'consistent', size: 255n }]);

    // A source always a little ahead of the mirror: each checkpoint is judged a round later.
    h.sim.append(10);
    routes.set(path, { status: 200, body: await checkpointOf(h) });
    expect(await w.checkSource(s)).toMatchObject([{ result: 'pending', size: 265n }]);
    await roundsUntil(h, async () => (await verified(h!)) === 265n);
    h.sim.append(10);
    routes.set(path, { status: 200, body: await checkpointOf(h) });
    expect(await w.checkSource(s)).toMatchObject([
      { result: 'consistent', size: 265n },
      { result: 'pending', size: 275n },
    ]);
    // A kept tree head is judged even in a round the source fails.
    await roundsUntil(h, async () => (await verified(h!)) === 275n);
    routes.set(path, { status: 503, body: 'down' });
    expect(await w.checkSource(s)).toMatchObject([
      { result: 'consistent', size: 275n },
      { result: 'unavailable', reason: expect.stringMatching(/HTTP 503/) },
    ]);
    expect(w.latest('sim')).toMatchObject([{ source: 'peer', result: 'unavailable', consistentAt: expect.any(Number) }]);
  });

  it('says how long a source has had a larger signed tree than the log shows the mirror, per size first seen ahead', { timeout: 60_000 }, async () => {
    h = await mirrored200('cs7');
    const { routes, base } = await emptySource();
    const s = src('peer', 'checkpoint', `${base}/cp`, { logs: ['sim'] });
    let clock = 1_000_000_000_000;
    const { w } = watch(h, [s], () => clock);
    const serve = async (n: number) => {
      h!.sim.append(n);
      routes.set('/cp', { status: 200, body: await checkpointOf(h!) });
    };
    // The mirror is not polled meanwhile: the log has shown it 200.
    await serve(30);
    await w.checkSource(s);
    expect(w.aheadOf('sim')).toEqual({ source: 'peer', size: 230n, since: 1_000_000_000 });
    // Still behind 230 when the source is at 260: the same episode, from the first size seen ahead.
    clock += 300_000;
    await serve(30);
    await w.checkSource(s);
    expect(w.aheadOf('sim')).toEqual({ source: 'peer', size: 230n, since: 1_000_000_000 });
    // Once the log has shown the mirror 230, a source still a little ahead starts a new episode.
    await h.follower.round();
    expect((await h.store.getLogState('sim'))!.upstream!.size).toBe(260n);
    clock += 300_000;
    await serve(10);
    await w.checkSource(s);
    expect(w.aheadOf('sim')).toEqual({ source: 'peer', size: 270n, since: 1_000_000_600 });
    // And none once the source is no longer ahead.
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))!.upstream!.size === 270n);
    await w.checkSource(s);
    expect(w.aheadOf('sim')).toBeUndefined();
  });

  it('keeps a tree head past the mirror across a restart', { timeout: 60_000 }, async () => {
    h = await mirrored200('cs6');
    const { routes, base } = await emptySource();
    const s = src('peer', 'checkpoint', `${base}/cp`, { logs: ['sim'] });
    h.sim.append(20);
    const forked = await forkedCheckpoint(h, 205);
    routes.set('/cp', { status: 200, body: forked });
    expect(await watch(h, [s]).w.checkSource(s)).toMatchObject([{ result: 'pending', size: 220n }]);
    expect(await h.store.getKeptCheckpoint('peer', 'sim')).toBe(forked);

    // A new daemon (the same store), the source honest again by now, the mirror past the kept size.
    routes.set('/cp', { status: 200, body: await checkpointOf(h) });
    await roundsUntil(h, async () => (await verified(h!)) === 220n);
    const after = watch(h, [s]).w;
    const [judged, now] = await after.checkSource(s);
    expect(judged).toMatchObject({ result: 'split_view', size: 220n, finding: { evidence: { sourceCheckpoint: forked } } });
    expect(now).toMatchObject({ result: 'consistent', size: 220n });
    expect(await h.store.getKeptCheckpoint('peer', 'sim')).toBeUndefined();

    // A kept note that no longer verifies (damaged, or the log's key changed since) is dropped, not judged.
    await h.store.putKeptCheckpoint('peer', 'sim', forked.replace('\n220\n', '\n221\n'));
    expect(await watch(h, [s]).w.checkSource(s)).toMatchObject([{ result: 'consistent', size: 220n }]);
    expect(await h.store.getKeptCheckpoint('peer', 'sim')).toBeUndefined();
  });

  it('reads the latest verified checkpoint of a peer tlogwatch, and a distributor by the log ID of its origin', { timeout: 60_000 }, async () => {
    h = await harness({ api: 'tiles', entries: 120, seed: 'cs3' });
    await roundsUntil(h, async () => (await verified(h!)) === 120n);
    // The peer is a real tlogwatch API over this very mirror.
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    const peer = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    servers.push(peer);
    await new Promise((r) => peer.once('listening', r));
    const peerUrl = `http://127.0.0.1:${(peer.address() as AddressInfo).port}/`;
    // transparency-dev/formats log/identifier.go: hex SHA-256("o:" + origin).
    const logID = createHash('sha256').update(`o:${h.tlog.name}`).digest('hex');
    const base = await source(new Map([[`/distributor/v0/logs/${logID}/checkpoint.2`, { status: 200, body: await checkpointOf(h) }]]));
    const sources = [src('peer', 'tlogwatch', peerUrl), src('dist', 'distributor', base, { witnesses: 2 }), src('dist1', 'distributor', base)];
    const { w } = watch(h, sources);
    const results = [];
    for (const s of sources) results.push(...(await w.checkSource(s)));
    expect(results.map((r) => [r.source, r.result, r.size])).toEqual([
      ['peer', 'consistent', 120n],
      ['dist', 'consistent', 120n],
      ['dist1', 'absent', undefined],
    ]);
    expect(results[2]!.reason).toContain(`/distributor/v0/logs/${logID}/checkpoint.1`);
  });

  it('sends a source its bearer token', { timeout: 60_000 }, async () => {
    h = await harness({ api: 'tiles', entries: 50, seed: 'cs-token' });
    await roundsUntil(h, async () => (await verified(h!)) === 50n);
    const honest = await checkpointOf(h);
    const s = createServer((req, res) => {
      if (req.headers.authorization !== 'Bearer peer-token-0123456789') res.writeHead(401).end('who are you');
      else res.writeHead(200).end(honest);
    });
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}/cp`;
    const sources = [src('with', 'checkpoint', base, { logs: ['sim'], token: 'peer-token-0123456789' }), src('without', 'checkpoint', base, { logs: ['sim'] })];
    const { w } = watch(h, sources);
    expect(await w.checkSource(sources[0]!)).toMatchObject([{ result: 'consistent' }]);
    expect(await w.checkSource(sources[1]!)).toMatchObject([{ result: 'unavailable', reason: expect.stringMatching(/HTTP 401/) }]);
  });

  it('cannot judge a tree head from before where the mirror started', { timeout: 60_000 }, async () => {
    h = await harness({ api: 'tiles', entries: 150, seed: 'cs4' }, { start: 'latest' });
    const early = await checkpointOf(h);
    h.sim.append(50);
    await roundsUntil(h, async () => (await verified(h!)) === 200n);
    const base = await source(new Map([['/early', { status: 200, body: early }]]));
    const s = src('old', 'checkpoint', `${base}/early`, { logs: ['sim'] });
    const { w } = watch(h, [s]);
    expect((await w.checkSource(s))[0]).toMatchObject({ result: 'not_comparable', size: 150n, reason: expect.stringMatching(/before where the mirror starts/) });
  });
});

describe('checkpoint sources: hostile sources', () => {
  it('whatever a source answers, a round ends in a result, never a throw, and raises nothing it cannot prove', { timeout: 120_000 }, async () => {
    h = await harness({ api: 'tiles', entries: 100, seed: 'cs-hostile' });
    await roundsUntil(h, async () => (await verified(h!)) === 100n);
    const honest = await checkpointOf(h);
    let reply: { status: number; body: Buffer } = { status: 200, body: Buffer.from(honest) };
    const s = createServer((_req, res) => {
      res.writeHead(reply.status).end(reply.body);
    });
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const sources = [src('note', 'checkpoint', `${base}/{log}`), src('peer', 'tlogwatch', base), src('dist', 'distributor', base), src('rekor', 'rekor', base)];
    const { w } = watch(h, sources);
    // Mutations of the honest note (text), JSON a peer might send, and arbitrary bytes; statuses too.
    const mutated = fc.tuple(fc.nat(), fc.string({ maxLength: 6 }), fc.nat({ max: 8 })).map(([at, ins, del]) => {
      const i = at % (honest.length + 1);
      return Buffer.from(honest.slice(0, i) + ins + honest.slice(i + del));
    });
    const peerJson = fc
      .oneof(fc.jsonValue(), fc.record({ checkpoints: fc.array(fc.record({ note: fc.oneof(fc.string(), fc.constant(honest)) }), { maxLength: 2 }) }), fc.record({ signedTreeHead: fc.oneof(fc.string(), fc.constant(honest)) }))
      .map((j) => Buffer.from(JSON.stringify(j)));
    const body = fc.oneof(mutated, peerJson, fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)));
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(200, 200, 200, 404, 400, 500), async (b, status) => {
        reply = { status, body: b };
        for (const source of sources) {
          const results = await w.checkSource(source);
          expect(results.length).toBeGreaterThan(0);
          for (const r of results) expect(['consistent', 'invalid', 'absent', 'unavailable']).toContain(r.result);
        }
      }),
      { numRuns: 150 },
    );
    expect((await new FindingsRepo(h.store).list({ limit: 10 })).findings).toEqual([]);
  });
});

describe('checkpoint sources: Rekor v1 log', () => {
  it('names the current tree in the origin, and judges a retired shard by its final checkpoint', { timeout: 60_000 }, async () => {
    h = await harness({ api: 'v1', entries: 300, shards: 2, seed: 'cs5' });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.shard?.seq === 1 && (await verified(h!)) === BigInt(h!.sim.log.size) - (await h!.store.getLogState('sim'))!.shard!.offset);
    const info = (await (await fetch(`${h.sim.url}/api/v1/log`)).json()) as { signedTreeHead: string; treeID: string; inactiveShards: Array<{ signedTreeHead: string; treeID: string }> };
    const state = (await h.store.getLogState('sim'))!;
    const routes = new Map([
      [`/${createHash('sha256').update(`${h.tlog.name} - ${info.treeID}`).digest('hex')}`, { status: 200, body: info.signedTreeHead }],
      ['/retired', { status: 200, body: info.inactiveShards[0]!.signedTreeHead }],
    ]);
    const base = await source(routes);
    // The Rekor v1 API itself (the log through another path), and this mirror's Rekor-compatible one.
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    const mirrorApi = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    servers.push(mirrorApi);
    await new Promise((r) => mirrorApi.once('listening', r));
    const sources = [
      src('current', 'checkpoint', `${base}/{originSha256}`),
      src('retired', 'checkpoint', `${base}/retired`, { logs: ['sim'] }),
      src('rekor', 'rekor', h.sim.url),
      src('mirror', 'rekor', `http://127.0.0.1:${(mirrorApi.address() as AddressInfo).port}`),
    ];
    const { w } = watch(h, sources);
    const results = [];
    for (const s of sources) results.push(...(await w.checkSource(s)));
    // A Rekor v1 API also lists its inactive shards' final tree heads: each judged too, the current one last.
    expect(results.map((r) => [r.source, r.result, r.size])).toEqual([
      ['current', 'consistent', state.verified!.size],
      ['retired', 'consistent', BigInt(info.inactiveShards[0]!.signedTreeHead.split('\n')[1]!)],
      ['rekor', 'consistent', BigInt(info.inactiveShards[0]!.signedTreeHead.split('\n')[1]!)],
      ['rekor', 'consistent', state.verified!.size],
      ['mirror', 'consistent', BigInt(info.inactiveShards[0]!.signedTreeHead.split('\n')[1]!)],
      ['mirror', 'consistent', state.verified!.size],
    ]);
    expect(w.latest('sim').map((c) => [c.source, c.size])).toEqual([
      ['current', state.verified!.size],
      ['retired', BigInt(info.inactiveShards[0]!.signedTreeHead.split('\n')[1]!)],
      ['rekor', state.verified!.size],
      ['mirror', state.verified!.size],
    ]);
    // The size in the log's own numbering: the current tree's entries after the retired shard's.
    const size = Number(state.shard!.offset + state.verified!.size);
    expect((await metric(h, 'tlogwatch_checkpoint_source_tree_size')).map((v) => [v.labels['source'], v.value])).toEqual([
      ['current', size],
      ['rekor', size],
      ['mirror', size],
    ]);
    // /v1/logs says the same, beside upstreamSize; each tree head's own tree and size too, a retired tree's alone.
    const viewed = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], checkpointSources: (l) => w.latest(l) });
    const [view] = (await (await viewed.request('/v1/logs')).json()) as Array<{ upstreamSize: number; checkpointSources: Array<{ source: string; size?: number; tree?: { id: string; size: number } }> }>;
    const retiredSize = Number(info.inactiveShards[0]!.signedTreeHead.split('\n')[1]!);
    expect(view!.upstreamSize).toBe(size);
    expect(view!.checkpointSources.map((c) => [c.source, c.size, c.tree])).toEqual([
      ['current', size, { id: info.treeID, size: Number(state.verified!.size) }],
      ['retired', undefined, { id: info.inactiveShards[0]!.treeID, size: retiredSize }],
      ['rekor', size, { id: info.treeID, size: Number(state.verified!.size) }],
      ['mirror', size, { id: info.treeID, size: Number(state.verified!.size) }],
    ]);
  });
});
