/** The HTTP API over a mirror filled from the simulator, compared with manifest.jsonl; hostile queries never 5xx. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { checkpointIntakeRoutes } from '../../../src/api/checkpoints-post.ts';
import { bundleIntakeRoutes } from '../../../src/api/bundles-post.ts';
import { findingsRoutes } from '../../../src/api/findings.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { verifyInclusion, verifyConsistency } from '../../../src/merkle/proof.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { createLogger } from '../../../src/logger.ts';
import { verifySET } from '../../../src/entries/set.ts';
import { checkpointVerifierForTlog, parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import { readJson, REALDATA } from '../../helpers/realdata.ts';
import type { Hono } from 'hono';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { request as httpRequest } from 'node:http';
import { FindingRaiser } from '../../../src/monitor/raise.ts';
import { createPublicKey } from 'node:crypto';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hexb = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const postJson = (app: Hono, path: string, body: unknown) => app.request(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** A Rekor v1 mirror of 700 entries in three trees (233, 233, 234), caught up to the last, and its API. */
async function shardedV1Mirror(seed: string, inject?: NonNullable<Parameters<typeof harness>[0]['inject']>): Promise<{ h: Harness; app: Hono }> {
  const h = await harness({ api: 'v1', entries: 700, seed, shards: 3, ...(inject ? { inject } : {}) }, { batchSize: 100 });
  await roundsUntil(h, async () => {
    const s = await h.store.getLogState('sim');
    return s?.shard?.seq === 2 && s.verified?.size === BigInt(700 - 2 * 233);
  });
  return { h, app: createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], logPublicKey: () => h.tlog.spki }) };
}

function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}

describe.each(['tiles', 'v1'] as const)('API over a %s mirror', (api) => {
  let h: Harness;
  let app: Hono;
  let m: any[];
  const TOKEN = 'test-admin-token-0123456789';
  beforeAll(async () => {
    h = await harness({ api, entries: 600, seed: `api-${api}` });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 600n);
    app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], adminToken: TOKEN });
    m = manifestOf(h.sim);
  }, 60_000);
  afterAll(() => h.cleanup());

  const get = async (path: string) => {
    const res = await app.request(path);
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  };

  it('GET /v1/logs reports the verified state', async () => {
    const { body } = await get('/v1/logs');
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({ name: 'sim', verifiedSize: 600, upstreamSize: 600, lag: 0, state: 'following' });
  });

  it('searches by digest (prefixed and bare), newest first, and finds exactly the manifest entries', async () => {
    for (const line of [m[0], m[299], m[599]]) {
      const d = line.digests[0];
      const a = await get(`/v1/search?digest=${d}`);
      expect(a.status).toBe(200);
      const want = m.filter((x) => x.digests.includes(d)).map((x) => x.index).reverse();
      expect(a.body.entries.map((e: any) => e.index)).toEqual(want);
      expect(a.body.entries[0].uuid).toBe(m[want[0]].uuid);
      expect((await get(`/v1/search?digest=${d.slice(7)}`)).body.entries.length).toBe(want.length);
    }
  });

  it('searches by identity (exact and prefix), repository, issuer and build signer, with paging', async () => {
    const withSan = m.filter((x) => x.san?.startsWith('https://github.com/'));
    const san = withSan[0].san;
    const exact = m.filter((x) => x.san === san).map((x) => x.index).reverse();
    const r = await get(`/v1/search?identity=${encodeURIComponent(san)}&limit=1000`);
    expect(r.body.entries.map((e: any) => e.index)).toEqual(exact);
    const repo = withSan[0].repository;
    const byRepo = m.filter((x) => x.repository === repo).map((x) => x.index).reverse();
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const p: any = await get(`/v1/search?repository=${encodeURIComponent(repo)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(...p.body.entries.map((e: any) => e.index));
      cursor = p.body.next;
    } while (cursor);
    expect(pages).toEqual(byRepo);
    const owner = repo.split('/').slice(0, 4).join('/');
    const prefix = await get(`/v1/search?identity=${encodeURIComponent(owner)}*&limit=1000`);
    expect(prefix.body.entries.length).toBe(m.filter((x) => x.san?.startsWith(owner)).length);
    // The owner claim (Fulcio .16) is the repository URI's first two path segments in the simulator's certificates.
    const byOwner = await get(`/v1/search?owner=${encodeURIComponent(owner)}&limit=1000`);
    const ownerWant = m.filter((x) => x.repository?.startsWith(`${owner}/`)).map((x) => x.index).reverse();
    expect(ownerWant.length).toBeGreaterThan(0);
    expect(byOwner.body.entries.map((e: any) => e.index)).toEqual(ownerWant);
    // As a second selector it filters the first one's page.
    expect((await get(`/v1/search?repository=${encodeURIComponent(repo)}&owner=${encodeURIComponent(owner)}&limit=1000`)).body.entries.map((e: any) => e.index)).toEqual(byRepo);
    expect((await get(`/v1/search?repository=${encodeURIComponent(repo)}&owner=${encodeURIComponent(`${owner}-not`)}&limit=1000`)).body.entries).toEqual([]);
    const bs = await get(`/v1/search?buildSigner=${encodeURIComponent(withSan[0].buildSigner)}&limit=1000`);
    expect(bs.body.entries.length).toBe(m.filter((x) => x.buildSigner === withSan[0].buildSigner).length);
    const iss = await get(`/v1/search?issuer=${encodeURIComponent('https://token.actions.githubusercontent.com')}&limit=1000`);
    expect(iss.body.entries.length).toBe(Math.min(1000, withSan.length));
  });

  it('filters by time window', async () => {
    if (api === 'tiles') return; // v2 entries are ordered by when the mirror saw them
    const t0 = m[100].integratedTime;
    const t1 = m[200].integratedTime;
    const issuer = encodeURIComponent('https://token.actions.githubusercontent.com');
    const r = await get(`/v1/search?issuer=${issuer}&since=${t0}&until=${new Date(t1 * 1000).toISOString()}&limit=1000`);
    for (const e of r.body.entries) expect(e.integratedTime >= t0 && e.integratedTime <= t1).toBe(true);
    expect(r.body.entries.length).toBe(m.filter((x) => x.issuer === 'https://token.actions.githubusercontent.com' && x.integratedTime >= t0 && x.integratedTime <= t1).length);
    // A cursor only pages down within the window: one from a query without `until` does not lift it.
    const first = await get(`/v1/search?issuer=${issuer}&limit=2`);
    expect(first.body.next).toBeTruthy();
    const windowed = await get(`/v1/search?issuer=${issuer}&until=${t1}&limit=1000&cursor=${first.body.next}`);
    expect(windowed.status).toBe(200);
    expect(windowed.body.entries.length).toBeGreaterThan(0);
    for (const e of windowed.body.entries) expect(e.integratedTime).toBeLessThanOrEqual(t1);
  });

  it('lists every entry by time when no selector is given, newest first, paged and windowed', async () => {
    const time = (e: any) => e.integratedTime ?? e.observedAt;
    const all: any[] = [];
    let cursor: string | null = null;
    do {
      const p: any = await get(`/v1/search?limit=128${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.status).toBe(200);
      all.push(...p.body.entries);
      cursor = p.body.next;
    } while (cursor);
    // Every mirrored entry exactly once (the manifest is the ground truth), ordered by (time, index) descending.
    expect(all.map((e) => e.index).sort((a, b) => a - b)).toEqual(m.map((x) => x.index));
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1], all[i]];
      expect(time(a) > time(b) || (time(a) === time(b) && a.index > b.index), `${a.index} before ${b.index}`).toBe(true);
    }
    expect((await get('/v1/search')).body.entries.map((e: any) => e.index)).toEqual(all.slice(0, 50).map((e) => e.index));
    if (api === 'v1') {
      const [t0, t1] = [m[100].integratedTime, m[200].integratedTime];
      const w = await get(`/v1/search?since=${t0}&until=${t1}&limit=1000`);
      expect(w.body.entries.map((e: any) => e.index).sort((a: number, b: number) => a - b)).toEqual(m.filter((x) => x.integratedTime >= t0 && x.integratedTime <= t1).map((x) => x.index));
    }
  });

  it('serves entries with body and an inclusion proof against the verified checkpoint', async () => {
    const root = parseTrustedRoot(readJson(h.sim.trustedRootPath));
    for (const i of [0, 255, 256, 599]) {
      const { status, body } = await get(`/v1/entries/sim/${i}?include=body,proof`);
      expect(status).toBe(200);
      expect(body.uuid).toBe(m[i].uuid);
      expect(body.verified).toBe(true);
      const p = body.inclusionProof;
      verifyInclusion(BigInt(p.logIndex), BigInt(p.treeSize), leafHash(b64(body.body)), p.hashes.map(b64), b64(p.rootHash));
      verifyCheckpoint(p.checkpoint, undefined, [checkpointVerifierForTlog(root.tlogs[0]!)]);
    }
    const byUuid = await get(`/v1/entries/by-uuid/${m[7].uuid}`);
    expect(byUuid.body.entries[0].index).toBe(7);
    const cps = await get('/v1/logs/sim/checkpoints');
    expect(cps.body.checkpoints[0].size).toBe(600);
  });

  it('answers errors as JSON with the right status', async () => {
    for (const [path, status] of [
      ['/v1/search?digest=sha256:xyz', 400],
      ['/v1/search?cursor=AAAA', 400],
      ['/v1/logs?x=1', 400],
      ['/v1/entries/by-uuid/' + '0'.repeat(64) + '?x=1', 400],
      ['/v1/entries/sim/1/bundle?x=1', 400],
      ['/v1/search?digest=sha256:' + 'a'.repeat(64) + '&bogus=1', 400],
      ['/v1/search?digest=sha256:' + 'a'.repeat(64) + '&limit=5000', 400],
      ['/v1/entries/sim/999999', 404],
      ['/v1/entries/sim/-1', 400],
      ['/v1/entries/nolog/1', 404],
      ['/v1/nothing', 404],
    ] as const) {
      const r = await get(path);
      expect(r.status, path).toBe(status);
      expect(r.body.error.code, path).toMatch(/^API_/);
      expect(r.body.error.message).toBeTypeOf('string');
    }
    // A malformed fingerprint is told what one looks like, not the regular expression it failed.
    expect((await get('/v1/search?fingerprint=zz')).body.error).toEqual({ code: 'API_BAD_REQUEST', message: 'fingerprint: sha256:HEX or 64 bare hex digits, lower case' });
    // An unknown parameter with the one it most likely misspells (`repo` is too far from any), else those the route takes.
    expect((await get('/v1/search?repositry=https://github.com/acme/api')).body.error).toEqual({ code: 'API_BAD_REQUEST', message: 'unknown parameter repositry (did you mean repository?)' });
    expect((await get('/v1/search?repo=https://github.com/acme/api')).body.error.message).toBe('unknown parameter repo; allowed here: digest, fingerprint, identity, repository, owner, buildSigner, issuer, since, until, limit, cursor');
    expect((await get('/v1/entries/sim/1?inclde=body')).body.error.message).toBe('unknown parameter inclde (did you mean include?)');
    expect((await get('/v1/logs?x=1')).body.error.message).toBe('unknown parameter x: this route takes no query parameters');
    // An entry the mirror cannot give: a log it does not mirror, named with those it does; an index past what it holds.
    for (const path of ['/v1/entries/other/1', '/v1/entries/other/1/bundle']) expect((await get(path)).body.error).toEqual({ code: 'API_NOT_FOUND', message: 'no log named other in this mirror (it mirrors sim)' });
    const logs = (await get('/v1/logs')).body as Array<{ mirroredFrom: number; verifiedSize: number }>;
    for (const path of ['/v1/entries/sim/9999999', '/v1/entries/sim/9999999/bundle']) {
      expect((await get(path)).body.error).toEqual({ code: 'API_NOT_FOUND', message: `no mirrored entry sim/9999999: the mirror holds sim from index ${logs[0]!.mirroredFrom}, verified up to size ${logs[0]!.verifiedSize} (GET /v1/logs)` });
    }
  });

  it('limits request bodies on POST, over real HTTP, and never reads one sent with a GET', async () => {
    const small = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], maxBodyBytes: 4096 });
    const server = serve({ fetch: small.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const big = JSON.stringify({ hash: 'sha256:' + 'a'.repeat(64), pad: 'x'.repeat(8192) });
      const declared = await fetch(`${url}/api/v1/index/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
      expect(declared.status).toBe(413);
      expect(((await declared.json()) as any).code).toBe(413);
      // Chunked, with no Content-Length: the limit is enforced while the body streams in.
      const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(big)), c.close()) });
      const chunked = await fetch(`${url}/api/v1/index/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' });
      expect(chunked.status).toBe(413);
      const ok = await fetch(`${url}/api/v1/index/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hash: `sha256:${m[0].digests[0].slice(7)}` }) });
      expect(ok.status).toBe(api === 'v1' ? 200 : 404); // the Rekor-compatible API serves Rekor v1 logs only
      // A GET carrying a body is answered as the GET it is (the body is never read or buffered).
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${url}/v1/logs`, { method: 'GET', headers: { 'content-length': String(big.length) } }, (r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode!, body }));
        });
        req.on('error', reject);
        req.end(big);
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)[0].name).toBe('sim');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('never answers a hostile query with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('digest', 'identity', 'repository', 'owner', 'buildSigner', 'issuer', 'since', 'until', 'limit', 'cursor', 'x', 'fingerprint'), fc.string({ maxLength: 80 }), { maxKeys: 4 }), async (params) => {
        const res = await app.request(`/v1/search?${new URLSearchParams(params).toString()}`);
        expect(res.status).toBeLessThan(500);
        await res.json();
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), async (a, b) => {
        const res = await app.request(`/v1/entries/${encodeURIComponent(a)}/${encodeURIComponent(b)}?include=proof`);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  });

  it('never answers a hostile Rekor-compatible request with a 5xx', async () => {
    const id = fc.oneof(fc.string({ maxLength: 90 }), fc.constantFrom(m[1].uuid, '0'.repeat(80), 'f'.repeat(80), `${'0'.repeat(16)}${m[1].uuid}`, `${'f'.repeat(16)}${m[1].uuid}`));
    const index = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(2 ** 53, 1e300, 599, 600));
    const retrieve = fc.record({ entryUUIDs: fc.array(id, { maxLength: 4 }), logIndexes: fc.array(index, { maxLength: 4 }), entries: fc.array(fc.jsonValue(), { maxLength: 2 }) }, { requiredKeys: [] });
    const hex = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });
    const search = fc.record(
      {
        hash: fc.oneof(fc.string(), hex(40, 130), hex(40, 130).map((h) => `sha512:${h}`)),
        email: fc.oneof(fc.string(), fc.emailAddress()),
        subject: fc.string(),
        publicKey: fc.record({ format: fc.oneof(fc.string(), fc.constantFrom('x509', 'ssh', 'pgp', 'minisign', 'tuf')), content: fc.oneof(fc.string(), fc.uint8Array().map((u) => Buffer.from(u).toString('base64'))) }, { requiredKeys: [] }),
        operator: fc.oneof(fc.string(), fc.constantFrom('and', 'or')),
      },
      { requiredKeys: [] },
    );
    const body = (shape: fc.Arbitrary<unknown>) => fc.oneof(shape.map((v) => JSON.stringify(v)), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string());
    // Never a 5xx, and errors in Rekor's shape (rekor-parity.test.ts fuzzes every route over real HTTP).
    const answers = async (res: Response) => {
      expect(res.status).toBeLessThan(500);
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status >= 400) expect(Object.keys(body).sort()).toEqual(['code', 'message']);
    };
    await fc.assert(
      fc.asyncProperty(body(retrieve), body(search), async (r, q) => {
        await answers(await app.request('/api/v1/log/entries/retrieve', { method: 'POST', body: r, headers: { 'content-type': 'application/json' } }));
        await answers(await app.request('/api/v1/index/retrieve', { method: 'POST', body: q, headers: { 'content-type': 'application/json' } }));
      }),
      { numRuns: 200 },
    );
    const param = fc.oneof(fc.string({ maxLength: 30 }), fc.nat().map(String), fc.constantFrom('0', '1', '600', '601', '-1', '1e3', '18446744073709551616', '9223372036854775808'));
    await fc.assert(
      fc.asyncProperty(param, param, param, id, async (a, b, t, u) => {
        const e = encodeURIComponent;
        for (const path of [`/api/v1/log/proof?firstSize=${e(a)}&lastSize=${e(b)}&treeID=${e(t)}`, `/api/v1/log/proof?firstSize=${e(a)}&lastSize=${e(b)}`, `/api/v1/log/entries?logIndex=${e(a)}`, `/api/v1/log/entries/${e(u)}`, `/api/v1/log/publicKey?treeID=${e(t)}`, `/v1/entries/by-uuid/${e(u)}`]) {
          const res = await app.request(path);
          expect(res.status, path).toBeLessThan(500);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('exposes metrics, health, readiness and OpenAPI', async () => {
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/tlogwatch_verified_tree_size\{log="sim"\} 600/);
    expect(metrics).toMatch(/tlogwatch_entries_ingested_total\{log="sim",kind="hashedrekord"\}/);
    expect(metrics).toMatch(/tlogwatch_store_bytes/);
    if (process.platform === 'linux') expect(metrics).toMatch(/^tlogwatch_resident_memory_bytes\{kind="file"\} [1-9]\d*$/m);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).body.status).toBe('ready');
    const oa = (await get('/openapi.json')).body;
    expect(oa.paths['/v1/search'].get.parameters.map((p: any) => p.name)).toContain('digest');
    // Every route the daemon's app serves (with the findings and bundle routes it adds) is documented, and nothing else.
    const rules = checkRules([]);
    if (!rules.ok) throw new Error('rules');
    const full = createApp({
      store: h.store,
      metrics: h.metrics,
      logger: createLogger({ level: 'silent' }),
      logNames: () => ['sim'],
      adminToken: TOKEN,
      extend: (a, helpers) => {
        findingsRoutes(a, helpers, new FindingsRepo(h.store));
        bundleIntakeRoutes(a, helpers, { store: h.store, logs: [], rules: () => rules.ruleSet, raiser: new FindingRaiser({ store: h.store, write: findingOps, metrics: h.metrics }) });
        checkpointIntakeRoutes(a, helpers, { store: h.store, logger: createLogger({ level: 'silent' }), raiser: new FindingRaiser({ store: h.store, write: findingOps, metrics: h.metrics }), logs: [] });
      },
    });
    const served = full.routes.filter((r) => r.method !== 'ALL' && !r.path.endsWith('*')).map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    const documented = Object.entries(oa.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect([...new Set(served)].sort()).toEqual(documented.sort());
    expect(oa.paths['/v1/bundles'].post.security).toEqual([{ adminToken: [] }]);
    expect(oa.paths['/v1/checkpoints'].post.security).toEqual([{ adminToken: [] }]);
    expect(oa.paths['/api/v1/log/proof'].get.parameters.map((p: any) => p.name)).toEqual(['firstSize', 'lastSize', 'treeID']);
    expect(Object.keys(oa.paths['/api/v1/log/entries/retrieve'].post.requestBody.content['application/json'].schema.properties)).toEqual(['entryUUIDs', 'logIndexes', 'entries']);
    const res = await app.request('/healthz');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves Rekor-compatible reads with the upstream SETs and checkpoints', async () => {
    if (api !== 'v1') {
      expect((await get('/api/v1/log')).status).toBe(404);
      return;
    }
    const root = parseTrustedRoot(readJson(h.sim.trustedRootPath));
    const tlog = root.tlogs[0]!;
    const info = (await get('/api/v1/log')).body;
    expect(shape({ ...info, inactiveShards: undefined })).toEqual(shape({ ...(readJson(`${REALDATA}/rekor-v1-api/staging_loginfo_8202293616175992157_size1352764.json`) as object), inactiveShards: undefined }));
    const byIndex = (await get('/api/v1/log/entries?logIndex=42')).body;
    const [id, e] = Object.entries(byIndex)[0] as [string, any];
    expect(id.slice(16)).toBe(m[42].uuid);
    const real = Object.values(readJson(`${REALDATA}/rekor-v1-api/staging_entry_1688_shard108574341321668964.json`) as object)[0];
    expect(shape(e)).toEqual(shape(real));
    verifySET({ body: b64(e.body), integratedTime: BigInt(e.integratedTime), logId: hexb(e.logID), logIndex: 42n, set: b64(e.verification.signedEntryTimestamp) }, tlog.spki);
    const p = e.verification.inclusionProof;
    verifyInclusion(BigInt(p.logIndex), BigInt(p.treeSize), leafHash(b64(e.body)), p.hashes.map(hexb), hexb(p.rootHash));
    const viaUuid = (await get(`/api/v1/log/entries/${id}`)).body;
    expect(Object.keys(viaUuid)[0]).toBe(id);
    const post = (path: string, body: unknown) => postJson(app, path, body);
    expect((await post('/api/v1/log/entries/retrieve', { logIndexes: Array.from({ length: 11 }, (_, i) => i) })).status).toBe(422);
    // An empty list is refused as Rekor's openapi (minItems: 1) has go-swagger refuse it.
    for (const k of ['entryUUIDs', 'logIndexes', 'entries']) {
      const other = k === 'logIndexes' ? { entryUUIDs: [m[3].uuid] } : { logIndexes: [1] };
      const r = await post('/api/v1/log/entries/retrieve', { ...other, [k]: [] });
      expect(r.status, k).toBe(422);
      // go-openapi's MinItemsFailCode (611) in the body, as Rekor's server sends it with its 422.
      expect(await r.json()).toEqual({ code: 611, message: `${k} in body should have at least 1 items` });
    }
    const got = (await (await post('/api/v1/log/entries/retrieve', { logIndexes: [1, 2, 99999], entryUUIDs: [m[3].uuid] })).json()) as Array<Record<string, { logIndex: number }>>;
    // Rekor's order: the entries asked for by UUID first, then those by index.
    expect(got.map((x) => Object.values(x)[0]!.logIndex)).toEqual([3, 1, 2]);
    // A proposed hashedrekord (as cosign's FindTlogEntry sends it; its PEM wrapped otherwise) finds the
    // entry Rekor made of it, between the UUID and index results.
    const hr = m.find((l: any) => l.kind === 'hashedrekord' && l.index > 3)!;
    const logged = JSON.parse(Buffer.from(b64(Object.values((await get(`/api/v1/log/entries?logIndex=${hr.index}`)).body as Record<string, any>)[0].body)).toString());
    const pem = Buffer.from(logged.spec.signature.publicKey.content, 'base64').toString().replace(/\n/g, '\r\n');
    const proposal = { ...logged, spec: { ...logged.spec, signature: { ...logged.spec.signature, publicKey: { content: Buffer.from(pem).toString('base64') } } } };
    // Rekor's order: entry IDs (80 hex) first, then leaf hashes (UUIDs, then proposed entries), then indexes.
    const byProposal = (await (await post('/api/v1/log/entries/retrieve', { logIndexes: [1], entries: [proposal], entryUUIDs: [m[3].uuid, id] })).json()) as Array<Record<string, { logIndex: number }>>;
    expect(byProposal.map((x) => Object.values(x)[0]!.logIndex)).toEqual([42, 3, hr.index, 1]);
    const otherKind = await post('/api/v1/log/entries/retrieve', { entries: [{ ...proposal, kind: 'intoto' }] });
    expect(otherKind.status).toBe(400);
    expect(((await otherKind.json()) as any).message).toMatch(/^entries\[0\]: proposed entry: only hashedrekord 0\.0\.1/);
    // An entry ID names its tree: another tree's prefix finds nothing; hex is taken in either case.
    expect((await get(`/api/v1/log/entries/${'0'.repeat(8)}deadbeef${m[42].uuid}`)).status).toBe(404);
    expect(Object.keys((await get(`/api/v1/log/entries/${id.toUpperCase()}`)).body)[0]).toBe(id);
    expect(Object.keys((await get(`/api/v1/log/entries/${m[42].uuid.toUpperCase()}`)).body)[0]).toBe(id);
    const found = (await (await post('/api/v1/index/retrieve', { hash: m[5].digests[0] })).json()) as string[];
    expect(found.map((x) => x.slice(16))).toContain(m[5].uuid);
    // Key material that is not a key or certificate is the client's mistake (400, as Rekor answers), not a 500.
    for (const bad of [Uint8Array.of(0x30, 0x03, 0x01), Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), Buffer.from('-----BEGIN CERTIFICATE-----\nno end')]) {
      const res = await post('/api/v1/index/retrieve', { publicKey: { format: 'x509', content: Buffer.from(bad).toString('base64') } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).message).toMatch(/^public key provided could not be parsed: /);
    }
    const cons = (await get(`/api/v1/log/proof?firstSize=100&lastSize=600&treeID=${info.treeID}`)).body;
    // rootHash is the tree's current root, as Rekor answers (rekor.ts), whatever lastSize is.
    const r100 = (await get(`/api/v1/log/proof?firstSize=1&lastSize=100&treeID=${info.treeID}`)).body;
    expect(r100.rootHash).toBe(cons.rootHash);
    expect(cons.rootHash).toBe(info.rootHash);
    verifyConsistency(100n, 600n, cons.hashes.map(hexb), h.sim.log.active.tree.root(100), hexb(cons.rootHash));
  });
});

describe('API over a sharded Rekor v1 mirror', () => {
  let h: Harness;
  let app: Hono;
  beforeAll(async () => {
    ({ h, app } = await shardedV1Mirror('api-shards'));
  }, 60_000);
  afterAll(() => h.cleanup());

  it('rate-limits per client, and many other clients do not reset a limited one', async () => {
    const limited = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], rateLimitPerMinute: 3 });
    const from = async (addr: string, path = '/v1/logs') => (await limited.request(path, {}, { incoming: { socket: { remoteAddress: addr } } })).status;
    expect([await from('::1'), await from('::1'), await from('::1'), await from('::1')]).toEqual([200, 200, 200, 429]);
    // Clients of their own: each a /64 of its own (one /64 is one client, below).
    for (let i = 0; i < 10_050; i++) await from(`2001:db8:${i.toString(16)}::1`);
    expect(await from('::1')).toBe(429);
    expect([await from('2001:db8:ffff:1::1'), await from('2001:db8:ffff:1::2'), await from('2001:db8:ffff:1:ffff::3'), await from('2001:db8:ffff:1::4')]).toEqual([200, 200, 200, 429]);
    // Probes and scrapes from a client that has spent its budget still answer.
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(await from('::1', path)).not.toBe(429);
    expect(await from('::1', '/openapi.json')).toBe(429);
  });

  it('proves entries of retired shards against their final signed tree heads, and of the active one against its checkpoint', async () => {
    const tlog = parseTrustedRoot(readJson(h.sim.trustedRootPath)).tlogs[0]!;
    const trees = new Set<string>();
    for (const i of [0, 232, 233, 400, 465, 466, 699]) {
      const res = await app.request(`/v1/entries/sim/${i}?include=body,proof`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as any;
      const p = body.inclusionProof;
      // Tree-local index and size: each shard is its own tree.
      expect(p.logIndex).toBe(i < 466 ? i % 233 : i - 466);
      expect(p.treeSize).toBe(i < 466 ? 233 : 234);
      verifyInclusion(BigInt(p.logIndex), BigInt(p.treeSize), leafHash(b64(body.body)), p.hashes.map(b64), b64(p.rootHash));
      const { checkpoint } = verifyCheckpoint(p.checkpoint, undefined, [checkpointVerifierForTlog(tlog)]);
      expect(checkpoint.size).toBe(BigInt(p.treeSize));
      trees.add(checkpoint.origin);
      // The Rekor-compatible read carries the same proof.
      const rekor = Object.values((await (await app.request(`/api/v1/log/entries?logIndex=${i}`)).json()) as object)[0];
      expect(rekor.verification.inclusionProof.rootHash).toBe(Buffer.from(b64(p.rootHash)).toString('hex'));
    }
    expect(trees.size).toBe(3);
  });

  it('serves the log\'s public key as Rekor does, for its trees only', async () => {
    const upstream = await (await fetch(`${h.sim.url}/api/v1/log/publicKey`)).text();
    const info = (await (await app.request('/api/v1/log')).json()) as { treeID: string; signedTreeHead: string; inactiveShards: Array<{ treeID: string }> };
    for (const q of ['', `?treeID=${info.treeID}`, `?treeID=${info.inactiveShards[0]!.treeID}`]) {
      const res = await app.request(`/api/v1/log/publicKey${q}`);
      expect(res.status, q).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/x-pem-file');
      const pemText = await res.text();
      expect(pemText).toBe(upstream);
      // The key a client gets here verifies the tree heads it gets here.
      const spki = createPublicKey(pemText).export({ format: 'der', type: 'spki' });
      verifyCheckpoint(info.signedTreeHead, undefined, [checkpointVerifierForTlog({ ...h.tlog, spki: new Uint8Array(spki) })]);
    }
    // An empty treeID is the active tree's, and a parameter Rekor does not declare is ignored, as go-swagger does.
    for (const q of ['?treeID=', '?x=1', `?treeID=0${info.treeID}`]) expect((await app.request(`/api/v1/log/publicKey${q}`)).status, q).toBe(200);
    const unknownTree = await app.request('/api/v1/log/publicKey?treeID=12345');
    expect(unknownTree.status).toBe(400);
    expect(((await unknownTree.json()) as any).code).toBe(400);
    // A treeID that breaks openapi.yaml's pattern is refused by the schema: 422, with go-openapi's code.
    const notDecimal = await app.request('/api/v1/log/publicKey?treeID=abc');
    expect(notDecimal.status).toBe(422);
    expect(await notDecimal.json()).toEqual({ code: 604, message: "treeID in query should match '^[0-9]+$'" });
    // A mirror that was not told the key says so, rather than serving another.
    const keyless = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    expect((await keyless.request('/api/v1/log/publicKey')).status).toBe(404);
  });

  it('serves consistency proofs in a retired shard by its treeID, as Rekor does for any of its trees', async () => {
    const info = (await (await app.request('/api/v1/log')).json()) as { treeID: string; treeSize: number; inactiveShards: Array<{ treeID: string; treeSize: number; rootHash: string }> };
    expect(info.inactiveShards.map((s) => s.treeSize)).toEqual([233, 233]);
    for (const shard of info.inactiveShards) {
      const proof = async (first: number, last: number) => {
        const res = await app.request(`/api/v1/log/proof?firstSize=${first}&lastSize=${last}&treeID=${shard.treeID}`);
        expect(res.status, `${shard.treeID} ${first}..${last}`).toBe(200);
        return (await res.json()) as { rootHash: string; hashes: string[] };
      };
      // The root is the shard's current one, its final signed tree head's, whatever lastSize is (as Rekor
      // answers the latest root with any proof); the proofs verify against the upstream tree's roots.
      const tree = h.sim.log.shards.find((s) => String(s.treeID) === shard.treeID)!.tree;
      const full = await proof(100, 233);
      expect(full.rootHash).toBe(shard.rootHash);
      verifyConsistency(100n, 233n, full.hashes.map(hexb), tree.root(100), hexb(full.rootHash));
      const mid = await proof(37, 150);
      expect(mid.rootHash).toBe(shard.rootHash);
      verifyConsistency(37n, 150n, mid.hashes.map(hexb), tree.root(37), tree.root(150));
      // Past the shard's final size is past what it will ever hold.
      const past = await app.request(`/api/v1/log/proof?firstSize=1&lastSize=234&treeID=${shard.treeID}`);
      expect(past.status).toBe(400);
      expect(await past.json()).toEqual({ code: 400, message: 'the tree size requested(234) was greater than what is currently observable(233)' });
    }
    // Another shard's proofs are of another tree: the active one's, with no treeID, are not the retired ones'.
    const active = (await (await app.request(`/api/v1/log/proof?firstSize=1&lastSize=233`)).json()) as { rootHash: string };
    expect(info.inactiveShards.map((s) => s.rootHash)).not.toContain(active.rootHash);
    // A tree the log never had is refused, as Rekor refuses a tree ID outside its shards.
    const unknown = await app.request('/api/v1/log/proof?firstSize=1&lastSize=2&treeID=12345');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ code: 400, message: 'no log range found for tree ID 12345' });
  });
});

describe('one body in two Rekor v1 trees (logged again after a shard rotation, as Rekor allows)', () => {
  let h: Harness;
  let app: Hono;
  // Pure Ed25519 signs deterministically, so the two injected entries' canonical bodies (digest,
  // signature, key) are the same bytes: one leaf hash at index 50 (tree 0) and at 500 (tree 2).
  const digest = `sha256:${'ab'.repeat(32)}`;
  beforeAll(async () => {
    ({ h, app } = await shardedV1Mirror('api-dup', [{ at: 50, key: 'ed25519', digest }, { at: 500, key: 'ed25519', digest }]));
  }, 60_000);
  afterAll(() => h.cleanup());

  const post = (path: string, body: unknown) => postJson(app, path, body);
  const only = (e: Record<string, { logIndex: number; body: string }>) => {
    const [[id, v]] = Object.entries(e) as [[string, { logIndex: number; body: string }]];
    return { id, logIndex: v.logIndex, body: v.body };
  };

  it('is found in every tree by its UUID, in its own tree by its entry ID, and by its digest in both', async () => {
    const m = manifestOf(h.sim);
    const uuid = m[50]!.uuid as string;
    expect(m[500]!.uuid).toBe(uuid);
    const info = (await (await app.request('/api/v1/log')).json()) as { treeID: string; inactiveShards: Array<{ treeID: string }> };
    const idIn = (treeID: string) => `${BigInt(treeID).toString(16).padStart(16, '0')}${uuid}`;
    const first = idIn(info.inactiveShards[0]!.treeID);
    const active = idIn(info.treeID);

    // retrieve: a bare UUID in every tree that holds it, oldest first; an entry ID only in its tree.
    const all = ((await (await post('/api/v1/log/entries/retrieve', { entryUUIDs: [uuid] })).json()) as Array<Record<string, { logIndex: number; body: string }>>).map(only);
    expect(all.map((e) => [e.id, e.logIndex])).toEqual([[first, 50], [active, 500]]);
    expect(all[0]!.body).toBe(all[1]!.body);
    const one = ((await (await post('/api/v1/log/entries/retrieve', { entryUUIDs: [first] })).json()) as Array<Record<string, { logIndex: number; body: string }>>).map(only);
    expect(one.map((e) => [e.id, e.logIndex])).toEqual([[first, 50]]);
    const two = ((await (await post('/api/v1/log/entries/retrieve', { entryUUIDs: [active] })).json()) as Array<Record<string, { logIndex: number; body: string }>>).map(only);
    expect(two.map((e) => [e.id, e.logIndex])).toEqual([[active, 500]]);

    // GET by UUID: the active tree's first, as Rekor searches; by entry ID: that tree's.
    expect(only((await (await app.request(`/api/v1/log/entries/${uuid}`)).json()) as Record<string, { logIndex: number; body: string }>).logIndex).toBe(500);
    expect(only((await (await app.request(`/api/v1/log/entries/${first}`)).json()) as Record<string, { logIndex: number; body: string }>)).toMatchObject({ id: first, logIndex: 50 });

    // The index: both entry IDs; the mirror's own API: both entries.
    expect(((await (await post('/api/v1/index/retrieve', { hash: digest })).json()) as string[]).sort()).toEqual([first, active].sort());
    const byUuid = (await (await app.request(`/v1/entries/by-uuid/${uuid}`)).json()) as { entries: Array<{ index: number }> };
    expect(byUuid.entries.map((e) => e.index).sort((a, b) => a - b)).toEqual([50, 500]);
    // An entry ID names its tree here too: that tree's entry only, and none for a tree the log never had.
    for (const [id, index] of [[first, 50], [active.toUpperCase(), 500]] as const) {
      const one = (await (await app.request(`/v1/entries/by-uuid/${id}`)).json()) as { entries: Array<{ index: number }> };
      expect(one.entries.map((e) => e.index)).toEqual([index]);
    }
    const otherTree = await app.request(`/v1/entries/by-uuid/${'0123456789abcdef'}${uuid}`);
    expect(otherTree.status).toBe(404);
    const search = (await (await app.request(`/v1/search?digest=${digest}`)).json()) as { entries: Array<{ index: number; uuid: string }> };
    expect(search.entries.map((e) => [e.index, e.uuid])).toEqual([[500, uuid], [50, uuid]]);
  });
});
