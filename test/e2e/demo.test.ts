/**
 * `npm run demo` (scripts/demo.ts) as a newcomer runs it: the simulator and the daemon start, the daemon
 * mirrors the growing log with the example rules, the four rogue acme signatures (three in the history,
 * one appended live) become acme-release findings, the CLI command the banner suggests finds acme's
 * entries, and Ctrl-C stops everything with exit 0. A demo that cannot start says why in one line that
 * names DEMO_LISTEN, and leaves no simulator running.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The demo run to its end, as `npm run demo` runs it, with its DEMO_* variables. */
async function demoFails(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    await promisify(execFile)(process.execPath, ['scripts/demo.ts'], { env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn', ...env }, timeout: 60_000 });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

/** Processes whose command line names `path` (the simulator the demo started takes --out under DEMO_DIR). */
function processesNaming(path: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path) ? [p] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}

async function noneLeft(path: string): Promise<string[]> {
  let left = processesNaming(path);
  for (const t = Date.now(); left.length > 0 && Date.now() - t < 5000; left = processesNaming(path)) await new Promise((r) => setTimeout(r, 100));
  return left;
}

describe('npm run demo', () => {
  it('mirrors the growing log, flags the rogue signatures, and stops on Ctrl-C', { timeout: 90_000 }, async () => {
    // As a newcomer runs it: no TLOGWATCH_LOG_LEVEL.
    const { TLOGWATCH_LOG_LEVEL: _, TLOGWATCH_ADMIN_TOKEN: __, ...env } = process.env;
    const demo = spawn(process.execPath, ['scripts/demo.ts'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, DEMO_DIR: join(dir, 'demo'), DEMO_LISTEN: '127.0.0.1:0' } });
    let out = '';
    demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
    demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
    try {
      const api = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /API\s+(http:\/\/\S+)\/v1\/logs/.exec(out);
          if (m) {
            clearInterval(timer);
            resolve(m[1]!);
          }
        }, 50);
        void exited.then((code) => (clearInterval(timer), reject(new Error(`demo exited ${code}: ${out}`))));
      });
      expect(out).toContain(`${api}/v1/findings?rule=acme-release`);
      // The next step the banner offers, run as printed: the CLI asks this daemon for acme's entries.
      const suggested = /CLI\s+npx tlogwatch (search .*)/.exec(out)?.[1]?.split(' ');
      expect(suggested).toEqual(['search', '--server', api, '--owner', 'https://github.com/acme']);
      let indexes: number[] = [];
      for (const t = Date.now(); Date.now() - t < 60_000; await new Promise((r) => setTimeout(r, 250))) {
        const body = (await (await fetch(`${api}/v1/findings?rule=acme-release&limit=50`)).json()) as { findings: Array<{ index: number }> };
        indexes = body.findings.map((f) => f.index).sort((a, b) => a - b);
        if (indexes.length >= 4) break;
      }
      // The three injected into the history, and the one appended after the 5,000 (the log grows live).
      expect(indexes.slice(0, 3)).toEqual([1200, 2500, 4000]);
      expect(indexes[3]).toBeGreaterThanOrEqual(5000);
      expect(indexes).toHaveLength(4);
      // Run once the mirror holds acme's entries: the banner comes up before the first batch commits.
      const search = await cli(suggested!);
      expect(search.code, search.stderr).toBe(0);
      expect(search.stdout).toContain('https://github.com/acme/');
      const logs = (await (await fetch(`${api}/v1/logs`)).json()) as Array<{ name: string; state: string; verifiedSize: number; checkpointSources?: Array<{ source: string }> }>;
      expect(logs[0]).toMatchObject({ name: 'rekor-v2-sim', state: 'following' });
      // The demo's checkpoint source has been asked (its result depends on how far the mirror is by then).
      expect(logs[0]!.checkpointSources?.map((c) => c.source)).toEqual(['second-path']);
      expect(logs[0]!.verifiedSize).toBeGreaterThan(5000);
      // Each of them printed once, one line under the banner, as it was raised; and none of the daemon's
      // info logs (a JSON line per batch of findings), which would bury the banner.
      const printed = () => [...out.matchAll(/^ {2}HIGH {2}acme-release {2}rekor-v2-sim#(\d+) {2}ACME release policy: /gm)].map((m) => Number(m[1]));
      for (const t = Date.now(); printed().length < 4 && Date.now() - t < 10_000; ) await new Promise((r) => setTimeout(r, 100));
      expect(printed()).toEqual(indexes);
      expect(out.indexOf('High and critical findings as they are raised:')).toBeLessThan(out.indexOf('  HIGH  '));
      expect(out).not.toContain('"level":30');
      // The acknowledgement the banner offers, as printed, of a finding as listed: the admin endpoints are on.
      expect(out).not.toContain('no admin token configured');
      const ack = /ack\s+curl -H 'authorization: Bearer ([0-9a-f]{32})' -d '(\{.*?\})' (\S+)\/v1\/findings\/ID\/ack/.exec(out);
      expect(ack?.[3]).toBe(api);
      const id = /^ {2}HIGH {2}acme-release {2}rekor-v2-sim#1200 .* \[([0-9a-f]{32})\]$/m.exec(out)?.[1];
      const acked = await fetch(`${api}/v1/findings/${id}/ack`, { method: 'POST', headers: { authorization: `Bearer ${ack![1]!}` }, body: ack![2]! });
      expect(acked.status).toBe(200);
      expect(await acked.json()).toMatchObject({ id, status: 'acked', statusReason: 'seen' });
    } finally {
      demo.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('says in one line that DEMO_LISTEN is not an address, before it starts or deletes anything', async () => {
    const demoDir = join(dir, 'bad-listen');
    const r = await demoFails({ DEMO_DIR: demoDir, DEMO_LISTEN: 'localhost:80800' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('demo: DEMO_LISTEN=localhost:80800: port must be at most 65535\n');
    expect(existsSync(demoDir)).toBe(false);
    expect(await noneLeft(demoDir)).toEqual([]);
  });

  it('names DEMO_LISTEN when its address is in use, and stops the simulator it started', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const { port } = busy.address() as { port: number };
    const demoDir = join(dir, 'busy');
    try {
      const r = await demoFails({ DEMO_DIR: demoDir, DEMO_LISTEN: `127.0.0.1:${port}` });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`demo: DEMO_LISTEN=127.0.0.1:${port}: cannot listen there: the address is in use`);
      expect(r.stderr).toContain('choose another with DEMO_LISTEN, e.g. DEMO_LISTEN=127.0.0.1:8081 npm run demo');
      expect(r.stderr).not.toContain('--listen');
      expect(await noneLeft(demoDir)).toEqual([]);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });
});
