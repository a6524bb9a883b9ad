/**
 * `logs[].witnesses` end to end: the daemon, configured from YAML with the simulator's witnesses' verifier
 * keys (one Ed25519, one ML-DSA-44), shows in /v1/logs who cosigned its verified checkpoint, and while the witnesses stop cosigning,
 * why it waits (the transient error) and the metrics that count it; and a policy no checkpoint meets, which
 * keeps the log bootstrapping, with no stored state, and which the daemon judges a stall all the same.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { cosignatureVkey, rawEd25519 } from '../../src/note/keys.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { witnessVkey } from '../sim/trust.ts';
import { stopAll } from '../helpers/teardown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-witnesses-'));
let sim: Simulator;
let d: Daemon;
interface LogView { verifiedSize: number; witnesses?: { quorum: number; of: string[]; verifiedCosignedBy: string[] }; transientError?: { code: string; message: string } }
const view = async () => ((await (await fetch(`${d.url}/v1/logs`)).json()) as LogView[])[0];
async function until(what: string, done: (v: LogView) => boolean): Promise<LogView> {
  for (let i = 0; i < 300; i++) {
    const v = await view();
    if (v && done(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  // witness1 cosigns with Ed25519 (type 0x04), witness2 with ML-DSA-44 (type 0x06): the quorum of 2 needs both.
  sim = await startSimulator({ api: 'tiles', entries: 400, seed: 'witnessed', witnesses: 1, mldsaWitnesses: 1, out: join(tmp, 'sim'), log: () => {} });
  const keys = [...sim.log.witnesses.map(witnessVkey), cosignatureVkey('absent.example', rawEd25519(generateKeyPairSync('ed25519').publicKey))];
  const config = parseConfig(
    `dataDir: ${join(tmp, 'data')}\nlisten: 127.0.0.1:0\nstalledAfter: 1s\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - name: a\n    type: tiles\n    url: '${sim.url}'\n    start: 0\n    pollInterval: 200ms\n    requestsPerMinute: 0\n    witnesses:\n      quorum: 2\n      keys:\n${keys.map((k) => `        - '${k}'\n`).join('')}`,
    'test.yaml',
    {},
  );
  d = await startDaemon(config, createLogger({ level: 'silent' }));
}, 60_000);
afterAll(() => stopAll({ daemons: [d], sims: [sim], dir: tmp }));

describe('a log followed with a witness policy', () => {
  it('shows who cosigned the verified checkpoint, and why it waits while they do not', { timeout: 60_000 }, async () => {
    const first = await until('400 verified', (v) => v.verifiedSize === 400);
    expect(first.witnesses).toEqual({ quorum: 2, of: ['witness1.example', 'witness2.example', 'absent.example'], verifiedCosignedBy: ['witness1.example', 'witness2.example'] });
    expect(first.transientError).toBeUndefined();

    const stopped = sim.log.witnesses.splice(1);
    sim.append(50);
    const waiting = await until('the unwitnessed checkpoint to be reported', (v) => v.transientError !== undefined);
    expect(waiting.verifiedSize).toBe(400);
    expect(waiting.transientError).toMatchObject({ code: 'VERIFY_UNWITNESSED', message: expect.stringMatching(/^checkpoint 450 is cosigned by 1 of the 2 required witnesses \(witness1\.example\); no cosignature from witness2\.example, absent\.example/) });
    // Past stalledAfter, /readyz says the log is stale and why.
    await new Promise((r) => setTimeout(r, 1500));
    const ready = await fetch(`${d.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { problems: string[] }).problems.join('\n')).toMatch(/^a: stalled \(log a: no checkpoint verified for \d s \(limit 1 s\) while upstream is at 450 and the mirror at 400; its latest rounds end with VERIFY_UNWITNESSED: checkpoint 450 is cosigned by 1 of the 2 required witnesses/);
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    expect(metrics).toContain('tlogwatch_checkpoints_unwitnessed_total{log="a"} 1');
    expect(metrics).toMatch(/tlogwatch_witness_cosignature_timestamp_seconds\{log="a",witness="witness2\.example"\} \d{10}/);

    sim.log.witnesses.push(...stopped);
    sim.append(5);
    const resumed = await until('455 verified', (v) => v.verifiedSize === 455);
    expect(resumed.transientError).toBeUndefined();
    expect(resumed.witnesses?.verifiedCosignedBy).toEqual(['witness1.example', 'witness2.example']);
    expect((await fetch(`${d.url}/readyz`)).status).toBe(200);
  });

  it('a policy no checkpoint meets keeps the log bootstrapping, and the daemon judges it stalled and says why', { timeout: 90_000 }, async () => {
    const absent = cosignatureVkey('absent.example', rawEd25519(generateKeyPairSync('ed25519').publicKey));
    const config = parseConfig(
      `dataDir: ${join(tmp, 'data-unmet')}\nlisten: 127.0.0.1:0\nstalledAfter: 1s\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - name: a\n    type: tiles\n    url: '${sim.url}'\n    start: 0\n    pollInterval: 200ms\n    requestsPerMinute: 0\n    witnesses:\n      quorum: 1\n      keys:\n        - '${absent}'\n`,
      'unmet.yaml',
      {},
    );
    const started = Math.floor(Date.now() / 1000);
    const unmet = await startDaemon(config, createLogger({ level: 'silent' }));
    try {
      // Well past stalledAfter. The store holds no state of the log (it never bootstrapped); the daemon judges
      // the stall on what its follower saw, as for a bootstrapped log.
      await new Promise((r) => setTimeout(r, 2500));
      const metrics = await (await fetch(`${unmet.url}/metrics`)).text();
      expect(metrics).toContain('tlogwatch_log_state{log="a",state="stalled"} 1');
      expect(metrics).toContain('tlogwatch_log_state{log="a",state="bootstrapping"} 0');
      expect(metrics).toMatch(/^tlogwatch_mirror_lag_entries\{log="a"\} [1-9]\d*$/m);
      expect(metrics).not.toContain('tlogwatch_last_verified_checkpoint_timestamp_seconds{log="a"}');
      const upstream = sim.log.size;
      const why = new RegExp(
        `^log a: no checkpoint met the witness policy since (\\S+), \\d+ s ago \\(limit 1 s\\) while upstream is at ${upstream} and the mirror has verified none of it; its latest rounds end with VERIFY_UNWITNESSED: checkpoint ${upstream} is cosigned by 0 of the 1 required witnesses; no cosignature from absent\\.example`,
      );
      const ready = await fetch(`${unmet.url}/readyz`);
      expect(ready.status).toBe(503);
      const problems = ((await ready.json()) as { problems: string[] }).problems;
      expect(problems).toHaveLength(1);
      const [, stall] = /^a: not bootstrapped yet; stalled \((.*)\)$/.exec(problems[0]!) ?? [];
      expect(stall).toMatch(why);
      // "since" is when the daemon started following the log.
      const since = Date.parse(why.exec(stall!)![1]!) / 1000;
      expect(since).toBeGreaterThanOrEqual(started);
      expect(since).toBeLessThanOrEqual(started + 2);

      // /v1/logs lists it, with the same reason.
      const logs = (await (await fetch(`${unmet.url}/v1/logs`)).json()) as Array<Record<string, unknown>>;
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({ name: 'a', state: 'bootstrapping', verifiedSize: null, verifiedRoot: null, lastVerifiedAt: null, upstreamSize: upstream, lag: upstream, mirroredFrom: 0, witnesses: { quorum: 1, of: ['absent.example'], verifiedCosignedBy: [] }, transientError: { code: 'VERIFY_UNWITNESSED' } });
      expect(logs[0]!['stalled']).toMatch(why);

      // And the stall check (every 30 s) raises the mirror-stalled finding a bootstrapped log's stall raises.
      let findings: Array<{ rule: string; severity: string; log: string; message: string; evidence: Record<string, unknown> }> = [];
      for (let i = 0; i < 400 && findings.length === 0; i++) {
        findings = ((await (await fetch(`${unmet.url}/v1/findings?rule=mirror-stalled`)).json()) as { findings: typeof findings }).findings;
        if (findings.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ severity: 'high', log: 'a', evidence: { upstreamSize: String(upstream), verifiedSize: '0', lastError: { code: 'VERIFY_UNWITNESSED' } } });
      expect(findings[0]!.message).toMatch(why);
    } finally {
      await unmet.stop();
    }
  });
});
