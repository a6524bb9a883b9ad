/**
 * The search bound (api.searchEntriesInFlight, api/search-gate.ts) over real HTTP on loopback, through the
 * daemon's `listen` and a real LevelDB store: while the gate is full, a search waits, and is answered once room
 * frees or refused with the API's JSON 429, Retry-After and the security headers after the wait, counted in
 * /metrics; /healthz, /readyz and /metrics answer at once all the while. The test holds the gate full itself,
 * so what is in flight does not depend on how fast a search runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { createSearchGate, type SearchGate } from '../../../src/api/search-gate.ts';
import { SECURITY_HEADERS } from '../../../src/api/security-headers.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { Store } from '../../../src/store/store.ts';
import { serveOnLoopback } from '../../helpers/loopback.ts';

const WAIT_MS = 1000;
const SEARCH = `/v1/search?digest=sha256:${'ab'.repeat(32)}&limit=1000`;

describe('search bound over loopback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-search-gate-'));
  let store: Store;
  let gate: SearchGate;
  let url: string;
  let close: () => Promise<void>;
  /** Fills the gate until the returned function is called. */
  const fill = () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    void gate.run(1000, () => held);
    return release;
  };
  beforeAll(async () => {
    store = await Store.open(dir);
    const metrics = createMetrics({ defaultMetrics: false });
    gate = createSearchGate(1000, metrics, { maxWaitMs: WAIT_MS });
    const app = createApp({ store, metrics, logger: createLogger({ level: 'silent' }), logNames: () => [], searchGate: gate });
    ({ url, close } = await serveOnLoopback(app));
  });
  afterAll(async () => {
    await close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a search at once while there is room', async () => {
    const res = await fetch(url + SEARCH);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ entries: [], next: null });
    expect(gate.inFlight).toBe(0);
  });

  it('lets a search wait for room, and answers it when room frees within the wait', async () => {
    const release = fill();
    const t = performance.now();
    const pending = fetch(url + SEARCH);
    setTimeout(release, WAIT_MS / 3);
    const res = await pending;
    expect(res.status).toBe(200);
    // Not before the room was freed.
    expect(performance.now() - t).toBeGreaterThanOrEqual(WAIT_MS / 3 - 5);
    await res.arrayBuffer();
  });

  it('refuses a search that finds no room within the wait: JSON 429, Retry-After, security headers, counted; the operational endpoints answer meanwhile', async () => {
    const release = fill();
    try {
      const t = performance.now();
      let settled = false;
      const refused = fetch(url + SEARCH).finally(() => (settled = true));
      // While the search waits: the probes and the scrape are outside the bound, answered before it is.
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        const res = await fetch(url + path);
        await res.arrayBuffer();
        expect({ path, status: res.status, searchSettled: settled }).toEqual({ path, status: 200, searchSettled: false });
      }
      const res = await refused;
      expect(performance.now() - t).toBeGreaterThanOrEqual(WAIT_MS - 5);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      for (const [name, value] of SECURITY_HEADERS) expect(res.headers.get(name)).toBe(value);
      expect(await res.json()).toEqual({ error: { code: 'API_BUSY', message: expect.stringMatching(/^the mirror is busy with other searches \(no room for the search within 1000 ms\)/) } });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^tlogwatch_api_search_rejected_total 1$/m);
    } finally {
      release();
    }
    // Room again.
    const res = await fetch(url + SEARCH);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it('counts a page by its limit: small pages fit beside each other under the bound', async () => {
    const release = fill();
    try {
      // The gate is full: even a 1-entry page waits, and is refused.
      const res = await fetch(`${url}/v1/search?digest=sha256:${'ab'.repeat(32)}&limit=1`);
      expect(res.status).toBe(429);
      await res.arrayBuffer();
    } finally {
      release();
    }
    const h: Array<() => void> = [];
    const smallHeld = Array.from({ length: 19 }, () => new Promise<void>((r) => h.push(r)));
    for (const p of smallHeld) void gate.run(50, () => p);
    try {
      // 19 pages of 50 in flight: a 50-entry page still fits (1000), a 51-entry one does not.
      const fits = await fetch(`${url}/v1/search?digest=sha256:${'ab'.repeat(32)}`);
      expect(fits.status).toBe(200);
      await fits.arrayBuffer();
      const over = await fetch(`${url}/v1/search?digest=sha256:${'ab'.repeat(32)}&limit=51`);
      expect(over.status).toBe(429);
      await over.arrayBuffer();
    } finally {
      for (const r of h) r();
    }
  });

  it("holds Rekor's POST /api/v1/index/retrieve (up to 10,000 entries read) to the whole bound: one entry in flight keeps it waiting, then a 429 in Rekor's shape", async () => {
    let release!: () => void;
    const one = new Promise<void>((r) => (release = r));
    void gate.run(1, () => one);
    try {
      const res = await fetch(`${url}/api/v1/index/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hash: `sha256:${'ab'.repeat(32)}` }) });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toEqual({ code: 429, message: expect.stringMatching(/^the mirror is busy with other searches/) });
    } finally {
      release();
    }
  });
});
