/**
 * A rogue signature under a watched identity, made with a self-made certificate that names the attacker
 * first and the victim second (Rekor v1 accepts any certificate; Fulcio never issues such a one), mirrored
 * from the simulator over loopback into a real LevelDB: `/v1/search?identity=` finds it under the second
 * SAN, exactly and by prefix, the Rekor-compatible index/retrieve answers as the log does, and a watch on the
 * second SAN raises its finding in the pipeline. A store indexed at the previous decoder epoch, which filed
 * the entry under its first SAN only, gets the second from the re-index. And a certificate naming the victim
 * after 301 other names: found and watched all the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { integrityHooks } from '../../../src/daemon.ts';
import { DECODER_EPOCH } from '../../../src/entries/decoder-epoch.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { monitorHooks } from '../../../src/monitor/hooks.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { checkLog } from '../../../src/store/check.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { entryTime } from '../../../src/store/index-values.ts';
import { Bucket, Field, indexKey, key } from '../../../src/store/keys.ts';
import { reindexStore } from '../../../src/store/reindex.ts';
import { Store } from '../../../src/store/store.ts';
import { serveOnLoopback, type Loopback } from '../../helpers/loopback.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const ENTRIES = 60;
const ROGUE = 17;
const GENUINE = 30;
const ATTACKER = 'attacker@example.org';
const VICTIM = 'victim@corp.example';
/** A third SAN that shares a prefix with the victim's, so one prefix search matches two SANs of the entry. */
const LOOKALIKE = 'victim@corp.example.evil.org';
const RULES = `rules:
  - id: corp-signers
    severity: critical
    watch: { identities: ['${VICTIM}'] }
    expect: { issuers: ['https://accounts.corp.example'] }
`;

/** The simulator's Rekor v1 log with `inject`, mirrored under RULES until all of it is verified, and the API over loopback. */
async function mirrored(seed: string, entries: number, inject: NonNullable<Parameters<typeof harness>[0]['inject']>): Promise<{ h: Harness; server: Loopback; m: any[] }> {
  const r = checkRules([{ name: 'corp.yaml', text: RULES }]);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const metrics = createMetrics({ defaultMetrics: false });
  const hooks = integrityHooks(metrics, monitorHooks(() => r.ruleSet, metrics), findingOps);
  const h = await harness({ api: 'v1', entries, seed, inject }, {}, hooks);
  await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(entries));
  const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
  return { h, server: await serveOnLoopback(app), m: manifestOf(h.sim) };
}

describe('a certificate naming a watched identity second, mirrored from a Rekor v1 log', () => {
  let h: Harness;
  let server: Loopback;
  let m: any[];
  beforeAll(async () => {
    ({ h, server, m } = await mirrored('multi-san', ENTRIES, [
      { at: ROGUE, cert: { san: ATTACKER, sans: [VICTIM, LOOKALIKE], issuer: 'https://accounts.google.com', untrustedCA: true } },
      { at: GENUINE, cert: { san: VICTIM, issuer: 'https://accounts.corp.example' } },
    ]));
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await h?.cleanup();
  });

  const search = async (identity: string) => {
    const res = await fetch(`${server.url}/v1/search?identity=${encodeURIComponent(identity)}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { entries: Array<{ index: number; signer: { san?: string; sans?: string[] } }> }).entries;
  };
  const retrieve = async (base: string, query: unknown) => {
    const res = await fetch(`${base}/api/v1/index/retrieve`, { method: 'POST', body: JSON.stringify(query), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    return ((await res.json()) as string[]).sort();
  };

  it('serves the entry with its primary SAN, as before, and every SAN', async () => {
    const res = await fetch(`${server.url}/v1/entries/sim/${ROGUE}`);
    const e = (await res.json()) as { signer: { san: string; sans: string[] } };
    expect(e.signer.san).toBe(ATTACKER);
    expect(e.signer.sans).toEqual([ATTACKER, VICTIM, LOOKALIKE]);
    expect(m[ROGUE].san).toBe(ATTACKER);
  });

  it('is found by /v1/search?identity= under each of its SANs, exactly and by a trailing *', async () => {
    const indexes = async (identity: string) => (await search(identity)).map((e) => e.index).sort((a, b) => a - b);
    expect(await indexes(VICTIM)).toEqual([ROGUE, GENUINE]);
    expect(await indexes(VICTIM.toUpperCase())).toEqual([ROGUE, GENUINE]);
    expect(await indexes(ATTACKER)).toEqual([ROGUE]);
    expect(await indexes(LOOKALIKE)).toEqual([ROGUE]);
    // A prefix that two of its SANs share returns it once.
    expect(await indexes('victim@corp.*')).toEqual([ROGUE, GENUINE]);
    expect(await indexes('victim@corp.example.evil*')).toEqual([ROGUE]);
    // Another selector driving the scan filters by every SAN too.
    const res = await fetch(`${server.url}/v1/search?digest=${encodeURIComponent(m[ROGUE].digests[0] as string)}&identity=${encodeURIComponent(VICTIM)}`);
    expect(((await res.json()) as { entries: Array<{ index: number }> }).entries.map((e) => e.index)).toEqual([ROGUE]);
  });

  it('index/retrieve by email or subject answers as the log does, which files the entry under every SAN', async () => {
    for (const q of [{ email: VICTIM }, { email: VICTIM.toUpperCase() }, { subject: VICTIM }, { email: ATTACKER }, { subject: LOOKALIKE }, { email: VICTIM, hash: m[ROGUE].digests[0] as string, operator: 'and' }]) {
      const [mine, upstream] = await Promise.all([retrieve(server.url, q), retrieve(h.sim.url, q)]);
      expect(mine, JSON.stringify(q)).toEqual(upstream);
      expect(mine.some((id) => id.endsWith(m[ROGUE].uuid as string)), JSON.stringify(q)).toBe(true);
    }
  });

  it('raises the finding of a watch on its second SAN, naming the watched identity and every identity the certificate claims', async () => {
    const { findings } = await new FindingsRepo(h.store).list({ rule: 'corp-signers', limit: 10 });
    expect(findings.map((f) => f.index)).toEqual([ROGUE]);
    const [f] = findings;
    expect(f).toMatchObject({ severity: 'critical', expectation: 'expect.issuers', identity: VICTIM, status: 'open', evidence: { watchedBy: { selector: 'watch.identities', pattern: VICTIM, value: VICTIM } } });
    expect(f!.message).toBe(`corp-signers: OIDC issuer https://accounts.google.com is not one of https://accounts.corp.example (the certificate names 3 identities: ${ATTACKER}, ${VICTIM}, ${LOOKALIKE})`);
  });

  it('a store indexed at the previous epoch, under the first SAN only, gets the others from the re-index', async () => {
    const id = await h.store.logId('sim');
    const t = entryTime((await h.store.getEntry('sim', ROGUE))!.record.entry);
    const older = [VICTIM, LOOKALIKE].map((san) => indexKey(Field.SAN, Buffer.from(san), t, id, ROGUE));
    // What epoch 1 wrote: the primary's key alone (and every other key), and its epoch.
    await h.store.writeOps([...older.map((k) => ({ type: 'del' as const, key: k })), { type: 'put', key: key(Bucket.META, 'decoderEpoch'), value: Uint8Array.of(0, 1) }]);
    await h.store.close();
    const store = await Store.open(h.storeDir);
    try {
      expect(store.indexedEpoch).toBe(1);
      expect((await store.search('SAN', Buffer.from(VICTIM), { limit: 10 })).refs.map((r) => r.index)).toEqual([GENUINE]);
      expect(await reindexStore(store, { chunk: 16 })).toEqual({ logs: 1, entries: ENTRIES, added: 2, removed: 0, undecodable: 0 });
      expect(store.indexedEpoch).toBe(DECODER_EPOCH);
      expect((await store.search('SAN', Buffer.from(VICTIM), { limit: 10 })).refs.map((r) => r.index).sort((a, b) => a - b)).toEqual([ROGUE, GENUINE]);
      expect((await store.search('SAN', Buffer.from(LOOKALIKE), { limit: 10 })).refs.map((r) => r.index)).toEqual([ROGUE]);
      expect((await checkLog(store, 'sim')).problems).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

/**
 * The watched identity after 301 other names: Rekor files the entry under every name, with no bound, and a
 * reader that stopped at the 128th (decoder epoch 2) neither watched nor indexed it.
 */
const FAR = 23;
const FILLER = Array.from({ length: 300 }, (_, i) => `filler-${i}@example.org`);

describe('a certificate naming a watched identity after 301 other names, mirrored from a Rekor v1 log', () => {
  let h: Harness;
  let server: Loopback;
  let m: any[];
  beforeAll(async () => {
    ({ h, server, m } = await mirrored('many-sans', 40, [{ at: FAR, cert: { san: ATTACKER, sans: [...FILLER, VICTIM], issuer: 'https://accounts.google.com', untrustedCA: true } }]));
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await h?.cleanup();
  });

  it('reads every name, and says nothing is left out', async () => {
    const e = (await (await fetch(`${server.url}/v1/entries/sim/${FAR}`)).json()) as { signer: { san: string; sans: string[] }; problem?: unknown };
    expect(e.signer.san).toBe(ATTACKER);
    expect(e.signer.sans).toEqual([ATTACKER, ...FILLER, VICTIM]);
    expect(e.problem).toBeUndefined();
  });

  it('raises the finding of the watch on the last name', async () => {
    const { findings } = await new FindingsRepo(h.store).list({ rule: 'corp-signers', limit: 10 });
    expect(findings.map((f) => f.index)).toEqual([FAR]);
    expect(findings[0]).toMatchObject({ identity: VICTIM, evidence: { watchedBy: { selector: 'watch.identities', pattern: VICTIM, value: VICTIM } } });
    // The message lists a few of the names, not all 302 (evaluate.ts LISTED_NAMES).
    expect(findings[0]!.message).toContain(`the certificate names 302 identities: ${ATTACKER}, ${FILLER.slice(0, 4).join(', ')} and 297 more`);
  });

  it('is found by /v1/search?identity= under the last name, and by index/retrieve as the log finds it', async () => {
    const res = await fetch(`${server.url}/v1/search?identity=${encodeURIComponent(VICTIM)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { entries: Array<{ index: number }> }).entries.map((e) => e.index)).toEqual([FAR]);
    const retrieve = async (base: string) => {
      const r = await fetch(`${base}/api/v1/index/retrieve`, { method: 'POST', body: JSON.stringify({ email: VICTIM }), headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(200);
      return ((await r.json()) as string[]).sort();
    };
    const [mine, upstream] = await Promise.all([retrieve(server.url), retrieve(h.sim.url)]);
    expect(mine).toEqual(upstream);
    expect(mine.some((id) => id.endsWith(m[FAR].uuid as string))).toBe(true);
    expect((await checkLog(h.store, 'sim')).problems).toEqual([]);
  });
});
