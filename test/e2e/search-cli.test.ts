/** `tlogwatch search` (the real CLI, in its own process) against the API over loopback, on a mirror filled from the simulator. */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { createLogger } from '../../src/logger.ts';
import { cli, cliClosedStdout } from '../helpers/cli.ts';
import { harness, manifestOf, roundsUntil, type Harness } from '../helpers/mirror.ts';

describe('tlogwatch search', () => {
  let h: Harness;
  let server: ServerType;
  let url: string;
  let m: any[];
  beforeAll(async () => {
    h = await harness({ api: 'v1', entries: 80, seed: 'search-cli' });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 80n);
    m = manifestOf(h.sim);
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
    url = await new Promise<string>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve(`http://127.0.0.1:${info.port}`));
    });
  }, 60_000);
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await h.cleanup();
  });

  it('finds an entry by digest: one line per entry, exit 0', async () => {
    const line = m[7];
    const r = await cli(['search', '--digest', line.digests[0], '--server', url]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n');
    const want = m.filter((x) => x.digests.includes(line.digests[0])).map((x) => x.index).reverse();
    expect(rows.map((row) => Number(/^sim#(\d+)\t/.exec(row)![1]))).toEqual(want);
    expect(rows[0]).toContain(line.uuid);
    expect(rows[0]!.split('\t')[1]).toBe(new Date(m[want[0]].integratedTime * 1000).toISOString());
  });

  it('takes every selector the API has, and a time window alone, with --json', async () => {
    const withRepo = m.find((x) => x.repository);
    const owner = withRepo.repository.split('/').slice(0, 4).join('/');
    const cases: Array<[string[], (x: any) => boolean]> = [
      [['--owner', owner], (x) => x.repository?.startsWith(`${owner}/`)],
      [['--repository', withRepo.repository], (x) => x.repository === withRepo.repository],
      [['--build-signer', withRepo.buildSigner], (x) => x.buildSigner === withRepo.buildSigner],
      [['--since', String(m[20].integratedTime), '--until', String(m[40].integratedTime)], (x) => x.integratedTime >= m[20].integratedTime && x.integratedTime <= m[40].integratedTime],
    ];
    for (const [args, want] of cases) {
      const r = await cli(['search', ...args, '--limit', '1000', '--json', '--server', url]);
      expect(r.code, args.join(' ')).toBe(0);
      const body = JSON.parse(r.stdout) as { entries: Array<{ index: number }> };
      expect(body.entries.map((e) => e.index).sort((a, b) => a - b), args.join(' ')).toEqual(m.filter(want).map((x) => x.index));
    }
  });

  it('exits 1 when nothing matches, 2 on a bad query, a missing selector or an unreachable server', async () => {
    const none = await cli(['search', '--digest', `sha256:${'0'.repeat(64)}`, '--server', url]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no entries found');
    const bad = await cli(['search', '--digest', 'sha256:xyz', '--server', url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/400 digest must be/);
    const usage = await cli(['search', '--server', url]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^usage: tlogwatch search/);
    const help = await cli(['search', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--owner URI/);
    const down = await cli(['search', '--digest', m[0].digests[0], '--server', 'http://127.0.0.1:1']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1/);
  });

  it('ends quietly when its reader has gone (| head -1): status 141, as git and coreutils, no stack trace', async () => {
    for (const json of [[], ['--json']]) {
      const r = await cliClosedStdout(['search', '--since', '0', ...json, '--server', url]);
      expect(r, json.join(' ')).toEqual({ code: 141, signal: null, stderr: '' });
    }
  });
});
