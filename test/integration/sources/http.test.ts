import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, parseRetryAfter, type HttpAttempt } from '../../../src/sources/http.ts';
import { isTlogwatchError } from '../../../src/errors.ts';
import { TilesSource } from '../../../src/sources/tiles.ts';
import { fetchSourceCheckpoint } from '../../../src/sources/checkpoint-source.ts';
import { RekorV1Source } from '../../../src/sources/rekor-v1.ts';
import { isExclusiveBody } from '../../../src/sources/transport.ts';
import { freeBytes } from '../../../src/util/bytes.ts';
import { entriesPath, tilePath } from '../../../src/merkle/tiles.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { leafCount, leafRun } from '../../../src/sources/types.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;
let server: Server;
let base: string;
const handlers = new Map<string, Handler>();
const counts = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const h = handlers.get(path);
    if (!h) return void res.writeHead(404).end();
    h(req, res, n);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const json = (b: Uint8Array): unknown => JSON.parse(text(b));
const fast = (extra: ConstructorParameters<typeof HttpClient>[0] = {}) =>
  new HttpClient({ baseDelayMs: 1, maxDelayMs: 50, retries: 4, timeoutMs: 2000, ...extra });

describe('HttpClient', () => {
  it('sends a tlogwatch User-Agent and returns the parsed body', async () => {
    handlers.set('/ua', (req, res) => res.end(req.headers['user-agent']));
    expect(await fast().request(`${base}/ua`, { endpoint: 't', parse: text })).toMatch(/^tlogwatch\/\d+\.\d+\.\d+/);
  });

  it('returns undefined on 404 without retrying', async () => {
    const attempts: HttpAttempt[] = [];
    expect(await fast({ onAttempt: (a) => attempts.push(a) }).request(`${base}/missing`, { endpoint: 't', parse: text })).toBeUndefined();
    expect(attempts.map((a) => a.outcome)).toEqual(['404']);
  });

  it("with notFound 'retry', retries a 404 and returns undefined only when every attempt was one", async () => {
    handlers.set('/late', (_req, res, n) => (n === 1 ? res.writeHead(404).end() : res.end('here')));
    const attempts: HttpAttempt[] = [];
    expect(await fast({ onAttempt: (a) => attempts.push(a) }).request(`${base}/late`, { endpoint: 't', parse: text, notFound: 'retry' })).toBe('here');
    expect(attempts.map((a) => a.outcome)).toEqual(['404', '200']);
    attempts.length = 0;
    expect(await fast({ retries: 2, onAttempt: (a) => attempts.push(a) }).request(`${base}/never`, { endpoint: 't', parse: text, notFound: 'retry' })).toBeUndefined();
    expect(attempts.map((a) => a.outcome)).toEqual(['404', '404', '404']);
  });

  it('retries 503 and 429, honouring Retry-After, then succeeds', async () => {
    handlers.set('/flaky', (_req, res, n) => {
      if (n === 1) return void res.writeHead(503, { 'retry-after': '0' }).end();
      if (n === 2) return void res.writeHead(429).end();
      res.end('{"ok":true}');
    });
    const attempts: HttpAttempt[] = [];
    expect(await fast({ onAttempt: (a) => attempts.push(a) }).request(`${base}/flaky`, { endpoint: 't', parse: json })).toEqual({ ok: true });
    expect(attempts.map((a) => a.outcome)).toEqual(['503', '429', '200']);
  });

  it('treats a truncated body and garbage as transient and retries', async () => {
    handlers.set('/trunc', (_req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-length': '100' });
        res.write('{"partial":');
        return void res.destroy();
      }
      if (n === 2) return void res.end('garbage{{');
      res.end('{"ok":1}');
    });
    const attempts: HttpAttempt[] = [];
    expect(await fast({ onAttempt: (a) => attempts.push(a) }).request(`${base}/trunc`, { endpoint: 't', parse: json })).toEqual({ ok: 1 });
    expect(attempts.map((a) => a.outcome).slice(1)).toEqual(['malformed', '200']);
  });

  it('gives up with a transient error after the retry budget', async () => {
    handlers.set('/down', (_req, res) => res.writeHead(503).end());
    const err = await fast({ retries: 2 }).request(`${base}/down`, { endpoint: 't', parse: text }).catch((e: unknown) => e);
    expect(isTlogwatchError(err, 'SOURCE_HTTP_STATUS') && err.kind === 'transient').toBe(true);
    expect(counts.get('/down')).toBe(3);
  });

  it('does not retry a 400', async () => {
    handlers.set('/bad', (_req, res) => res.writeHead(400).end());
    const err = await fast().request(`${base}/bad`, { endpoint: 't', parse: text }).catch((e: unknown) => e);
    expect(isTlogwatchError(err) && err.kind).toBe('fatal');
    expect(counts.get('/bad')).toBe(1);
  });

  it('enforces the response size cap, declared or streamed', async () => {
    handlers.set('/big', (_req, res) => res.end(Buffer.alloc(10_000)));
    handlers.set('/bigchunked', (_req, res) => {
      res.write(Buffer.alloc(6000));
      res.end(Buffer.alloc(6000));
    });
    for (const p of ['/big', '/bigchunked']) {
      const err = await fast({ retries: 0 }).request(`${base}${p}`, { endpoint: 't', parse: text, maxBytes: 5000 }).catch((e: unknown) => e);
      expect(isTlogwatchError(err, 'SOURCE_TOO_LARGE')).toBe(true);
    }
  });

  it('times out a slow response and retries', async () => {
    handlers.set('/slow', (_req, res, n) => {
      if (n === 1) return void setTimeout(() => res.end('late'), 500);
      res.end('fast');
    });
    expect(await fast({ timeoutMs: 100 }).request(`${base}/slow`, { endpoint: 't', parse: text })).toBe('fast');
  });

  it('times out a body that stalls or trickles after the headers, as a timeout, not a malformed response', async () => {
    handlers.set('/stalled-body', (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":');
    });
    handlers.set('/trickle', (_req, res) => {
      res.writeHead(200);
      const t = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(t));
    });
    for (const p of ['/stalled-body', '/trickle']) {
      const attempts: HttpAttempt[] = [];
      const err = await fast({ timeoutMs: 200, retries: 1, onAttempt: (a) => attempts.push(a) }).request(`${base}${p}`, { endpoint: 't', parse: text }).catch((e: unknown) => e);
      expect(isTlogwatchError(err, 'SOURCE_TIMEOUT') && err.kind === 'transient', p).toBe(true);
      expect((err as Error).message).toMatch(/timed out after 200 ms reading the body/);
      expect(attempts.map((a) => a.outcome)).toEqual(['timeout', 'timeout']);
    }
  });

  it('decompresses gzip responses', async () => {
    const { gzipSync } = await import('node:zlib');
    let asked: string | undefined;
    handlers.set('/gz', (req, res) => {
      asked = req.headers['accept-encoding'];
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('hello'));
    });
    expect(await fast().request(`${base}/gz`, { endpoint: 't', parse: text })).toBe('hello');
    // tlog-tiles §"Log entries": "Clients SHOULD include `gzip` and `identity` in their Accept-Encoding headers."
    expect(asked).toBe('gzip, identity');
  });

  it('with compression "none" asks for identity, and still decompresses a server that compresses anyway', async () => {
    const { gzipSync } = await import('node:zlib');
    const seen: Array<string | undefined> = [];
    handlers.set('/plain', (req, res) => {
      seen.push(req.headers['accept-encoding']);
      res.writeHead(200).end('plain');
    });
    handlers.set('/gz-anyway', (req, res) => {
      seen.push(req.headers['accept-encoding']);
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('inflated'));
    });
    const client = fast({ compression: 'none' });
    expect(await client.request(`${base}/plain`, { endpoint: 't', parse: text })).toBe('plain');
    expect(await client.request(`${base}/gz-anyway`, { endpoint: 't', parse: text })).toBe('inflated');
    expect(seen).toEqual(['identity', 'identity']);
  });

  it('follows redirects as fetch does, and gives up on a loop', async () => {
    handlers.set('/moved', (_req, res) => res.writeHead(302, { location: '/moved-2' }).end());
    handlers.set('/moved-2', (_req, res) => res.writeHead(308, { location: `${base}/there` }).end());
    handlers.set('/there', (req, res) => res.end(`${req.method} ${req.headers['user-agent']?.split('/')[0]}`));
    expect(await fast().request(`${base}/moved`, { endpoint: 't', parse: text })).toBe('GET tlogwatch');
    const bodies: string[] = [];
    handlers.set('/post-303', (_req, res) => res.writeHead(303, { location: '/seen' }).end());
    handlers.set('/post-307', (_req, res) => res.writeHead(307, { location: '/seen' }).end());
    handlers.set('/seen', (req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        bodies.push(`${req.method} ${b}`);
        res.end('ok');
      });
    });
    await fast().request(`${base}/post-303`, { endpoint: 't', method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' }, parse: text });
    await fast().request(`${base}/post-307`, { endpoint: 't', method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' }, parse: text });
    expect(bodies).toEqual(['GET ', 'POST {"a":1}']);
    // Credentials stay with the origin they were meant for: kept on a same-origin redirect, dropped on another.
    const auth: Array<string | undefined> = [];
    handlers.set('/auth-here', (_req, res) => res.writeHead(302, { location: '/auth-seen' }).end());
    handlers.set('/auth-away', (_req, res) => res.writeHead(302, { location: `${base.replace('127.0.0.1', 'localhost')}/auth-seen` }).end());
    handlers.set('/auth-seen', (req, res) => {
      auth.push(req.headers.authorization);
      res.end('ok');
    });
    await fast().request(`${base}/auth-here`, { endpoint: 't', headers: { authorization: 'Bearer s3cret' }, parse: text });
    await fast().request(`${base}/auth-away`, { endpoint: 't', headers: { Authorization: 'Bearer s3cret' }, parse: text });
    expect(auth).toEqual(['Bearer s3cret', undefined]);
    handlers.set('/loop', (_req, res) => res.writeHead(302, { location: '/loop' }).end());
    const attempts: HttpAttempt[] = [];
    const err = await fast({ retries: 1, onAttempt: (a) => attempts.push(a) }).request(`${base}/loop`, { endpoint: 't', parse: text }).catch((e: unknown) => e);
    expect(isTlogwatchError(err, 'SOURCE_NETWORK') && (err as Error).message).toMatch(/more than 20 redirects/);
    expect(attempts.map((a) => a.outcome)).toEqual(['network', 'network']);
  });

  it("sends a log's configured headers to its origin only: not on a redirect away, nor to another origin, under any name", async () => {
    const seen: Array<[string, string | undefined, string | undefined]> = [];
    const note = (req: IncomingMessage, res: ServerResponse) => {
      seen.push([`${req.headers.host?.split(':')[0]} ${req.url}`, req.headers.authorization, req.headers['x-api-key'] as string | undefined]);
      res.end('ok');
    };
    const away = base.replace('127.0.0.1', 'localhost');
    handlers.set('/oh-seen', note);
    handlers.set('/oh-here', (_req, res) => res.writeHead(302, { location: '/oh-seen' }).end());
    handlers.set('/oh-away', (_req, res) => res.writeHead(307, { location: `${away}/oh-seen` }).end());
    // Back to the log after another origin: still without them, as fetch does.
    handlers.set('/oh-back', (_req, res) => res.writeHead(302, { location: `${away}/oh-return` }).end());
    handlers.set('/oh-return', (_req, res) => res.writeHead(302, { location: `${base}/oh-seen` }).end());
    const client = fast({ originHeaders: { origin: `${base}/log/prefix`, headers: { Authorization: 'Basic czNjcmV0', 'X-Api-Key': 'k3y' } } });
    for (const p of ['/oh-seen', '/oh-here', '/oh-away', '/oh-back']) await client.request(`${base}${p}`, { endpoint: 't', parse: text });
    await client.request(`${away}/oh-seen`, { endpoint: 't', parse: text });
    expect(seen).toEqual([
      ['127.0.0.1 /oh-seen', 'Basic czNjcmV0', 'k3y'],
      ['127.0.0.1 /oh-seen', 'Basic czNjcmV0', 'k3y'],
      ['localhost /oh-seen', undefined, undefined],
      ['127.0.0.1 /oh-seen', undefined, undefined],
      ['localhost /oh-seen', undefined, undefined],
    ]);
  });

  it('says what a 401 or 403 means, the headers unnamed', async () => {
    handlers.set('/unauth', (_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="log"' }).end());
    const err = await fast().request(`${base}/unauth`, { endpoint: 't', parse: text }).catch((e: unknown) => e);
    expect(isTlogwatchError(err, 'SOURCE_HTTP_STATUS') && err.kind).toBe('fatal');
    expect((err as Error).message).toBe(`HTTP 401 from ${base}/unauth: the server asks for authentication (a log's goes in logs[].headers or headerFiles, or --log-header-file beside --log; a checkpoint source's in its token)`);
  });

  it('keeps the connection after a redirect, a 404 or a retried 503 with a small body, and closes it after a large one', async () => {
    let connections = 0;
    const count = () => connections++;
    server.on('connection', count);
    try {
      handlers.set('/r-small', (_req, res) => res.writeHead(302, { location: '/r-there' }).end('moved, see /r-there'));
      handlers.set('/r-there', (_req, res) => res.end('here'));
      handlers.set('/r-503', (_req, res, n) => (n === 1 ? res.writeHead(503).end('<html>busy</html>') : res.end('ok')));
      // Chunked, so its size is only known by reading it.
      handlers.set('/r-large', (_req, res) => {
        res.writeHead(302, { location: '/r-there' });
        res.write(Buffer.alloc(40_000, 'x'));
        res.end(Buffer.alloc(40_000, 'y'));
      });
      const c = fast();
      await c.request(`${base}/r-there`, { endpoint: 't', parse: text });
      const before = connections;
      expect(await c.request(`${base}/r-small`, { endpoint: 't', parse: text })).toBe('here');
      expect(await c.request(`${base}/missing-page`, { endpoint: 't', parse: text })).toBeUndefined();
      expect(await c.request(`${base}/r-503`, { endpoint: 't', parse: text })).toBe('ok');
      expect(connections - before).toBe(0);
      expect(await c.request(`${base}/r-large`, { endpoint: 't', parse: text })).toBe('here');
      expect(connections - before).toBe(1);
    } finally {
      server.off('connection', count);
    }
  });

  it('decodes deflate and br, and caps what a compressed body inflates to (no inflation bomb)', async () => {
    const { brotliCompressSync, deflateSync, gzipSync } = await import('node:zlib');
    handlers.set('/deflate', (_req, res) => res.writeHead(200, { 'content-encoding': 'deflate' }).end(deflateSync('deflated')));
    handlers.set('/br', (_req, res) => res.writeHead(200, { 'content-encoding': 'br' }).end(brotliCompressSync('brotli')));
    expect(await fast().request(`${base}/deflate`, { endpoint: 't', parse: text })).toBe('deflated');
    expect(await fast().request(`${base}/br`, { endpoint: 't', parse: text })).toBe('brotli');
    // 10 MB of zeros is ~10 KB gzipped: refused once inflated past the cap, without holding 10 MB.
    handlers.set('/bomb', (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(10 << 20))));
    const err = await fast({ retries: 0 }).request(`${base}/bomb`, { endpoint: 't', parse: text, maxBytes: 5000 }).catch((e: unknown) => e);
    expect(isTlogwatchError(err, 'SOURCE_TOO_LARGE')).toBe(true);
    handlers.set('/zstd', (_req, res) => res.writeHead(200, { 'content-encoding': 'compress' }).end('x'));
    const odd = await fast({ retries: 0 }).request(`${base}/zstd`, { endpoint: 't', parse: text }).catch((e: unknown) => e);
    expect(isTlogwatchError(odd, 'SOURCE_MALFORMED') && (odd as Error).message).toMatch(/unsupported content-encoding compress/);
    // A gzip body cut short: transient, like any truncated body.
    handlers.set('/gz-cut', (_req, res) => {
      const gz = gzipSync(Buffer.alloc(100_000, 7));
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gz.length) });
      res.write(gz.subarray(0, gz.length >> 1));
      setTimeout(() => res.destroy(), 20);
    });
    const cut = await fast({ retries: 0 }).request(`${base}/gz-cut`, { endpoint: 't', parse: text }).catch((e: unknown) => e);
    expect(isTlogwatchError(cut, 'SOURCE_MALFORMED') && (cut as Error).message).toMatch(/aborted|truncated/);
  });

  it('hands back inflated bodies in buffers of their own size, not views of a larger output chunk', async () => {
    const { deflateSync, gzipSync } = await import('node:zlib');
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + (i >> 9)) & 255));
    // Sized like a level-0 tile, an entry bundle, and more than one 1 MB output chunk.
    const sizes = [8192, 508_213, 3 << 20];
    const bodies = new Map<string, Buffer>();
    for (const n of sizes) {
      const b = bytes(n);
      bodies.set(`/gz-${n}`, b);
      handlers.set(`/gz-${n}`, (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(b, { level: 1 })));
    }
    // Two gzip members (RFC 1952 §2.2): the trailer's size hint is the last member's alone.
    const two = Buffer.concat([bytes(300_000), Buffer.from('tail')]);
    bodies.set('/gz-members', two);
    handlers.set('/gz-members', (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(Buffer.concat([gzipSync(two.subarray(0, 300_000)), gzipSync(two.subarray(300_000))])));
    bodies.set('/deflate-tile', bytes(8192));
    handlers.set('/deflate-tile', (_req, res) => res.writeHead(200, { 'content-encoding': 'deflate' }).end(deflateSync(bytes(8192))));
    for (const [path, want] of bodies) {
      const got = await fast().request(`${base}${path}`, { endpoint: 't', parse: (b) => b, maxBytes: 8 << 20 });
      expect(Buffer.from(got!).equals(want), path).toBe(true);
      expect(got!.buffer.byteLength, path).toBeLessThanOrEqual(got!.length + (got!.length >> 3) + 4096);
    }
    // A trailer whose size is not the body's: zlib's length check refuses it, a transient fault like garbage.
    handlers.set('/gz-lies', (_req, res) => {
      const gz = gzipSync(bytes(50_000));
      gz.writeUInt32LE(100, gz.length - 4);
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gz);
    });
    const lie = await fast({ retries: 0 }).request(`${base}/gz-lies`, { endpoint: 't', parse: text }).catch((e: unknown) => e);
    expect(isTlogwatchError(lie, 'SOURCE_MALFORMED')).toBe(true);
  });

  it('marks as exclusive only inflated bodies in memory made for them alone, which the reader may then free', async () => {
    const { gzipSync } = await import('node:zlib');
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + (i >> 9)) & 255));
    const got = async (path: string, body: Buffer, encoding?: string) => {
      handlers.set(path, (_req, res) => res.writeHead(200, encoding ? { 'content-encoding': encoding } : {}).end(encoding ? gzipSync(body, { level: 1 }) : body));
      const b = (await fast().request(`${base}${path}`, { endpoint: 't', parse: (x) => x, maxBytes: 8 << 20 }))!;
      expect(Buffer.from(b).equals(body), path).toBe(true);
      return b;
    };
    // An 8 KB tile: no larger than one of Node's pool slabs, which is all the transport can tell it from, so never marked.
    expect(isExclusiveBody(await got('/x-tile', bytes(8192), 'gzip'))).toBe(false);
    // Bodies as they came off the socket, or joined by Node: not marked (only what the transport inflated is).
    expect(isExclusiveBody(await got('/x-plain', bytes(300_000)))).toBe(false);
    for (const n of [508_213, 3 << 20]) {
      const b = await got(`/x-${n}`, bytes(n), 'gzip');
      expect(isExclusiveBody(b), String(n)).toBe(true);
      const view = b.subarray(10, 20);
      freeBytes(b.buffer as ArrayBuffer);
      expect([b.length, view.length]).toEqual([0, 0]);
    }
    // Node's pool is untouched: small buffers still come from it and hold what is written.
    expect(Buffer.from('still pooled').toString()).toBe('still pooled');
  });

  it('stops immediately when aborted', async () => {
    handlers.set('/hang', () => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('shutdown')), 50);
    await expect(fast().request(`${base}/hang`, { endpoint: 't', parse: text, signal: ac.signal })).rejects.toThrow('shutdown');
  });

  it('parses Retry-After seconds and HTTP dates, capped', () => {
    expect(parseRetryAfter('3', 0, 60_000)).toBe(3000);
    expect(parseRetryAfter('999', 0, 60_000)).toBe(60_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 0, 60_000)).toBe(10_000);
    expect(parseRetryAfter('soon', 0, 60_000)).toBeUndefined();
    expect(parseRetryAfter(null, 0, 60_000)).toBeUndefined();
  });
});

describe('TilesSource checkpoint', () => {
  it('takes a checkpoint with 16 post-quantum-sized signatures (signed-note: "at least up to 16", "nearly 5kB" each)', async () => {
    const sig = (i: number) => `\u2014 witness${i}.example ${Buffer.alloc(4400, i).toString('base64')}\n`;
    const note = `log.example\n1\n${Buffer.alloc(32).toString('base64')}\n\n${Array.from({ length: 16 }, (_, i) => sig(i)).join('')}`;
    expect(note.length).toBeGreaterThan(64 * 1024);
    handlers.set('/pq/checkpoint', (_req, res) => res.end(note));
    expect(await new TilesSource({ url: `${base}/pq`, http: fast() }).fetchCheckpoint()).toBe(note);
  });
});

describe('fetchSourceCheckpoint', () => {
  it('takes a note with 16 post-quantum-sized signatures, as a note or in a peer\'s page, as the log\'s own checkpoint fetch does (signed-note: "at least up to 16", "nearly 5kB" each)', async () => {
    const sig = (i: number) => `\u2014 witness${i}.example ${Buffer.alloc(4400, i).toString('base64')}\n`;
    const note = `log.example\n1\n${Buffer.alloc(32).toString('base64')}\n\n${Array.from({ length: 16 }, (_, i) => sig(i)).join('')}`;
    expect(note.length).toBeGreaterThan(64 * 1024);
    handlers.set('/pq-source/checkpoint', (_req, res) => res.end(note));
    handlers.set('/pq-source/v1/logs/l/checkpoints?limit=1', (_req, res) => res.end(JSON.stringify({ checkpoints: [{ size: 1, note }] })));
    const log = { name: 'l', origin: 'log.example' };
    expect((await fetchSourceCheckpoint(fast(), { kind: 'checkpoint', url: `${base}/pq-source/checkpoint` }, log))?.note).toBe(note);
    expect((await fetchSourceCheckpoint(fast(), { kind: 'tlogwatch', url: `${base}/pq-source` }, log))?.note).toBe(note);
  });

  it('hands on a note as the bytes came, a byte-order mark included, as TilesSource.fetchCheckpoint does: a BOM is no part of what the log signed', async () => {
    const note = `log.example\n1\n${Buffer.alloc(32).toString('base64')}\n\n\u2014 log.example AAAAAAE=\n`;
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(note)]);
    handlers.set('/bom/checkpoint', (_req, res) => res.end(bom));
    handlers.set('/bom/v1/logs/l/checkpoints?limit=1', (_req, res) => res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ checkpoints: [{ note }] }))])));
    const log = { name: 'l', origin: 'log.example' };
    expect((await fetchSourceCheckpoint(fast(), { kind: 'checkpoint', url: `${base}/bom/checkpoint` }, log))?.note).toBe(`\uFEFF${note}`);
    expect(await new TilesSource({ url: `${base}/bom`, http: fast() }).fetchCheckpoint()).toBe(`\uFEFF${note}`);
    // In JSON a leading BOM may be ignored (RFC 8259 §8.1): the note inside is as it was.
    expect((await fetchSourceCheckpoint(fast(), { kind: 'tlogwatch', url: `${base}/bom` }, log))?.note).toBe(note);
  });
});

describe('TilesSource leaves', () => {
  /** A full entry bundle of 256 distinct 600-byte entries (uint16 length prefixes) and its level-0 tile. */
  const serve = async (prefix: string, gzip: boolean) => {
    const { gzipSync } = await import('node:zlib');
    const entries = Array.from({ length: 256 }, (_, i) => Buffer.alloc(600, `entry ${i} `));
    const bundle = Buffer.concat(entries.flatMap((e) => [Buffer.of(e.length >> 8, e.length & 255), e]));
    const tile = Buffer.concat(entries.map((e) => leafHash(e)));
    for (const [path, body] of [[entriesPath(0n), bundle], [tilePath(0, 0n), tile]] as const) {
      handlers.set(`${prefix}/${path}`, (_req, res) => res.writeHead(200, gzip ? { 'content-encoding': 'gzip' } : {}).end(gzip ? gzipSync(body) : body));
    }
    return entries;
  };

  it('retries an empty bundle or tile as a cut response, where it would have halted the log as withholding every entry', async () => {
    const entries = Array.from({ length: 5 }, (_, i) => Buffer.from(`entry ${i}`));
    const bodies = {
      [entriesPath(0n, 5)]: Buffer.concat(entries.flatMap((e) => [Buffer.of(e.length >> 8, e.length & 255), e])),
      [tilePath(0, 0n, 5)]: Buffer.concat(entries.map((e) => leafHash(e))),
    };
    for (const [path, body] of Object.entries(bodies)) {
      handlers.set(`/empty-first/${path}`, (_req, res, n) => res.end(n === 1 ? Buffer.alloc(0) : body));
    }
    const attempts: HttpAttempt[] = [];
    const batch = await new TilesSource({ url: `${base}/empty-first`, http: fast({ onAttempt: (a) => attempts.push(a) }) }).fetchLeaves(0n, 5n, 5n);
    expect(leafRun(batch, 0, 5).leaves.map((l) => Buffer.from(l.body).toString())).toEqual(entries.map(String));
    expect(attempts.filter((a) => a.outcome === 'malformed').map((a) => a.endpoint).sort()).toEqual(['entries', 'tile']);
  });

  it('retries a bundle or tile cut at an item boundary, which a close-delimited response reads as; one short on every attempt is misbehaviour', async () => {
    const entries = Array.from({ length: 5 }, (_, i) => Buffer.from(`entry ${i}`));
    const bodies: Record<string, Buffer> = {
      entries: Buffer.concat(entries.flatMap((e) => [Buffer.of(e.length >> 8, e.length & 255), e])),
      tile: Buffer.concat(entries.map((e) => leafHash(e))),
    };
    // HTTP/1.0 style: no Content-Length, the body ends where the connection does. `cut(n)` says how many bytes of the nth response of each resource to send.
    const closeDelimited = async (cut: (n: number, whole: Buffer) => number) => {
      const seen = new Map<string, number>();
      const tcp = createTcpServer((sock) => {
        sock.once('data', (d) => {
          const kind = d.toString().split(' ')[1]!.includes('entries') ? 'entries' : 'tile';
          const n = (seen.get(kind) ?? 0) + 1;
          seen.set(kind, n);
          const whole = bodies[kind]!;
          sock.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n'), whole.subarray(0, cut(n, whole))]));
        });
      });
      await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
      return { url: `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => tcp.close(() => r())) };
    };
    // The first response of each is cut after 3 of its 5 items: retried, then mirrored whole.
    const flaky = await closeDelimited((n, whole) => (n > 1 ? whole.length : whole === bodies['tile'] ? 3 * 32 : 3 * 9));
    try {
      const batch = await new TilesSource({ url: flaky.url, http: fast() }).fetchLeaves(0n, 5n, 5n);
      expect(leafRun(batch, 0, 5).leaves.map((l) => Buffer.from(l.body).toString())).toEqual(entries.map(String));
    } finally {
      await flaky.close();
    }
    // Served short every time: withheld, not cut.
    const short = await closeDelimited((_n, whole) => (whole === bodies['tile'] ? 3 * 32 : whole.length));
    try {
      const attempts: HttpAttempt[] = [];
      const err = await new TilesSource({ url: short.url, http: fast({ onAttempt: (a) => attempts.push(a) }) }).fetchLeaves(0n, 5n, 5n).catch((e: unknown) => e);
      expect(isTlogwatchError(err, 'VERIFY_MISSING_ENTRY') && err.kind === 'misbehaviour').toBe(true);
      expect((err as Error).message).toMatch(/level-0 tile 0 holds 3 items on every attempt/);
      expect(attempts.filter((a) => a.endpoint === 'tile').length).toBe(5);
    } finally {
      await short.close();
    }
  });

  it('asks again for a full bundle or tile that a first request did not find (a cache or a replica behind)', async () => {
    const entries = Array.from({ length: 256 }, (_, i) => Buffer.from(`entry ${i}`));
    const bodies = [
      [entriesPath(0n), Buffer.concat(entries.flatMap((e) => [Buffer.of(e.length >> 8, e.length & 255), e]))],
      [tilePath(0, 0n), Buffer.concat(entries.map((e) => leafHash(e)))],
    ] as const;
    for (const [path, body] of bodies) handlers.set(`/late-full/${path}`, (_req, res, n) => (n === 1 ? res.writeHead(404).end() : res.end(body)));
    const batch = await new TilesSource({ url: `${base}/late-full`, http: fast() }).fetchLeaves(0n, 256n, 256n);
    expect(leafCount(batch)).toBe(256);
    expect(Buffer.from(leafRun(batch, 255, 256).leaves[0]!.body).toString()).toBe('entry 255');
  });

  it('asks only for what the verified checkpoint implies, and reads a partial bundle or tile the log deleted from the full one, its first W items', async () => {
    // The log has grown to 512 and deleted the partials of size 300 (tlog-tiles: it MAY, once the full tile exists).
    const entries = Array.from({ length: 512 }, (_, i) => Buffer.from(`entry ${i}`));
    const bundle = (es: Buffer[]) => Buffer.concat(es.flatMap((e) => [Buffer.of(e.length >> 8, e.length & 255), e]));
    for (const n of [0, 1]) {
      const some = entries.slice(256 * n, 256 * (n + 1));
      handlers.set(`/deleted-partials/${entriesPath(BigInt(n))}`, (_req, res) => res.end(bundle(some)));
      handlers.set(`/deleted-partials/${tilePath(0, BigInt(n))}`, (_req, res) => res.end(Buffer.concat(some.map((e) => leafHash(e)))));
    }
    const batch = await new TilesSource({ url: `${base}/deleted-partials`, http: fast() }).fetchLeaves(0n, 300n, 300n);
    expect(leafRun(batch, 0, 300).leaves.map((l) => Buffer.from(l.body).toString())).toEqual(entries.slice(0, 300).map(String));
    expect(leafRun(batch, 256, 300).tileHashes!.map(hex)).toEqual(entries.slice(256, 300).map((e) => hex(leafHash(e))));
    const asked = [...counts.keys()].filter((p) => p.startsWith('/deleted-partials/')).map((p) => p.slice('/deleted-partials/'.length));
    // Partial widths only as the checkpoint implies them (300 = 256 + 44), never one it does not (tlog-tiles: clients MUST NOT).
    expect(asked.sort()).toEqual(['tile/0/000', 'tile/0/001', 'tile/0/001.p/44', 'tile/entries/000', 'tile/entries/001', 'tile/entries/001.p/44']);
  });

  it('never sniffs for gzip: a bundle whose first entry is 0x1f8b bytes long is read as it is', async () => {
    // tlog-tiles entry bundles start with a big-endian uint16 length; 1f 8b (8075) is a legal one.
    const entries = [Buffer.alloc(0x1f8b, 7), Buffer.from('second')];
    const body = Buffer.concat(entries.flatMap((e) => [Buffer.of(e.length >> 8, e.length & 255), e]));
    expect(body.subarray(0, 2).toString('hex')).toBe('1f8b');
    handlers.set(`/magic/${entriesPath(0n, 2)}`, (_req, res) => res.end(body));
    handlers.set(`/magic/${tilePath(0, 0n, 2)}`, (_req, res) => res.end(Buffer.concat(entries.map((e) => leafHash(e)))));
    const batch = await new TilesSource({ url: `${base}/magic`, http: fast() }).fetchLeaves(0n, 2n, 2n);
    expect(leafRun(batch, 0, 2).leaves.map((l) => hex(l.body))).toEqual(entries.map(hex));
  });

  it('frees an inflated batch on release(), and leaves bodies it does not own alone', async () => {
    for (const gzip of [true, false]) {
      const prefix = `/leaves-${gzip ? 'gz' : 'plain'}`;
      const entries = await serve(prefix, gzip);
      const batch = await new TilesSource({ url: `${base}${prefix}`, http: fast() }).fetchLeaves(10n, 256n, 256n);
      expect(leafCount(batch)).toBe(246);
      // Read a run at a time, as the mirror reads them: indexes, bodies and the tile's hashes line up.
      const run = leafRun(batch, 100, 246);
      expect(run.leaves.map((l) => [l.treeIndex, l.logIndex])).toEqual(entries.slice(110).map((_, i) => [BigInt(110 + i), BigInt(110 + i)]));
      expect(run.leaves.map((l) => Buffer.from(l.body).toString())).toEqual(entries.slice(110).map((e) => e.toString()));
      expect(run.tileHashes!.map((h) => hex(h))).toEqual(entries.slice(110).map((e) => hex(leafHash(e))));
      expect(() => leafRun(batch, 0, 247)).toThrow(RangeError);
      batch.release();
      // Inflated: the bundle was the batch's alone, so its memory is gone. Plain: the socket's buffers, kept.
      expect(run.leaves.every((l) => l.body.length === (gzip ? 0 : 600)), prefix).toBe(true);
      expect(run.tileHashes!.every((h) => h.length === 32)).toBe(true);
    }
  });
});

describe('RekorV1Source retrieve', () => {
  const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
  const entry = (i: number, body: string, extra: Record<string, unknown> = {}, uuid = i.toString(16).padStart(64, '0')) => ({ [uuid]: { body, integratedTime: 1, logID: 'ab'.repeat(32), logIndex: i, ...extra } });

  it('asks again for an entry that retrieve omitted and that a first GET by index did not find', async () => {
    const v1Entry = (i: number) => entry(i, b64(`entry ${i}`));
    handlers.set('/v1-omits/api/v1/log/entries/retrieve', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(JSON.stringify((JSON.parse(body) as { logIndexes: number[] }).logIndexes.filter((i) => i !== 3).map(v1Entry))));
    });
    handlers.set('/v1-omits/api/v1/log/entries?logIndex=3', (_req, res, n) => (n === 1 ? res.writeHead(404).end() : res.end(JSON.stringify(v1Entry(3)))));
    const leaves = await new RekorV1Source({ url: `${base}/v1-omits`, http: fast() }).fetchLeaves(0n, 10n, 0n);
    expect(leaves.map((l) => Buffer.from(l.body).toString())).toEqual(Array.from({ length: 10 }, (_, i) => `entry ${i}`));
  });

  it('decodes and keeps only the entries it asked for, the first of each, and no attestation larger than Rekor takes', async () => {
    handlers.set('/v1-padded/api/v1/log/entries/retrieve', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { logIndexes } = JSON.parse(body) as { logIndexes: number[] };
        const [first, ...rest] = logIndexes.map((i) =>
          entry(i, b64(`entry ${i}`), { attestation: { data: b64(i === 3 ? Buffer.alloc(200 * 1024, 1) : `attestation ${i}`) } }),
        );
        res.end(
          JSON.stringify([
            // Padding a response has room for: entries not asked for (one with a body that is not even base64),
            // and a second, different entry for an index asked for.
            { ...first, ...entry(1000 + logIndexes[0]!, '!not base64!'), ...entry(2000 + logIndexes[0]!, b64(Buffer.alloc(4096))) },
            ...rest.map((m, j) => (j === rest.length - 1 ? { ...m, ...entry(logIndexes[1]!, b64('a second entry'), {}, 'f'.repeat(64)) } : m)),
          ]),
        );
      });
    });
    const leaves = await new RekorV1Source({ url: `${base}/v1-padded`, http: fast() }).fetchLeaves(0n, 20n, 0n);
    expect(leaves.map((l) => Buffer.from(l.body).toString())).toEqual(Array.from({ length: 20 }, (_, i) => `entry ${i}`));
    expect(leaves.map((l) => (l.attestation ? Buffer.from(l.attestation).toString() : undefined))).toEqual(Array.from({ length: 20 }, (_, i) => (i === 3 ? undefined : `attestation ${i}`)));
  });
});
