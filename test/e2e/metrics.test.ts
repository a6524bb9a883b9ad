/**
 * The daemon's gauges against the true state of its logs over /metrics: after a restart they say what the
 * store holds from the first scrape, whether or not the log answers; a log is `stalled` on every scrape
 * while /readyz says so, and no longer once the mirror moves again.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { stopAll } from '../helpers/teardown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-metrics-'));
const daemons: Daemon[] = [];
const sims: Simulator[] = [];
const servers: Server[] = [];
afterAll(() => stopAll({ daemons, sims, servers, dir: tmp }));

/** The `tlogwatch_*` samples of one scrape whose labels include `log="NAME"`, as `name{labels}` → value. */
async function scrape(d: Daemon, log: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const [, series, value] of text.matchAll(/^(tlogwatch_\w+\{[^}]*\}) (\S+)$/gm)) if (series!.includes(`log="${log}"`)) out.set(series!, Number(value));
  return out;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('gauges after a restart', () => {
  it('show the stored state from the first scrape, with the log unreachable', { timeout: 60_000 }, async () => {
    const sim = await startSimulator({ api: 'tiles', entries: 200, seed: 'metrics-restart', out: join(tmp, 'sim'), log: () => {} });
    sims.push(sim);
    const yaml = (reverify: string) =>
      `dataDir: ${join(tmp, 'data')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\njobs: { reverify: '${reverify}' }\nlogs:\n  - { name: a, type: tiles, url: '${sim.url}', start: 0, pollInterval: 200ms, requestsPerMinute: 0 }\n`;
    // The first daemon sweeps the store every second; the second would not before tomorrow.
    const first = await startDaemon(parseConfig(yaml('* * * * * *'), 'test.yaml', {}), createLogger({ level: 'silent' }));
    daemons.push(first);
    const before = await until('the first checkpoint verified and a clean sweep', async () => {
      const m = await scrape(first, 'a');
      return m.get('tlogwatch_verified_tree_size{log="a"}') === 200 && m.has('tlogwatch_store_verified_sweep_timestamp_seconds{log="a"}') ? m : undefined;
    });
    await first.stop();
    const stoppedAt = Date.now() / 1000;
    await sim.close();

    const config = parseConfig(yaml('0 0 * * *'), 'test.yaml', {});
    const second = await startDaemon(config, createLogger({ level: 'silent' }));
    daemons.push(second);
    const after = await scrape(second, 'a');
    const restored = [
      'tlogwatch_upstream_tree_size{log="a"}',
      'tlogwatch_verified_tree_size{log="a"}',
      'tlogwatch_mirror_lag_entries{log="a"}',
      'tlogwatch_last_verified_checkpoint_timestamp_seconds{log="a"}',
      'tlogwatch_log_state{log="a",state="following"}',
      'tlogwatch_log_state{log="a",state="bootstrapping"}',
      'tlogwatch_log_state{log="a",state="halted"}',
      'tlogwatch_log_state{log="a",state="stalled"}',
    ];
    expect(Object.fromEntries(restored.map((k) => [k, after.get(k)]))).toEqual(Object.fromEntries(restored.map((k) => [k, before.get(k)])));
    expect(after.get('tlogwatch_log_state{log="a",state="following"}')).toBe(1);
    // The last clean sweep the first daemon finished (it may have finished one more after that scrape).
    const sweep = 'tlogwatch_store_verified_sweep_timestamp_seconds{log="a"}';
    expect(after.get(sweep)).toBeGreaterThanOrEqual(before.get(sweep)!);
    expect(after.get(sweep)).toBeLessThanOrEqual(stoppedAt);
    // Rounds that fail (the log is gone) leave them so.
    await until('a failed round', async () => ((await scrape(second, 'a')).get('tlogwatch_upstream_errors_total{log="a",code="network"}') ?? 0) > 0 || undefined);
    const later = await scrape(second, 'a');
    expect(Object.fromEntries(restored.map((k) => [k, later.get(k)]))).toEqual(Object.fromEntries(restored.map((k) => [k, before.get(k)])));
  });
});

describe("scheduled jobs' last success after a restart", () => {
  /** tlogwatch_job_last_success_timestamp_seconds of one scrape, by task. */
  const lastSuccess = async (d: Daemon) => {
    const text = await (await fetch(`${d.url}/metrics`)).text();
    return Object.fromEntries([...text.matchAll(/^tlogwatch_job_last_success_timestamp_seconds\{task="(\w+)"\} (\S+)$/gm)].map(([, task, v]) => [task!, Number(v)]));
  };

  it('is published from the first scrape, before any job runs again, as the last daemon left it', { timeout: 60_000 }, async () => {
    const sim = await startSimulator({ api: 'tiles', entries: 50, seed: 'metrics-jobs', out: join(tmp, 'sim-jobs'), log: () => {} });
    sims.push(sim);
    const yaml = (cron: string) =>
      `dataDir: ${join(tmp, 'data-jobs')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\njobs: { reverify: '${cron}', trustedRootRefresh: '${cron}', dailyDigest: '${cron}', compaction: '${cron}' }\nlogs:\n  - { name: a, type: tiles, url: '${sim.url}', start: 0, pollInterval: 200ms, requestsPerMinute: 0 }\n`;
    // The first daemon runs every job every second; the second none before next year.
    const first = await startDaemon(parseConfig(yaml('* * * * * *'), 'test.yaml', {}), createLogger({ level: 'silent' }));
    daemons.push(first);
    const tasks = ['compaction', 'dailyDigest', 'retiredShards', 'reverify', 'trustedRootRefresh'];
    const before = await until('every job to succeed once', async () => {
      const m = await lastSuccess(first);
      return tasks.every((t) => m[t] !== undefined) ? m : undefined;
    });
    await first.stop();
    const stoppedAt = Date.now() / 1000;

    const second = await startDaemon(parseConfig(yaml('0 0 1 1 *'), 'test.yaml', {}), createLogger({ level: 'silent' }));
    daemons.push(second);
    const after = await lastSuccess(second);
    expect(Object.keys(after).sort()).toEqual(tasks);
    for (const t of tasks) {
      // The last success the first daemon had (it may have had one more after that scrape).
      expect(after[t]).toBeGreaterThanOrEqual(before[t]!);
      expect(after[t]).toBeLessThanOrEqual(stoppedAt);
    }
    // Nothing ran in the second daemon: no run counted, the times are the stored ones.
    const text = await (await fetch(`${second.url}/metrics`)).text();
    expect(text).toMatch(/^tlogwatch_job_runs_total\{task="compaction",result="ok"\} 0$/m);
  });
});

describe('tlogwatch_log_state', () => {
  it('is stalled on every scrape of a frozen view, following once the log shows the tree again', { timeout: 60_000 }, async () => {
    // The frozen-view set-up of test/e2e/frozen-view.test.ts: the log shows 200 entries, a source has its signed 260.
    const sim = await startSimulator({ api: 'tiles', entries: 200, seed: 'metrics-frozen', out: join(tmp, 'sim-frozen'), log: () => {} });
    sims.push(sim);
    sim.faults.enable('stale');
    sim.append(60);
    const larger = sim.view.checkpoint(sim.log.shards[0]!, 260);
    const server = createServer((_req, res) => res.writeHead(200).end(larger));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = parseConfig(
      `dataDir: ${join(tmp, 'data-frozen')}\nlisten: 127.0.0.1:0\nstalledAfter: 1s\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: a, type: tiles, url: '${sim.url}', start: 0, pollInterval: 100ms, requestsPerMinute: 0 }\ncheckpointSources:\n  - { name: elsewhere, kind: checkpoint, url: '${base}/checkpoint', logs: [a], interval: 1h }\n`,
      'test.yaml',
      {},
    );
    const d = await startDaemon(config, createLogger({ level: 'silent' }));
    daemons.push(d);
    await until('/readyz to say frozen view', async () => ((await (await fetch(`${d.url}/readyz`)).text()).includes('frozen view') ? true : undefined));
    const state = async () => [...(await scrape(d, 'a'))].filter(([k, v]) => k.startsWith('tlogwatch_log_state{') && v === 1).map(([k]) => /state="(\w+)"/.exec(k)![1]);
    // The log's rounds (every 100 ms) find it unchanged all along: the gauge must not follow them.
    const seen = [];
    for (let i = 0; i < 15; i++) {
      seen.push(...(await state()));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(new Set(seen)).toEqual(new Set(['stalled']));
    expect(seen).toHaveLength(15);

    sim.faults.disable('stale');
    sim.log.publish();
    await until('the mirror to verify 260', async () => ((await scrape(d, 'a')).get('tlogwatch_verified_tree_size{log="a"}') === 260 ? true : undefined));
    expect(await state()).toEqual(['following']);
  });
});
