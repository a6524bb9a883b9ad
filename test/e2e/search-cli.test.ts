/** `tlogwatch search` (the real CLI, in its own process) against the API over loopback, on a mirror filled from the simulator. */
import { serve, type ServerType } from '@hono/node-server';
import { createServer } from 'node:http';
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
    // More entries than the API gives in one page (1000), so the CLI has to follow its cursor.
    // Entry 9: a self-made certificate naming two identities (Rekor v1 logs it).
    h = await harness({ api: 'v1', entries: 1100, seed: 'search-cli', inject: [{ at: 9, cert: { san: 'attacker@example.org', sans: ['victim@corp.example'], issuer: 'https://accounts.google.com' } }] });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 1100n);
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

  it('finds an entry by any SAN of its certificate, and shows its primary SAN and how many more', async () => {
    const r = await cli(['search', '--identity', 'victim@corp.example', '--server', url]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((row) => row.split('\t').slice(0, 4).join('\t'))).toEqual([`sim#9\t${new Date(m[9].integratedTime * 1000).toISOString()}\thashedrekord\tattacker@example.org (+1 more SANs)`]);
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

  it('prints at most --limit entries (default 50), following the cursor past the API\'s 1000 a page, and says when more match', async () => {
    const newestFirst = (xs: any[]) => [...xs].sort((a, b) => b.integratedTime - a.integratedTime || b.index - a.index).map((x) => x.index);
    const indexes = (stdout: string) => stdout.trim().split('\n').map((row) => Number(/^sim#(\d+)\t/.exec(row)![1]));
    const all = newestFirst(m);
    const first = await cli(['search', '--since', '0', '--server', url]);
    expect(first.code).toBe(0);
    expect(indexes(first.stdout)).toEqual(all.slice(0, 50));
    expect(first.stderr).toBe('tlogwatch search: stopped at 50 entries (--limit 50); more match: raise --limit or pass --all\n');
    const most = await cli(['search', '--since', '0', '--limit', '1050', '--server', url]);
    expect(indexes(most.stdout)).toEqual(all.slice(0, 1050));
    expect(most.stderr).toMatch(/^tlogwatch search: stopped at 1050 entries \(--limit 1050\); more match/);
    expect((await cli(['search', '--since', '0', '--limit', '1', '--server', url])).stderr).toBe('tlogwatch search: stopped at 1 entry (--limit 1); more match: raise --limit or pass --all\n');
    for (const every of [['--all'], ['--limit', '1100'], ['--limit', '5000']]) {
      const r = await cli(['search', '--since', '0', ...every, '--server', url]);
      expect(r.code, every.join(' ')).toBe(0);
      expect(indexes(r.stdout), every.join(' ')).toEqual(all);
      expect(r.stderr, every.join(' ')).toBe('');
    }
    const json = await cli(['search', '--since', '0', '--all', '--json', '--server', url]);
    expect(JSON.parse(json.stdout)).toMatchObject({ entries: expect.any(Array), next: null });
    expect((JSON.parse(json.stdout) as { entries: Array<{ index: number }> }).entries.map((e) => e.index)).toEqual(all);
    // --json keeps the cursor to the rest, for the API.
    const five = JSON.parse((await cli(['search', '--since', '0', '--limit', '5', '--json', '--server', url])).stdout) as { entries: Array<{ index: number }>; next: string };
    expect(five.entries.map((e) => e.index)).toEqual(all.slice(0, 5));
    const rest = (await (await fetch(`${url}/v1/search?since=0&limit=5&cursor=${five.next}`)).json()) as { entries: Array<{ index: number }> };
    expect(rest.entries.map((e) => e.index)).toEqual(all.slice(5, 10));
    for (const bad of [['--limit', '0'], ['--limit', 'ten'], ['--limit', '5', '--all']]) {
      expect(await cli(['search', '--since', '0', ...bad, '--server', url]), bad.join(' ')).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^tlogwatch search: --limit/) });
    }
  });

  it('with two selectors, follows the cursor through pages the second one thins out, up to the limit', async () => {
    // The owner drives the scan (api/selectors.ts order) and the build signer filters each page of it.
    const owner = (x: any) => x.repository?.split('/').slice(0, 4).join('/');
    const pairs = new Map<string, any[]>();
    for (const x of m.filter((x) => x.repository && x.buildSigner)) pairs.set(`${owner(x)} ${x.buildSigner}`, [...(pairs.get(`${owner(x)} ${x.buildSigner}`) ?? []), x]);
    const [pair, matching] = [...pairs].sort((a, b) => b[1].length - a[1].length)[0]!;
    const [o, signer] = pair.split(' ') as [string, string];
    expect(matching.length).toBeGreaterThan(4);
    expect(m.filter((x) => owner(x) === o).length).toBeGreaterThan(matching.length);
    const want = [...matching].sort((a, b) => b.integratedTime - a.integratedTime || b.index - a.index).map((x) => x.index);
    const r = await cli(['search', '--owner', o, '--build-signer', signer, '--limit', '4', '--server', url]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((row) => Number(/^sim#(\d+)\t/.exec(row)![1]))).toEqual(want.slice(0, 4));
    expect(r.stderr).toBe('tlogwatch search: stopped at 4 entries (--limit 4); more may match: raise --limit or pass --all\n');
    const every = await cli(['search', '--owner', o, '--build-signer', signer, '--all', '--server', url]);
    expect(every.stdout.trim().split('\n')).toHaveLength(want.length);
    expect(every.stderr).toBe('');
  });

  it('a URI selector given without its scheme, as a rule may say it, finds nothing and names the URI probably meant', async () => {
    const repo = m.find((x) => x.repository).repository as string;
    const bare = repo.replace(/^https:\/\//, '');
    const r = await cli(['search', '--repository', bare, '--server', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`no entries found; --repository is compared with the whole URI, scheme included: did you mean ${repo}?\n`);
    const found = await cli(['search', '--repository', repo, '--limit', '1', '--server', url]);
    expect(found.code).toBe(0);
    // Not for a value that is no host-led URI, nor for a selector that is no URI.
    expect((await cli(['search', '--owner', 'acme', '--server', url])).stderr).toBe('no entries found\n');
    expect((await cli(['search', '--identity', 'nobody@corp.example', '--server', url])).stderr).toBe('no entries found\n');
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
    // An address without its scheme is a usage error, not a server that cannot be reached.
    const bare = await cli(['search', '--digest', m[0].digests[0], '--server', url.replace('http://', '')]);
    expect(bare).toMatchObject({ code: 2, stderr: `tlogwatch search: --server ${url.replace('http://', '')}: an http:// or https:// URL, e.g. http://127.0.0.1:8080\n` });
    const down = await cli(['search', '--digest', m[0].digests[0], '--server', 'http://127.0.0.1:1']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1/);
  });

  it('a --server that answers but not as tlogwatch does (another program at that address) is named as such', async () => {
    const other = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const at = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const r = await cli(['search', '--digest', m[0].digests[0], '--server', at]);
      expect(r).toMatchObject({ code: 2, stderr: `tlogwatch search: ${at} answered 404 Not Found to GET /v1/search, not as tlogwatch does; is --server the address tlogwatch serve listens on?\n` });
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('ends quietly when its reader has gone (| head -1): status 141, as git and coreutils, no stack trace', async () => {
    for (const json of [[], ['--json']]) {
      const r = await cliClosedStdout(['search', '--since', '0', ...json, '--server', url]);
      expect(r, json.join(' ')).toEqual({ code: 141, signal: null, stderr: '' });
    }
  });
});
