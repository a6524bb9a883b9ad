/**
 * `GET /v1/logs` while a Rekor v1 mirror bootstraps from index 0 over two trees: the log's size and the lag
 * show from the first round (they were null until the catch-up reached the active tree, hours on a real
 * log), the sizes agree with the gauges and /readyz, and every answer fits the OpenAPI schema.
 */
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { buildOpenApi } from '../../../src/api/openapi.ts';
import { createLogger } from '../../../src/logger.ts';
import { harness, type Harness } from '../../helpers/mirror.ts';

let h: Harness;
beforeAll(async () => {
  // Every response 30 ms late: the catch-up of 1200 entries (120 retrieve requests, 4 at a time) takes about
  // a second, long enough to watch each phase of it.
  h = await harness({ api: 'v1', entries: 1200, shards: 2, seed: 'logs-bootstrap', faults: [{ name: 'slow', param: 30, every: 1 }] }, { batchSize: 100 });
}, 60_000);
afterAll(async () => h?.cleanup());

interface View {
  verifiedSize: number | null;
  verifiedRoot: string | null;
  upstreamSize: number | null;
  lag: number | null;
  state: string;
  mirroredFrom: number;
}

describe('GET /v1/logs during a Rekor v1 bootstrap from 0', () => {
  it('shows the upstream size and the lag from the first round, as the gauges and /readyz do', { timeout: 60_000 }, async () => {
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    const oa = buildOpenApi() as { paths: Record<string, { get: { responses: { 200: { content: { 'application/json': { schema: object } } } } } }> };
    const fitsSchema = new Ajv({ strict: false, allowUnionTypes: true }).compile(oa.paths['/v1/logs']!.get.responses[200].content['application/json'].schema);
    const gauge = async (g: typeof h.metrics.upstreamTreeSize) => (await g.get()).values.find((v) => v.labels['log'] === 'sim')?.value;
    const info = (await (await fetch(`${h.sim.url}/api/v1/log`)).json()) as { treeSize: number; inactiveShards: Array<{ treeSize: number }> };
    const first = info.inactiveShards[0]!.treeSize;
    const total = first + info.treeSize;
    expect(first).toBeGreaterThan(0);
    expect(total).toBe(1200);

    const samples: Array<{ view: View; upstream?: number | undefined; lag?: number | undefined; ready: string }> = [];
    let done = false;
    const round = h.follower.round().finally(() => (done = true));
    while (!done) {
      const body = (await (await app.request('/v1/logs')).json()) as View[];
      expect(fitsSchema(body), JSON.stringify(fitsSchema.errors)).toBe(true);
      const ready = await (await app.request('/readyz')).text();
      // A log is listed once its first round has stored its state.
      if (body[0]) samples.push({ view: body[0], upstream: await gauge(h.metrics.upstreamTreeSize), lag: await gauge(h.metrics.mirrorLagEntries), ready });
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await round).toBe('advanced');
    const last = (await (await app.request('/v1/logs')).json()) as View[];
    expect(fitsSchema(last)).toBe(true);
    samples.push({ view: last[0]!, upstream: await gauge(h.metrics.upstreamTreeSize), lag: await gauge(h.metrics.mirrorLagEntries), ready: await (await app.request('/readyz')).text() });

    // Every answer knows the log's size, and its lag is what is left from the verified size (or the start).
    for (const { view } of samples) {
      expect(view.upstreamSize).toBe(total);
      expect(view.lag).toBe(total - (view.verifiedSize ?? view.mirroredFrom));
    }
    // The phases, in order: bootstrapping (nothing verified), the first tree verified and the second being
    // caught up (verified up to where the first ends), the whole log verified.
    const phases = [...new Map(samples.map((s) => [`${s.view.state} ${s.view.verifiedSize} ${s.view.lag}`, s])).values()];
    expect(phases.map((p) => [p.view.state, p.view.verifiedSize, p.view.lag])).toEqual([
      ['bootstrapping', null, total],
      ['following', first, total - first],
      ['following', total, 0],
    ]);
    // The gauges say the same in each phase (sampled beside the view; they move just after the commit it reads).
    for (const p of phases) expect(samples.some((s) => s.view.state === p.view.state && s.view.verifiedSize === p.view.verifiedSize && s.upstream === total && s.lag === p.view.lag), `${p.view.state} ${p.view.verifiedSize}`).toBe(true);
    // /readyz while bootstrapping names the log's size too (read just after the view, it may have moved on),
    // and is ready once a checkpoint verified.
    const booting = samples.filter((x) => x.ready.includes('sim: bootstrapping: no checkpoint verified yet ('));
    expect(booting.length).toBeGreaterThan(0);
    for (const b of booting) expect(b.ready).toContain(`, the log has ${total})`);
    expect(JSON.parse(samples.at(-1)!.ready)).toEqual({ status: 'ready' });
  });
});
