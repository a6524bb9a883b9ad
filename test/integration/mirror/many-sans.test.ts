/**
 * A watched identity hidden behind hundreds of SubjectAltNames: a self-made certificate (Rekor v1 accepts
 * any; the log files the entry under every name, with no bound) names the attacker, then 300 filler names,
 * then the victim. Mirrored from the simulator over loopback into a real LevelDB, the watch on the victim
 * raises its finding and `/v1/search?identity=` finds the entry under the victim, as Rekor's own
 * index/retrieve does: a reader that stopped at the 128th name (decoder epoch 2) did neither.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { integrityHooks } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { monitorHooks } from '../../../src/monitor/hooks.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { checkLog } from '../../../src/store/check.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { serveOnLoopback, type Loopback } from '../../helpers/loopback.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const ENTRIES = 40;
const ROGUE = 23;
const ATTACKER = 'attacker@example.org';
const VICTIM = 'victim@corp.example';
const FILLER = Array.from({ length: 300 }, (_, i) => `filler-${i}@example.org`);
const RULES = `rules:
  - id: corp-signers
    severity: critical
    watch: { identities: ['${VICTIM}'] }
    expect: { issuers: ['https://accounts.corp.example'] }
`;

describe('a certificate naming a watched identity after 301 other names, mirrored from a Rekor v1 log', () => {
  let h: Harness;
  let server: Loopback;
  let m: any[];
  beforeAll(async () => {
    const r = checkRules([{ name: 'corp.yaml', text: RULES }]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const metrics = createMetrics({ defaultMetrics: false });
    const hooks = integrityHooks(metrics, monitorHooks(() => r.ruleSet, metrics), findingOps);
    h = await harness(
      {
        api: 'v1',
        entries: ENTRIES,
        seed: 'many-sans',
        inject: [{ at: ROGUE, cert: { san: ATTACKER, sans: [...FILLER, VICTIM], issuer: 'https://accounts.google.com', untrustedCA: true } }],
      },
      {},
      hooks,
    );
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(ENTRIES));
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    server = await serveOnLoopback(app);
    m = manifestOf(h.sim);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await h?.cleanup();
  });

  it('reads every name, and says nothing is left out', async () => {
    const e = (await (await fetch(`${server.url}/v1/entries/sim/${ROGUE}`)).json()) as { signer: { san: string; sans: string[] }; problem?: unknown };
    expect(e.signer.san).toBe(ATTACKER);
    expect(e.signer.sans).toEqual([ATTACKER, ...FILLER, VICTIM]);
    expect(e.problem).toBeUndefined();
  });

  it('raises the finding of the watch on the last name', async () => {
    const { findings } = await new FindingsRepo(h.store).list({ rule: 'corp-signers', limit: 10 });
    expect(findings.map((f) => f.index)).toEqual([ROGUE]);
    expect(findings[0]).toMatchObject({ identity: VICTIM, evidence: { watchedBy: { selector: 'watch.identities', pattern: VICTIM, value: VICTIM } } });
    // The message lists a few of the names, not all 302 (evaluate.ts LISTED_NAMES).
    expect(findings[0]!.message).toContain(`the certificate names 302 identities: ${ATTACKER}, ${FILLER.slice(0, 4).join(', ')} and 297 more`);
  });

  it('is found by /v1/search?identity= under the last name, and by index/retrieve as the log finds it', async () => {
    const res = await fetch(`${server.url}/v1/search?identity=${encodeURIComponent(VICTIM)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { entries: Array<{ index: number }> }).entries.map((e) => e.index)).toEqual([ROGUE]);
    const retrieve = async (base: string) => {
      const r = await fetch(`${base}/api/v1/index/retrieve`, { method: 'POST', body: JSON.stringify({ email: VICTIM }), headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(200);
      return ((await r.json()) as string[]).sort();
    };
    const [mine, upstream] = await Promise.all([retrieve(server.url), retrieve(h.sim.url)]);
    expect(mine).toEqual(upstream);
    expect(mine.some((id) => id.endsWith(m[ROGUE].uuid as string))).toBe(true);
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
  });
});
