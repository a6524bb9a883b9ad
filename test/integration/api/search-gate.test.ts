/**
 * The search bound (api.searchEntriesInFlight, api/search-gate.ts) over real HTTP on loopback, through the
 * daemon's `listen` and a real LevelDB store: while the gate is full, a search waits, and is answered once room
 * frees or refused with the API's JSON 429, Retry-After and the security headers after the wait, counted in
 * /metrics; /healthz, /readyz and /metrics answer at once all the while. A page holds its index scan's keys
 * first and then the entries it found (a digest lookup fits where its limit would not), and the checkpoint
 * history is bounded as pages (the findings listing is not). The test holds the gate full itself, so what is in
 * flight does not depend on how fast a search runs.
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
import { harness, type Harness } from '../../helpers/mirror.ts';
import { findingsRoutes } from '../../../src/api/findings.ts';
import { FindingsRepo } from '../../../src/store/findings.ts';

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

  it('holds what a page reads: its index scan first (its limit and one more, 8 keys an entry), then the entries it found', async () => {
    const h: Array<() => void> = [];
    const hold = (n: number) => void gate.run(n, () => new Promise<void>((r) => h.push(r)));
    try {
      // 994 of 1000 held: a default page's scan (51 keys: 7) does not fit, and waits, and is refused. It
      // reserved its limit before, 50, so 951 held kept it out just the same, and 50 digest lookups (2,500) filled the bound.
      hold(994);
      const over = await fetch(`${url}/v1/search?digest=sha256:${'ab'.repeat(32)}`);
      expect(over.status).toBe(429);
      await over.arrayBuffer();
      h.pop()!();
      // 993 held: it fits, finds nothing, and holds nothing from then on.
      hold(993);
      const fits = await fetch(`${url}/v1/search?digest=sha256:${'ab'.repeat(32)}`);
      expect(fits.status).toBe(200);
      await fits.arrayBuffer();
      expect(gate.inFlight).toBe(993);
      // A 1,000-entry page's scan is 126: it does not fit beside 875.
      h.pop()!();
      hold(875);
      const large = await fetch(`${url}/v1/search?digest=sha256:${'ab'.repeat(32)}&limit=1000`);
      expect(large.status).toBe(429);
      await large.arrayBuffer();
    } finally {
      for (const r of h) r();
    }
  });

  it("holds Rekor's POST /api/v1/index/retrieve to a page of its index scan (1,000 keys: 125) first: no room for it, a 429 in Rekor's shape", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    void gate.run(876, () => held);
    try {
      const res = await fetch(`${url}/api/v1/index/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hash: `sha256:${'ab'.repeat(32)}` }) });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toEqual({ code: 429, message: expect.stringMatching(/^the mirror is busy with other searches/) });
    } finally {
      release();
    }
  });
  it("holds Rekor's POST /api/v1/log/entries/retrieve to 40 entries an item (an entry and its inclusion proof), 400 until its body says how many", async () => {
    const h: Array<() => void> = [];
    const hold = (n: number) => void gate.run(n, () => new Promise<void>((r) => h.push(r)));
    const retrieve = () => fetch(`${url}/api/v1/log/entries/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ logIndexes: [1] }) });
    try {
      // 601 held: no room for the 400 it reserves first.
      hold(601);
      const refused = await retrieve();
      expect(refused.status).toBe(429);
      expect(await refused.json()).toEqual({ code: 429, message: expect.stringMatching(/^the mirror is busy with other searches/) });
      h.pop()!();
      // 600 held: it runs (this mirror holds no Rekor v1 log: Rekor's 404).
      hold(600);
      const ran = await retrieve();
      expect(ran.status).toBe(404);
      await ran.arrayBuffer();
    } finally {
      for (const r of h) r();
    }
  });
});

describe('search bound over loopback, on a mirror', () => {
  let h: Harness;
  let gate: SearchGate;
  let url: string;
  let close: () => Promise<void>;
  const held: Array<() => void> = [];
  const hold = (n: number) => void gate.run(n, () => new Promise<void>((r) => held.push(r)));
  const releaseAll = () => {
    for (const r of held.splice(0)) r();
  };
  beforeAll(async () => {
    h = await harness({ api: 'tiles', entries: 300, seed: 'search-gate' });
    while ((await h.store.getLogState('sim'))?.verified?.size !== 300n) await h.follower.round();
    const metrics = createMetrics({ defaultMetrics: false });
    gate = createSearchGate(1000, metrics, { maxWaitMs: WAIT_MS });
    const app = createApp({ store: h.store, metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], searchGate: gate, extend: (a, helpers) => findingsRoutes(a, helpers, new FindingsRepo(h.store)) });
    ({ url, close } = await serveOnLoopback(app));
  }, 60_000);
  afterAll(async () => {
    releaseAll();
    await close();
    await h.cleanup();
  });

  it('a page whose entries do not fit where its scan did gives its hold back and waits for all of them: answered once room frees', async () => {
    // 960 held: the scan (7) fits; the 50 entries found do not (1010), so the page waits holding nothing.
    hold(960);
    try {
      const refused = await fetch(`${url}/v1/search?limit=50`);
      expect(refused.status).toBe(429);
      await refused.arrayBuffer();
      expect(gate.inFlight).toBe(960);
      const pending = fetch(`${url}/v1/search?limit=50`);
      await new Promise((r) => setTimeout(r, WAIT_MS / 3));
      // Waiting for its 50 entries, it holds none of the room.
      expect([gate.inFlight, gate.queued]).toEqual([960, 1]);
      releaseAll();
      const res = await pending;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { entries: unknown[] }).entries).toHaveLength(50);
      expect(gate.inFlight).toBe(0);
    } finally {
      releaseAll();
    }
  });

  it('bounds the checkpoint history by its pages too; not the findings listing', async () => {
    hold(1000);
    try {
      const findings = await fetch(`${url}/v1/findings?limit=1000`);
      expect(findings.status).toBe(200);
      await findings.arrayBuffer();
      for (const path of ['/v1/logs/sim/checkpoints']) {
        const res = await fetch(url + path);
        expect({ path, status: res.status }).toEqual({ path, status: 429 });
        await res.arrayBuffer();
      }
    } finally {
      releaseAll();
    }
    for (const path of ['/v1/logs/sim/checkpoints?limit=1000']) {
      const res = await fetch(url + path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      await res.arrayBuffer();
    }
  });
});
