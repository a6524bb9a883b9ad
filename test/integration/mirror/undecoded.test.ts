/**
 * Entries the decoder refuses, mirrored from the simulator's Rekor v1 log over loopback into a real
 * LevelDB: two signatures whose certificates carry over 256 KiB (the key-material bound,
 * entries/kinds/common.ts), so no signer is read and no rule can match them, as anyone can log (Rekor sets
 * no request size limit). One names a watched identity, the other nobody watched. Both are counted by
 * tlogwatch_entries_undecoded_total, and each raises `undecoded-entry` (as certspotter's malformed_cert):
 * the first at the watch's severity, the second (with `watchedOnly: false`; by default it raises only entries
 * naming a watched value) at the built-in's low one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrityHooks } from '../../../src/daemon.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { monitorHooks } from '../../../src/monitor/hooks.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const ENTRIES = 40;
const WATCHED = 11;
const UNWATCHED = 23;
const GENUINE = 30;
const VICTIM = 'victim@corp.example';
const RULES = `rules:
  - id: corp-signers
    severity: critical
    owner: security@corp.example
    watch: { identities: ['${VICTIM}'] }
    expect: { issuers: ['https://accounts.corp.example'] }
builtins:
  undecoded-entry: { watchedOnly: false }
`;
/** 300 KiB in an extension nobody reads: the certificate is otherwise ordinary, its SAN plain ASCII in the DER. */
const HUGE = { '1.3.6.1.4.1.99999.1': '00'.repeat(300 * 1024) };

describe('entries whose certificate is over the decoder bound, mirrored from a Rekor v1 log', () => {
  let h: Harness;
  let monitorMetrics: ReturnType<typeof createMetrics>;
  beforeAll(async () => {
    const r = checkRules([{ name: 'corp.yaml', text: RULES }]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    monitorMetrics = createMetrics({ defaultMetrics: false });
    const hooks = integrityHooks(monitorMetrics, monitorHooks(() => r.ruleSet, monitorMetrics), findingOps);
    h = await harness(
      {
        api: 'v1',
        entries: ENTRIES,
        seed: 'undecoded',
        inject: [
          { at: WATCHED, cert: { san: VICTIM, issuer: 'https://accounts.google.com', rawExtensions: HUGE, untrustedCA: true } },
          { at: UNWATCHED, cert: { san: 'someone@elsewhere.example', issuer: 'https://accounts.google.com', rawExtensions: HUGE } },
          { at: GENUINE, cert: { san: VICTIM, issuer: 'https://accounts.corp.example' } },
        ],
      },
      {},
      hooks,
    );
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(ENTRIES));
  }, 60_000);
  afterAll(async () => {
    await h?.cleanup();
  });

  it('stores both without a signer, with the problem that says why', async () => {
    for (const i of [WATCHED, UNWATCHED]) {
      const e = (await h.store.getEntry('sim', i))!.record.entry;
      expect(e.signer).toBeUndefined();
      expect(e.problem?.message).toMatch(/publicKey\.content is missing or not base64/);
    }
  });

  it('counts both in tlogwatch_entries_undecoded_total, by kind', async () => {
    const v = (await h.metrics.entriesUndecoded.get()).values;
    expect(v.map((s) => [s.labels, s.value])).toEqual([[{ log: 'sim', kind: 'hashedrekord' }, 2]]);
  });

  it('raises undecoded-entry for each: at the watch severity when the body names the watched identity, else low', async () => {
    const { findings } = await new FindingsRepo(h.store).list({ rule: 'undecoded-entry', limit: 10 });
    const byIndex = new Map(findings.map((f) => [f.index, f]));
    expect([...byIndex.keys()].sort((a, b) => a! - b!)).toEqual([WATCHED, UNWATCHED]);
    const watched = byIndex.get(WATCHED)!;
    expect(watched).toMatchObject({ severity: 'critical', owner: 'security@corp.example', status: 'open' });
    expect(watched.message).toContain(`its body names a watched value: ${VICTIM} (rule corp-signers)`);
    expect(watched.evidence?.['watched']).toEqual([{ rule: 'corp-signers', source: VICTIM, literal: VICTIM, layer: 2 }]);
    const unwatched = byIndex.get(UNWATCHED)!;
    expect(unwatched).toMatchObject({ severity: 'low', status: 'open' });
    expect(unwatched).not.toHaveProperty('owner');
    expect(unwatched.message).toContain('tlogwatch cannot tell whom it concerns');
    // The ordinary rule sees only what it can: the genuine signature, which meets its expectation.
    expect((await new FindingsRepo(h.store).list({ rule: 'corp-signers', limit: 10 })).findings).toEqual([]);
    // Counted like every finding, once committed.
    const counted = (await monitorMetrics.findings.get()).values.filter((s) => s.labels['rule'] === 'undecoded-entry');
    expect(counted.map((s) => [s.labels['severity'], s.value]).sort()).toEqual([
      ['critical', 1],
      ['low', 1],
    ]);
  });
});
