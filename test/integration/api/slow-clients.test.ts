/**
 * Clients that hold the API's connections without using them, over real sockets on loopback through the
 * daemon's `listen` (api/http-server.ts): each is closed within the limit that bounds it, and connections
 * past the cap are closed on arrival, while the connections already open are still served. The limits are
 * scaled down so the test runs in seconds; the defaults are checked on a server `listen` builds without any.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from '../../../src/api/http-server.ts';
import { listen } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { Store } from '../../../src/store/store.ts';

const LIMITS: ServerLimits = { maxConnections: 4, headersTimeoutMs: 600, requestTimeoutMs: 1200, idleTimeoutMs: 1000, keepAliveTimeoutMs: 1000 };

interface Served {
  port: number;
  server: Server;
  /** Resolves with the milliseconds the server kept the next connection it accepts. */
  nextConnectionLife(): Promise<number>;
  dropped: () => number;
  close(): Promise<void>;
}

async function serve(store: Store, limits?: ServerLimits): Promise<Served> {
  const app = createApp({ store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => [] });
  let dropped = 0;
  const { server, url } = limits ? await listen(app.fetch, '127.0.0.1:0', limits, () => void dropped++) : await listen(app.fetch, '127.0.0.1:0');
  const waiting: Array<(s: Socket) => void> = [];
  // Watched from the server's side: a paused client socket does not see the server's close.
  server.on('connection', (s: Socket) => waiting.shift()?.(s));
  return {
    port: Number(new URL(url).port),
    server,
    nextConnectionLife: () =>
      new Promise((resolve) => {
        waiting.push((s) => {
          const t = performance.now();
          s.once('close', () => resolve(performance.now() - t));
        });
      }),
    dropped: () => dropped,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Sends a request on `s` and reads its answer's status line. */
function statusOf(s: Socket, head: string): Promise<number> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) {
        s.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    s.on('data', onData);
    s.write(head);
  });
}

describe('slow, idle and too many clients', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-slow-clients-'));
  let store: Store;
  let api: Served;
  beforeAll(async () => {
    store = await Store.open(dir);
    api = await serve(store, LIMITS);
  });
  afterAll(async () => {
    await api.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a server listen builds uses the default limits, not Node’s (60 s for headers, 300 s for a body, no idle timeout, no cap)', async () => {
    const plain = await serve(store);
    try {
      expect(plain.server.headersTimeout).toBe(DEFAULT_SERVER_LIMITS.headersTimeoutMs);
      expect(plain.server.requestTimeout).toBe(DEFAULT_SERVER_LIMITS.requestTimeoutMs);
      expect(plain.server.timeout).toBe(DEFAULT_SERVER_LIMITS.idleTimeoutMs);
      expect(plain.server.keepAliveTimeout).toBe(DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs);
      expect(plain.server.maxConnections).toBe(DEFAULT_SERVER_LIMITS.maxConnections);
      expect(DEFAULT_SERVER_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(10_000);
    } finally {
      await plain.close();
    }
  });

  it('closes a connection that sends nothing once headersTimeout has passed', async () => {
    const life = api.nextConnectionLife();
    const s = await open(api.port);
    s.on('data', () => undefined);
    // Within the timeout plus one sweep of Node's connection checks (and scheduling slack).
    expect(await life).toBeLessThan(LIMITS.headersTimeoutMs + 1000 + 500);
    s.destroy();
  });

  /** How long the server keeps a connection that sends `head` and then a byte every 100 ms. */
  async function dripLife(head: string): Promise<number> {
    const life = api.nextConnectionLife();
    const s = await open(api.port);
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.write(head);
    const drip = setInterval(() => s.writable && s.write('a'), 100);
    try {
      return await life;
    } finally {
      clearInterval(drip);
      s.destroy();
    }
  }

  it('closes a slowloris connection (a header byte now and then) once headersTimeout has passed', async () => {
    expect(await dripLife('GET /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')).toBeLessThan(LIMITS.headersTimeoutMs + 1000 + 500);
  });

  it('closes a connection whose body trickles in once requestTimeout has passed', async () => {
    // A route that reads its body: the request stays in progress for as long as the body arrives.
    const head = 'POST /api/v1/index/retrieve HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"hash":"';
    expect(await dripLife(head)).toBeLessThan(LIMITS.requestTimeoutMs + 1000 + 500);
  });

  it('closes a connection that pipelines requests and never reads the answers once idleTimeout has passed', async () => {
    const life = api.nextConnectionLife();
    const s = await open(api.port);
    s.on('error', () => undefined);
    // Never read: the answers fill both sockets' buffers, then the server's writes stall.
    s.pause();
    s.write('GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.repeat(2000));
    try {
      expect(await life).toBeLessThan(LIMITS.idleTimeoutMs + 2000);
    } finally {
      s.destroy();
    }
  });

  it('closes connections past maxConnections on arrival, counts them, and still serves those it holds', async () => {
    // Timeouts long enough that no held connection is closed for them while the test runs.
    const api = await serve(store, { ...LIMITS, headersTimeoutMs: 30_000, requestTimeoutMs: 30_000, idleTimeoutMs: 30_000, keepAliveTimeoutMs: 30_000 });
    const held = await Promise.all(Array.from({ length: LIMITS.maxConnections }, () => open(api.port)));
    try {
      // Each held connection asks for something first, so the server has counted all of them.
      for (const s of held) expect(await statusOf(s, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).toBe(200);
      const before = api.dropped();
      const extra = connect(api.port, '127.0.0.1');
      const ended = await new Promise<string>((resolve) => {
        extra.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        extra.on('close', () => resolve('closed'));
        extra.on('data', () => resolve('answered'));
        extra.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      });
      expect(ended).not.toBe('answered');
      expect(api.dropped()).toBe(before + 1);
      expect(await statusOf(held[0]!, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).toBe(200);
    } finally {
      for (const s of held) s.destroy();
    }
    // Once they are gone, new connections are served again.
    await new Promise((r) => setTimeout(r, 100));
    const next = await open(api.port);
    expect(await statusOf(next, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).toBe(200);
    next.destroy();
    await api.close();
  });
});
