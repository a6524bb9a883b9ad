import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS, securityHeaders } from '../../../src/api/security-headers.ts';

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
});
