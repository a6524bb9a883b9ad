/**
 * `npm run sim`, `npm run demo` and `npm run tlogwatch -- serve` stopped as a supervisor or a user's `kill`
 * stops them: SIGTERM to the npm process. npm runs the script under `sh -c`, which ends without passing the
 * signal on; the simulator (and the demo's daemon, and the daemon) must end with it rather than keep serving,
 * re-parented, with nobody to stop them (src/util/launcher.ts). A daemon started directly must not: it is
 * meant to outlive the shell that started it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { alive, npmRun, seen, serving, survivorsOfSigterm } from '../helpers/npm-run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-npm-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('SIGTERM to npm', () => {
  it('npm run sim: the simulator stops and frees its port', { timeout: 60_000 }, async () => {
    const { npm, match, output } = await npmRun('sim', ['--api', 'tiles', '--entries', '20', '--out', join(tmp, 'sim')], /^ready (\S+)$/m);
    const url = match[1]!;
    expect(await serving(`${url}/checkpoint`)).toBe(true);
    expect(await survivorsOfSigterm(npm), output()).toEqual([]);
    expect(await serving(`${url}/checkpoint`)).toBe(false);
  });

  it('npm run demo: the daemon and its simulator stop, and the API is gone', { timeout: 90_000 }, async () => {
    const { TLOGWATCH_ADMIN_TOKEN: _, ...env } = process.env;
    const { npm, match, output } = await npmRun('demo', [], /API\s+(http:\/\/\S+)\/v1\/logs/, { ...env, DEMO_DIR: join(tmp, 'demo'), DEMO_LISTEN: '127.0.0.1:0', TLOGWATCH_LOG_LEVEL: 'warn' });
    const api = match[1]!;
    expect(await serving(`${api}/healthz`)).toBe(true);
    expect(await survivorsOfSigterm(npm), output()).toEqual([]);
    expect(await serving(`${api}/healthz`)).toBe(false);
  });
});

describe('tlogwatch serve', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ api: 'tiles', entries: 50, seed: 'npm-run-serve', out: join(tmp, 'serve-sim'), log: () => {} });
  }, 60_000);
  afterAll(() => sim?.close());
  const serveArgs = (dataDir: string) => ['serve', '--trusted-root', sim.trustedRootPath, '--log', `tiles=${sim.url}`, '--start', '0', '--data-dir', dataDir, '--listen', '127.0.0.1:0'];

  it('npm run tlogwatch -- serve: the daemon stops with npm, freeing its address and its store', { timeout: 60_000 }, async () => {
    const dataDir = join(tmp, 'serve-npm');
    const { npm, match, output } = await npmRun('tlogwatch', serveArgs(dataDir), /^listening (\S+)$/m, { ...process.env, TLOGWATCH_LOG_LEVEL: 'info' });
    const api = match[1]!;
    expect(await serving(`${api}/healthz`)).toBe(true);
    expect(await survivorsOfSigterm(npm), output()).toEqual([]);
    expect(await serving(`${api}/healthz`)).toBe(false);
    // It stopped as it does on SIGTERM, saying why, and let go of the store.
    expect(output()).toContain('npm run tlogwatch has ended, and its shell passes no signal on: stopping');
    expect(output()).toMatch(/"msg":"stopped"/);
    const store = await Store.open(join(dataDir, 'store'));
    await store.close();
  });

  // Without npm, and under an npm script of another name (which may start it to outlive npm, and whose
  // npm_lifecycle_event everything it starts inherits).
  it.each([['no npm', undefined], ['another npm script', 'start-bg']])(
    'started directly (%s), it outlives the shell that started it: it polls nothing',
    { timeout: 60_000 },
    async (_, event) => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
      if (event) env['npm_lifecycle_event'] = event;
      const out = join(tmp, `serve-direct-${event ?? 'none'}.out`);
      // `tlogwatch serve … &` from a shell that then ends, as `nohup tlogwatch serve &` or an init script does.
      const sh = spawn('sh', ['-c', '"$0" src/cli.ts "$@" >"$OUT" 2>&1 & echo $!', process.execPath, ...serveArgs(join(tmp, `serve-direct-${event ?? 'none'}`))], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...env, OUT: out, TLOGWATCH_LOG_LEVEL: 'info' } });
      let printed = '';
      sh.stdout.on('data', (d: Buffer) => (printed += d.toString()));
      await once(sh, 'exit');
      const pid = Number(printed.trim());
      seen.add(pid);
      // The background shell may not have opened OUT yet when the one that started it has ended.
      const printedByServe = () => (existsSync(out) ? readFileSync(out, 'utf8') : '');
      let api: string | undefined;
      for (const t = Date.now(); !api && Date.now() - t < 30_000; await new Promise((r) => setTimeout(r, 100))) api = /^listening (\S+)$/m.exec(printedByServe())?.[1];
      expect(api, printedByServe()).toBeDefined();
      // Its parent, the shell, has gone; a daemon that polled for that would have stopped within 250 ms.
      await new Promise((r) => setTimeout(r, 1500));
      expect(alive(pid)).toBe(true);
      expect(await serving(`${api!}/healthz`)).toBe(true);
      expect(printedByServe()).not.toContain('stopping');
      process.kill(pid, 'SIGTERM');
      for (const t = Date.now(); alive(pid) && Date.now() - t < 10_000; ) await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
    },
  );
});
