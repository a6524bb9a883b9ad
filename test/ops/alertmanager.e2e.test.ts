/**
 * The shipped grafana/alertmanager.yml in a real Alertmanager (Debian's prometheus-alertmanager), on
 * 127.0.0.1 with clustering off: alerts posted as Prometheus would send them, and what it inhibits read
 * back from its API. A halted log silences that log's lag and staleness alerts; a store that cannot be
 * written silences them for every log of that instance, and of no other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, tool, waitFor } from './tools.ts';

const bin = tool('prometheus-alertmanager');
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-am-'));
let am: ChildProcess | undefined;
let url = '';
let out = '';

interface AmAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

beforeAll(async () => {
  if (!bin) return;
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  am = spawn(bin, [`--config.file=${join(ROOT, 'grafana/alertmanager.yml')}`, `--storage.path=${tmp}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  am.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  am.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('Alertmanager ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 20_000, 100).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${out}`, { cause: e });
  });
}, 30_000);

afterAll(async () => {
  if (am && am.exitCode === null && am.signalCode === null) {
    const exited = new Promise<void>((r) => am!.once('exit', () => r()));
    am.kill('SIGTERM');
    await exited;
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** An alert as Prometheus posts it: the rule's labels plus the series' (job, instance, log). */
function alert(alertname: string, severity: string, labels: Record<string, string>) {
  return { labels: { alertname, severity, job: 'tlogwatch', ...labels }, annotations: { summary: alertname }, startsAt: new Date().toISOString() };
}

describe.skipIf(!bin)('Alertmanager with grafana/alertmanager.yml', () => {
  it('inhibits the lag and staleness alerts of a halted log, and of every log of an instance whose store cannot be written', { timeout: 30_000 }, async () => {
    const posted = [
      alert('TlogwatchLogIntegrityFailure', 'page', { instance: 'a:8080', log: 'rekor' }),
      alert('TlogwatchNoVerifiedCheckpoint', 'warning', { instance: 'a:8080', log: 'rekor' }),
      alert('TlogwatchMirrorBehind', 'warning', { instance: 'a:8080', log: 'rekor' }),
      alert('TlogwatchStoreNotWritable', 'page', { instance: 'b:8080' }),
      alert('TlogwatchNoVerifiedCheckpoint', 'warning', { instance: 'b:8080', log: 'rekor-v2' }),
      alert('TlogwatchMirrorLagGrowing', 'warning', { instance: 'b:8080', log: 'rekor' }),
      // Not inhibited: another log on instance a, another instance's store, another kind of alert.
      alert('TlogwatchNoVerifiedCheckpoint', 'warning', { instance: 'a:8080', log: 'rekor-v2' }),
      alert('TlogwatchMirrorLagGrowing', 'warning', { instance: 'c:8080', log: 'rekor' }),
      alert('TlogwatchUpstreamErrors', 'warning', { instance: 'b:8080', log: 'rekor' }),
    ];
    const res = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(posted) });
    expect(res.status).toBe(200);
    const alerts = await waitFor(
      'the posted alerts',
      async () => {
        const got = (await (await fetch(`${url}/api/v2/alerts`)).json()) as AmAlert[];
        return got.length === posted.length ? got : undefined;
      },
      10_000,
      100,
    );
    const inhibited = alerts
      .filter((a) => a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0)
      .map((a) => `${a.labels['alertname']} ${a.labels['instance']} ${a.labels['log']}`)
      .sort();
    expect(inhibited).toEqual([
      'TlogwatchMirrorBehind a:8080 rekor',
      'TlogwatchMirrorLagGrowing b:8080 rekor',
      'TlogwatchNoVerifiedCheckpoint a:8080 rekor',
      'TlogwatchNoVerifiedCheckpoint b:8080 rekor-v2',
    ]);
  });
});
