import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../../src/api/app.ts';
import { findingsRoutes } from '../../../src/api/findings.ts';
import { SECURITY_HEADERS, securityHeaders } from '../../../src/api/security-headers.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { FindingsRepo } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';
import { serveOnLoopback } from '../../helpers/loopback.ts';

const expected = Object.fromEntries(SECURITY_HEADERS.map(([k, v]) => [k.toLowerCase(), v]));
const only = (h: Headers) => Object.fromEntries([...h].filter(([k]) => !['content-type', 'content-length', 'date', 'connection', 'keep-alive'].includes(k)));

function testApp(): Hono {
  const app = new Hono();
  app.onError((_e, c) => c.json({ error: 'boom' }, 500));
  app.use('*', securityHeaders());
  app.get('/ok', (c) => c.json({ ok: true }));
  app.get('/throws', () => {
    throw new Error('boom');
  });
  app.get('/raw', () => new Response('raw body', { headers: { 'x-own': '1' } }));
  return app;
}

describe('security headers', () => {
  it("are exactly what Hono's secureHeaders({ crossOriginResourcePolicy: 'same-origin' }) sets (the oracle)", async () => {
    const oracle = new Hono();
    oracle.use('*', secureHeaders({ crossOriginResourcePolicy: 'same-origin' }));
    oracle.get('/', (c) => c.text('x'));
    expect(only((await oracle.request('/')).headers)).toEqual(expected);
  });

  it('are set without a Node server too (app.request)', async () => {
    for (const path of ['/ok', '/throws', '/missing', '/raw']) {
      const res = await testApp().request(path);
      expect({ path, ...only(res.headers) }).toEqual({ path, ...expected, ...(path === '/raw' ? { 'x-own': '1' } : {}) });
    }
  });

  describe('served by @hono/node-server over loopback', () => {
    let server: ServerType;
    let url: string;
    beforeAll(async () => {
      await new Promise<void>((resolve) => {
        server = serve({ fetch: testApp().fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
      });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('reach the wire on every kind of response: JSON, an error, not found, a handler-built Response', async () => {
      for (const [path, status] of [['/ok', 200], ['/throws', 500], ['/missing', 404], ['/raw', 200]] as const) {
        const res = await fetch(`${url}${path}`);
        await res.arrayBuffer();
        expect(res.status).toBe(status);
        expect({ path, ...only(res.headers) }).toEqual({ path, ...expected, ...(path === '/raw' ? { 'x-own': '1' } : {}) });
      }
    });
  });

  describe("on every kind of answer tlogwatch's own app gives, through the daemon's listen", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-security-headers-'));
    let store: Store;
    let url: string;
    let close: () => Promise<void>;
    beforeAll(async () => {
      store = await Store.open(dir);
      const app = createApp({
        store,
        metrics: createMetrics({ defaultMetrics: false }),
        logger: createLogger({ level: 'silent' }),
        logNames: () => [],
        adminToken: 'security-headers-token-0123',
        maxBodyBytes: 1024,
        rateLimitPerMinute: 12,
        corsOrigins: ['https://dash.example.com'],
        extend: (a, h) => findingsRoutes(a, h, new FindingsRepo(store, () => undefined)),
      });
      ({ url, close } = await serveOnLoopback(app));
    });
    afterAll(async () => {
      await close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('data, /metrics, a preflight, and each error status', async () => {
      const cases: Array<[string, RequestInit, number]> = [
        ['/v1/logs', {}, 200],
        ['/v1/logs', { method: 'HEAD' }, 200],
        ['/metrics', {}, 200],
        ['/openapi.json', {}, 200],
        ['/v1/logs', { method: 'OPTIONS', headers: { origin: 'https://dash.example.com', 'access-control-request-method': 'GET' } }, 204],
        ['/v1/nothing', {}, 404],
        ['/api/v1/nothing', {}, 404],
        ['/v1/search?digest=nothex', {}, 400],
        [`/v1/findings/${'0'.repeat(32)}/ack`, { method: 'POST', body: '{}' }, 401],
        ['/api/v1/index/retrieve', { method: 'POST', body: ' '.repeat(2048) }, 413],
      ];
      for (const [path, init, status] of cases) {
        const res = await fetch(`${url}${path}`, init);
        await res.arrayBuffer();
        expect({ path, status: res.status, ...only(res.headers) }).toMatchObject({ path, status, ...expected });
      }
      // Spend the rest of the budget (12 a minute).
      let limited: Response | undefined;
      for (let i = 0; i < 12 && limited?.status !== 429; i++) {
        limited = await fetch(`${url}/v1/logs`);
        await limited.arrayBuffer();
      }
      expect({ status: limited?.status, ...only(limited!.headers) }).toMatchObject({ status: 429, ...expected });
    });
  });
});
