/**
 * `tlogwatch backfill` as a real process through bin/tlogwatch.js, against the simulator and a store
 * mirrored from `latest`: usage errors, a store locked by a running `serve`, nothing to backfill, a full
 * backfill with the config's rules, a lying log (exit 1, the log halted), and resuming after SIGTERM and
 * kill -9 with nothing lost or doubled (checkLog).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLog } from '../../src/store/check.ts';
import { FindingsRepo } from '../../src/store/findings.ts';
import { Store } from '../../src/store/store.ts';
import { expectStoreMatchesManifest, harness, roundsUntil, type Harness } from '../helpers/mirror.ts';
import { npmRun, survivorsOfSigterm } from '../helpers/npm-run.ts';
import { asksBelow, startStallingProxy } from '../helpers/stall-proxy.ts';
import { startSimulator } from '../sim/index.ts';

const run = promisify(execFile);
const BIN = 'bin/tlogwatch.js';

async function tlogwatch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { maxBuffer: 16 << 20, env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

/**
 * A simulator mirrored into `<dataDir>/store` from `start` up to its size, the store closed again, and the
 * config file `serve` and `backfill` run with.
 */
async function mirrored(api: 'tiles' | 'v1', entries: number, start: bigint | 'latest', seed: string, opts: { batchSize?: number; rules?: string; shards?: number } = {}): Promise<{ config: string }> {
  h = await harness({ api, entries, seed, ...(opts.shards ? { shards: opts.shards } : {}) }, { start, batchSize: opts.batchSize ?? 256 }, undefined, { cliLayout: true });
  await roundsUntil(h, async () => {
    const s = await h!.store.getLogState('sim');
    return s?.verified !== undefined && s.verified.size + (s.shard?.offset ?? 0n) === BigInt(entries);
  });
  await h.store.close();
  const config = join(h.dataDir, 'tlogwatch.yaml');
  writeFileSync(
    config,
    [
      `dataDir: ${h.dataDir}`,
      'listen: 127.0.0.1:0',
      `trustedRoot: ${h.sim.trustedRootPath}`,
      ...(opts.rules ? [`rules: ${opts.rules}`] : []),
      'log: { level: warn }',
      'logs:',
      `  - { name: sim, type: ${api === 'v1' ? 'rekor-v1' : 'tiles'}, url: '${h.sim.url}', start: ${start === 'latest' ? 'latest' : start}, requestsPerMinute: 0, batchSize: ${opts.batchSize ?? 256}, pollInterval: 200ms }`,
      '',
    ].join('\n'),
  );
  return { config };
}

/** Opens the store (the CLI must have exited), runs `fn`, closes it. */
async function withStore<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(h!.storeDir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe('tlogwatch backfill: usage', () => {
  it('rejects bad arguments with exit 2 and says what is wrong', { timeout: 90_000 }, async () => {
    const { config } = await mirrored('tiles', 300, 'latest', 'bf-usage');
    const cases: Array<[string[], RegExp]> = [
      [['--data-dir', join(h!.dataDir, 'nothing-here')], /no store at .*nothing-here.*: nothing has been mirrored yet/],
      [['--config', config, '--to', 'ten'], /--to must be a log index/],
      [['--config', config, '--to', '-1'], /--to|argument/],
      [['--config', config, '--batch-size', '5'], /--batch-size must be a whole number from 10 to 100000/],
      [['--config', config, '--frobnicate'], /Unknown option '--frobnicate'/],
      [['--config', config, '--only', 'nope'], /no log named nope/],
      [['--config', config, '--log', 'nope'], /--log nope: expected TYPE=URL/],
      [['--config', join(h!.dataDir, 'missing.yaml')], /missing\.yaml/],
    ];
    for (const [args, message] of cases) {
      const r = await tlogwatch(['backfill', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    const help = await tlogwatch(['backfill', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: tlogwatch backfill \[--config FILE\] \[--data-dir DIR\] .*\[--only NAME\] \[--to N\] \[--batch-size N\]/);
    expect((await tlogwatch(['--help'])).stdout).toMatch(/tlogwatch backfill \[serve's --config/);
    // A data directory with no store: nothing was mirrored, and backfill does not create one.
    const empty = join(h!.dataDir, 'empty');
    mkdirSync(empty);
    const other = join(empty, 'c.yaml');
    writeFileSync(other, `dataDir: ${empty}\ntrustedRoot: ${h!.sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: '${h!.sim.url}' }\n`);
    const none = await tlogwatch(['backfill', '--config', other]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no store at .*: nothing has been mirrored yet \(run tlogwatch serve first\)/);
  });

  it('refuses a store a running serve holds: "stop tlogwatch serve first", exit 2', { timeout: 60_000 }, async () => {
    const { config } = await mirrored('tiles', 300, 'latest', 'bf-lock');
    const serve = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' } });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        serve.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (/listening /.test(out)) resolve();
        });
        serve.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const r = await tlogwatch(['backfill', '--config', config]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/in use by another process .*stop tlogwatch serve first/);
    } finally {
      serve.kill('SIGTERM');
      await exited(serve);
    }
  });

  it('says there is nothing to backfill for a mirror that started at 0', async () => {
    const { config } = await mirrored('v1', 120, 0n, 'bf-nothing', { batchSize: 50 });
    const r = await tlogwatch(['backfill', '--config', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('backfill sim: nothing to backfill: the mirror holds the log from index 0\n');
  });
});

describe('tlogwatch backfill: secrets', () => {
  it("needs none of serve's secrets it does not read (api, checkpointSources), but notify's: it queues findings for those channels", async () => {
    const { config } = await mirrored('v1', 120, 0n, 'bf-secrets', { batchSize: 50 });
    for (const name of ['TLOGWATCH_ADMIN_TOKEN', 'PEER_TOKEN', 'WEBHOOK_SECRET']) expect(process.env[name], name).toBeUndefined();
    appendFileSync(config, 'api: { adminToken: "${TLOGWATCH_ADMIN_TOKEN}" }\ncheckpointSources:\n  - { name: peer, kind: tlogwatch, url: "https://peer.example", token: "${PEER_TOKEN}" }\n');
    expect(await tlogwatch(['backfill', '--config', config])).toMatchObject({ code: 0, stdout: 'backfill sim: nothing to backfill: the mirror holds the log from index 0\n' });
    appendFileSync(config, 'notify: { webhooks: [{ url: "https://hooks.example", secret: "${WEBHOOK_SECRET}" }] }\n');
    const r = await tlogwatch(['backfill', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/notify\.webhooks\.0\.secret: environment variable WEBHOOK_SECRET is not set/);
    expect(r.stderr).not.toMatch(/TLOGWATCH_ADMIN_TOKEN|PEER_TOKEN/);
  });
});

describe('tlogwatch backfill: runs', () => {
  it('Rekor v1: fills the tree the mirror started in, then the shards retired before it; tlogwatch check passes the store', { timeout: 60_000 }, async () => {
    // Trees [0, 100) and [100, 200) are retired; the mirror started at latest in [200, 300).
    const { config } = await mirrored('v1', 300, 'latest', 'bf-cli-shards', { batchSize: 40, shards: 3 });
    const r = await tlogwatch(['backfill', '--config', config]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    // Each tree from its end: no batch spans two.
    expect(lines).toContain('backfill sim: verified and stored [200, 220); 200 to go');
    expect(lines).toContain('backfill sim: verified and stored [60, 100); 60 to go');
    expect(lines.at(-1)).toBe('backfill sim: done: 300 entries verified and stored; the mirror now holds the log from index 0');
    await withStore(async (store) => expect(await expectStoreMatchesManifest(store, h!.sim)).toBe(300));
    const check = await run(process.execPath, [BIN, 'check', '--config', config], { env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' } });
    expect(check.stdout).toMatch(/^ok\tsim\t300 entries, .* 300 leaf hashes re-hashed from bodies/);
  });

  it('Rekor v1: says when the shards retired before the mirror started are not known to it yet', async () => {
    const { config } = await mirrored('v1', 300, 'latest', 'bf-cli-unknown', { batchSize: 50, shards: 3 });
    await withStore(async (store) => {
      const s = (await store.getLogState('sim'))!;
      delete s.priorTrees; // as in a store whose follower has not verified their final heads yet
      await store.putLogState(s);
    });
    const r = await tlogwatch(['backfill', '--config', config]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').slice(-2)).toEqual([
      'backfill sim: done: 100 entries verified and stored; the mirror now holds the log from index 200',
      'backfill sim: entries before index 200 are in Rekor v1 shards retired before this mirror started, whose final tree heads it has not verified yet: run tlogwatch serve until GET /api/v1/log answers, then backfill again',
    ]);
  });

  it('fills a mirror started at latest down to 0, with the rules from the config', { timeout: 60_000 }, async () => {
    const rules = join(process.cwd(), 'monitor-rules', 'examples');
    const { config } = await mirrored('tiles', 1200, 'latest', 'bf-cli', { rules });
    const r = await tlogwatch(['backfill', '--config', config, '--batch-size', '512']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('backfill sim: verified and stored [768, 1200); 768 to go');
    expect(lines[1]).toBe('backfill sim: verified and stored [256, 768); 256 to go');
    expect(lines.at(-1)).toBe('backfill sim: done: 1200 entries verified and stored; the mirror now holds the log from index 0');
    await withStore(async (store) => {
      const check = await checkLog(store, 'sim');
      expect(check.problems).toEqual([]);
      expect(check.rootCheck).toBe('full');
      expect(await expectStoreMatchesManifest(store, h!.sim)).toBe(1200);
      // The example rules watch github.com/acme/*, which the simulator signs for: history raised findings.
      const found = await new FindingsRepo(store).list({ limit: 1000 });
      expect(found.findings.length).toBeGreaterThan(0);
      expect(found.findings.every((f) => f.index! < 1200)).toBe(true);
    });
    const again = await tlogwatch(['backfill', '--config', config]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to backfill: the mirror holds the log from index 0/);
  });

  it('takes its configuration from serve\'s flags alone, as the Docker Compose service runs serve', { timeout: 60_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'tlogwatch-sim-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'tlogwatch-data-'));
    const sim = await startSimulator({ api: 'tiles', entries: 900, out, seed: 'bf-flags', log: () => {} });
    try {
      const flags = ['--data-dir', dataDir, '--trusted-root', sim.trustedRootPath, '--log', `tiles=${sim.url}`];
      const serve = spawn(process.execPath, [BIN, 'serve', ...flags, '--start', 'latest', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' } });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let text = '';
          serve.stdout.on('data', (d: Buffer) => {
            text += d.toString();
            const m = /listening (\S+)/.exec(text);
            if (m) resolve(m[1]!);
          });
          serve.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
        });
        for (let t = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
          const logs = (await (await fetch(`${url}/v1/logs`)).json()) as Array<{ verifiedSize: number; mirroredFrom: number }>;
          if (logs[0]?.verifiedSize === 900) break;
          if (Date.now() - t > 30_000) throw new Error(`serve did not verify the log: ${JSON.stringify(logs)}`);
        }
      } finally {
        serve.kill('SIGTERM');
        await exited(serve);
      }
      const name = new URL(sim.url).host.replace(/[^a-zA-Z0-9._-]/g, '_'); // serve names a --log log after its host
      const r = await tlogwatch(['backfill', ...flags]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n').at(-1)).toBe(`backfill ${name}: done: 900 entries verified and stored; the mirror now holds the log from index 0`);
      const store = await Store.open(join(dataDir, 'store'));
      try {
        expect((await checkLog(store, name)).rootCheck).toBe('full');
        expect(await expectStoreMatchesManifest(store, sim, name)).toBe(900);
      } finally {
        await store.close();
      }
    } finally {
      await sim.close();
      rmSync(out, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('exits 1 on a log that lies below the start: the lying batch commits nothing and the log halts', { timeout: 60_000 }, async () => {
    const { config } = await mirrored('tiles', 1200, 'latest', 'bf-cli-lie');
    h!.sim.log.faults.enable('rewrite', 700);
    const r = await tlogwatch(['backfill', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/verified and stored \[768, 1024\)/);
    expect(r.stderr).toMatch(/sim: VERIFY_ROOT_MISMATCH: entries \[512, 768\) .*nothing of that batch was committed, the log is halted/);
    await withStore(async (store) => {
      const s = (await store.getLogState('sim'))!;
      expect(s.status).toBe('halted');
      expect(s.startIndex).toBe(768n);
      expect((await checkLog(store, 'sim')).problems).toEqual([]);
      expect((await new FindingsRepo(store).list({ rule: 'log-integrity', limit: 10 })).findings).toHaveLength(1);
    });
    const again = await tlogwatch(['backfill', '--config', config]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is halted \(VERIFY_ROOT_MISMATCH/);
  });

  it('SIGINT while the log stalls: the requests in flight are abandoned, exit 130 at once, a rerun resumes', { timeout: 90_000 }, async () => {
    const { config } = await mirrored('v1', 600, 'latest', 'bf-cli-stall', { batchSize: 40 });
    // The same log through a proxy that never answers for entries below 519: [560, 600) and [520, 560)
    // (which also asks for entry 519, for its frontier) commit, and the batch below waits on the log.
    const proxy = await startStallingProxy(h!.sim.url, asksBelow(519));
    const stalled = join(h!.dataDir, 'stalled.yaml');
    writeFileSync(stalled, readFileSync(config, 'utf8').replace(`url: '${h!.sim.url}'`, `url: '${proxy.url}', origin: '${h!.tlog.name}'`));
    const child = spawn(process.execPath, [BIN, 'backfill', '--config', stalled], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' } });
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      for (const t = Date.now(); !(out.includes('verified and stored [520, 560)') && proxy.stalled > 0); await new Promise((r) => setTimeout(r, 10))) {
        if (child.exitCode !== null || Date.now() - t > 60_000) throw new Error(`backfill did not reach the stall: ${out}${err}`);
      }
      const stopped = performance.now();
      child.kill('SIGINT');
      const code = await exited(child);
      // Without aborting them, the stalled requests held the stop for the client's 20 s timeout, 7 times.
      expect(performance.now() - stopped).toBeLessThan(5_000);
      expect(code).toBe(130);
      expect(err).toMatch(/SIGINT: stopping: requests in flight are abandoned/);
      expect(out.trim().split('\n').at(-1)).toBe('backfill sim: stopped after 80 entries; the mirror holds the log from index 520: run again to resume');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await proxy.close();
    }
    await withStore(async (store) => {
      expect((await store.getLogState('sim'))!.startIndex).toBe(520n);
      expect((await checkLog(store, 'sim')).problems).toEqual([]);
    });
    const done = await tlogwatch(['backfill', '--config', config]);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/verified and stored \[480, 520\)/);
    expect(done.stdout).toMatch(/done: 520 entries verified and stored; the mirror now holds the log from index 0/);
    await withStore(async (store) => expect(await expectStoreMatchesManifest(store, h!.sim)).toBe(600));
  });

  describe.each([
    ['tiles', 6000, 256],
    ['v1', 1500, 40],
  ] as const)('%s: interrupted and resumed', (api, entries, batchSize) => {
    it('stops cleanly on SIGTERM, survives kill -9, and a re-run completes with no gap and no duplicate', { timeout: 120_000 }, async () => {
      const { config } = await mirrored(api, entries, 'latest', `bf-resume-${api}`, { batchSize });
      h!.sim.faults.enable('slow', 60, 1);
      const startOf = () => withStore(async (store) => (await store.getLogState('sim'))!.startIndex);
      const interrupted = async (signal: NodeJS.Signals) => {
        const child = spawn(process.execPath, [BIN, 'backfill', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' } });
        let out = '';
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if ((out.match(/verified and stored/g) ?? []).length >= 2) resolve();
          });
          child.once('exit', (code) => reject(new Error(`backfill exited ${code} early: ${out}${err}`)));
        });
        child.kill(signal);
        const code = await exited(child);
        return { code, out, err };
      };

      const term = await interrupted('SIGTERM');
      expect(term.code).toBe(143);
      expect(term.err).toMatch(/SIGTERM: stopping: requests in flight are abandoned, a batch already fetched is stored first/);
      expect(term.out).toMatch(/stopped after \d+ entries; the mirror holds the log from index \d+: run again to resume/);
      const afterTerm = await startOf();
      expect(afterTerm).toBeGreaterThan(0n);
      expect(afterTerm).toBeLessThan(BigInt(entries));
      // The last progress line names the batch that committed last: the state is exactly there.
      expect(term.out).toContain(`verified and stored [${afterTerm}, `);
      await withStore(async (store) => expect((await checkLog(store, 'sim')).problems).toEqual([]));

      await interrupted('SIGKILL');
      const afterKill = await startOf();
      expect(afterKill).toBeLessThan(afterTerm);
      await withStore(async (store) => expect((await checkLog(store, 'sim')).problems).toEqual([]));

      h!.sim.faults.disable('slow');
      const done = await tlogwatch(['backfill', '--config', config]);
      expect(done.code).toBe(0);
      expect(done.stdout).toMatch(new RegExp(`verified and stored \\[\\d+, ${afterKill}\\)`));
      expect(done.stdout).toMatch(/done: \d+ entries verified and stored; the mirror now holds the log from index 0/);
      await withStore(async (store) => {
        const check = await checkLog(store, 'sim');
        expect(check.problems).toEqual([]);
        expect(check.rootCheck).toBe('full');
        expect(check.entries).toBe(entries);
        expect(await expectStoreMatchesManifest(store, h!.sim)).toBe(entries);
      });
    });
  });
});

describe('tlogwatch backfill: started by npm', () => {
  it('npm run tlogwatch -- backfill stops with npm as on SIGTERM, leaving the store consistent and free', { timeout: 120_000 }, async () => {
    const { config } = await mirrored('tiles', 6000, 'latest', 'bf-npm', { batchSize: 256 });
    // Every response 500 ms late: the backfill has most of a minute to go when npm gets the signal.
    h!.sim.faults.enable('slow', 500, 1);
    const { npm, output } = await npmRun('tlogwatch', ['backfill', '--config', config], /(verified and stored[^]*){2}/, { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' });
    // npm's shell does not pass the SIGTERM on: left running, backfill held the store serve needs.
    expect(await survivorsOfSigterm(npm, 5000), output()).toEqual([]);
    expect(output()).toMatch(/tlogwatch backfill: npm run tlogwatch has ended, and its shell passes no signal on: stopping: requests in flight are abandoned/);
    expect(output()).toMatch(/stopped after \d+ entries; the mirror holds the log from index \d+: run again to resume/);
    h!.sim.faults.disable('slow');
    await withStore(async (store) => {
      expect((await store.getLogState('sim'))!.startIndex).toBeLessThan(6000n);
      expect((await checkLog(store, 'sim')).problems).toEqual([]);
    });
  });
});
