/**
 * Rogue signatures among thousands of legitimate ones: simulator with `--inject` entries → the daemon
 * with the example release policy and test rules → exactly the expected findings, none for the rest.
 * Then hot reload: a changed rule applies to the next entry; an invalid edit keeps the old rules.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { decodeRekorV1Body } from '../../src/entries/decode.ts';
import { createLogger } from '../../src/logger.ts';
import { merkleBackend } from '../../src/merkle/native.ts';
import { processMalloc } from '../../src/util/malloc.ts';
import { VERSION } from '../../src/version.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import type { InjectSpec } from '../sim/generate.ts';
import { Writable } from 'node:stream';
import { stopAll } from '../helpers/teardown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-monitor-'));
const N = 3000;
const repo = (r: string) => `https://github.com/acme/${r}`;
const gha = (r: string, wf: string, ref: string, over: Record<string, string> = {}) => ({
  san: `${repo(r)}/.github/workflows/${wf}@${ref}`,
  issuer: 'https://token.actions.githubusercontent.com',
  extensions: { buildSignerURI: `${repo(r)}/.github/workflows/${wf}@${ref}`, sourceRepositoryURI: repo(r), sourceRepositoryOwnerURI: 'https://github.com/acme', sourceRepositoryRef: ref, buildTrigger: 'push', runnerEnvironment: 'github-hosted', ...over },
});
const D = `sha256:${'d'.repeat(64)}`;
const inject: InjectSpec[] = [
  { at: 10, key: 'ecdsa', digest: D }, // the managed release key signs the watched artifact
  { at: 100, cert: gha('api', 'evil.yml', 'refs/heads/main') }, // rogue workflow in a watched repo
  { at: 200, cert: gha('api', 'release.yml', 'refs/tags/v9.9.9', { runnerEnvironment: 'self-hosted' }) }, // self-hosted runner
  { at: 300, cert: gha('cli', 'release.yml', 'refs/heads/feature-x', { sourceRepositoryRef: 'refs/heads/feature-x' }) }, // release from a branch
  { at: 400, integratedTime: '2026-11-15T02:00:00Z', cert: gha('payments', 'release.yml', 'refs/tags/v1.0.0') }, // 03:00 Sunday in Berlin
  { at: 450, integratedTime: '2026-11-11T10:00:00Z', cert: gha('payments', 'release.yml', 'refs/tags/v1.0.1') }, // Wednesday 11:00: fine
  { at: 500, key: 'ed25519', digest: D }, // an unknown key signs the watched artifact
  { at: 600, cert: { ...gha('api', 'evil.yml', 'refs/heads/main'), untrustedCA: true } }, // the same rogue workflow, in a certificate no Fulcio CA issued
];

let sim: Simulator;
let daemon: Daemon;
/** What the daemon logged while it started (pino JSON lines). */
const startLines: string[] = [];
const rulesDir = join(tmp, 'rules');
/** What the command channel's program wrote: one line per finding it was run for. */
const hookOut = join(tmp, 'hook.txt');
beforeAll(async () => {
  sim = await startSimulator({ api: 'v1', entries: N, seed: 'monitor', out: join(tmp, 'sim'), inject, log: () => {} });
  // The managed key's fingerprint, as an operator would take it from their KMS.
  const e10 = Object.values((await (await fetch(`${sim.url}/api/v1/log/entries?logIndex=10`)).json()) as Record<string, { body: string }>)[0]!;
  const managedKey = decodeRekorV1Body(new Uint8Array(Buffer.from(e10.body, 'base64')), { log: 'x', index: 10 }).signer!.fingerprint;
  cpSync('monitor-rules/examples/acme-release.yaml', join(rulesDir, 'acme-release.yaml'));
  writeFileSync(
    join(rulesDir, 'test.yaml'),
    `rules:
  - id: payments-hours
    severity: critical
    watch: { repositories: ['github.com/acme/payments'] }
    expect:
      timeWindow: { timezone: Europe/Berlin, weekdays: [mon, tue, wed, thu, fri], hours: '08:00-20:00' }
  - id: release-key
    watch: { digests: ['${D}'] }
    expect: { keys: ['${managedKey}'] }
`,
  );
  // A command channel as a shell user would write one: the finding's text only in quoted variables.
  const config = parseConfig(
    `dataDir: ${join(tmp, 'data')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nrules: ${rulesDir}\nlogs:\n  - { name: rekor, type: rekor-v1, url: '${sim.url}', start: 0, pollInterval: 200ms, requestsPerMinute: 0, batchSize: 500 }\n` +
      `notify:\n  commands:\n    - command: [/bin/sh, -c, 'printf "%s %s %s\\n" "$TLOGWATCH_FINDING_ID" "$TLOGWATCH_RULE" "$TLOGWATCH_INDEX" >> "$OUT"']\n      env: { OUT: ${hookOut} }\n`,
    'test.yaml',
  );
  // A proxy variable without Node's opt-in: the daemon says it is ignored, and never shows its password.
  const proxyBefore = process.env['HTTPS_PROXY'];
  process.env['HTTPS_PROXY'] = 'http://monitor:s3cret-proxy-pass@127.0.0.1:9';
  try {
    daemon = await startDaemon(config, createLogger({ level: 'info', destination: new Writable({ write: (chunk: Buffer, _enc, done) => void (startLines.push(chunk.toString()), done()) }) }));
  } finally {
    if (proxyBefore === undefined) delete process.env['HTTPS_PROXY'];
    else process.env['HTTPS_PROXY'] = proxyBefore;
  }
}, 60_000);
afterAll(() => stopAll({ daemons: [daemon], sims: [sim], dir: tmp }));

async function waitVerified(size: number) {
  for (let i = 0; i < 600; i++) {
    const logs = (await (await fetch(`${daemon.url}/v1/logs`)).json()) as Array<{ verifiedSize: number }>;
    if ((logs[0]?.verifiedSize ?? 0) >= size) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('mirror did not catch up');
}
const findings = async () => ((await (await fetch(`${daemon.url}/v1/findings?limit=1000`)).json()) as { findings: Array<{ id: string; rule: string; index: number; expectation?: string; severity: string; status: string; message: string; evidence: Record<string, unknown> }> }).findings;

describe('monitor end to end', () => {
  it('raises exactly the expected findings and none for the legitimate entries', { timeout: 90_000 }, async () => {
    await waitVerified(N);
    const got = (await findings()).filter((f) => f.status !== 'suppressed').map((f) => `${f.rule}@${f.index}:${f.expectation}`).sort();
    expect(got).toEqual(
      [
        'acme-release@100:expect.buildSigners',
        'acme-release@600:expect.buildSigners',
        'acme-release@200:expect.runnerEnvironment',
        'acme-release@300:expect.buildSigners',
        'payments-hours@400:expect.timeWindow',
        'release-key@500:expect.keys',
      ].sort(),
    );
    // The command channel ran its program once for each finding that notifies.
    const notified = (await findings()).filter((f) => f.status !== 'suppressed').map((f) => `${f.id} ${f.rule} ${f.index}`).sort();
    const ran = () => (existsSync(hookOut) ? readFileSync(hookOut, 'utf8').split('\n').filter(Boolean).sort() : []);
    for (let i = 0; i < 100 && ran().length < notified.length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(ran()).toEqual(notified);
    // Which CA issued each finding's certificate: the simulator's Fulcio intermediate, or none of the trusted root's.
    const byIndex = new Map((await findings()).map((f) => [f.index, f]));
    expect(byIndex.get(100)).toMatchObject({ evidence: { certificateIssuers: ['sigstore-intermediate'] } });
    expect(byIndex.get(100)!.message).not.toMatch(/Sigstore clients reject/);
    expect(byIndex.get(600)).toMatchObject({ evidence: { certificateIssuers: [null] } });
    expect(byIndex.get(600)!.message).toMatch(/ \(not issued by a certificate authority of the trusted root: Sigstore clients reject this signature\)$/);
    // A key-signed entry has no certificate to check.
    expect(byIndex.get(500)!.evidence).not.toHaveProperty('certificateIssuers');
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/tlogwatch_findings_total\{rule="acme-release",severity="high"\} 4/);
    expect(metrics).toMatch(/tlogwatch_findings_open\{severity="critical"\} 1/);
    // Series with a known label set exist at 0 from the start, so a first failure shows as an increase.
    expect(metrics).toMatch(/tlogwatch_job_runs_total\{task="reverify",result="error"\} 0/);
    expect(metrics).toMatch(/tlogwatch_findings_open\{severity="low"\} 0/);
    // Which version runs, which SHA-256 path verifies its proofs, and on which malloc.
    expect(metrics).toContain(`tlogwatch_build_info{version="${VERSION}",merkle="${merkleBackend.name}",malloc="${processMalloc()}"} 1`);
    // The start-up line says how it reaches the logs; a proxy variable set without the opt-in is called out.
    const lines = startLines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; level: number; proxy?: unknown });
    expect(lines.find((l) => l.msg === 'tlogwatch serving')?.proxy).toEqual({ enabled: false, ignored: ['HTTPS_PROXY'] });
    expect(lines.find((l) => l.level === 40 && /NODE_USE_ENV_PROXY=1/.test(l.msg))?.msg).toMatch(/^HTTPS_PROXY set, but logs and webhooks connect directly/);
    expect(startLines.join('')).not.toContain('s3cret');
  });

  it('hot-reloads rules: a change applies to the next entry, an invalid edit keeps the old rules', { timeout: 60_000 }, async () => {
    writeFileSync(join(rulesDir, 'test.yaml'), 'rules:\n  - id: broken\n    watch: {}\n');
    await new Promise((r) => setTimeout(r, 400));
    writeFileSync(join(rulesDir, 'extra.yaml'), 'rules:\n  - id: everything\n    notify: all\n    severity: low\n    watch: { identities: [{ regex: ".+" }] }\n');
    await new Promise((r) => setTimeout(r, 400));
    // test.yaml is invalid, so the whole set is rejected and the old rules stay: no `everything` yet.
    sim.append(50);
    await waitVerified(N + 50);
    expect((await findings()).some((f) => f.rule === 'everything')).toBe(false);
    writeFileSync(join(rulesDir, 'test.yaml'), 'rules:\n  - id: still-valid\n    watch: { digests: ["sha256:00"] }\n');
    await new Promise((r) => setTimeout(r, 400));
    sim.append(300);
    await waitVerified(N + 350);
    const later = (await findings()).filter((f) => f.rule === 'everything');
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((f) => f.index >= N + 50)).toBe(true);
  });
});
