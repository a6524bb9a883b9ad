/**
 * Request bodies over real HTTP on loopback, through the daemon's `listen` (api/body-limit.ts): a chunked
 * body is not read before the route wants it, so a route that refuses the request (no admin token, no such
 * path, a client over its budget) answers while the body is still arriving, never having held it; a body
 * over api.maxBodyBytes is still refused with 413, declared or streamed, and one within it is read whole.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { findingsRoutes } from '../../../src/api/findings.ts';
import { listen } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { FindingsRepo } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';

const MAX = 64 * 1024;
const TOKEN = 'body-limit-admin-token-0123';

/**
 * Sends a request with a chunked body: the first `first` bytes (spaces), then (unless `finish` is false)
 * the rest up to `total` and `last`, in 16 KiB chunks. Resolves with the status line's code and the body, or 'none'
 * if no answer came within `waitMs`.
 */
function chunked(port: number, head: string, opts: { first: number; total?: number; finish?: boolean; last?: string; waitMs?: number }): Promise<{ status: number | 'none'; body: string }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const done = (status: number | 'none') => {
      clearTimeout(timer);
      s.destroy();
      const split = got.indexOf('\r\n\r\n');
      let body = got.slice(split + 4);
      if (/^transfer-encoding: chunked$/im.test(got.slice(0, split))) body = body.slice(body.indexOf('\r\n') + 2, body.lastIndexOf('\r\n0\r\n'));
      resolve({ status, body });
    };
    const timer = setTimeout(() => done('none'), opts.waitMs ?? 3000);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      const m = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n/.exec(got);
      // A whole answer: its headers, and a body that ended (chunked) or had its length.
      if (m && (/\r\n0\r\n\r\n$/.test(got) || /content-length: (\d+)/i.test(m[0]) && got.length - m[0].length >= Number(/content-length: (\d+)/i.exec(m[0])![1]))) done(Number(m[1]));
    });
    s.on('error', () => undefined);
    s.write(`${head}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = (n: number) => `${n.toString(16)}\r\n${' '.repeat(n)}\r\n`;
    let sent = 0;
    const send = (upTo: number) => {
      while (sent < upTo) {
        const n = Math.min(16 * 1024, upTo - sent);
        s.write(chunk(n));
        sent += n;
      }
    };
    send(opts.first);
    if (opts.finish !== false) {
      send(opts.total ?? opts.first);
      if (opts.last) s.write(`${Buffer.byteLength(opts.last).toString(16)}\r\n${opts.last}\r\n`);
      s.write('0\r\n\r\n');
    }
  });
}

describe('request bodies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-body-limit-'));
  let store: Store;
  const ports: Record<string, number> = {};
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    store = await Store.open(dir);
    for (const [name, rateLimitPerMinute] of [['open', undefined], ['limited', 1]] as const) {
      const app = createApp({
        store,
        metrics: createMetrics({ defaultMetrics: false }),
        logger: createLogger({ level: 'silent' }),
        logNames: () => [],
        adminToken: TOKEN,
        maxBodyBytes: MAX,
        ...(rateLimitPerMinute ? { rateLimitPerMinute } : {}),
        extend: (a, h) => findingsRoutes(a, h, new FindingsRepo(store, () => undefined)),
      });
      const { server, url } = await listen(app.fetch, '127.0.0.1:0');
      ports[name] = Number(new URL(url).port);
      closers.push(() => new Promise((r) => server.close(() => r())));
    }
  });
  afterAll(async () => {
    for (const c of closers) await c();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['an admin route without the token', 'POST /v1/findings/00000000000000000000000000000000/ack HTTP/1.1', 401],
    ['a path with no route', 'POST /v1/nothing-here HTTP/1.1', 404],
  ])('%s is answered while its body is still arriving', async (_what, head, status) => {
    const r = await chunked(ports['open']!, head, { first: 1024, finish: false });
    expect(r.status).toBe(status);
  });

  it('a client over its budget is answered before its body is read', async () => {
    expect((await chunked(ports['limited']!, 'POST /v1/nothing-here HTTP/1.1', { first: 10 })).status).toBe(404);
    expect((await chunked(ports['limited']!, 'POST /api/v1/index/retrieve HTTP/1.1', { first: 1024, finish: false })).status).toBe(429);
  });

  it('a body over the limit is refused with 413, streamed or declared', async () => {
    const streamed = await chunked(ports['open']!, 'POST /api/v1/index/retrieve HTTP/1.1', { first: MAX + 1 });
    expect(streamed).toEqual({ status: 413, body: JSON.stringify({ code: 413, message: `request body exceeds ${MAX} bytes` }) });
    const acked = await chunked(ports['open']!, `POST /v1/findings/${'0'.repeat(32)}/ack HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}`, { first: MAX + 1 });
    expect(acked.status).toBe(413);
    const declared = await fetch(`http://127.0.0.1:${ports['open']!}/api/v1/index/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ' '.repeat(MAX + 1) });
    expect(declared.status).toBe(413);
  });

  it('a streamed body within the limit reaches the route whole', async () => {
    // Spaces, then the JSON: the route finds its reason only if every byte arrived.
    const r = await chunked(ports['open']!, `POST /v1/findings/${'0'.repeat(32)}/ack HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}`, { first: MAX - 100, last: '{"reason":"x"}' });
    expect(r).toEqual({ status: 404, body: JSON.stringify({ error: { code: 'API_NOT_FOUND', message: `no finding ${'0'.repeat(32)}` } }) });
  });
});
