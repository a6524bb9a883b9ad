/**
 * Requests the HTTP adapter cannot turn into a Request, so the app never sees them (a backslash before the
 * query, a Host header that names no host, a target that is no URL): over real HTTP on loopback, through
 * the daemon's `listen`, they get the JSON error every other answer has, not a bare 400.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { SECURITY_HEADERS } from '../../../src/api/security-headers.ts';
import { listen } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { Store } from '../../../src/store/store.ts';

/** Writes `head` as a request's line and headers, byte for byte, and reads the whole answer. */
function rawRequest(port: number, head: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('end', () => {
      const split = out.indexOf('\r\n\r\n');
      const headers = out.slice(0, split);
      let body = out.slice(split + 4);
      // Chunked: the one chunk an error body is.
      if (/^transfer-encoding: chunked$/im.test(headers)) body = body.slice(body.indexOf('\r\n') + 2, body.lastIndexOf('\r\n0\r\n'));
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]), headers, body });
    });
    s.on('error', reject);
    s.write(`${head}\r\nConnection: close\r\n\r\n`);
  });
}

describe('requests the adapter cannot hand the app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-malformed-'));
  let store: Store;
  let close: () => Promise<void>;
  let port: number;
  beforeAll(async () => {
    store = await Store.open(dir);
    const app = createApp({ store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => [] });
    const { server, url } = await listen(app.fetch, '127.0.0.1:0');
    port = Number(new URL(url).port);
    close = () => new Promise((r) => server.close(() => r()));
  });
  afterAll(async () => {
    await close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['a backslash in the path', 'GET /v1/entries/by-uuid/\\x HTTP/1.1\r\nHost: 127.0.0.1', /Backslash in request path/],
    ['a backslash in a Rekor-compatible path', 'GET /api/v1/log/entries/\\x HTTP/1.1\r\nHost: 127.0.0.1', /Backslash in request path/],
    ['a Host header with a path', 'GET /v1/logs HTTP/1.1\r\nHost: a/b', /Invalid host header/],
    ['a Host header with a port past 65535', 'GET /v1/logs HTTP/1.1\r\nHost: x:99999', /Invalid URL/],
    ['an asterisk target', 'GET * HTTP/1.1\r\nHost: 127.0.0.1', /Invalid URL/],
  ])('%s: a 400 with a JSON error and the security headers', async (_what, head, message) => {
    const r = await rawRequest(port, head);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toEqual({ error: { code: 'API_BAD_REQUEST', message: expect.stringMatching(message) } });
    expect(r.headers).toMatch(/^content-type: application\/json/im);
    for (const [name, value] of SECURITY_HEADERS) expect(r.headers.toLowerCase()).toContain(`${name}: ${value}`.toLowerCase());
  });

  it('answers a well-formed request through the app as before', async () => {
    const r = await rawRequest(port, 'GET /v1/logs HTTP/1.1\r\nHost: 127.0.0.1');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual([]);
  });
});
