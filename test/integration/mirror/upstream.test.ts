/** The upstream client's metrics against a real HTTP server on loopback that answers with statuses of its choosing. */
import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics.ts';
import { createUpstream } from '../../../src/mirror/upstream.ts';

let server: Server;
let url = '';
// Each request gets the next status of 520..559 (none of them named by RFCs or Node), then 418 and 451.
const statuses = [...Array.from({ length: 40 }, (_, i) => 520 + i), 418, 451];
let next = 0;

beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(statuses[next++ % statuses.length]!).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('tlogwatch_upstream_errors_total', () => {
  it('names each status Node knows, and counts any other a log sends as other', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { tiles } = createUpstream({ name: 'l', type: 'tiles', url, origin: 'o', start: 0n, pollIntervalMs: 100, batchSize: 256, concurrency: 1, requestsPerMinute: 0 }, metrics);
    // None of these statuses is retried: one attempt each.
    for (let i = 0; i < statuses.length; i++) await expect(tiles!.fetchCheckpoint()).rejects.toThrow();
    const got = Object.fromEntries((await metrics.upstreamErrors.get()).values.map((v) => [String(v.labels.code), v.value]));
    expect(got).toEqual({ other: 40, 418: 1, 451: 1 });
    expect([STATUS_CODES['418'], STATUS_CODES['451']]).not.toContain(undefined);
  });

  it('counts a 404 where the log must answer (its checkpoint, a full tile), not where a 404 is an answer (a partial tile)', { timeout: 60_000 }, async () => {
    const paths: string[] = [];
    const missing = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => missing.listen(0, '127.0.0.1', resolve));
    try {
      const metrics = createMetrics({ defaultMetrics: false });
      const base = `http://127.0.0.1:${(missing.address() as AddressInfo).port}`;
      const { tiles } = createUpstream({ name: 'l', type: 'tiles', url: base, origin: 'o', start: 0n, pollIntervalMs: 100, batchSize: 256, concurrency: 1, requestsPerMinute: 0 }, metrics);
      const count = async () => (await metrics.upstreamErrors.get()).values.find((v) => v.labels.code === '404')?.value ?? 0;
      // A log moved or a wrong URL: every round ends here, and nothing else would say so.
      await expect(tiles!.fetchCheckpoint()).rejects.toThrow(/404/);
      expect(await count()).toBe(1);
      // A partial tile the log has replaced by the full one (an answer), then the full one missing too: each
      // attempt at the full one is the log failing to serve what it signed.
      paths.length = 0;
      await expect(tiles!.fetchLeaves(0n, 10n, 10n)).rejects.toMatchObject({ code: 'VERIFY_MISSING_ENTRY' });
      const partial = paths.filter((p) => p.includes('.p/')).length;
      expect(partial).toBeGreaterThan(0);
      expect(await count()).toBe(1 + paths.length - partial);
    } finally {
      await new Promise((resolve) => missing.close(resolve));
    }
  });
});
