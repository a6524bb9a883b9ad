/**
 * What an unauthenticated request costs the event loop the mirror runs on: a fixed document costs what
 * sending its bytes does, not its construction each time (/openapi.json took ~1.2 ms a request when it was
 * built per request, 10-20 times /healthz: ~800 requests a second would have taken the whole loop).
 * Compared with a route sending the same bytes on the same app, so the bound holds on a slow or busy machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { createApp } from '../../../src/api/app.ts';
import { buildOpenApi } from '../../../src/api/openapi.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { Store } from '../../../src/store/store.ts';

/** The median time of `rounds` runs of `n` requests for `path`, in ms per request. */
async function perRequest(app: Hono, path: string, n = 50, rounds = 5): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) await (await app.request(path)).arrayBuffer();
    times.push((performance.now() - t) / n);
  }
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

describe('the cost of a request', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-request-cost-'));
  let store: Store;
  let app: Hono;
  beforeAll(async () => {
    store = await Store.open(dir);
    app = createApp({ store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => [] });
    // The baseline: the document's bytes from a route that only sends them, through the same middleware
    // (added before the first request: Hono's router is fixed once it has matched one).
    const text = JSON.stringify(buildOpenApi());
    app.get('/same-size', (c) => c.body(text, 200, { 'content-type': 'application/json' }));
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/openapi.json costs what serving a fixed body of its size does, not the document built again', async () => {
    expect(await (await app.request('/openapi.json')).text()).toBe(await (await app.request('/same-size')).text());
    await perRequest(app, '/openapi.json', 10, 1); // warm-up
    await perRequest(app, '/same-size', 10, 1);
    const fixed = await perRequest(app, '/same-size');
    const openapi = await perRequest(app, '/openapi.json');
    expect(openapi / fixed, `openapi ${openapi.toFixed(3)} ms, same-size ${fixed.toFixed(3)} ms`).toBeLessThan(2);
  });
});
