/**
 * A private log given on the command line, through the real CLI: `serve --log TYPE=URL` with
 * `--log-header-file NAME=FILE` verifies a log that answers 401 without the header, while its command line
 * (what `ps` shows) holds the file's path, not the secret; without the flag each poll's log line says which
 * flag to give; credentials in a `--log` URL are refused with that hint, without repeating them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { readyUrl } from '../helpers/ready-url.ts';
import { stopAll } from '../helpers/teardown.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';

const SECRET = 'Bearer cli-pr1vate-log-t0ken-4c1e';
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-header-flags-'));
const children: ChildProcess[] = [];
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ api: 'tiles', entries: 200, seed: 'header-flags', out: join(tmp, 'sim'), log: () => {}, authorization: SECRET });
}, 60_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await stopAll({ sims: [sim], dir: tmp });
});

/** `tlogwatch serve` following the simulator with `--log`, and these flags; its URL once it listens. */
async function serve(name: string, extra: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const args = ['src/cli.ts', 'serve', '--data-dir', join(tmp, name), '--listen', '127.0.0.1:0', '--trusted-root', sim.trustedRootPath, '--log', `tiles=${sim.url}`, '--start', '0', ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'info' } });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { child, url: await readyUrl(child.stdout, 'listening'), stderr: () => err };
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  for (const t = Date.now(); Date.now() - t < ms; await new Promise((r) => setTimeout(r, 100))) if (await check()) return;
  throw new Error(`timed out waiting for ${what}`);
}

const verifiedSize = async (url: string) => ((await (await fetch(`${url}/v1/logs`)).json()) as Array<{ verifiedSize: number | null }>)[0]?.verifiedSize;

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('serve --log with --log-header-file', () => {
  it('verifies a private log with the header read from a file, and its command line holds no secret', { timeout: 60_000 }, async () => {
    const file = join(tmp, 'log_auth');
    writeFileSync(file, `${SECRET}\n`);
    const { child, url, stderr } = await serve('with', ['--log-header-file', `Authorization=${file}`]);
    await until('the log verified', async () => (await verifiedSize(url)) === 200);
    const cmdline = readFileSync(`/proc/${child.pid!}/cmdline`, 'utf8');
    expect(cmdline).toContain(file);
    expect(cmdline).not.toContain('t0ken');
    expect(await stop(child)).toBe(0);
    expect(stderr()).not.toContain('t0ken');
  });

  it('without it, each poll says the log needs authentication and which flag gives it', { timeout: 60_000 }, async () => {
    const { child, stderr } = await serve('without', []);
    await until('a 401 logged', () => stderr().includes('HTTP 401'));
    expect(stderr()).toMatch(/HTTP 401 from http:\/\/127\.0\.0\.1:\d+\/api\/v2\/checkpoint: the server asks for authentication \(a log's goes in logs\[\]\.headers or headerFiles, or --log-header-file beside --log/);
    expect(await stop(child)).toBe(0);
  });

  it('refuses credentials in a --log URL with the flag to use instead, never repeating them', async () => {
    const r = await cli(['serve', '--data-dir', join(tmp, 'creds'), '--log', 'tiles=https://mirror:hunter2-pw@log.example/api/v2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tlogwatch serve: CONFIG_INVALID: --log tiles=https:\/\/log\.example\/api\/v2: credentials in a URL \(user:password@host\) are refused: .*readable by any user of this host \(ps\)\. Give them in a file: --log-header-file NAME=FILE/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('refuses the flag without a --log, and an unreadable file before anything starts', async () => {
    const alone = await cli(['serve', '--data-dir', join(tmp, 'alone'), '--log-header-file', 'Authorization=/run/secrets/x']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--log-header-file: no --log to send the headers to; a log of the configuration file takes them in logs\[\]\.headerFiles/);
    const missing = await cli(['serve', '--data-dir', join(tmp, 'missing'), '--listen', '127.0.0.1:0', '--trusted-root', sim.trustedRootPath, '--log', `tiles=${sim.url}`, '--log-header-file', `Authorization=${join(tmp, 'absent')}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^tlogwatch serve: CONFIG_INVALID: log 127\.0\.0\.1_\d+: headerFiles\.Authorization \S+absent: cannot read it: ENOENT/);
    expect(missing.stdout).toBe('');
  });
});
