/**
 * POST /v1/checkpoints against a mirror filled from the simulator: a checkpoint the log signed is
 * consistent, pending past what the mirror verified, or (another root at its size, the simulator's `fork`
 * switched on only while it was fetched) a split view: 409 with a critical finding, raised once. A note no
 * followed log signed, or a malformed body, is refused with 400; without the admin token, 401.
 */
import type { Hono } from 'hono';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointIntakeRoutes } from '../../../src/api/checkpoints-post.ts';
import { createLogger } from '../../../src/logger.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { adminApp } from '../../helpers/admin-app.ts';
import { harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import { FindingRaiser } from '../../../src/monitor/raise.ts';

const TOKEN = 'checkpoint-intake-token-1234';
let h: Harness;
let app: Hono;
let honest = '';
let forked = '';

beforeAll(async () => {
  h = await harness({ api: 'tiles', entries: 300, seed: 'cp-intake' });
  await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 300n);
  honest = await (await fetch(`${h.sim.url}/checkpoint`)).text();
  h.sim.faults.enable('fork', 120);
  forked = await (await fetch(`${h.sim.url}/checkpoint`)).text();
  h.sim.faults.disable('fork');
  app = adminApp(h, TOKEN, (a, helpers) => checkpointIntakeRoutes(a, helpers, { store: h.store, logger: createLogger({ level: 'silent' }), raiser: new FindingRaiser({ store: h.store, write: findingOps, metrics: h.metrics }), logs: [{ name: 'sim', tlog: h.tlog }] }));
}, 60_000);
afterAll(async () => h?.cleanup());

const post = async (body: string, contentType = 'text/plain', token = TOKEN) => {
  const res = await app.request('/v1/checkpoints', { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as any };
};

describe('POST /v1/checkpoints', () => {
  it('finds the log\'s own checkpoint consistent, as text or JSON', async () => {
    expect(await post(honest)).toEqual({ status: 200, body: { log: 'sim', result: 'consistent', size: 300 } });
    expect(await post(JSON.stringify({ checkpoint: honest }), 'application/json')).toEqual({ status: 200, body: { log: 'sim', result: 'consistent', size: 300 } });
  });

  it('raises a split view once, with both signed checkpoints', async () => {
    const first = await post(forked);
    expect(first.status).toBe(409);
    expect(first.body).toMatchObject({ log: 'sim', result: 'split_view', size: 300, finding: { rule: 'log-integrity', severity: 'critical', evidence: { source: 'POST /v1/checkpoints', sourceCheckpoint: forked, mirrorCheckpoint: honest } } });
    expect(first.body.finding.message).toMatch(/^log sim: a checkpoint posted to \/v1\/checkpoints shows a tree head of size 300, signed by the log/);
    const again = await post(forked);
    expect(again.status).toBe(409);
    expect(again.body.finding.id).toBe(first.body.finding.id);
    expect((await new FindingsRepo(h.store).list({ limit: 10, rule: 'log-integrity' })).findings).toHaveLength(1);
  });

  it('says pending for a checkpoint past what the mirror verified', async () => {
    h.sim.append(10);
    const ahead = await (await fetch(`${h.sim.url}/checkpoint`)).text();
    expect(await post(ahead)).toMatchObject({ status: 200, body: { result: 'pending', size: 310, reason: expect.stringMatching(/past the 300 entries/) } });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 310n);
    expect(await post(ahead)).toMatchObject({ status: 200, body: { result: 'consistent', size: 310 } });
  });

  it('refuses what no followed log signed, malformed bodies, and callers without the token', async () => {
    const lines = honest.split('\n');
    const tampered = [lines[0], '299', ...lines.slice(2)].join('\n');
    expect(await post(tampered)).toMatchObject({ status: 400, body: { error: { code: 'API_BAD_REQUEST', message: expect.stringMatching(/^not a checkpoint signed by a log this mirror follows \(sim: /) } } });
    expect(await post('{"note": "x"}', 'application/json')).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^expected \{"checkpoint": "<signed note>"\}/) } } });
    expect(await post(honest, 'text/plain', 'wrong-token-wrong-token')).toMatchObject({ status: 401 });
  });

  it('answers any body with a 200, 400 or 409, never a server error', async () => {
    const base = fc.oneof(fc.constant(honest), fc.constant(forked));
    const mutated = fc.tuple(base, fc.nat(), fc.string({ maxLength: 4 })).map(([t, at, s]) => t.slice(0, at % (t.length + 1)) + s + t.slice(at % (t.length + 1)));
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, fc.string({ maxLength: 200 }), fc.jsonValue().map((v) => JSON.stringify(v))), fc.constantFrom('text/plain', 'application/json'), async (body, type) => {
        const { status, body: json } = await post(body, type);
        expect([200, 400, 409]).toContain(status);
        if (status === 400) expect(json.error.code).toBe('API_BAD_REQUEST');
      }),
      { numRuns: 300 },
    );
  });
});
