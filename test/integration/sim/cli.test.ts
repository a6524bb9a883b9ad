/** `npm run sim`: the CLI prints `ready URL` once serving, writes its files, arms faults after the first checkpoint, exits cleanly. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_NAMES } from '../../sim/faults.ts';
import { OPTIONS } from '../../sim/usage.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-simcli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

async function start(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, ['test/sim/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, url, stdout: () => out, stderr: () => err };
}

const stop = (r: Running) => new Promise<number | null>((resolve) => {
  r.child.on('exit', (code) => resolve(code));
  r.child.kill('SIGTERM');
});

describe('the simulator CLI', () => {
  it('serves Rekor v1 at the URL it prints, with injections, and arms faults after the first checkpoint', { timeout: 30_000 }, async () => {
    const out = join(tmp, 'v1');
    const inject = join(tmp, 'inject.jsonl');
    writeFileSync(inject, `${JSON.stringify({ at: 4, key: 'ed25519', digest: `sha256:${'e'.repeat(64)}` })}\n`);
    const r = await start(['--api', 'v1', '--entries', '40', '--port', '0', '--out', out, '--shards', '2', '--seed', 'cli', '--inject', inject, '--fault', 'drop@3', '--fault', 'http-503@1000']);
    expect(r.stdout()).toMatch(/^ready http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(existsSync(join(out, 'trusted_root.json'))).toBe(true);
    const m = readFileSync(join(out, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { digests: string[] });
    expect(m).toHaveLength(40);
    expect(m[4]!.digests).toEqual([`sha256:${'e'.repeat(64)}`]);
    expect(JSON.parse(readFileSync(join(out, 'trusted_root.json'), 'utf8')).tlogs[0].baseUrl).toBe(r.url);
    // drop@3 is misbehaviour: armed only once a first checkpoint was served.
    expect((await fetch(`${r.url}/api/v1/log/entries?logIndex=3`)).status).toBe(200);
    const info = (await (await fetch(`${r.url}/api/v1/log`)).json()) as { inactiveShards: unknown[] };
    expect(info.inactiveShards).toHaveLength(1);
    expect((await fetch(`${r.url}/api/v1/log/entries?logIndex=3`)).status).toBe(404);
    expect(r.stderr()).toMatch(/fault drop@3 armed after the first checkpoint was served/);
    expect(r.stderr()).toMatch(/fault drop fired: omitted entry 3/);
    expect(r.stderr()).toMatch(/built 40 entries/);
    expect(await stop(r)).toBe(0);
  });

  it('serves tiles under /api/v2 by default, or at the root with --prefix ""', { timeout: 30_000 }, async () => {
    const a = await start(['--api', 'tiles', '--entries', '10', '--out', join(tmp, 't1')]);
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v2$/);
    expect((await fetch(`${a.url}/checkpoint`)).status).toBe(200);
    const b = await start(['--api', 'tiles', '--entries', '10', '--out', join(tmp, 't2'), '--prefix', '', '--witnesses', '1', '--rate', '50']);
    expect(b.stdout()).toMatch(/^ready http:\/\/127\.0\.0\.1:\d+\n$/);
    expect((await (await fetch(`${b.url}/checkpoint`)).text()).split('\n').filter((l) => l.startsWith('\u2014 '))).toHaveLength(2);
    expect(await stop(a)).toBe(0);
    expect(await stop(b)).toBe(0);
  });

  it.each([['--help'], ['-h'], ['--out', 'x', '--help']])('%j prints the usage on stdout, every flag and every fault, and exits 0', async (...args) => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['test/sim/main.ts', ...args]);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^usage: npm run sim -- --out DIR /);
    const lines = stdout.split('\n');
    for (const flag of Object.keys(OPTIONS)) expect(lines.some((l) => new RegExp(`^  (-\\w, )?--${flag}\\b`).test(l)), flag).toBe(true);
    for (const fault of FAULT_NAMES) expect(lines.some((l) => l.startsWith(`  ${fault}`)), fault).toBe(true);
    expect(stdout).toContain('\nExit: 0 stopped, 2 on a refused command line or when it cannot start.\n');
    expect(existsSync('x')).toBe(false); // --help builds nothing
  });

  it.each([
    [['--api', 'v3', '--out', 'x'], '--api must be v1 or tiles, got "v3"'],
    [['--api', 'v1'], '--out DIR is required'],
    [['--api', 'v1', '--out', join(tmp, 'e1'), '--entries', 'many'], '--entries must be a non-negative number, got "many"'],
    [['--api', 'v1', '--out', join(tmp, 'e1'), '--port', '70000'], '--port must be an integer from 0 to 65535, got "70000"'],
    [['--api', 'v1', '--out', join(tmp, 'e2'), '--fault', 'meteor'], /^unknown fault "meteor": one of fork, /],
    [['--api', 'v1', '--out', join(tmp, 'e3'), '--frobnicate'], "Unknown option '--frobnicate'"],
    [['--api', 'v1', '--out'], "Option '--out <value>' argument missing"],
    [['--api', 'v1', '--out', join(tmp, 'e4'), 'extra'], "Unexpected argument 'extra'. This command does not take positional arguments"],
  ])('refuses %j with exit code 2, one line, and where the options are', async (args, message) => {
    const err = await promisify(execFile)(process.execPath, ['test/sim/main.ts', ...args]).then(
      () => undefined,
      (e: unknown) => e as { code: number; stdout: string; stderr: string },
    );
    expect(err).toMatchObject({ code: 2, stdout: '' });
    const [first, hint, ...rest] = err!.stderr.split('\n');
    if (typeof message === 'string') expect(first).toBe(`sim: ${message}`);
    else expect(first).toMatch(new RegExp(`^sim: ${message.source.slice(1)}`));
    expect(hint).toBe("Run 'npm run sim -- --help' for its options.");
    expect(rest).toEqual(['']);
  });

  it('names the line of a bad inject file', async () => {
    const f = join(tmp, 'bad.jsonl');
    writeFileSync(f, '{"at":1,"key":"ecdsa"}\n{"at":2}\n');
    const err = await promisify(execFile)(process.execPath, ['test/sim/main.ts', '--api', 'v1', '--out', join(tmp, 'e4'), '--inject', f]).catch((e: unknown) => e as { code: number; stderr: string });
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/bad\.jsonl:2: give exactly one of "cert", "key" and "rekord"/);
  });
});
