/**
 * A pipeline posts the bundle of an entry the mirror already judged (POST /v1/bundles answers `pending`
 * until the mirror has verified it, so it always has). The rule the entry breaks was raised by the mirror
 * at ingest, and the same break seen again through the bundle is that finding: not a second one under
 * another id, notified again and open beside the one an operator acknowledged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { bundleIntakeRoutes } from '../../../src/api/bundles-post.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { findingId } from '../../../src/monitor/finding.ts';
import { monitorHooks } from '../../../src/monitor/hooks.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { FindingRaiser } from '../../../src/monitor/raise.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { adminApp } from '../../helpers/admin-app.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const TOKEN = 'bundle-intake-token-123456';
const SIZE = 200;
const RULES = "rules:\n  - id: no-push\n    watch: { owners: ['github.com/*'] }\n    expect: { triggers: [release] }\n";

describe('POST /v1/bundles of an entry whose break the mirror already raised', () => {
  let h: Harness;
  let app: Hono;
  let notified: string[];
  beforeAll(async () => {
    const r = checkRules([{ name: 'r.yaml', text: RULES }]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const metrics = createMetrics({ defaultMetrics: false });
    notified = [];
    h = await harness({ api: 'v1', entries: SIZE, seed: 'seen-twice' }, {}, monitorHooks(() => r.ruleSet, metrics));
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(SIZE));
    const raiser = new FindingRaiser({ store: h.store, write: findingOps, metrics: h.metrics, onRaised: (raised) => notified.push(...raised.map((f) => f.id)) });
    app = adminApp(h, TOKEN, (a, helpers) => bundleIntakeRoutes(a, helpers, { store: h.store, logs: [{ name: 'sim', tlog: h.tlog }], rules: () => r.ruleSet, raiser }));
  }, 60_000);
  afterAll(() => h.cleanup());

  const post = async (bundle: unknown) => {
    const res = await app.request('/v1/bundles', { method: 'POST', body: JSON.stringify(bundle), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as any).results[0];
  };

  it('answers with the mirror\'s finding as it stands, and raises and notifies nothing new', async () => {
    const line = manifestOf(h.sim).find((l) => l.kind === 'hashedrekord' && l.repository !== null)!;
    const repo = new FindingsRepo(h.store);
    const mine = await repo.get(findingId('no-push', 'sim', String(line.index)));
    expect(mine).toMatchObject({ rule: 'no-push', expectation: 'expect.triggers', status: 'open' });
    await repo.setStatus(mine!.id, 'acked', 'pushes of this repository are known', 1);
    const before = (await repo.list({ rule: 'no-push', limit: 1000 })).findings.length;

    const bundle = (await (await app.request(`/v1/entries/sim/${line.index}/bundle`)).json()) as any;
    const result = await post(bundle);
    expect(result).toMatchObject({ status: 'consistent', index: line.index });
    expect(result.findings.map((f: any) => [f.id, f.status])).toEqual([[mine!.id, 'acked']]);
    expect((await repo.list({ rule: 'no-push', limit: 1000 })).findings.length).toBe(before);
    expect(await repo.get(findingId('no-push', 'sim', `${line.index}:bundle`))).toBeUndefined();
    expect(notified).toEqual([]);
  });
});
