/**
 * The commands the Dockerfile runs, run here without a container (there is no Docker engine in CI),
 * read from the Dockerfile itself so the two cannot drift apart:
 *
 *   build stage    the context (git-tracked files the COPYs name) in a temp dir; its `npm ci` is the one
 *                  .ci/run just ran on the checkout, so node_modules is linked from there, and its
 *                  apt-get (gcc) is this machine's compiler; then every other RUN of the stage
 *                  (`npm run build` → dist/, `npm run build:native -- --strict` → build/native/merkle.node)
 *   runtime stage  package.json + package-lock.json in a temp "/app", its RUN `npm ci --omit=dev ...`
 *                  exactly, dist/ and build/ copied in (COPY --from=build)
 *   start          ENTRYPOINT + CMD (tini, node dist/cli.js serve --data-dir /data ...) with /app and /data
 *                  mapped to temp dirs and --listen on loopback port 0, against the simulator
 *   HEALTHCHECK    its exact command with TLOGWATCH_HEALTHCHECK_URL pointing at the daemon: exit 0 while it
 *                  serves, 1 once it stopped; SIGTERM through tini exits 0
 *
 * Every process gets the image's ENV, so the daemon runs on jemalloc (LD_PRELOAD, with the image's MALLOC_CONF)
 * where Debian's package is installed, as in the image; the test checks that it is mapped, that its options are
 * accepted (jemalloc prints invalid ones on stderr) and that they took (its background thread runs).
 * Also: production dependencies alone run the compiled CLI, on the native Merkle path, and the daemon
 * writes nothing outside the data directory (the image's root filesystem can be read-only).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { byKeyword, contextCopies, env, execForm, healthcheck, runCommand, runFlags, stage } from './dockerfile.ts';
import { loadable, ROOT, tool, waitFor } from './tools.ts';

const exec = promisify(execFile);
const tini = tool('tini');
const cc = tool('cc');
const build = stage('build');
const runtime = stage('runtime');
const WORKDIR = byKeyword(runtime, 'WORKDIR')[0]?.getArgumentsContent() ?? '/app';
const entrypoint = execForm(byKeyword(runtime, 'ENTRYPOINT')[0]!);
const cmd = execForm(byKeyword(runtime, 'CMD')[0]!);
const check = healthcheck(runtime);
/** The image's ENV (NODE_ENV, LD_PRELOAD of jemalloc and its MALLOC_CONF, the healthcheck URL), as every process in it has it. */
const imageEnv = env(runtime);
/** jemalloc from Debian (scripts/ci-deps.sh installs it), which the image's LD_PRELOAD names by soname. */
const jemalloc = loadable('libjemalloc.so.2');

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-image-'));
const ctx = join(tmp, 'build');
const app = join(tmp, 'app');
const data = join(tmp, 'data');
const home = join(tmp, 'home');
// `node` as the image has it: Node 24 (this test runs on the node@24 devDependency) first on PATH.
const PATH = `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`;

/** Git-tracked files under a context path (what a clean checkout holds), or the path itself outside git. */
function contextFiles(src: string): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z', '--', src], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(join(ROOT, f)));
  } catch {
    return [src];
  }
}

async function sh(command: string, cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await exec('sh', ['-c', command], { cwd, env: { ...process.env, PATH, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' }, timeout: 180_000, maxBuffer: 16 << 20 });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`\`${command}\` in ${cwd} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`, { cause: e });
  }
}

/** The image's argv for `args` with the container paths mapped to this test's directories. */
function mapPaths(argv: string[]): string[] {
  return argv.map((a) => (a.startsWith(`${WORKDIR}/`) ? join(app, a.slice(WORKDIR.length + 1)) : a === '/data' ? data : a));
}

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

let sim: Simulator;
const timings: Record<string, number> = {};
const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
  const t = performance.now();
  try {
    return await f();
  } finally {
    timings[name] = Math.round(performance.now() - t);
  }
};

beforeAll(async () => {
  for (const d of [ctx, app, data, home]) mkdirSync(d, { recursive: true });
  // Build stage context.
  for (const { sources } of contextCopies(build)) for (const src of sources) for (const f of contextFiles(src)) cpSync(join(ROOT, f), join(ctx, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(ctx, 'node_modules'), 'dir');
  const buildRuns = byKeyword(build, 'RUN')
    .map(runCommand)
    .filter((c) => !/^npm ci\b/.test(c) && !/^apt-get\b/.test(c));
  // Runtime stage: its context files and its RUNs that install dependencies (apt-get and useradd need a root image).
  for (const { sources } of contextCopies(runtime)) for (const src of sources) cpSync(join(ROOT, src), join(app, src));
  const runtimeRuns = byKeyword(runtime, 'RUN')
    .map(runCommand)
    .filter((c) => /^npm /.test(c));
  expect(buildRuns).toEqual(['npm run build', 'npm run build:native -- --strict']);
  if (!cc) buildRuns.pop(); // no compiler here: the image's gcc cannot be stood in for
  expect(runtimeRuns).toEqual(['npm ci --omit=dev --no-audit --no-fund']);
  sim = await startSimulator({ api: 'tiles', entries: 300, rate: 5, seed: 'image', out: join(tmp, 'sim'), log: () => {} });
  await Promise.all([
    timed('build', async () => {
      for (const c of buildRuns) await sh(c, ctx);
    }),
    timed('npm ci --omit=dev', async () => {
      for (const c of runtimeRuns) await sh(c, app);
    }),
  ]);
  // COPY --from=build /app/X ./Y; build/ is missing only where there was no compiler to make it.
  for (const c of byKeyword(runtime, 'COPY').filter((i) => runFlags(i).includes('from=build'))) {
    const [from, to] = (c.getArgumentsContent() ?? '').split(' ') as [string, string];
    const src = join(ctx, from.slice(WORKDIR.length + 1));
    if (existsSync(src) || from !== `${WORKDIR}/build`) cpSync(src, join(app, to), { recursive: true });
  }
}, 240_000);

afterAll(async () => {
  await sim?.close();
  rmSync(tmp, { recursive: true, force: true });
  console.log(`image commands: ${Object.entries(timings).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
});

describe('the Dockerfile commands, outside a container', () => {
  it('npm run build compiles src/ to dist/ (JavaScript only, the CLI entry point included)', () => {
    const files = listTree(join(ctx, 'dist'));
    expect(files).toContain('cli.js');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(existsSync(join(app, entrypoint.at(-1)!.slice(WORKDIR.length + 1)))).toBe(true);
  });

  it.skipIf(!cc)('npm run build:native builds the addon, and the compiled code in the runtime layout uses it', async () => {
    expect(existsSync(join(ctx, 'build', 'native', 'merkle.node'))).toBe(true);
    const probe = `import('./dist/merkle/native.js').then((m) => console.log(JSON.stringify(m.merkleBackend)))`;
    const { stdout } = await exec(process.execPath, ['-e', probe], { cwd: app, env: { ...process.env, PATH, NODE_ENV: 'production' } });
    expect(JSON.parse(stdout)).toEqual({ name: 'native', path: join(app, 'build', 'native', 'merkle.node') });
  });

  it('npm ci --omit=dev installs the runtime dependencies and none of the dev ones', () => {
    const installed = new Set(readdirSync(join(app, 'node_modules')));
    for (const dep of ['hono', 'level', 'prom-client', 'pino', 'zod', '@sigstore']) expect(installed, dep).toContain(dep);
    for (const dev of ['typescript', 'vitest', 'eslint', 'node', 'fast-check']) expect(installed, dev).not.toContain(dev);
  });

  it('the compiled CLI runs on production dependencies alone: --help and --version', async () => {
    const node = entrypoint.slice(entrypoint.indexOf('node'));
    const [bin, ...rest] = mapPaths(node);
    const help = await exec(bin!, [...rest, '--help'], { cwd: app, env: { ...process.env, ...imageEnv, PATH } });
    expect(help.stdout).toMatch(/^tlogwatch \d+\.\d+\.\d+: .*\n\nUsage:\n {2}tlogwatch serve/);
    const version = await exec(bin!, [...rest, '--version'], { cwd: app, env: { ...process.env, ...imageEnv, PATH } });
    // Preloading went silently right: ld.so names an object it cannot preload on stderr, and jemalloc an
    // option of MALLOC_CONF it does not know.
    if (jemalloc) expect(help.stderr + version.stderr).toBe('');
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it.skipIf(!tini)('ENTRYPOINT + CMD serve and mirror; the HEALTHCHECK passes, then fails once SIGTERM (via tini) stopped the daemon with exit 0', { timeout: 60_000 }, async () => {
    const before = listTree(app);
    const argv = [...mapPaths(entrypoint), ...mapPaths(cmd)];
    const listen = argv.indexOf('--listen') + 1;
    expect(argv[listen]).toBe('0.0.0.0:8080');
    argv[listen] = '127.0.0.1:0';
    argv.push('--trusted-root', sim.trustedRootPath, '--log', `tiles=${sim.url}`, '--start', '0');
    expect(argv[0]).toBe('/usr/bin/tini');
    const child: ChildProcess = spawn(tini!, argv.slice(1), { cwd: app, env: { ...process.env, ...imageEnv, PATH, HOME: home, TLOGWATCH_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const url = await waitFor('listening', () => Promise.resolve(/listening (\S+)/.exec(out)?.[1]), 20_000, 50);
      const healthcheckEnv = { ...process.env, ...imageEnv, PATH, TLOGWATCH_HEALTHCHECK_URL: `${url}/healthz` };
      const [hcBin, ...hcArgs] = check.cmd;
      await expect(exec(hcBin!, hcArgs, { env: healthcheckEnv, timeout: 10_000 })).resolves.toBeDefined();
      // The daemon (tini's child) runs as the ENTRYPOINT says (node with its V8 flags), on jemalloc.
      const daemon = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
      expect(readFileSync(`/proc/${daemon}/cmdline`, 'utf8').split('\0').slice(0, -1)).toEqual(argv.slice(2));
      if (jemalloc) {
        expect(readFileSync(`/proc/${daemon}/maps`, 'utf8')).toMatch(/\/libjemalloc\.so\.2\n/);
        // The image's MALLOC_CONF took: jemalloc started its purging thread(s) (it names them jemalloc_bg_thd).
        const threads = readdirSync(`/proc/${daemon}/task`).map((t) => readFileSync(`/proc/${daemon}/task/${t}/comm`, 'utf8').trim());
        expect(threads).toContain('jemalloc_bg_thd');
      }
      // …and says so itself, where operators look.
      const buildInfo = /^tlogwatch_build_info\{.*\} 1$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[0];
      expect(buildInfo).toContain(`malloc="${jemalloc ? 'jemalloc' : 'libc'}"`);
      // It mirrors: entries verified from the simulator.
      await waitFor(
        'a verified checkpoint',
        async () => {
          const logs = (await (await fetch(`${url}/v1/logs`)).json()) as Array<{ verifiedSize: number }>;
          return (logs[0]?.verifiedSize ?? 0) >= 300 ? true : undefined;
        },
        20_000,
      );
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const failed = await exec(hcBin!, hcArgs, { env: healthcheckEnv, timeout: 10_000 }).then(
        () => 0,
        (e: { code?: number }) => e.code,
      );
      expect(failed).toBe(1);
      // State only under the data directory: nothing new in /app or $HOME.
      expect(listTree(app)).toEqual(before);
      expect(readdirSync(home)).toEqual([]);
      expect(readdirSync(data)).toContain('store');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      if (!/listening/.test(out)) console.error(out);
    }
  });
});
