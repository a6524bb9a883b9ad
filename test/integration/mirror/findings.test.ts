/** A misbehaving log raises one durable log-integrity finding with evidence; the API lists and acks it. */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { findingsRoutes } from '../../../src/api/findings.ts';
import { integrityHooks, stallOf } from '../../../src/daemon.ts';
import { Store } from '../../../src/store/store.ts';
import { fill, tempDirs } from '../store/fixtures.ts';
import { createLogger } from '../../../src/logger.ts';
import { evaluateStall, findingId, splitViewFinding, withIntegrityConfig } from '../../../src/monitor/finding.ts';
import { FindingRaiser } from '../../../src/monitor/raise.ts';
import type { LogState } from '../../../src/store/codec.ts';
import { checkFindingRecords, FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { monitorHooks } from '../../../src/monitor/hooks.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { verifyNote } from '../../../src/note/note.ts';
import { checkpointVerifierForTlog, parseTrustedRoot, setKeyForTlog } from '../../../src/trust/trusted-root.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../../helpers/mirror.ts';
import { readJson } from '../../helpers/realdata.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { CertificateAuthorities } from '../../../src/trust/certificate-authority.ts';
import { LogFollower } from '../../../src/mirror/follower.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe('rule findings in the pipeline', () => {
  it('are counted and logged only for batches that commit, never for one that fails its root check', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const r = checkRules([{ name: 'all.yaml', text: 'rules:\n  - id: every-entry\n    severity: info\n    notify: all\n    watch: { identities: ["**"] }\n' }]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const logged: string[] = [];
    const hooks = integrityHooks(metrics, monitorHooks(() => r.ruleSet, metrics, (found) => logged.push(...found.map((f) => f.id))), findingOps);
    // Batches of 256: [0, 256) commits, [256, 300) holds a rewritten body and fails the root check, after
    // its entries were decoded and checked against the rules.
    h = await harness({ api: 'tiles', entries: 300, seed: 'rf' }, { batchSize: 256 }, hooks);
    h.sim.log.faults.enable('rewrite', 280);
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.status === 'halted');
    const { findings } = await new FindingsRepo(h.store).list({ rule: 'every-entry', limit: 1000 });
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.index !== undefined && f.index < 256)).toBe(true);
    expect((await metrics.findings.get()).values.find((v) => v.labels.rule === 'every-entry')?.value).toBe(findings.length);
    expect(logged.sort()).toEqual(findings.map((f) => f.id).sort());
  });
  it('raised again for entries a rollback dropped: the same entry back keeps its finding as it stood, another entry there replaces it', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const r = checkRules([{ name: 'all.yaml', text: 'rules:\n  - id: every-entry\n    severity: info\n    notify: all\n    watch: { identities: ["**"] }\n' }]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const logged: string[] = [];
    const hooks = integrityHooks(metrics, monitorHooks(() => r.ruleSet, metrics, (found) => logged.push(...found.map((f) => f.id))), findingOps);
    h = await harness({ api: 'tiles', entries: 300, seed: 'rf-again' }, { batchSize: 256, retryDelays: { baseMs: 1, maxMs: 4 } }, hooks);
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 300n);
    // Batches to 1,280 commit with entry `rewritten` (in the bundle [768, 1024)) rewritten (bundle and tile
    // agree); the last fails the root and the entries from the bad bundle's start, 768, are rolled back, their
    // findings marked.
    h.sim.append(1000);
    // A certificate-signed entry (the simulator's kinds and identities follow the clock): its rewritten body,
    // another digest under the same signer, raises the rule too.
    const rewritten = (manifestOf(h.sim) as Array<{ index: number; san: string | null }>).find((l) => l.index >= 800 && l.index < 1024 && l.san !== null)!.index;
    h.sim.log.faults.enable('rewrite', rewritten);
    expect(await h.follower.round()).toBe('transient-error');
    expect(h.follower.transientFault?.code).toBe('VERIFY_ROOT_MISMATCH');
    const repo = new FindingsRepo(h.store);
    const id = (i: number) => findingId('every-entry', 'sim', String(i));
    // Every identity-signed entry raises (`**`); an entry of those dropped that the log serves again as it was:
    const marked = (await repo.list({ rule: 'every-entry', limit: 5000 })).findings.filter((f) => f.entryRolledBack);
    const kept = marked.find((f) => f.index! >= 1024)!.index!;
    expect(await repo.get(id(kept))).toMatchObject({ entryRolledBack: { reason: 'VERIFY_ROOT_MISMATCH' } });
    const bad = await repo.get(id(rewritten));
    expect(bad).toMatchObject({ entryRolledBack: { reason: 'VERIFY_ROOT_MISMATCH' } });
    await repo.setStatus(id(kept), 'acked', 'reviewed while unverified', 1_800_000_000);
    const counted = async () => (await metrics.findings.get()).values.find((v) => v.labels.rule === 'every-entry')?.value;

    h.sim.log.faults.disable('rewrite');
    // An hour later (each finding's firstSeen is when its entry was observed): the daemon's follower after a restart.
    const later = new LogFollower(h.follower.cfg, { store: h.store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)], setKey: setKeyForTlog(h.tlog), hooks, now: () => Date.now() + 3_600_000 });
    for (let i = 0; i < 10 && (await h.store.getLogState('sim'))?.verified?.size !== 1300n; i++) await later.round();
    expect((await h.store.getLogState('sim'))?.verified?.size).toBe(1300n);
    // The same entry at `kept`: acked as before, unmarked, not counted or notified again.
    const again = await repo.get(id(kept));
    expect(again).toMatchObject({ status: 'acked', statusReason: 'reviewed while unverified' });
    expect(again?.entryRolledBack).toBeUndefined();
    // Another entry at `rewritten` (the log's): its own finding, open, in place of the marked one, once in the time index.
    const honest = await repo.get(id(rewritten));
    expect(honest?.uuid).not.toBe(bad!.uuid);
    expect(honest).toMatchObject({ status: 'open' });
    expect(honest?.entryRolledBack).toBeUndefined();
    const { findings } = await repo.list({ rule: 'every-entry', limit: 5000 });
    const distinct = new Set(findings.map((f) => f.id)).size;
    expect(findings).toHaveLength(distinct);
    // Each raised once, but `rewritten`'s replacement.
    expect(await counted()).toBe(distinct + 1);
    expect(logged).toHaveLength(distinct + 1);
    expect(logged.filter((x) => x === id(rewritten))).toHaveLength(2);
    expect(logged.filter((x) => x === id(kept))).toHaveLength(1);
    // `rewritten`'s finding is raised an hour after the marked one: one time-index key, at its own firstSeen.
    expect(honest!.firstSeen).toBeGreaterThan(bad!.firstSeen);
    const problems: string[] = [];
    await checkFindingRecords(h.store, (p) => problems.push(p));
    expect(problems).toEqual([]);
  });
  it('are counted unless a suppression marks them known-good: a suppressed finding pages nobody', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const r = checkRules([
      {
        name: 'acme.yaml',
        text: `rules:
  - id: acme-runners
    severity: high
    watch: { repositories: ['github.com/acme/*'] }
    expect: { runnerEnvironment: [github-hosted] }
    suppress:
      - identity: 'https://github.com/acme/docs/.github/workflows/ci.yml@refs/heads/main'
        reason: docs CI runs on a self-hosted runner; SEC-118
`,
      },
    ]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const signedBy = (workflow: string, repo: string) => ({
      san: `https://github.com/acme/${repo}/.github/workflows/${workflow}`,
      issuer: 'https://token.actions.githubusercontent.com',
      extensions: { sourceRepositoryURI: `https://github.com/acme/${repo}`, runnerEnvironment: 'self-hosted' },
    });
    const hooks = integrityHooks(metrics, monitorHooks(() => r.ruleSet, metrics), findingOps);
    h = await harness(
      { api: 'tiles', entries: 40, seed: 'suppressed', inject: [{ at: 10, cert: signedBy('ci.yml@refs/heads/main', 'docs') }, { at: 20, cert: signedBy('release.yml@refs/tags/v1', 'api') }] },
      {},
      hooks,
    );
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 40n);
    const { findings } = await new FindingsRepo(h.store).list({ rule: 'acme-runners', limit: 10 });
    expect(findings.map((f) => [f.index, f.status]).sort()).toEqual([
      [10, 'suppressed'],
      [20, 'open'],
    ]);
    expect((await metrics.findings.get()).values.map((v) => [v.labels, v.value])).toEqual([[{ rule: 'acme-runners', severity: 'high' }, 1]]);
  });

  it('name the CA that issued each entry\'s certificate, however many entries a chunk decodes before the rules run', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const r = checkRules([{ name: 'all.yaml', text: 'rules:\n  - id: every-entry\n    severity: info\n    notify: all\n    watch: { identities: ["**"] }\n' }]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const trusted: { cas?: CertificateAuthorities } = {};
    // A tiles log: its certificates are decoded from base64 (x509Certificate.rawBytes), a chunk at a time.
    h = await harness({ api: 'tiles', entries: 400, seed: 'ca-chunks' }, { batchSize: 256 }, monitorHooks(() => r.ruleSet, metrics, undefined, findingOps, () => trusted.cas));
    trusted.cas = new CertificateAuthorities(parseTrustedRoot(readJson(h.sim.trustedRootPath)).certificateAuthorities);
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 400n);
    const { findings } = await new FindingsRepo(h.store).list({ rule: 'every-entry', limit: 1000 });
    const checked = findings.filter((f) => f.evidence?.['certificateIssuers'] !== undefined);
    expect(checked.length).toBeGreaterThan(200);
    // The simulator's Fulcio issued every certificate: a spoof here is a certificate read after another entry's bytes replaced it.
    expect(checked.filter((f) => JSON.stringify(f.evidence!['certificateIssuers']) !== '["sigstore-intermediate"]').map((f) => f.index)).toEqual([]);
  });
});

describe('log-integrity findings', () => {
  it('a fork halts the log and stores one critical finding whose evidence verifies offline', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    h = await harness({ api: 'tiles', entries: 200, seed: 'fi' }, {}, integrityHooks(metrics));
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 200n);
    h.sim.log.faults.enable('fork', 50);
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.status === 'halted');
    for (let i = 0; i < 3; i++) await h.follower.round();
    // After a restart (a new follower with fresh metrics on the same store) the log still reports halted.
    const restarted = new LogFollower(h.follower.cfg, { store: h.store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), verifiers: [] });
    const m2 = (restarted as unknown as { deps: { metrics: ReturnType<typeof createMetrics> } }).deps.metrics;
    expect(await restarted.round()).toBe('halted');
    expect((await m2.logState.get()).values.find((v) => v.labels.state === 'halted')?.value).toBe(1);
    const repo = new FindingsRepo(h.store);
    const { findings } = await repo.list({ limit: 10 });
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ rule: 'log-integrity', severity: 'critical', status: 'open', log: 'sim' });
    expect(f.evidence?.['code']).toBe('VERIFY_FORK');
    const verifier = checkpointVerifierForTlog(parseTrustedRoot(readJson(h.sim.trustedRootPath)).tlogs[0]!);
    // Both signed notes verify with the log's key: the equivocation is provable to anyone.
    for (const k of ['verifiedNote', 'receivedNote']) expect(() => verifyNote(f.evidence![k] as string, [verifier])).not.toThrow();
    expect((await metrics.findings.get()).values.find((v) => v.labels.rule === 'log-integrity')?.value).toBe(1);

    const TOKEN = 'admin-token-for-tests-123';
    const app = createApp({ store: h.store, metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], adminToken: TOKEN, extend: (a, helpers) => findingsRoutes(a, helpers, repo) });
    const listed = (await (await app.request('/v1/findings?rule=log-integrity&status=open')).json()) as { findings: Array<{ id: string }> };
    expect(listed.findings.map((x) => x.id)).toEqual([f.id]);
    const ack = (body: unknown, token?: string) =>
      app.request(`/v1/findings/${f.id}/ack`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    const anonymous = await ack({ reason: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="tlogwatch"');
    const wrong = await ack({ reason: 'x' }, 'wrong-token-wrong-token');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="tlogwatch", error="invalid_token"');
    const basic = await app.request(`/v1/findings/${f.id}/ack`, { method: 'POST', body: '{"reason":"x"}', headers: { authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="tlogwatch"');
    expect((await ack({}, TOKEN)).status).toBe(400);
    // The scheme is case-insensitive (RFC 7235 §2.1).
    const lower = await app.request(`/v1/findings/${f.id}/ack`, { method: 'POST', body: '{}', headers: { authorization: `bearer ${TOKEN}` } });
    expect(lower.status).toBe(400);
    const acked = await ack({ reason: 'known incident INC-42' }, TOKEN);
    expect(acked.status).toBe(200);
    expect(await acked.json()).toMatchObject({ status: 'acked', statusReason: 'known incident INC-42' });
    expect(((await (await app.request('/v1/findings?status=open')).json()) as { findings: unknown[] }).findings).toHaveLength(0);
    expect((await app.request('/v1/findings?severity=urgent')).status).toBe(400);
    expect((await app.request(`/v1/findings/${listed.findings[0]!.id}?x=1`)).status).toBe(400);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/halted \(VERIFY_FORK/);
  });
});

describe('the rules\' builtins', () => {
  const tempDir = tempDirs('tlogwatch-builtins-');
  const rs = checkRules([{ name: 'builtins.yaml', text: 'builtins:\n  log-integrity: { severity: low, owner: sre@acme.example, labels: { team: sre } }\n  mirror-stalled: { severity: medium, after: 2m, logs: [l], owner: sre@acme.example }\n' }]);
  if (!rs.ok) throw new Error(JSON.stringify(rs.errors));
  const builtins = rs.ruleSet.builtins!;

  it('set the severity, owner and labels of the log-integrity finding a halt raises', async () => {
    h = await harness({ api: 'tiles', entries: 200, seed: 'fi-builtins' }, {}, integrityHooks(createMetrics({ defaultMetrics: false }), undefined, findingOps, () => builtins));
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 200n);
    h.sim.log.faults.enable('fork', 50);
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.status === 'halted');
    const { findings } = await new FindingsRepo(h.store).list({ limit: 10 });
    expect(findings).toMatchObject([{ rule: 'log-integrity', severity: 'low', owner: 'sre@acme.example', labels: { team: 'sre' } }]);
  });
  it('set the mirror-stalled finding\'s severity, owner, delay and logs, the delay over the daemon\'s stalledAfter', () => {
    const s = { name: 'l', status: 'following', upstream: { size: 120n, at: 0 }, verified: { size: 100n, rootHash: new Uint8Array(32), note: '', at: 1000 } } as unknown as LogState;
    expect(stallOf(s, 1000 + 119, 600_000, 0, {}, builtins.mirrorStalled)).toBeUndefined();
    expect(stallOf(s, 1000 + 120, 600_000, 0, {}, builtins.mirrorStalled)).toMatchObject({ rule: 'mirror-stalled', severity: 'medium', owner: 'sre@acme.example' });
    expect(stallOf({ ...s, name: 'other' }, 10 ** 9, 600_000, 0, {}, builtins.mirrorStalled)).toBeUndefined();
    // A file that does not set a delay leaves the daemon's.
    const { after: _, ...noDelay } = builtins.mirrorStalled;
    expect(stallOf(s, 1000 + 599, 600_000, 0, {}, noDelay)).toBeUndefined();
    expect(stallOf(s, 1000 + 600, 600_000, 0, {}, noDelay)).toMatchObject({ severity: 'medium' });
  });
  it('set the log-integrity split views are raised with, whichever way they arrive', async () => {
    const store = await Store.open(tempDir());
    try {
      const raiser = new FindingRaiser({ store, write: findingOps, metrics: createMetrics({ defaultMetrics: false }), shape: (f) => withIntegrityConfig(f, builtins.logIntegrity) });
      const r = await raiser.raiseOne(splitViewFinding('l', 'tree:0:5:ab', 'a split view', {}, 1));
      expect(r.finding).toMatchObject({ severity: 'low', owner: 'sre@acme.example', labels: { team: 'sre' } });
      expect(await new FindingsRepo(store).get(r.finding.id)).toMatchObject({ severity: 'low' });
    } finally {
      await store.close();
    }
  });
});

describe('mirror-stalled', () => {
  const tempDir = tempDirs('tlogwatch-stall-');
  it('fires once upstream has moved and nothing verified for too long, and not before', () => {
    const base = { upstreamSize: 120n, verifiedSize: 100n, verifiedAt: 1000, since: 0 };
    expect(evaluateStall('l', base, 1000 + 599, 600)).toBeUndefined();
    const f = evaluateStall('l', base, 1000 + 601, 600)!;
    expect(f).toMatchObject({ rule: 'mirror-stalled', severity: 'high' });
    expect(evaluateStall('l', base, 1000 + 5000, 600)!.id).toBe(f.id); // same stall, same finding
    expect(evaluateStall('l', { ...base, upstreamSize: 100n }, 1000 + 5000, 600)).toBeUndefined();
  });

  it('counts each batch a catch-up stores as progress, though it verifies only when it reaches its checkpoint', () => {
    const catchingUp = { upstreamSize: 5_000_000n, since: 1000, storedAt: 1000 + 3000 };
    // Nothing verified for 3,500 s, but a batch stored 500 s ago: not stalled.
    expect(evaluateStall('l', catchingUp, 1000 + 3500, 600)).toBeUndefined();
    const f = evaluateStall('l', catchingUp, 1000 + 3601, 600)!;
    expect(f.message).toBe('log l: no entries stored for 10 min and no checkpoint verified for 60 min (limit 10 min) while upstream is at 5000000 and the mirror has verified none of it');
    // A batch stored before the last verified checkpoint changes nothing.
    expect(evaluateStall('l', { upstreamSize: 120n, verifiedSize: 100n, verifiedAt: 1000, storedAt: 900, since: 0 }, 1000 + 601, 600)!.message).toMatch(/^log l: no checkpoint verified for 10 min/);
  });

  it('makes /readyz answer 503 with the reason while a log is stale, and ready again once it catches up', async () => {
    const store = await Store.open(tempDir());
    try {
      const { range } = await fill(store, 20);
      const state = (await store.getLogState('l'))!;
      const now = Math.floor(Date.now() / 1000);
      const verified = { size: 20n, rootHash: range.root(), note: 'note 20', at: now - 1200 }; // 20 minutes ago
      const app = createApp({ store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => ['l'], stalled: (s) => stallOf(s, now, 600_000, 0)?.message });
      // Upstream grew 80 entries past the last checkpoint verified.
      await store.putLogState({ ...state, upstream: { size: 100n, at: now }, verified });
      const stale = await app.request('/readyz');
      expect(stale.status).toBe(503);
      const reason = ((await stale.json()) as { problems: string[] }).problems[0];
      expect(reason).toMatch(/^l: stalled \(log l: no checkpoint verified for 20 min .+\)$/);
      // /v1/logs says the same.
      expect(((await (await app.request('/v1/logs')).json()) as Array<{ stalled?: string }>)[0]!.stalled).toBe(reason!.slice('l: stalled ('.length, -1));
      // Caught up (nothing left to verify): ready, however old the checkpoint.
      await store.putLogState({ ...state, upstream: { size: 20n, at: now }, verified });
      expect((await app.request('/readyz')).status).toBe(200);
      expect(((await (await app.request('/v1/logs')).json()) as Array<{ stalled?: string }>)[0]).not.toHaveProperty('stalled');
      // Started and storing entries, with no checkpoint verified yet: bootstrapping, in /readyz and /v1/logs alike.
      const { verified: _, ...unverified } = state;
      await store.putLogState({ ...unverified, startIndex: 5n, upstream: { size: 100n, at: now } });
      const booting = await app.request('/readyz');
      expect(booting.status).toBe(503);
      // Stalled too (nothing stored since it started): said as for a log that has verified, as the finding says it.
      expect(((await booting.json()) as { problems: string[] }).problems).toEqual([
        'l: bootstrapping: no checkpoint verified yet (15 entries stored from 5, the log has 100); stalled (log l: no checkpoint verified since 1970-01-01T00:00:00.000Z, ' +
          `${Math.floor(now / 60)} min ago (limit 10 min) while upstream is at 100 and the mirror has verified none of it)`,
      ]);
      expect(((await (await app.request('/v1/logs')).json()) as Array<{ state: string }>)[0]!.state).toBe('bootstrapping');
      // A Rekor v1 mirror in its second tree has verified the first: following while it catches up the new one.
      await store.putLogState({ ...unverified, shard: { treeID: '2', offset: 20n, seq: 1 }, upstream: { size: 100n, at: now } });
      expect(((await (await app.request('/v1/logs')).json()) as Array<{ state: string }>)[0]).toMatchObject({ state: 'following', verifiedSize: 20, verifiedRoot: null, upstreamSize: 100, lag: 80 });
      // Stalled there (nothing stored since it started), /readyz counts the first tree as verified, as /v1/logs does.
      expect(((await (await app.request('/readyz')).json()) as { problems: string[] }).problems[0]).toMatch(/^l: stalled \(.* while upstream is at 100 and the mirror at 20\)$/);
    } finally {
      await store.close();
    }
  });
});
