/** POST /v1/bundles: consistent bundles are accepted and indexed; split views raise log-integrity findings. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { createApp } from '../../../src/api/app.ts';
import { bundleIntakeRoutes } from '../../../src/api/bundles-post.ts';
import { createLogger } from '../../../src/logger.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import { readJson } from '../../helpers/realdata.ts';

const TOKEN = 'bundle-intake-token-123456';
let h: Harness;
let app: Hono;
beforeAll(async () => {
  h = await harness({ api: 'v1', entries: 300, seed: 'intake' });
  await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 300n);
  const keyId = parseTrustedRoot(readJson(h.sim.trustedRootPath)).tlogs[0]!.keyId;
  const rules = checkRules([{ name: 'r.yaml', text: "rules:\n  - id: provenance-builder\n    watch: { owners: ['github.com/*'] }\n    expect: { provenance: { builders: ['https://example.com/only-this-builder'] } }\n" }]);
  if (!rules.ok) throw new Error('rules');
  app = createApp({
    store: h.store,
    metrics: h.metrics,
    logger: createLogger({ level: 'silent' }),
    logNames: () => ['sim'],
    adminToken: TOKEN,
    logKeyId: () => keyId,
    extend: (a, helpers) => bundleIntakeRoutes(a, helpers, { store: h.store, logs: [{ name: 'sim', keyId }], rules: () => rules.ruleSet, write: findingOps }),
  });
}, 60_000);
afterAll(() => h.cleanup());

const post = (bundle: unknown, token = TOKEN) => app.request('/v1/bundles', { method: 'POST', body: JSON.stringify(bundle), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
const bundleOf = async (i: number) => (await (await app.request(`/v1/entries/sim/${i}/bundle`)).json()) as any;

describe('POST /v1/bundles', () => {
  it('needs the admin token', async () => {
    expect((await post({}, 'nope-nope-nope-nope')).status).toBe(401);
  });
  it('accepts a consistent bundle, evaluates its provenance and indexes its subjects', async () => {
    const m = manifestOf(h.sim);
    const dsse = m.find((l) => l.kind === 'dsse' && l.repository !== null)!;
    const bundle = await bundleOf(dsse.index);
    expect(bundle.dsseEnvelope).toBeDefined();
    const res = await post(bundle);
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as any;
    expect(results[0]).toMatchObject({ status: 'consistent', index: dsse.index });
    expect(results[0].findings.map((f: any) => f.expectation)).toEqual(['expect.provenance.builders']);
    const subject = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()).subject[0].digest.sha256;
    const found = (await (await app.request(`/v1/search?digest=sha256:${subject}`)).json()) as any;
    expect(found.entries.map((e: any) => e.index)).toContain(dsse.index);
    expect((await new FindingsRepo(h.store).list({ limit: 10, rule: 'provenance-builder' })).findings).toHaveLength(1);
  });
  it('refuses a bundle whose DSSE payload is not the one its logged entry commits to, and indexes nothing of it', async () => {
    const dsse = manifestOf(h.sim).filter((l) => l.kind === 'dsse');
    const bundle = await bundleOf(dsse[1]!.index);
    const other = await bundleOf(dsse[2]!.index);
    // The entry's envelope with another build's statement: the subjects it names must not become the entry's.
    bundle.dsseEnvelope.payload = other.dsseEnvelope.payload;
    const res = await post(bundle);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(/DSSE payload is not the one its tlog entry sim#\d+ commits to/);
    const subject = JSON.parse(Buffer.from(other.dsseEnvelope.payload, 'base64').toString()).subject[0].digest.sha256;
    const found = (await (await app.request(`/v1/search?digest=sha256:${subject}`)).json()) as any;
    expect(found.entries.map((e: any) => e.index)).not.toContain(dsse[1]!.index);
  });
  it('raises log-integrity for an entry the log did not publish to the mirror at that index', async () => {
    const a = await bundleOf(10);
    const b = await bundleOf(11);
    a.verificationMaterial.tlogEntries[0].canonicalizedBody = b.verificationMaterial.tlogEntries[0].canonicalizedBody;
    const res = await post(a);
    expect(res.status).toBe(409);
    const { results } = (await res.json()) as any;
    expect(results[0]).toMatchObject({ status: 'split-view', index: 10 });
    expect(results[0].finding).toMatchObject({ rule: 'log-integrity', severity: 'critical' });
    expect(results[0].finding.evidence.mirroredLeafHash).not.toBe(results[0].finding.evidence.bundleLeafHash);
  });
  it('raises log-integrity for a tree head the mirror\'s verified history does not have', async () => {
    const a = await bundleOf(20);
    a.verificationMaterial.tlogEntries[0].inclusionProof.rootHash = Buffer.alloc(32, 7).toString('base64');
    const res = await post(a);
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).results[0].finding.message).toMatch(/root the mirror's verified history does not/);
  });
  it('says when the mirror cannot judge yet', async () => {
    const a = await bundleOf(30);
    a.verificationMaterial.tlogEntries[0].logIndex = '5000';
    expect(((await (await post(a)).json()) as any).results[0]).toMatchObject({ status: 'pending' });
    expect((await post({ not: 'a bundle' })).status).toBe(400);
  });
});
