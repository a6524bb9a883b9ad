/**
 * The per-client budget over real HTTP on loopback, through the daemon's `listen`: behind a trusted proxy
 * each client named by X-Forwarded-For has its own budget (one client spending its budget leaves the
 * others theirs); from a peer that is not trusted the header changes nothing, so a client cannot buy a
 * new budget by writing another address in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { listen } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { Store } from '../../../src/store/store.ts';

describe('rate limit by client over loopback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-rate-limit-'));
  let store: Store;
  const servers: Array<{ close(): Promise<void> }> = [];
  beforeAll(async () => {
    store = await Store.open(dir);
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(trustedProxies?: string[]): Promise<(forwardedFor?: string) => Promise<number>> {
    const app = createApp({ store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => [], rateLimitPerMinute: 2, ...(trustedProxies ? { trustedProxies } : {}) });
    const { server, url } = await listen(app.fetch, '127.0.0.1:0');
    servers.push({ close: () => new Promise((r) => server.close(() => r())) });
    return async (forwardedFor) => {
      const res = await fetch(`${url}/v1/logs`, { headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } });
      await res.arrayBuffer();
      return res.status;
    };
  }

  it('behind a trusted proxy, gives each forwarded client its own budget', async () => {
    const get = await serve(['127.0.0.0/8']);
    expect([await get('198.51.100.1'), await get('198.51.100.1'), await get('198.51.100.1')]).toEqual([200, 200, 429]);
    // Another client behind the same proxy still has its budget.
    expect(await get('198.51.100.2')).toBe(200);
    // What a client writes at the left of the chain does not make it another client.
    expect(await get('203.0.113.50, 198.51.100.1')).toBe(429);
    // Addresses of one IPv6 /64 are one client.
    expect([await get('2001:db8:1:2::1'), await get('2001:db8:1:2::2'), await get('2001:db8:1:2::3')]).toEqual([200, 200, 429]);
  });

  it('from a peer that is not a trusted proxy, ignores X-Forwarded-For', async () => {
    for (const trusted of [undefined, ['10.0.0.0/8']]) {
      const get = await serve(trusted);
      expect([await get('198.51.100.1'), await get('198.51.100.2'), await get('198.51.100.3')]).toEqual([200, 200, 429]);
    }
  });
});
