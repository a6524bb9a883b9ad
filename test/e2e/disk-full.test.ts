/**
 * `tlogwatch serve` as a real process whose data directory is a 6 MiB tmpfs: the catch-up fills it while
 * clients keep querying the API over HTTP. The daemon must stay up, answer every request (a 503 that says
 * why, a 404 for what is not mirrored yet, never a 500), report the fault in /readyz and /v1/logs, and,
 * once the filesystem is grown, finish the mirror by itself with exactly the manifest's entries
 * (src/store/write-fault.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLog } from '../../src/store/check.ts';
import { Store } from '../../src/store/store.ts';
import { expectStoreMatchesManifest } from '../helpers/mirror.ts';
import { canMountTmpfs, growTmpfs, mountTmpfs, unmount } from '../helpers/tmpfs.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';

const ENTRIES = 12_000;
const mountable = canMountTmpfs();
if (!mountable) process.stderr.write('disk-full e2e skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN)\n');

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-disk-full-'));
const dataDir = join(tmp, 'data');
let sim: Simulator | undefined;
beforeAll(async () => {
  if (!mountable) return;
  sim = await startSimulator({ api: 'tiles', entries: ENTRIES, seed: 'disk-full-e2e', out: join(tmp, 'sim'), log: () => {} });
  mkdirSync(dataDir);
  mountTmpfs(dataDir, 6);
}, 60_000);
afterAll(async () => {
  await sim?.close();
  unmount(dataDir);
  rmSync(tmp, { recursive: true, force: true });
});

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!mountable)('tlogwatch serve on a disk that fills up', () => {
  it('keeps serving, says why, and finishes the mirror by itself once the disk has room', { timeout: 180_000 }, async () => {
    const s = sim!;
    const child = spawn(process.execPath, ['src/cli.ts', 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--trusted-root', s.trustedRootPath, '--log', `tiles=${s.url}`, '--start', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'info' },
    });
    let out = '';
    let err = '';
    let querying = true;
    let clients: Promise<unknown> = Promise.resolve();
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      for (let i = 0; i < 300 && !/listening (\S+)/.test(out); i++) await sleep(100);
      const url = /listening (\S+)/.exec(out)![1]!;
      const digest = JSON.parse(readFileSync(s.manifestPath, 'utf8').split('\n')[3]!).digests[0] as string;

      // Clients querying throughout: no 500, no dropped connection.
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      clients = Promise.all(Array.from({ length: 4 }, async () => {
        const paths = [`/v1/search?digest=${digest}`, '/readyz', '/metrics', '/v1/logs', '/v1/entries/' + encodeURIComponent(logName(s)) + '/3'];
        for (let n = 0; querying; n++) {
          try {
            const r = await fetch(url + paths[n % paths.length]);
            await r.arrayBuffer();
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          } catch (e) {
            if (querying) failures.push(String((e as Error).cause ?? e));
          }
        }
      }));

      // The disk fills: the fault shows in /v1/logs and /readyz while the daemon keeps running.
      let logs: Array<{ verifiedSize: number | null; transientError?: { code: string; message: string } }> = [];
      // (The first round's error is the failed write itself; the next ones also say what they wait for.)
      for (let i = 0; i < 600 && !/waiting for room/.test(logs[0]?.transientError?.message ?? ''); i++) {
        await sleep(100);
        logs = (await (await fetch(`${url}/v1/logs`)).json()) as typeof logs;
      }
      expect(logs[0]!.transientError).toMatchObject({ code: 'STORE_WRITE_FAILED', message: expect.stringMatching(/No space left on device.*waiting for room/) });
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { problems: string[] }).problems[0]).toMatch(/^store: cannot be written since .*No space left on device/);
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^tlogwatch_store_writable 0$/m);
      await sleep(1500); // a few more rounds against the full disk, under load
      expect(child.exitCode).toBeNull();

      // Room again: the daemon reopens the store and catches up without a restart.
      growTmpfs(dataDir, 256);
      for (let i = 0; i < 1200 && logs[0]?.verifiedSize !== ENTRIES; i++) {
        await sleep(100);
        logs = (await (await fetch(`${url}/v1/logs`)).json()) as typeof logs;
      }
      expect(logs[0]!.verifiedSize).toBe(ENTRIES);
      expect(logs[0]!.transientError).toBeUndefined();
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      querying = false;
      await clients;
      expect(failures).toEqual([]);
      // 503 while the store cannot be written (/readyz), 404 for the entry before it is mirrored, and nothing else.
      expect([...statuses.keys()].filter((c) => c !== 200 && c !== 404 && c !== 503)).toEqual([]);
      expect(statuses.get(503)).toBeGreaterThan(0);
      expect(statuses.get(200)).toBeGreaterThan(0);
      expect(out + err).toMatch(/store reopened after a write fault; mirroring resumes/);
      expect(out + err).not.toMatch(/"level":(50|60)/);
    } finally {
      querying = false;
      child.kill('SIGTERM');
      // The daemon must be gone before the filesystem under it can be unmounted.
      await clients;
    }
    expect(await exited(child)).toBe(0);

    const store = await Store.open(join(dataDir, 'store'));
    try {
      expect(await expectStoreMatchesManifest(store, s, logName(s))).toBe(ENTRIES);
      expect((await checkLog(store, logName(s))).problems).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

/** The name `--log tiles=URL` gives the log (as test/e2e/serve.test.ts derives it). */
function logName(s: Simulator): string {
  return new URL(s.url).host.replace(/[^a-zA-Z0-9._-]/g, '_');
}
