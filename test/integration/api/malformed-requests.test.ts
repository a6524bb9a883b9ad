/**
 * Requests the app never sees, over real HTTP on loopback through the daemon's `listen`: those the HTTP
 * adapter cannot turn into a Request (a backslash before the query, a Host header that names no host, a
 * target that is no URL), and those Node's parser refuses itself (a malformed request line or header, a
 * header block over 16 KiB, headers that do not arrive in time: api/client-error.ts). Each gets the JSON
 * error and the security headers every other answer has, not a bare status line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from '../../../src/api/http-server.ts';
import { SECURITY_HEADERS } from '../../../src/api/security-headers.ts';
import { listen } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { Store } from '../../../src/store/store.ts';

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

/** Writes `head` as a request's line and headers, byte for byte, and reads the whole answer. */
function rawRequest(port: number, head: string): Promise<RawAnswer> {
  return rawExchange(port, `${head}\r\nConnection: close\r\n\r\n`);
}

/** Writes `bytes` (nothing when empty) and reads whatever the server answers until it closes. */
function rawExchange(port: number, bytes: string): Promise<RawAnswer> {
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
    if (bytes) s.write(bytes);
  });
}

/** A JSON error with the security headers, the answer to everything refused. */
function expectJsonError(r: RawAnswer, status: number, code: string, message: RegExp): void {
  expect(r.status).toBe(status);
  expect(JSON.parse(r.body)).toEqual({ error: { code, message: expect.stringMatching(message) } });
  expect(r.headers).toMatch(/^content-type: application\/json/im);
  for (const [name, value] of SECURITY_HEADERS) expect(r.headers.toLowerCase()).toContain(`${name}: ${value}`.toLowerCase());
}

/**
 * The app over an empty store, listening on loopback through the daemon's own listener for the describe block
 * that calls it (its beforeAll and afterAll); `port` is set once it listens.
 */
function serveEmptyApp(prefix: string, limits: Readonly<ServerLimits> = DEFAULT_SERVER_LIMITS): { port: number } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const served = { port: 0 };
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    store = await Store.open(dir);
    const app = createApp({ store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => [] });
    const { server, url } = await listen(app.fetch, '127.0.0.1:0', limits);
    served.port = Number(new URL(url).port);
    close = () => new Promise((r) => server.close(() => r()));
  });
  afterAll(async () => {
    await close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return served;
}

describe('requests the app never sees', () => {
  const served = serveEmptyApp('tlogwatch-malformed-');

  it.each([
    ['a backslash in the path', 'GET /v1/entries/by-uuid/\\x HTTP/1.1\r\nHost: 127.0.0.1', /Backslash in request path/],
    ['a backslash in a Rekor-compatible path', 'GET /api/v1/log/entries/\\x HTTP/1.1\r\nHost: 127.0.0.1', /Backslash in request path/],
    ['a Host header with a path', 'GET /v1/logs HTTP/1.1\r\nHost: a/b', /Invalid host header/],
    ['a Host header with a port past 65535', 'GET /v1/logs HTTP/1.1\r\nHost: x:99999', /Invalid URL/],
    ['an asterisk target', 'GET * HTTP/1.1\r\nHost: 127.0.0.1', /Invalid URL/],
  ])('%s: a 400 with a JSON error and the security headers', async (_what, head, message) => {
    expectJsonError(await rawRequest(served.port, head), 400, 'API_BAD_REQUEST', message);
  });

  it.each([
    ['a request line that is not HTTP', 'HELLO\r\n\r\n', /^malformed request: /],
    ['a method with a space in it', 'G T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', /^malformed request: /],
    ['a header line with no colon', 'GET /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n', /^malformed request: /],
  ])("%s (refused by Node's parser): a 400 with a JSON error and the security headers", async (_what, bytes, message) => {
    expectJsonError(await rawExchange(served.port, bytes), 400, 'API_BAD_REQUEST', message);
  });

  it('a header block over 16 KiB: a 431 with a JSON error and the security headers', async () => {
    const r = await rawExchange(served.port, `GET /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expectJsonError(r, 431, 'API_HEADERS_TOO_LARGE', /16 KiB/);
  });

  it('never echoes what the client sent in the message', async () => {
    const r = await rawExchange(served.port, 'GET /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Secret: hunter2\r\nbad header\r\n\r\n');
    expect(r.status).toBe(400);
    expect(r.body).not.toMatch(/hunter2|bad header/);
  });

  it('answers a well-formed request through the app as before', async () => {
    const r = await rawRequest(served.port, 'GET /v1/logs HTTP/1.1\r\nHost: 127.0.0.1');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual([]);
  });
});

describe("a request whose headers do not arrive in time", () => {
  const served = serveEmptyApp('tlogwatch-malformed-timeout-', { ...DEFAULT_SERVER_LIMITS, headersTimeoutMs: 300 });

  it('is answered 408 with a JSON error and the security headers, then closed', async () => {
    // Half a request: the parser has started one, so Node's header timeout answers it rather than only closing.
    const r = await rawExchange(served.port, 'GET /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expectJsonError(r, 408, 'API_REQUEST_TIMEOUT', /not received in time/);
  });
});
