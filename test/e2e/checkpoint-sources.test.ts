/**
 * `checkpointSources` end to end: the daemon, configured from YAML, compares the log it mirrors with two
 * sources on loopback. One serves the checkpoints the log publishes to everyone; the other a checkpoint of
 * the same size the log signed over another history (the simulator's `fork`, switched on only while it was
 * fetched). The first is consistent; the second is a critical split-view finding, in /v1/findings, /v1/logs
 * and the metrics.
 */
import { mkdtempSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { stopAll } from '../helpers/teardown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-sources-'));
let sim: Simulator;
let d: Daemon;
let server: Server;
let honest = '';
let forked = '';
const logLines: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ api: 'tiles', entries: 250, seed: 'sources', out: join(tmp, 'sim'), log: () => {} });
  honest = await (await fetch(`${sim.url}/checkpoint`)).text();
  sim.faults.enable('fork', 90);
  forked = await (await fetch(`${sim.url}/checkpoint`)).text();
  sim.faults.disable('fork');
  server = createServer((req, res) => {
    const body = req.url === '/good/a' ? honest : req.url === '/evil' ? forked : undefined;
    res.writeHead(body ? 200 : 404).end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = parseConfig(
    `dataDir: ${join(tmp, 'data')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: a, type: tiles, url: '${sim.url}', start: 0, pollInterval: 200ms, requestsPerMinute: 0 }\ncheckpointSources:\n  - { name: good, kind: checkpoint, url: '${base}/good/{log}', interval: 1h, token: '\${GOOD_TOKEN}' }\n  - { name: evil, kind: checkpoint, url: '${base}/evil', logs: [a], interval: 1h }\n`,
    'test.yaml',
    { GOOD_TOKEN: 'good-source-token-0123' },
  );
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  d = await startDaemon(config, createLogger({ level: 'info', destination }));
}, 60_000);
afterAll(() => stopAll({ daemons: [d], sims: [sim], servers: [server], dir: tmp }));

interface LogView {
  verifiedSize: number | null;
  checkpointSources?: Array<{ source: string; result: string; size?: number; finding?: string; reason?: string }>;
}

describe('checkpoint sources in the daemon', () => {
  it('finds one source consistent and raises the other as a split view, once the log has bootstrapped', { timeout: 60_000 }, async () => {
    let v: LogView | undefined;
    for (let i = 0; i < 200; i++) {
      v = ((await (await fetch(`${d.url}/v1/logs`)).json()) as LogView[])[0];
      if (v?.checkpointSources?.length === 2 && v.checkpointSources.every((c) => c.result !== 'pending')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(v?.verifiedSize).toBe(250);
    const [good, evil] = v!.checkpointSources!;
    expect(good).toMatchObject({ source: 'good', result: 'consistent', size: 250 });
    expect(evil).toMatchObject({ source: 'evil', result: 'split_view', size: 250, finding: expect.stringMatching(/^[0-9a-f]{32}$/) });

    const findings = (await (await fetch(`${d.url}/v1/findings?rule=log-integrity`)).json()) as { findings: Array<{ id: string; severity: string; message: string; evidence: Record<string, string> }> };
    expect(findings.findings).toHaveLength(1);
    const f = findings.findings[0]!;
    expect(f).toMatchObject({ id: evil!.finding, severity: 'critical', evidence: { source: 'evil', sourceCheckpoint: forked, mirrorCheckpoint: honest } });
    expect(f.message).toMatch(/^log a: checkpoint source evil shows a tree head of size 250, signed by the log/);

    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    expect(metrics).toMatch(/^tlogwatch_checkpoint_source_checks_total\{source="evil",log="a",result="split_view"\} 1$/m);
    expect(metrics).toMatch(/^tlogwatch_checkpoint_source_checks_total\{source="good",log="a",result="consistent"\} 1$/m);
    expect(metrics).toMatch(/^tlogwatch_checkpoint_source_tree_size\{source="good",log="a"\} 250$/m);
    // Every result's series exists from the start (at 0), so a first failure is an increase Prometheus sees.
    expect(metrics).toMatch(/^tlogwatch_checkpoint_source_checks_total\{source="evil",log="a",result="invalid"\} 0$/m);
    expect(metrics).toMatch(/^tlogwatch_checkpoint_source_consistent_timestamp_seconds\{source="good",log="a"\} \d{10}$/m);
    // The mirror itself is not halted: its own view of the log is consistent; the log showed another one elsewhere.
    expect((await fetch(`${d.url}/readyz`)).status).toBe(200);
    // The start-up line says where the logs are compared from; the source's token never reaches a log line.
    const serving = logLines.map((l) => JSON.parse(l) as { msg: string; checkpointSources?: unknown }).find((l) => l.msg === 'tlogwatch serving');
    expect(serving?.checkpointSources).toEqual([
      { name: 'good', kind: 'checkpoint', url: expect.stringMatching(/\/good\/\{log\}$/) },
      { name: 'evil', kind: 'checkpoint', url: expect.stringMatching(/\/evil$/), logs: ['a'] },
    ]);
    expect(logLines.join('')).not.toContain('good-source-token-0123');
  });
});
