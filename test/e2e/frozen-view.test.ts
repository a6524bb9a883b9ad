/**
 * A frozen view end to end: the log (the simulator's `stale` fault) keeps showing the daemon a tree of 200
 * entries while it has signed a larger one, which a checkpoint source serves. The mirror is caught up with
 * all it is shown, so only the source reveals the stall: /readyz says so, and a `mirror-stalled` finding
 * names the source and both sizes.
 */
import { mkdtempSync } from 'node:fs';
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

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-frozen-'));
let sim: Simulator;
let d: Daemon;
let server: Server;

beforeAll(async () => {
  sim = await startSimulator({ api: 'tiles', entries: 200, seed: 'frozen', out: join(tmp, 'sim'), log: () => {} });
  sim.faults.enable('stale');
  sim.append(60);
  // What the log signed for others: the 260-entry tree, taken from the simulator's own view.
  const larger = sim.view.checkpoint(sim.log.shards[0]!, 260);
  server = createServer((_req, res) => res.writeHead(200).end(larger));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = parseConfig(
    `dataDir: ${join(tmp, 'data')}\nlisten: 127.0.0.1:0\nstalledAfter: 1s\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: a, type: tiles, url: '${sim.url}', start: 0, pollInterval: 200ms, requestsPerMinute: 0 }\ncheckpointSources:\n  - { name: elsewhere, kind: checkpoint, url: '${base}/checkpoint', logs: [a], interval: 1h }\n`,
    'test.yaml',
    {},
  );
  d = await startDaemon(config, createLogger({ level: 'silent' }));
}, 60_000);
afterAll(() => stopAll({ daemons: [d], sims: [sim], servers: [server], dir: tmp }));

describe('a log that shows the daemon a frozen view', () => {
  it('is a stall the source reveals: /readyz and a mirror-stalled finding say so', { timeout: 90_000 }, async () => {
    let ready: { status: number; body: string } = { status: 0, body: '' };
    // 503 while the log bootstraps too: wait for the frozen view's reason.
    for (let i = 0; i < 200 && !ready.body.includes('frozen view'); i++) {
      const r = await fetch(`${d.url}/readyz`);
      ready = { status: r.status, body: await r.text() };
      if (!ready.body.includes('frozen view')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('the log has shown this mirror a tree of 200 entries for');
    expect(ready.body).toContain('while checkpoint source elsewhere has a checkpoint of 260 entries signed by the log');
    const v = ((await (await fetch(`${d.url}/v1/logs`)).json()) as Array<{ verifiedSize: number; upstreamSize: number; checkpointSources: Array<{ result: string; size: number }> }>)[0]!;
    expect(v).toMatchObject({ verifiedSize: 200, upstreamSize: 200, checkpointSources: [{ result: 'pending', size: 260 }] });

    // The stall check runs every 30 s.
    let findings: Array<{ rule: string; severity: string; message: string; evidence: Record<string, unknown> }> = [];
    for (let i = 0; i < 400 && findings.length === 0; i++) {
      findings = ((await (await fetch(`${d.url}/v1/findings?rule=mirror-stalled`)).json()) as { findings: typeof findings }).findings;
      if (findings.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'high', evidence: { upstreamSize: '200', seenElsewhere: { source: 'elsewhere', size: '260' } } });
    expect(findings[0]!.message).toMatch(/^log a: the log has shown this mirror a tree of 200 entries for \d+ s \(limit 1 s\) while checkpoint source elsewhere has a checkpoint of 260 entries signed by the log: a frozen view, or a stale cache in front of the log$/);
  });
});
