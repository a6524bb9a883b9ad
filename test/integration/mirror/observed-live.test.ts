/**
 * An off-hours time window on a key-signed Rekor v2 entry (no integrated time, no Fulcio certificate),
 * mirrored from the simulator's tiles log into a real LevelDB, its in-toto statement posted as a Sigstore
 * bundle (POST /v1/bundles; a Rekor v2 log does not keep the payload). The key is used at 03:00 on a
 * Sunday; the statement it signs says the build finished on a Wednesday morning.
 * - A mirror that was caught up sees the entry appended since its last poll: observed live, the entry is
 *   judged at when the mirror saw it, not at the signer's claim, and breaks the window.
 * - The same entry reached in a catch-up (a mirror started later, or one resuming after hours down):
 *   observedAt is the catch-up's time, so the statement's finishedOn is used, as before: no finding.
 */
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleIntakeRoutes } from '../../../src/api/bundles-post.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { LogFollower } from '../../../src/mirror/follower.ts';
import { monitorHooks } from '../../../src/monitor/hooks.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { FindingRaiser } from '../../../src/monitor/raise.ts';
import { findingOps, FindingsRepo } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';
import { checkpointVerifierForTlog } from '../../../src/trust/trusted-root.ts';
import { createApp } from '../../../src/api/app.ts';
import { serveOnLoopback, type Loopback } from '../../helpers/loopback.ts';
import { harness, type Harness } from '../../helpers/mirror.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ENTRIES = 20;
const STOLEN = ENTRIES; // appended once the mirror is caught up
const SUBJECT = createHash('sha256').update('acme-release.tar.gz').digest('hex');
/** The simulator writes finishedOn 5 s before this (test/sim/bodies.ts slsaStatement): Wednesday, office hours. */
const CLAIMED = '2026-11-25T10:00:00Z';
const SUNDAY_3AM = Date.parse('2026-11-29T03:00:00Z');
const TOKEN = 'bundle-intake-token-123456';
const RULES = `rules:
  - id: office-hours
    watch: { digests: ['sha256:${SUBJECT}'] }
    expect: { timeWindow: { timezone: UTC, weekdays: [mon, tue, wed, thu, fri], hours: '08:00-18:00' } }
`;

const rules = (() => {
  const r = checkRules([{ name: 'r.yaml', text: RULES }]);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.ruleSet;
})();

interface Mirror {
  store: Store;
  follower: LogFollower;
  server: Loopback;
  app: Hono;
  dir: string;
}

/** A follower of the harness's simulator on a store of its own, with the monitor, a clock of the test's and the bundle intake. */
async function mirror(h: Harness, clock: () => number): Promise<Mirror> {
  const dir = mkdtempSync(join(tmpdir(), 'W-observed-live-'));
  const store = await Store.open(dir);
  const metrics = createMetrics({ defaultMetrics: false });
  const follower = new LogFollower(
    { ...h.follower.cfg, pollIntervalMs: 5000 },
    { store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)], hooks: monitorHooks(() => rules, metrics), now: clock },
  );
  const raiser = new FindingRaiser({ store, write: findingOps, metrics });
  const app = createApp({
    store,
    metrics,
    logger: createLogger({ level: 'silent' }),
    logNames: () => ['sim'],
    adminToken: TOKEN,
    logKeyId: () => h.tlog.keyId,
    extend: (a, helpers) => bundleIntakeRoutes(a, helpers, { store, logs: [{ name: 'sim', tlog: h.tlog }], rules: () => rules, raiser, now: clock }),
  });
  return { store, follower, app, server: await serveOnLoopback(app), dir };
}

/**
 * The bundle the signer's pipeline got for entry `index`: its DSSE envelope (the statement the simulator
 * signed, and the signature the body logs) and the mirror's inclusion proof, as a Sigstore bundle v0.3.
 */
async function bundleOf(h: Harness, m: Mirror, index: number): Promise<unknown> {
  const res = await fetch(`${m.server.url}/v1/entries/sim/${index}?include=body,proof`);
  expect(res.status).toBe(200);
  const view = (await res.json()) as { body: string; inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[]; checkpoint: string } };
  const body = JSON.parse(Buffer.from(view.body, 'base64').toString('utf8')) as { spec: { dsseV002: { signatures: Array<{ content: string }> } } };
  const p = view.inclusionProof;
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      publicKey: { hint: '' },
      tlogEntries: [
        {
          logIndex: String(index),
          logId: { keyId: Buffer.from(h.tlog.keyId).toString('base64') },
          kindVersion: { kind: 'dsse', version: '0.0.2' },
          integratedTime: '0',
          inclusionProof: { logIndex: String(p.logIndex), rootHash: p.rootHash, treeSize: String(p.treeSize), hashes: p.hashes, checkpoint: { envelope: p.checkpoint } },
          canonicalizedBody: view.body,
        },
      ],
      timestampVerificationData: {},
    },
    dsseEnvelope: {
      payload: h.sim.log.attestation(index)!.toString('base64'),
      payloadType: 'application/vnd.in-toto+json',
      signatures: body.spec.dsseV002.signatures.map((s) => ({ sig: s.content, keyid: '' })),
    },
  };
}

async function post(m: Mirror, bundle: unknown): Promise<any> {
  const res = await fetch(`${m.server.url}/v1/bundles`, { method: 'POST', body: JSON.stringify(bundle), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
  const json = (await res.json()) as any;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json.results[0];
}

const verifiedSize = async (m: Mirror) => (await m.store.getLogState('sim'))?.verified?.size;

describe('a key-signed Rekor v2 entry logged at 03:00 on a Sunday whose statement claims office hours', () => {
  let h: Harness;
  const mirrors: Mirror[] = [];
  beforeAll(async () => {
    h = await harness({ api: 'tiles', entries: ENTRIES, seed: 'observed-live', inject: [{ at: STOLEN, kind: 'dsse', key: 'ecdsa', digest: `sha256:${SUBJECT}`, integratedTime: CLAIMED }] });
  }, 60_000);
  afterAll(async () => {
    for (const m of mirrors) {
      await m.server.close();
      await m.store.close().catch(() => undefined);
      rmSync(m.dir, { recursive: true, force: true });
    }
    await h?.cleanup();
  });

  it('a mirror that was caught up observes it live and judges it at when it saw it: a finding', async () => {
    let now = SUNDAY_3AM - 60_000;
    const m = await mirror(h, () => now);
    mirrors.push(m);
    await m.follower.round(); // bootstraps and catches up [0, 20) at 02:59: nothing live (no poll before it)
    expect(await verifiedSize(m)).toBe(BigInt(ENTRIES));
    now += 5_000;
    expect(await m.follower.round()).toBe('unchanged');
    h.sim.append(1); // the stolen key's entry (injected at that index), logged now
    now = SUNDAY_3AM;
    expect(await m.follower.round()).toBe('advanced');
    expect(await verifiedSize(m)).toBe(BigInt(ENTRIES + 1));

    const entry = (await (await fetch(`${m.server.url}/v1/entries/sim/${STOLEN}`)).json()) as Record<string, unknown>;
    expect(entry).toMatchObject({ observedAt: SUNDAY_3AM / 1000, observedLive: true });
    const before = (await (await fetch(`${m.server.url}/v1/entries/sim/${STOLEN - 1}`)).json()) as Record<string, unknown>;
    expect(before['observedLive']).toBeUndefined();

    now = SUNDAY_3AM + 120_000; // the pipeline posts its bundle a little later
    const result = await post(m, await bundleOf(h, m, STOLEN));
    expect(result).toMatchObject({ status: 'consistent', index: STOLEN });
    const f = (await new FindingsRepo(m.store).list({ rule: 'office-hours', limit: 10 })).findings;
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ expectation: 'expect.timeWindow' });
    expect(f[0]!.evidence?.['violations']).toMatchObject([{ timeSource: 'observedAt (seen live by this mirror, within a poll interval of being logged)', actual: '2026-11-29T03:00:00.000Z' }]);
  });

  it('the same entry reached in a catch-up, or after hours down, is judged at the statement\'s finishedOn: no finding', async () => {
    // A mirror started after the entry was logged.
    let now = SUNDAY_3AM + 600_000;
    const late = await mirror(h, () => now);
    mirrors.push(late);
    await late.follower.round();
    expect(await verifiedSize(late)).toBe(BigInt(ENTRIES + 1));

    const resumed = await mirror(h, () => now);
    mirrors.push(resumed);
    expect(h.sim.log.size).toBe(ENTRIES + 1);
    // A mirror caught up at [0, 21) whose next poll came hours later: the entries appended meanwhile are not live.
    h.sim.append(3);
    await resumed.follower.round(); // [0, 24) at once: a catch-up
    h.sim.append(2);
    now += 3 * 3600_000;
    await resumed.follower.round();
    expect(await verifiedSize(resumed)).toBe(BigInt(ENTRIES + 6));
    for (const i of [ENTRIES + 4, ENTRIES + 5]) expect((await resumed.store.getEntry('sim', i))!.record.entry.observedLive).toBeUndefined();

    for (const m of [late, resumed]) {
      const got = (await m.store.getEntry('sim', STOLEN))!.record.entry;
      expect(got.observedLive).toBeUndefined();
      const result = await post(m, await bundleOf(h, m, STOLEN));
      expect(result).toMatchObject({ status: 'consistent', index: STOLEN, findings: [] });
      expect((await new FindingsRepo(m.store).list({ rule: 'office-hours', limit: 10 })).findings).toEqual([]);
    }
  });
});
