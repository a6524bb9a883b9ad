/**
 * The Rekor-compatible routes refuse and accept what Rekor's server does, over real HTTP against a mirror
 * filled from the simulator. Rekor binds every request against its openapi.yaml with go-swagger first
 * (sigstore/rekor pkg/generated/restapi/operations/*_parameters.go, models/search_index.go,
 * models/search_log_query.go): a value the schema refuses is a 422 carrying go-openapi's validation code
 * (go-openapi/errors schema.go: 600 type, 601 required, 602 too long, 604 pattern, 605 enum, 608 minimum,
 * 610/611 max/min items), a body Go cannot decode a 400, parameters it does not declare are ignored and a
 * repeated one counts by its last value. Its handlers' own refusals are 400s (pkg/api/error.go). Every
 * error is `{"code","message"}` (openapi.yaml definitions/Error).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnLoopback, type Loopback } from '../../helpers/loopback.ts';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { verifyConsistency } from '../../../src/merkle/proof.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const SIZE = 300;
const UUID_PATTERN = '^([0-9a-fA-F]{64}|[0-9a-fA-F]{80})$';
const HASH_PATTERN = '^(sha512:)?[0-9a-fA-F]{128}$|^(sha256:)?[0-9a-fA-F]{64}$|^(sha1:)?[0-9a-fA-F]{40}$';

describe('Rekor-compatible routes validate requests as Rekor does', () => {
  let h: Harness;
  let server: Loopback;
  let url: string;
  let m: any[];
  beforeAll(async () => {
    h = await harness({ api: 'v1', entries: SIZE, seed: 'rekor-parity', inject: [{ at: 7, cert: { san: 'Alice@Example.com', issuer: 'https://accounts.google.com' } }] });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(SIZE));
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], logPublicKey: () => h.tlog.spki });
    server = await serveOnLoopback(app);
    url = server.url;
    m = manifestOf(h.sim);
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await h.cleanup();
  });

  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: (await res.json()) as any };
  };
  const post = async (path: string, body: string) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const index = (q: unknown) => post('/api/v1/index/retrieve', typeof q === 'string' ? q : JSON.stringify(q));

  it('index/retrieve: refuses what SearchIndex refuses with 422 and its code, first failing field in Rekor\'s order', async () => {
    const hex = 'ab'.repeat(32);
    for (const [q, code, message] of [
      [{ email: 'not-an-address' }, 600, 'email in body must be of type email: "not-an-address"'],
      [{ email: 'john..doe@example.com' }, 600, 'email in body must be of type email: "john..doe@example.com"'],
      [{ subject: 'x'.repeat(513) }, 602, 'subject in body should be at most 512 chars long'],
      // Counted in code points, as Go counts runes: 512 astral characters are 1,024 UTF-16 units and pass.
      [{ subject: '\u{1F600}'.repeat(513) }, 602, 'subject in body should be at most 512 chars long'],
      [{ hash: 'ab'.repeat(48) }, 604, `hash in body should match '${HASH_PATTERN}'`],
      [{ hash: `sha384:${'ab'.repeat(48)}` }, 604, `hash in body should match '${HASH_PATTERN}'`],
      [{ hash: `SHA256:${hex}` }, 604, `hash in body should match '${HASH_PATTERN}'`],
      [{ hash: `sha512:${hex}` }, 604, `hash in body should match '${HASH_PATTERN}'`],
      [{ hash: `sha256:${hex} ` }, 604, `hash in body should match '${HASH_PATTERN}'`],
      [{ operator: 'xor', hash: hex }, 605, 'operator in body should be one of [and or]'],
      [{ operator: 'AND', hash: hex }, 605, 'operator in body should be one of [and or]'],
      [{ publicKey: { format: 'pkcs7', content: 'AAAA' } }, 605, 'publicKey.format in body should be one of [pgp x509 minisign ssh tuf]'],
      [{ publicKey: { content: 'AAAA' } }, 601, 'publicKey.format in body is required'],
      [{ publicKey: {} }, 601, 'publicKey.format in body is required'],
      // email is validated before hash, as the generated Validate does.
      [{ hash: 'zz', email: 'nope' }, 600, 'email in body must be of type email: "nope"'],
      ['', 601, 'query in body is required'],
    ] as const) {
      const r = await index(q);
      expect(r, JSON.stringify(q)).toEqual({ status: 422, body: { code, message } });
    }
  });

  it('index/retrieve: a body Go cannot decode is a 400 ParseError; unknown fields, case and null are as Go reads them', async () => {
    for (const q of ['{', '[]', '"x"', '5', JSON.stringify({ email: 5 }), JSON.stringify({ hash: ['a'] }), JSON.stringify({ publicKey: 'x509' }), JSON.stringify({ publicKey: { format: 'x509', content: '!!' } })]) {
      const r = await index(q);
      expect(r.status, q).toBe(400);
      expect(Object.keys(r.body).sort(), q).toEqual(['code', 'message']);
      expect(r.body.code, q).toBe(400);
      expect(r.body.message, q).toMatch(/^parsing query body from "" failed, because /);
    }
    const alice = m[7];
    // Rekor answers a query with no value with an empty list, not an error.
    for (const q of ['{}', 'null', JSON.stringify({ email: '', subject: '', hash: '', operator: '' }), JSON.stringify({ unknown: 1 })]) expect(await index(q), q).toEqual({ status: 200, body: [] });
    // Go matches JSON keys to fields case-insensitively and ignores the ones it has no field for.
    const byHash = await index({ HASH: alice.digests[0], extra: true });
    expect(byHash.status).toBe(200);
    expect(byHash.body.map((id: string) => id.slice(-64))).toEqual([alice.uuid]);
    // An address with a display name is a valid `email` (Go's ParseAddress reads it); Rekor looks the whole
    // string up, lower-cased, so nothing matches, as there.
    expect(await index({ email: 'Alice <alice@example.com>' })).toEqual({ status: 200, body: [] });
    expect((await index({ email: 'ALICE@example.COM' })).body.map((id: string) => id.slice(-64))).toEqual([alice.uuid]);
    expect(await index({ subject: 'x'.repeat(512) })).toEqual({ status: 200, body: [] });
    // Rekor reads a key that does not parse as the client's mistake (400), as the mirror does.
    expect((await index({ publicKey: { format: 'x509' } })).status).toBe(400);
  });

  it('entries/retrieve: each list 1–10 items, its items by the schema, then 10 in all', async () => {
    const uuid = m[3].uuid as string;
    for (const [q, status, code, message] of [
      [{ entryUUIDs: Array(11).fill(uuid) }, 422, 610, 'entryUUIDs in body should have at most 10 items'],
      [{ logIndexes: [] }, 422, 611, 'logIndexes in body should have at least 1 items'],
      [{ entryUUIDs: [uuid, 'xyz'] }, 422, 604, `entryUUIDs.1 in body should match '${UUID_PATTERN}'`],
      [{ logIndexes: [1, -1] }, 422, 608, 'logIndexes.1 in body should be greater than or equal to 0'],
      [{ logIndexes: [1, 2, 3, 4, 5, 6], entryUUIDs: [uuid, uuid, uuid, uuid, uuid] }, 422, 422, 'more than max allowed 10 entries in request'],
      // The lists are validated in the generated order: entries, entryUUIDs, logIndexes.
      [{ logIndexes: [-1], entryUUIDs: ['x'] }, 422, 604, `entryUUIDs.0 in body should match '${UUID_PATTERN}'`],
      ['', 422, 601, 'entry in body is required'],
    ] as const) {
      const r = await post('/api/v1/log/entries/retrieve', typeof q === 'string' ? q : JSON.stringify(q));
      expect(r, JSON.stringify(q)).toEqual({ status, body: { code, message } });
    }
    for (const q of [{ logIndexes: [1.5] }, { logIndexes: ['1'] }, { entryUUIDs: [5] }, { entryUUIDs: uuid }]) {
      const r = await post('/api/v1/log/entries/retrieve', JSON.stringify(q));
      expect(r.status, JSON.stringify(q)).toBe(400);
      expect(r.body.message).toMatch(/^parsing entry body from "" failed, because /);
    }
    // Unknown fields are ignored; an empty query finds nothing.
    expect(await post('/api/v1/log/entries/retrieve', JSON.stringify({ logIndexes: [3], other: 1 }))).toMatchObject({ status: 200, body: [{}] });
    expect(await post('/api/v1/log/entries/retrieve', '{}')).toEqual({ status: 200, body: [] });
  });

  it('an 80-hex entry ID whose tree part is not a tree ID Rekor can hold (0, or past int64) is refused with 400', async () => {
    const uuid = m[3].uuid as string;
    for (const tree of ['0'.repeat(16), '8'.padEnd(16, '0'), 'F'.repeat(16)]) {
      const msg = `${tree === '0'.repeat(16) ? '0' : tree} is not a valid TreeID`;
      expect(await get(`/api/v1/log/entries/${tree}${uuid}`), tree).toEqual({ status: 400, body: { code: 400, message: `validation error: ${msg}` } });
      const r = await post('/api/v1/log/entries/retrieve', JSON.stringify({ entryUUIDs: [uuid, `${tree}${uuid}`], entries: [{ kind: 'intoto' }] }));
      expect(r, tree).toEqual({ status: 400, body: { code: 400, message: `invalid entryID ${tree}${uuid}` } });
    }
    // A tree ID Rekor could hold but this log does not have finds nothing (404), as there.
    expect((await get(`/api/v1/log/entries/${'7'.repeat(16)}${uuid}`)).status).toBe(404);
  });

  it('query parameters: int64 as Go parses it, minimum, required, patterns; unknown ones ignored, the last of a repeated one used', async () => {
    const entry = (q: string) => get(`/api/v1/log/entries${q}`);
    for (const [q, code, message] of [
      ['', 601, 'logIndex in query is required'],
      ['?logIndex=', 601, 'logIndex in query is required'],
      ['?logIndex=-1', 608, 'logIndex in query should be greater than or equal to 0'],
      ['?logIndex=abc', 600, 'logIndex in query must be of type int64: "abc"'],
      ['?logIndex=1.0', 600, 'logIndex in query must be of type int64: "1.0"'],
      // `+` in a query is a space (Go's url.ParseQuery as URLSearchParams), and ParseInt takes no space.
      ['?logIndex=+5', 600, 'logIndex in query must be of type int64: " 5"'],
      ['?logIndex=9223372036854775808', 600, 'logIndex in query must be of type int64: "9223372036854775808"'],
    ] as const) {
      expect(await entry(q), q).toEqual({ status: 422, body: { code, message } });
    }
    // Go's ParseInt takes a sign and leading zeros.
    for (const q of ['?logIndex=%2B5', '?logIndex=005', '?logIndex=9&logIndex=5', '?logIndex=5&bogus=1']) {
      const r = await entry(q);
      expect(r.status, q).toBe(200);
      expect((Object.values(r.body)[0] as { logIndex: number }).logIndex, q).toBe(5);
    }
    expect(await entry('?logIndex=9223372036854775807')).toMatchObject({ status: 404, body: { code: 404 } });
    expect(await get('/api/v1/log/entries/xyz')).toEqual({ status: 422, body: { code: 604, message: `entryUUID in path should match '${UUID_PATTERN}'` } });
    expect(await get(`/api/v1/log/entries/${m[3].uuid}?bogus=1`)).toMatchObject({ status: 200 });
    // GET /api/v1/log declares no parameter, not even `stable`: any is ignored.
    expect((await get('/api/v1/log?stable=true&x=1')).status).toBe(200);
    expect(await get('/api/v1/nothing')).toEqual({ status: 404, body: { code: 404, message: 'path /api/v1/nothing was not found' } });
  });

  it('log/proof: firstSize, lastSize and treeID as Rekor binds them, and its handler\'s 400s', async () => {
    const info = (await get('/api/v1/log')).body as { treeID: string; rootHash: string };
    for (const [q, code, message] of [
      ['', 601, 'lastSize in query is required'],
      ['?lastSize=', 601, 'lastSize in query is required'],
      ['?lastSize=0', 608, 'lastSize in query should be greater than or equal to 1'],
      ['?firstSize=0&lastSize=5', 608, 'firstSize in query should be greater than or equal to 1'],
      ['?firstSize=x&lastSize=5', 600, 'firstSize in query must be of type int64: "x"'],
      ['?lastSize=5&treeID=abc', 604, "treeID in query should match '^[0-9]+$'"],
    ] as const) {
      expect(await get(`/api/v1/log/proof${q}`), q).toEqual({ status: 422, body: { code, message } });
    }
    for (const [q, message] of [
      ['?firstSize=6&lastSize=5', 'firstSize(6) must be less than lastSize(5)'],
      [`?lastSize=${SIZE + 1}`, `the tree size requested(${SIZE + 1}) was greater than what is currently observable(${SIZE})`],
      ['?lastSize=5&treeID=99999999999999999999', 'invalid tree ID specified: 99999999999999999999'],
      ['?lastSize=5&treeID=12345', 'no log range found for tree ID 12345'],
    ] as const) {
      expect(await get(`/api/v1/log/proof${q}`), q).toEqual({ status: 400, body: { code: 400, message } });
    }
    // An empty treeID is the active tree (rekor-cli logproof sends `treeID=` when --tree-id is not given),
    // and so is the active tree's ID spelled with leading zeros; firstSize defaults to 1.
    for (const q of ['?lastSize=5&treeID=', `?lastSize=5&treeID=00${info.treeID}`, '?lastSize=5&x=1', '?firstSize=&lastSize=5']) {
      expect((await get(`/api/v1/log/proof${q}`)).status, q).toBe(200);
    }
  });

  it('log/proof: rootHash is the tree\'s current root, as Rekor answers, and the proof leads to the root at lastSize', async () => {
    const info = (await get('/api/v1/log')).body as { rootHash: string; treeSize: number };
    const tree = h.sim.log.active.tree;
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const [first, last] of [[1, 5], [37, 150], [100, SIZE], [7, 7]] as const) {
      const r = await get(`/api/v1/log/proof?firstSize=${first}&lastSize=${last}`);
      expect(r.status).toBe(200);
      expect(r.body.rootHash, `${first}..${last}`).toBe(info.rootHash);
      expect(r.body.rootHash).toBe(hex(tree.root(SIZE)));
      verifyConsistency(BigInt(first), BigInt(last), r.body.hashes.map((x: string) => Buffer.from(x, 'hex')), tree.root(first), tree.root(last));
    }
  });

  /**
   * Rekor's error shape, exactly: `code` is the status, or on a 422 go-openapi's validation code (600–611)
   * or the handler's own 422 (more than 10 entries).
   */
  const rekorShaped = async (res: Response, what: string) => {
    expect(res.status, what).toBeLessThan(500);
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status < 400) return body;
    expect(Object.keys(body).sort(), what).toEqual(['code', 'message']);
    expect(typeof body['message'], what).toBe('string');
    const code = body['code'] as number;
    if (res.status === 422) expect(code === 422 || (code >= 600 && code <= 611), `${what}: code ${code}`).toBe(true);
    else expect(code, what).toBe(res.status);
    return body;
  };

  it('fuzz: no /api/v1 route answers any query or body with a 5xx, and every error is in Rekor\'s shape', async () => {
    const id = fc.oneof(fc.string({ maxLength: 90 }), fc.constantFrom(m[1].uuid as string, '0'.repeat(80), 'F'.repeat(80), `${'0'.repeat(16)}${m[1].uuid}`, 'ab'.repeat(32)));
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
      fc.constantFrom('', '0', '1', '5', String(SIZE), String(SIZE + 1), '-0', '+1', ' 1', '1e3', '0x10', '9223372036854775807', '9223372036854775808'),
    );
    const name = fc.oneof(fc.constantFrom('logIndex', 'firstSize', 'lastSize', 'treeID', 'stable', 'entryUUID'), fc.string({ maxLength: 10 }));
    const query = fc.array(fc.tuple(name, value), { maxLength: 5 }).map((ps) => (ps.length ? `?${ps.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : ''));
    const hex = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });
    const anyJson = fc.jsonValue({ maxDepth: 3 });
    const searchIndex = fc.dictionary(
      fc.constantFrom('hash', 'email', 'subject', 'publicKey', 'operator', 'HASH', 'Email', 'other'),
      fc.oneof(
        anyJson,
        fc.emailAddress(),
        hex(40, 130),
        hex(40, 130).map((x) => `sha256:${x}`),
        fc.constantFrom('and', 'or', 'AND'),
        fc.record({ format: fc.oneof(anyJson, fc.constantFrom('x509', 'ssh', 'pgp', 'minisign', 'tuf')), content: fc.oneof(anyJson, fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u).toString('base64'))) }, { requiredKeys: [] }),
      ),
    );
    const searchLog = fc.dictionary(
      fc.constantFrom('entryUUIDs', 'logIndexes', 'entries', 'LOGINDEXES', 'other'),
      fc.oneof(anyJson, fc.array(fc.oneof(id, fc.integer({ min: -5, max: SIZE + 5 }), fc.double(), anyJson), { maxLength: 12 })),
    );
    const body = (shape: fc.Arbitrary<unknown>) => fc.oneof(shape.map((v) => JSON.stringify(v)), anyJson.map((v) => JSON.stringify(v)), fc.string({ maxLength: 60 }), fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u).toString('latin1')));
    await fc.assert(
      fc.asyncProperty(query, id, body(searchIndex), body(searchLog), async (q, u, si, sl) => {
        for (const path of ['/api/v1/log', '/api/v1/log/publicKey', '/api/v1/log/proof', '/api/v1/log/entries', `/api/v1/log/entries/${encodeURIComponent(u)}`]) {
          const res = await fetch(`${url}${path}${q}`);
          // The public key is PEM, not JSON, when it is served.
          if (path.endsWith('publicKey') && res.status === 200) await res.text();
          else await rekorShaped(res, `${path}${q}`);
        }
        const post = (path: string, b: string) => fetch(`${url}${path}${q}`, { method: 'POST', body: b, headers: { 'content-type': 'application/json' } });
        const ids = await rekorShaped(await post('/api/v1/index/retrieve', si), `index/retrieve ${si}`);
        if (Array.isArray(ids)) for (const x of ids) expect(x).toMatch(new RegExp(UUID_PATTERN));
        await rekorShaped(await post('/api/v1/log/entries/retrieve', sl), `entries/retrieve ${sl}`);
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('publicKey: treeID by its pattern, empty as absent', async () => {
    expect(await get('/api/v1/log/publicKey?treeID=1x')).toEqual({ status: 422, body: { code: 604, message: "treeID in query should match '^[0-9]+$'" } });
    for (const q of ['?treeID=', '?stable=1']) expect((await fetch(`${url}/api/v1/log/publicKey${q}`)).status, q).toBe(200);
  });
});
