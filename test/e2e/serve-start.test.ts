/**
 * `tlogwatch serve` start-up that cannot complete: the failure is said once, the process exits 2 and
 * nothing is left open (the store unlocked, no rules watch or notifier keeping a dead process alive).
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { Store } from '../../src/store/store.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { startTufRepo } from '../helpers/tuf-repo.ts';
import { stopAll } from '../helpers/teardown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-serve-start-'));
let sim: Simulator;
let busy: Server;
let busyPort: number;
beforeAll(async () => {
  sim = await startSimulator({ api: 'tiles', entries: 50, seed: 'serve-start', out: join(tmp, 'sim'), log: () => {} });
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as { port: number }).port;
  mkdirSync(join(tmp, 'rules'));
}, 60_000);
afterAll(async () => {
  await new Promise((r) => busy?.close(r));
  await stopAll({ sims: [sim], dir: tmp });
});

/** A configuration with what keeps a process alive once started: a rules watch and a notification channel. */
const yaml = (dataDir: string) =>
  [`dataDir: ${dataDir}`, `listen: 127.0.0.1:${busyPort}`, `trustedRoot: ${sim.trustedRootPath}`, `rules: ${join(tmp, 'rules')}`, 'logs:', `  - { name: sim, type: tiles, url: "${sim.url}", start: 0 }`, 'notify:', '  webhooks: [{ url: "http://127.0.0.1:9/hook" }]', ''].join('\n');

/** `node src/cli.ts ARGS`, killed if still running after 15 s (a serve that started): its exit code or 'hung', and its output. */
async function run(args: string[], env: NodeJS.ProcessEnv = { ...process.env, TLOGWATCH_LOG_LEVEL: 'silent' }): Promise<{ code: number | null | 'hung'; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null | 'hung'>((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hung');
    }, 15_000);
    child.once('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  return { code, stdout, stderr };
}

describe('a listen address already in use', () => {
  it('startDaemon rejects naming `listen` and the address, and leaves the store closed', { timeout: 30_000 }, async () => {
    const dataDir = join(tmp, 'data-inproc');
    const config = parseConfig(yaml(dataDir), 'test.yaml', {});
    await expect(startDaemon(config, createLogger({ level: 'silent' }))).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(new RegExp(`^listen 127\\.0\\.0\\.1:${busyPort}: .*address is in use`)) as unknown });
    // The lock was released: the store opens again in this process.
    const store = await Store.open(join(dataDir, 'store'));
    await store.close();
  });

  it('serve says so and exits 2 at once, rather than staying up on its rules watch and notifier', { timeout: 30_000 }, async () => {
    const file = join(tmp, 'serve.yaml');
    writeFileSync(file, yaml(join(tmp, 'data-cli')));
    const { code, stdout, stderr } = await run(['serve', '--config', file], process.env);
    expect(code).toBe(2);
    expect(stderr).toContain(`tlogwatch serve: CONFIG_INVALID: listen 127.0.0.1:${busyPort}: cannot listen there: the address is in use`);
    expect(stdout).not.toContain('listening');
    // Nothing before the refusal says the start went well (its rules dir is read all the same).
    expect(stderr).not.toContain('rules loaded');
  });
});

describe('a trusted root that lists a log tlogwatch cannot verify (a Merkle hash other than SHA-256)', () => {
  type Tlog = { baseUrl: string; hashAlgorithm?: string } & Record<string, unknown>;
  const root = () => JSON.parse(readFileSync(sim.trustedRootPath, 'utf8')) as { tlogs: Tlog[] } & Record<string, unknown>;
  /** The simulator's log, and the same key under another URL with SHA2_384, which checkpointVerifierForTlog refuses. */
  const writeRoot = (path: string, withBad: boolean) => {
    const r = root();
    const bad: Tlog = { ...r.tlogs[0]!, baseUrl: 'http://127.0.0.1:9/sha384', hashAlgorithm: 'SHA2_384' };
    writeFileSync(path, JSON.stringify({ ...r, tlogs: withBad ? [...r.tlogs, bad] : r.tlogs }));
  };
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } as unknown as NodeJS.WritableStream });
  let d: Daemon | undefined;
  afterAll(async () => d?.stop());

  it('without configured logs, the others are followed and it is left out with a warning', { timeout: 30_000 }, async () => {
    const path = join(tmp, 'root-bad-at-start.json');
    writeRoot(path, true);
    d = await startDaemon(parseConfig(`dataDir: ${join(tmp, 'data-bad-root')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${path}\n`, 'test.yaml', {}), logger);
    expect(d.followers.map((f) => f.cfg.url)).toEqual([sim.url]);
    expect(lines.join('')).toContain('not following a log of the trusted root that tlogwatch cannot verify: log http://127.0.0.1:9/sha384: unsupported Merkle hash SHA2_384');
    await d.stop();
    d = undefined;
  });

  it('listed by a refresh, it is reported and not followed, and the refresh completes', { timeout: 30_000 }, async () => {
    const path = join(tmp, 'root-bad-later.json');
    writeRoot(path, false);
    d = await startDaemon(parseConfig(`dataDir: ${join(tmp, 'data-bad-later')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${path}\n`, 'test.yaml', {}), logger);
    writeRoot(path, true);
    const r = await d.refreshTrust();
    expect(r.changes.map((c) => c.kind)).toEqual(['listed']);
    expect(r.followed).toEqual([]);
    expect(r.raised).toHaveLength(1);
    // Not "add it to `logs`": configured there, it would be refused.
    expect(r.raised[0]!.message).toMatch(/; tlogwatch cannot verify it, so it is not followed: log http:\/\/127\.0\.0\.1:9\/sha384: unsupported Merkle hash SHA2_384$/);
    expect(d.followers.map((f) => f.cfg.url)).toEqual([sim.url]);
  });

  it('configured in `logs`, it is a configuration error before the store opens', { timeout: 30_000 }, async () => {
    const path = join(tmp, 'root-bad-configured.json');
    writeRoot(path, true);
    const dataDir = join(tmp, 'data-bad-configured');
    const config = parseConfig(`dataDir: ${dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${path}\nrules: ${join(tmp, 'rules')}\nlogs:\n  - { name: bad, type: tiles, url: "http://127.0.0.1:9/sha384" }\n`, 'test.yaml', {});
    await expect(startDaemon(config, logger)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: 'log bad (http://127.0.0.1:9/sha384): tlogwatch cannot verify its checkpoints: log http://127.0.0.1:9/sha384: unsupported Merkle hash SHA2_384' });
    const store = await Store.open(join(dataDir, 'store'));
    await store.close();
  });
});

describe('a trusted root whose log URL holds credentials', () => {
  /** The simulator's root, its log's URL with `user:password@` when `creds`. */
  const writeRoot = (path: string, creds: boolean) => {
    const r = JSON.parse(readFileSync(sim.trustedRootPath, 'utf8')) as { tlogs: Array<{ baseUrl: string }> };
    if (creds) r.tlogs[0]!.baseUrl = r.tlogs[0]!.baseUrl.replace('http://', 'http://mirror:s3cret-pass@');
    writeFileSync(path, JSON.stringify(r));
  };

  it('serve refuses it at start with exit 2, naming the log without them, and never prints them', { timeout: 30_000 }, async () => {
    const path = join(tmp, 'root-creds.json');
    writeRoot(path, true);
    const { code, stdout, stderr } = await run(['serve', '--data-dir', join(tmp, 'data-root-creds'), '--listen', '127.0.0.1:0', '--trusted-root', path], process.env);
    expect(code).toBe(2);
    expect(stderr).toContain(`tlogwatch serve: TRUST_MALFORMED: trusted root: tlogs.0.baseUrl ${sim.url}: credentials in a URL (user:password@host) are refused`);
    expect(stdout + stderr).not.toContain('s3cret');
  });

  it('a refresh that finds them fails, and the daemon follows its logs as before', { timeout: 30_000 }, async () => {
    const path = join(tmp, 'root-creds-later.json');
    writeRoot(path, false);
    const d = await startDaemon(parseConfig(`dataDir: ${join(tmp, 'data-root-creds-later')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${path}\n`, 'test.yaml', {}), createLogger({ level: 'silent' }));
    try {
      writeRoot(path, true);
      await expect(d.refreshTrust()).rejects.toMatchObject({ code: 'TRUST_MALFORMED', message: expect.stringMatching(/^trusted root: tlogs\.0\.baseUrl http:\/\/127\.0\.0\.1:\d+\/api\/v2: credentials in a URL/) as unknown });
      expect(d.followers.map((f) => f.cfg.url)).toEqual([sim.url]);
      const logs = (await (await fetch(`${d.url}/v1/logs`)).text());
      expect(logs).not.toContain('s3cret');
    } finally {
      await d.stop();
    }
  });
});

describe('a TUF repository that is down at start-up', () => {
  it('a daemon whose cache holds unexpired metadata starts from it and says so; with an empty cache it refuses', { timeout: 60_000 }, async () => {
    const repo = await startTufRepo();
    const tufRoot = join(tmp, 'tuf-root.json');
    repo.writeRoot(tufRoot);
    repo.publish({ 'trusted_root.json': readFileSync(sim.trustedRootPath) });
    const config = (cache: string) => parseConfig(`dataDir: ${join(tmp, `data-${cache}`)}\nlisten: 127.0.0.1:0\ntufMirror: ${repo.url}\ntufRoot: ${tufRoot}\ntufCacheDir: ${join(tmp, cache)}\n`, 'test.yaml', {});
    const first = await startDaemon(config('tuf-cache'), createLogger({ level: 'silent' }));
    expect(first.followers.map((f) => f.cfg.url)).toEqual([sim.url]);
    await first.stop();
    await repo.close();

    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } as unknown as NodeJS.WritableStream });
    const again = await startDaemon(config('tuf-cache'), logger);
    try {
      expect(again.followers.map((f) => f.cfg.url)).toEqual([sim.url]);
      expect(lines.join('')).toContain(`cannot get trusted_root.json from the TUF repository ${repo.url}`);
      expect(lines.join('')).toContain('starting from the trusted root TUF verified earlier');
    } finally {
      await again.stop();
    }
    // Nothing verified earlier: nothing to start from.
    await expect(startDaemon(config('tuf-cache-empty'), createLogger({ level: 'silent' }))).rejects.toMatchObject({ code: 'TRUST_UNAVAILABLE', message: expect.stringContaining('pass --trusted-root') as unknown });
  });
});

describe('a configured name the store already mirrors another log under', () => {
  let other: Simulator | undefined;
  afterAll(async () => other?.close());

  it('is refused at start, naming both logs, rather than judging the new log against the old one\'s history', { timeout: 60_000 }, async () => {
    other = await startSimulator({ api: 'tiles', entries: 80, seed: 'serve-start-other', out: join(tmp, 'sim-other'), log: () => {} });
    type Root = { tlogs: unknown[] } & Record<string, unknown>;
    const a = JSON.parse(readFileSync(sim.trustedRootPath, 'utf8')) as Root;
    const b = JSON.parse(readFileSync(other.trustedRootPath, 'utf8')) as Root;
    const rootPath = join(tmp, 'root-both.json');
    writeFileSync(rootPath, JSON.stringify({ ...a, tlogs: [...a.tlogs, ...b.tlogs] }));
    const dataDir = join(tmp, 'data-renamed');
    const config = (url: string) => parseConfig(`dataDir: ${dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${rootPath}\nlogs:\n  - { name: x, type: tiles, url: "${url}", start: 0 }\n`, 'test.yaml', {});
    const first = await startDaemon(config(sim.url), createLogger({ level: 'silent' }));
    for (let i = 0; i < 300 && (await first.store.readLogState('x'))?.verified?.size !== 50n; i++) await new Promise((r) => setTimeout(r, 50));
    await first.stop();

    const started = startDaemon(config(other.url), createLogger({ level: 'silent' }));
    void started.then((d) => d.stop(), () => undefined);
    await expect(started).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(new RegExp(`^log x: the store mirrors tiles log ${new URL(sim.url).host}\\S* \\(${sim.url}\\) under this name, and the configuration gives it tiles log ${new URL(other.url).host}\\S* \\(${other.url}\\); a new log needs a name of its own`)) as unknown,
    });
    // backfill, which fills in a mirror's history by the same names, skips it and says why.
    const file = join(tmp, 'renamed.yaml');
    writeFileSync(file, `dataDir: ${dataDir}\ntrustedRoot: ${rootPath}\nlogs:\n  - { name: x, type: tiles, url: "${other.url}" }\n`);
    const backfill = spawn(process.execPath, ['src/cli.ts', 'backfill', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'silent' } });
    let stderr = '';
    backfill.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((r) => backfill.once('exit', r))).toBe(2);
    expect(stderr).toContain(`tlogwatch backfill: log x: the store mirrors tiles log ${new URL(sim.url).host}`);
    // The same log at the same name starts as before.
    const again = await startDaemon(config(sim.url), createLogger({ level: 'silent' }));
    await again.stop();
  });
});

describe('a configured origin the trusted root contradicts', () => {
  const file = (name: string, dataDir: string, origin: string) => {
    const path = join(tmp, name);
    writeFileSync(path, `dataDir: ${dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: "${sim.url}", origin: "${origin}", start: 0 }\n`);
    return path;
  };
  const own = () => `${new URL(sim.url).host}${new URL(sim.url).pathname}`;

  it('serve refuses it at start with exit 2, naming the log, both origins and what to change, and halts nothing', { timeout: 30_000 }, async () => {
    const dataDir = join(tmp, 'data-wrong-origin');
    const r = await run(['serve', '--config', file('wrong-origin.yaml', dataDir, 'wrong.example/log')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`tlogwatch serve: CONFIG_INVALID: log sim (${sim.url}): origin "wrong.example/log" is not this log's origin in the trusted root, "${own()}"`);
    expect(r.stderr).toContain(`remove \`origin\` (it defaults to the trusted root's) or set it to "${own()}"`);
    // Refused before the store opened: no halted log, no log-integrity finding.
    expect(existsSync(join(dataDir, 'store'))).toBe(false);
  });

  it("backfill refuses it too, and the store's mirror of the log stays as it was", { timeout: 60_000 }, async () => {
    const dataDir = join(tmp, 'data-origin-backfill');
    // Mirrored from index 10 with the trusted root's origin, given explicitly: a legitimate configuration.
    const config = parseConfig(`dataDir: ${dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: "${sim.url}", origin: "${own()}", start: 10 }\n`, 'test.yaml', {});
    const d = await startDaemon(config, createLogger({ level: 'silent' }));
    for (let i = 0; i < 300 && (await d.store.readLogState('sim'))?.verified?.size !== 50n; i++) await new Promise((r) => setTimeout(r, 50));
    await d.stop();
    /** The log's state as the store holds it (the daemon stopped: nothing else writes it). */
    const stored = async () => {
      const store = await Store.open(join(dataDir, 'store'));
      try {
        return await store.readLogState('sim');
      } finally {
        await store.close();
      }
    };
    const before = await stored();
    expect(before).toMatchObject({ status: 'following', startIndex: 10n, verified: { size: 50n } });

    const r = await run(['backfill', '--config', file('wrong-origin-backfill.yaml', dataDir, `${own()}/`)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`tlogwatch backfill: CONFIG_INVALID: log sim (${sim.url}): origin "${own()}/" is not this log's origin in the trusted root, "${own()}"`);
    expect(await stored()).toEqual(before);
  });
});

describe('a store tlogwatch cannot open', () => {
  /** A configuration that would start (a free port), with this dataDir. */
  const startable = (name: string, dataDir: string) => {
    const file = join(tmp, name);
    writeFileSync(file, `dataDir: ${dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: "${sim.url}", start: 0 }\n`);
    return file;
  };

  it('a dataDir that cannot be created names the key and what to do, not a bare ENOTDIR', { timeout: 30_000 }, async () => {
    writeFileSync(join(tmp, 'a-file'), '');
    const dataDir = join(tmp, 'a-file', 'data');
    const r = await run(['serve', '--config', startable('under-a-file.yaml', dataDir)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`tlogwatch serve: STORE_UNAVAILABLE: dataDir ${dataDir}: cannot create it: ENOTDIR: not a directory, mkdir '${dataDir}': a file is in the way where a directory should be: move it, or choose another dataDir (--data-dir)\n`);
  });

  it('a file where the store directory should be is not reported as a damaged store to restore', { timeout: 30_000 }, async () => {
    const dataDir = join(tmp, 'data-store-file');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'store'), 'not a directory');
    const r = await run(['serve', '--config', startable('store-file.yaml', dataDir)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`tlogwatch serve: STORE_UNAVAILABLE: cannot open the store at ${join(dataDir, 'store')}: EEXIST`);
    expect(r.stderr).toContain('a file is in the way where a directory should be: move it, or choose another dataDir (--data-dir)');
    expect(r.stderr).not.toContain('Restore a backup');
  });

  // Root writes anywhere: the refusal needs another user, which setpriv gives a root test run.
  const root = process.getuid?.() === 0;
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  it.runIf(!root || setpriv)('a dataDir its user may not write says so and who it runs as, rather than "restore a backup"', { timeout: 30_000 }, async () => {
    const dir = join(tmp, 'not-yours');
    mkdirSync(dir, { mode: 0o755 });
    if (!root) chmodSync(dir, 0o555);
    const file = startable('not-yours.yaml', join(dir, 'data'));
    const nobody = 65534;
    // The test's temporary directory is private (mkdtemp): the other user needs to read the config and trusted root in it.
    chmodSync(tmp, 0o755);
    for (const f of [file, sim.trustedRootPath, join(tmp, 'sim')]) chmodSync(f, statSync(f).mode | 0o005);
    const argv = root ? [setpriv!, `--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups', process.execPath] : [process.execPath];
    const child = spawn(argv[0]!, [...argv.slice(1), 'src/cli.ts', 'serve', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'silent' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^tlogwatch serve: STORE_UNAVAILABLE: dataDir ${join(dir, 'data')}: cannot create it: EACCES: .*: the user tlogwatch runs as \\(uid ${root ? nobody : process.getuid!()}\\) cannot write there: give it the directory \\(chown -R\\), or choose another dataDir \\(--data-dir\\)\\n$`));
  });

  it('a second serve on a store another holds says what to do: stop the other, or give this one its own dataDir', { timeout: 30_000 }, async () => {
    const dataDir = join(tmp, 'data-two-daemons');
    const first = await startDaemon(parseConfig(readFileSync(startable('first.yaml', dataDir), 'utf8'), 'first.yaml', {}), createLogger({ level: 'silent' }));
    try {
      const r = await run(['serve', '--config', startable('second.yaml', dataDir)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`tlogwatch serve: STORE_LOCKED: the store at ${join(dataDir, 'store')} is in use by another process (a running tlogwatch serve?): one store has one tlogwatch at a time; stop the other one, or give this one its own dataDir (--data-dir)\n`);
    } finally {
      await first.stop();
    }
  });

  it('a second serve on a held store logs nothing before it refuses: no "rules loaded" for a start that fails', { timeout: 30_000 }, async () => {
    const dataDir = join(tmp, 'data-two-daemons-rules');
    // Rules that load without a warning: the example release policy.
    const rules = join(tmp, 'rules-acme');
    mkdirSync(rules, { recursive: true });
    copyFileSync('monitor-rules/examples/acme-release.yaml', join(rules, 'acme-release.yaml'));
    const withRules = (name: string) => {
      const file = startable(name, dataDir);
      writeFileSync(file, `${readFileSync(file, 'utf8')}rules: ${rules}\n`);
      return file;
    };
    const first = await startDaemon(parseConfig(readFileSync(withRules('first-rules.yaml'), 'utf8'), 'first-rules.yaml', {}), createLogger({ level: 'silent' }));
    try {
      // At the default log level, as an operator runs it.
      const { TLOGWATCH_LOG_LEVEL: _, ...env } = process.env;
      const r = await run(['serve', '--config', withRules('second-rules.yaml')], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`tlogwatch serve: STORE_LOCKED: the store at ${join(dataDir, 'store')} is in use by another process (a running tlogwatch serve?): one store has one tlogwatch at a time; stop the other one, or give this one its own dataDir (--data-dir)\n`);
    } finally {
      await first.stop();
    }
  });

  it('a serve that starts says "rules loaded" once, after the store is open and before "tlogwatch serving"', { timeout: 30_000 }, async () => {
    const lines: Array<{ msg: string }> = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) } as unknown as NodeJS.WritableStream });
    const d = await startDaemon(parseConfig(`dataDir: ${join(tmp, 'data-rules-said')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nrules: ${join(tmp, 'rules')}\nlogs:\n  - { name: sim, type: tiles, url: "${sim.url}", start: 0 }\n`, 'test.yaml', {}), logger);
    await d.stop();
    const msgs = lines.map((l) => l.msg);
    expect(msgs.filter((m) => m === 'rules loaded')).toHaveLength(1);
    expect(msgs.indexOf('rules loaded')).toBeLessThan(msgs.indexOf('tlogwatch serving'));
  });
});

describe('an admin token in a file (api.adminTokenFile)', () => {
  const withToken = (name: string, dataDir: string, tokenFile: string) => {
    const file = join(tmp, name);
    writeFileSync(file, `dataDir: ${dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: "${sim.url}", start: 0 }\napi: { adminTokenFile: "${tokenFile}" }\n`);
    return file;
  };

  it('opens the admin endpoints to the token it holds, its newline dropped', { timeout: 30_000 }, async () => {
    const tokenFile = join(tmp, 'admin-token');
    writeFileSync(tokenFile, 'token-from-a-secret-file-0123\n');
    const d = await startDaemon(parseConfig(readFileSync(withToken('token-file.yaml', join(tmp, 'data-token-file'), tokenFile), 'utf8'), 'token-file.yaml', {}), createLogger({ level: 'silent' }));
    try {
      const ack = (token: string) => fetch(`${d.url}/v1/findings/${'0'.repeat(32)}/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"reason":"x"}' });
      expect((await ack('token-from-a-secret-file-0123')).status).toBe(404);
      expect((await ack('token-from-a-secret-file-0124')).status).toBe(401);
    } finally {
      await d.stop();
    }
  });

  it('one that cannot be read ends the start with exit 2, naming the key and the file', { timeout: 30_000 }, async () => {
    const missing = join(tmp, 'no-such-token');
    const r = await run(['serve', '--config', withToken('token-missing.yaml', join(tmp, 'data-token-missing'), missing)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^tlogwatch serve: CONFIG_INVALID: api\\.adminTokenFile ${missing}: cannot read it: ENOENT`));
  });
});

describe('a configured log the trusted root does not list', () => {
  it('names the logs it does list, so a mistyped url is plain, and says what to change', { timeout: 30_000 }, async () => {
    const typo = sim.url.replace(/\/api\/v2$/, '/api/v3');
    const r = await run(['serve', '--trusted-root', sim.trustedRootPath, '--data-dir', join(tmp, 'data-typo'), '--listen', '127.0.0.1:0', '--log', `tiles=${typo}`]);
    expect(r.code).toBe(2);
    const name = new URL(typo).host.replace(':', '_');
    expect(r.stderr).toBe(`tlogwatch serve: CONFIG_INVALID: log ${name} (${typo}) is not in the trusted root, so its checkpoints cannot be verified; it lists ${sim.url}. Correct its url (for a proxy in front of one of them, set \`origin\` to that log's), add it to the trusted root, or pass the right --trusted-root\n`);
    expect(existsSync(join(tmp, 'data-typo', 'store'))).toBe(false);
  });
});

describe('a log halted at an earlier run', () => {
  it('the start-up says it is halted, why, and where to read what to do, rather than nothing', { timeout: 60_000 }, async () => {
    const dataDir = join(tmp, 'data-halted');
    const config = parseConfig(`dataDir: ${dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: "${sim.url}", start: 0 }\n`, 'test.yaml', {});
    const first = await startDaemon(config, createLogger({ level: 'silent' }));
    for (let i = 0; i < 300 && (await first.store.readLogState('sim'))?.verified?.size !== 50n; i++) await new Promise((r) => setTimeout(r, 50));
    await first.stop();
    // Halted as a wrong key in the trusted root halts it (its checkpoints verify with no key it knows).
    const store = await Store.open(join(dataDir, 'store'));
    const at = 1_790_000_000;
    await store.putLogState({ ...(await store.readLogState('sim'))!, status: 'halted', halt: { code: 'VERIFY_BAD_CHECKPOINT', message: 'checkpoint rejected: note has no verifiable signatures', at, evidence: {} } });
    await store.close();

    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } as unknown as NodeJS.WritableStream });
    const again = await startDaemon(config, logger);
    await again.stop();
    const said = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['log'] === 'sim');
    expect(said).toEqual([
      expect.objectContaining({
        code: 'VERIFY_BAD_CHECKPOINT',
        haltedAt: new Date(at * 1000).toISOString(),
        msg: 'log sim is halted (VERIFY_BAD_CHECKPOINT: checkpoint rejected: note has no verifiable signatures) and stays halted across restarts: see docs/operations.md "TlogwatchLogIntegrityFailure" for what to do, and tlogwatch resume sim once the cause is understood',
      }),
    ]);
  });
});
