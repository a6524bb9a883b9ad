/**
 * A trusted root that changes under a running daemon (Sigstore opens a new Rekor v2 shard, src/trust/changes.ts):
 * two tiles simulators, a trusted-root file that first lists one and then both, and the daemon's
 * `trustedRootRefresh` (called directly, and once from its cron schedule). Without configured logs the new
 * log is followed from its first entry; with configured logs it is reported. A changed key or a removed log
 * is reported and the mirror keeps the key it started with; a restart keeps following a shard whose key
 * has expired.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { defaultLogName } from '../../src/trust/changes.ts';
import { loadTrustedRootFile } from '../../src/trust/tuf.ts';
import { expectStoreMatchesManifest } from '../helpers/mirror.ts';
import { startTufRepo } from '../helpers/tuf-repo.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { stopAll } from '../helpers/teardown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-trust-refresh-'));
const rootPath = join(tmp, 'trusted_root.json');
type Tlog = { baseUrl: string; publicKey: { rawBytes: string; validFor: { start?: string; end?: string } }; logId: { keyId: string } };
type Root = { tlogs: Tlog[]; certificateAuthorities: unknown[] } & Record<string, unknown>;
let a: Simulator;
let b: Simulator;
let rootA: Root;
let rootB: Root;
let nameA: string;
let nameB: string;

const readRoot = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Root;
/** The trusted-root file the daemon reads: these logs, both simulators' CAs. */
const rootJson = (tlogs: Tlog[]) => JSON.stringify({ ...rootA, tlogs, certificateAuthorities: [...rootA.certificateAuthorities, ...rootB.certificateAuthorities] });
const writeRoot = (tlogs: Tlog[]) => writeFileSync(rootPath, rootJson(tlogs));
const tlogOf = (r: Root) => r.tlogs[0]!;

interface LogView { name: string; verifiedSize: number; mirroredFrom: number }
interface FindingView { rule: string; severity: string; log: string; message: string; evidence: Record<string, unknown> }
const logsOf = async (d: Daemon) => (await (await fetch(`${d.url}/v1/logs`)).json()) as LogView[];
const trustFindings = async (d: Daemon) => ((await (await fetch(`${d.url}/v1/findings?rule=trust-changed&limit=100`)).json()) as { findings: FindingView[] }).findings;
async function until(what: string, done: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const verified = (d: Daemon, name: string, size: number) => until(`${name} verified to ${size}`, async () => ((await logsOf(d)).find((l) => l.name === name)?.verifiedSize ?? -1) >= size);

const silent = createLogger({ level: 'silent' });
const daemonConfig = (dataDir: string, extra = '', trust = `trustedRoot: ${rootPath}`) => parseConfig(`dataDir: ${dataDir}\nlisten: 127.0.0.1:0\n${trust}\n${extra}`, 'test.yaml', {});

beforeAll(async () => {
  a = await startSimulator({ api: 'tiles', entries: 300, seed: 'trust-a', out: join(tmp, 'sim-a'), log: () => {} });
  b = await startSimulator({ api: 'tiles', entries: 700, seed: 'trust-b', out: join(tmp, 'sim-b'), log: () => {} });
  rootA = readRoot(a.trustedRootPath);
  rootB = readRoot(b.trustedRootPath);
  nameA = defaultLogName(loadTrustedRootFile(a.trustedRootPath).tlogs[0]!);
  nameB = defaultLogName(loadTrustedRootFile(b.trustedRootPath).tlogs[0]!);
}, 60_000);
afterAll(() => stopAll({ sims: [a, b], dir: tmp }));

describe('following the trusted root without configured logs', () => {
  const dataDir = join(tmp, 'data-default');
  let d: Daemon;
  afterAll(async () => d?.stop());

  it('a log the refreshed root newly lists is followed from its first entry, once', { timeout: 90_000 }, async () => {
    writeRoot([tlogOf(rootA)]);
    d = await startDaemon(daemonConfig(dataDir), silent);
    await verified(d, nameA, 300);
    expect((await logsOf(d)).map((l) => l.name)).toEqual([nameA]);
    expect(await d.refreshTrust()).toEqual({ changes: [], followed: [], raised: [] });

    writeRoot([tlogOf(rootA), tlogOf(rootB)]);
    // Two refreshes at once (the schedule and a caller): the new log is followed once, reported once.
    const [r, again] = await Promise.all([d.refreshTrust(), d.refreshTrust()]);
    expect(again).toEqual({ changes: [], followed: [], raised: [] });
    expect(r.followed).toEqual([nameB]);
    expect(r.raised.map((f) => `${f.rule} ${f.severity} ${f.log}`)).toEqual([`trust-changed info ${nameB}`]);
    await verified(d, nameB, 700);
    const views = await logsOf(d);
    expect(views.map((l) => l.name)).toEqual([nameA, nameB]);
    expect(views.find((l) => l.name === nameB)?.mirroredFrom).toBe(0);
    expect(await expectStoreMatchesManifest(d.store, b, nameB)).toBe(700);
    // Searchable like any other log: the first entry of the new log, by its digest.
    const first = JSON.parse(readFileSync(b.manifestPath, 'utf8').split('\n')[0]!) as { digests: string[]; uuid: string };
    const hits = (await (await fetch(`${d.url}/v1/search?digest=${encodeURIComponent(first.digests[0]!)}`)).json()) as { entries: Array<{ log: string; uuid: string }> };
    expect(hits.entries.filter((e) => e.log === nameB).map((e) => e.uuid)).toContain(first.uuid);
    // It is followed as it grows, and the next refresh finds nothing new.
    b.append(40);
    await verified(d, nameB, 740);
    expect(await d.refreshTrust()).toEqual({ changes: [], followed: [], raised: [] });
    const found = await trustFindings(d);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'info', log: nameB, evidence: { change: 'listed', followed: true, baseUrl: b.url, type: 'tiles' } });
    expect(found[0]!.message).toMatch(/^now following .* from its first entry/);
    expect(await (await fetch(`${d.url}/metrics`)).text()).toMatch(/tlogwatch_findings_total\{rule="trust-changed",severity="info"\} 1/);
  });

  it('a followed log whose key is no longer listed: a high finding, and the mirror keeps verifying with the key it started with', { timeout: 60_000 }, async () => {
    const swapped = { ...tlogOf(rootA), publicKey: tlogOf(rootB).publicKey, logId: tlogOf(rootB).logId };
    writeRoot([swapped, tlogOf(rootB)]);
    const r = await d.refreshTrust();
    expect(r.changes.map((c) => c.kind)).toEqual(['key-changed']);
    expect(r.raised.map((f) => `${f.severity} ${f.log}`)).toEqual([`high ${nameA}`]);
    expect((await d.refreshTrust()).raised).toEqual([]);
    a.append(25);
    await verified(d, nameA, 325);
    expect((await logsOf(d)).map((l) => l.name)).toEqual([nameA, nameB]);
  });

  it('a followed log the root no longer lists: a low finding, and it is still followed', { timeout: 60_000 }, async () => {
    writeRoot([tlogOf(rootB)]);
    const r = await d.refreshTrust();
    expect(r.changes.map((c) => c.kind)).toEqual(['unlisted']);
    expect(r.raised.map((f) => `${f.severity} ${f.log}`)).toEqual([`low ${nameA}`]);
    a.append(5);
    await verified(d, nameA, 330);
  });

  it('a certificate authority the root drops or adds: one finding each, filed under the trusted root', { timeout: 30_000 }, async () => {
    const caB = rootB.certificateAuthorities;
    writeFileSync(rootPath, JSON.stringify({ ...rootA, tlogs: [tlogOf(rootA), tlogOf(rootB)], certificateAuthorities: rootA.certificateAuthorities }));
    const dropped = await d.refreshTrust();
    expect(dropped.changes.map((c) => c.kind)).toEqual(['ca-unlisted']);
    expect(dropped.raised.map((f) => `${f.severity} ${f.log}`)).toEqual(['info trusted-root']);
    writeRoot([tlogOf(rootA), tlogOf(rootB)]);
    const added = await d.refreshTrust();
    expect(added.changes.map((c) => c.kind)).toEqual(['ca-listed']);
    expect(added.raised.map((f) => `${f.severity} ${f.log}`)).toEqual(['medium trusted-root']);
    expect((added.raised[0]!.evidence as { certificateAuthority: { chain: string[] } }).certificateAuthority.chain).toEqual((caB[0] as { certChain: { certificates: Array<{ rawBytes: string }> } }).certChain.certificates.map((c) => c.rawBytes));
    expect(await d.refreshTrust()).toMatchObject({ changes: [], raised: [] });
  });

  it('after a restart, a mirrored shard whose key has expired is still followed; an expired one never mirrored is not', { timeout: 60_000 }, async () => {
    await d.stop();
    const expired = (t: Tlog, url = t.baseUrl): Tlog => ({ ...t, baseUrl: url, publicKey: { ...t.publicKey, validFor: { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } } });
    writeRoot([expired(tlogOf(rootA)), tlogOf(rootB), expired(tlogOf(rootB), 'http://127.0.0.1:9/never-mirrored')]);
    d = await startDaemon(daemonConfig(dataDir), silent);
    expect((await logsOf(d)).map((l) => l.name).sort()).toEqual([nameA, nameB].sort());
    a.append(10);
    await verified(d, nameA, 340);
  });
});

describe('following the trusted root with configured logs', () => {
  it('a newly listed log is reported (medium), not followed; the refresh runs on its cron schedule', { timeout: 60_000 }, async () => {
    writeRoot([tlogOf(rootA)]);
    const d = await startDaemon(
      daemonConfig(join(tmp, 'data-configured'), `jobs: { trustedRootRefresh: '* * * * * *' }\nlogs:\n  - { name: a, type: tiles, url: '${a.url}', start: 0, pollInterval: 200ms, requestsPerMinute: 0 }\n`),
      silent,
    );
    try {
      await verified(d, 'a', 300);
      writeRoot([tlogOf(rootA), tlogOf(rootB)]);
      await until('the scheduled refresh to report the new log', async () => (await trustFindings(d)).length > 0, 20_000);
      const [f] = await trustFindings(d);
      expect(f).toMatchObject({ severity: 'medium', log: nameB, evidence: { change: 'listed', followed: false, baseUrl: b.url } });
      expect(f!.message).toMatch(/add it to `logs` to watch it$/);
      expect((await logsOf(d)).map((l) => l.name)).toEqual(['a']);
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      expect(Number(/tlogwatch_job_runs_total\{task="trustedRootRefresh",result="ok"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
      // Later runs of the schedule do not raise it again.
      await new Promise((r) => setTimeout(r, 2200));
      expect(await trustFindings(d)).toHaveLength(1);
    } finally {
      await d.stop();
    }
  });
});

describe('following the trusted root through a TUF repository (a private Sigstore deployment)', () => {
  it('a new version of trusted_root.json in the repository is picked up by the next refresh', { timeout: 90_000 }, async () => {
    const repo = await startTufRepo();
    const tufRoot = join(tmp, 'tuf-root.json');
    repo.writeRoot(tufRoot);
    repo.publish({ 'trusted_root.json': rootJson([tlogOf(rootA)]) });
    const warnings: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void warnings.push(line) } as unknown as NodeJS.WritableStream });
    const d = await startDaemon(daemonConfig(join(tmp, 'data-tuf'), '', `tufMirror: ${repo.url}\ntufRoot: ${tufRoot}\ntufCacheDir: ${join(tmp, 'tuf-cache')}`), logger);
    try {
      await verified(d, nameA, a.log.size);
      expect(await d.refreshTrust()).toMatchObject({ changes: [], followed: [] });
      repo.publish({ 'trusted_root.json': rootJson([tlogOf(rootA), tlogOf(rootB)]) });
      const r = await d.refreshTrust();
      expect(r.followed).toEqual([nameB]);
      await verified(d, nameB, b.log.size);
      // The client walked the repository as TUF says: the next root (none), the timestamp, then the
      // snapshot, targets and target by version and hash.
      expect(repo.requests).toContain('/2.root.json');
      expect(repo.requests.filter((p) => p === '/timestamp.json').length).toBeGreaterThanOrEqual(3);
      expect(repo.requests).toEqual(expect.arrayContaining(['/2.snapshot.json', '/2.targets.json']));
      expect(repo.requests.filter((p) => /^\/targets\/[0-9a-f]{64}\.trusted_root\.json$/.test(p))).toHaveLength(2);
      // The repository has no signing config: each log's API is guessed from its key, and the daemon says so.
      expect(warnings.join('')).toContain('no signing config from TUF');
    } finally {
      await d.stop();
      await repo.close();
    }
  });

  it('a repository whose new metadata does not verify: the refresh fails and the daemon keeps what it follows', { timeout: 60_000 }, async () => {
    const repo = await startTufRepo();
    const tufRoot = join(tmp, 'tuf-root-2.json');
    repo.writeRoot(tufRoot);
    repo.publish({ 'trusted_root.json': rootJson([tlogOf(rootA)]) });
    const d = await startDaemon(daemonConfig(join(tmp, 'data-tuf-2'), '', `tufMirror: ${repo.url}\ntufRoot: ${tufRoot}\ntufCacheDir: ${join(tmp, 'tuf-cache-2')}`), silent);
    try {
      await verified(d, nameA, a.log.size);
      // Whoever serves the repository lists log B, without the repository's keys.
      repo.publish({ 'trusted_root.json': rootJson([tlogOf(rootA), tlogOf(rootB)]) }, { rogue: true });
      await expect(d.refreshTrust()).rejects.toThrow(`cannot get trusted_root.json from the TUF repository ${repo.url} (timestamp was signed by 0/1 keys)`);
      expect((await logsOf(d)).map((l) => l.name)).toEqual([nameA]);
      expect(await trustFindings(d)).toEqual([]);
    } finally {
      await d.stop();
      await repo.close();
    }
  });
});
