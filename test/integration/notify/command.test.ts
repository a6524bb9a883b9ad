/**
 * The command channel against real programs: small node scripts in a temp directory, run with this
 * node (process.execPath), that record what they were given. The finding arrives as data only (stdin and
 * environment variables, never a shell), the daemon's environment stays out, and every way a run can end
 * badly (exit code, timeout, missing program, a flood of output, stdin left unread) is a delivery that
 * either succeeds or fails with a message saying why, retried through the outbox.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { findingId, type Finding } from '../../../src/monitor/finding.ts';
import { commandChannel, ENV_VALUE_MAX_BYTES, PASSED_ENV } from '../../../src/notify/command.ts';
import { Notifier } from '../../../src/notify/notifier.ts';
import { Outbox, outboxOps } from '../../../src/notify/outbox.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';
import { finding } from './finding.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-command-'));
const script = (name: string) => join(tmp, 'bin', name);

beforeAll(() => {
  mkdirSync(join(tmp, 'bin'));
  // Reads stdin to the end and records it with its arguments and environment, one file per run in
  // $OUT_DIR; with $FAIL_UNLESS set, fails (exit 1, a line on stderr) until that file exists.
  writeFileSync(
    script('record.mjs'),
    `import { existsSync, renameSync, writeFileSync } from 'node:fs';
if (process.env.FAIL_UNLESS && !existsSync(process.env.FAIL_UNLESS)) {
  console.error('ticket API down: 503');
  process.exit(1);
}
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
// Written aside and renamed into place: a test polling the directory never reads half a record.
const at = process.env.OUT_DIR + '/' + process.pid;
writeFileSync(at + '.tmp', JSON.stringify({ argv: process.argv.slice(2), env: process.env, stdin: Buffer.concat(chunks).toString('utf8') }));
renameSync(at + '.tmp', at + '.json');
`,
  );
  // Writes its pid (and, with $GRANDCHILD, a child's) to $PIDFILE, then sleeps; with $IGNORE_TERM, through SIGTERM.
  writeFileSync(
    script('sleep.mjs'),
    `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
if (process.env.IGNORE_TERM) process.on('SIGTERM', () => {});
const pids = [process.pid];
if (process.env.GRANDCHILD) pids.push(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'inherit' }).pid);
writeFileSync(process.env.PIDFILE, pids.join(' '));
setTimeout(() => {}, 60000);
`,
  );
  // Exits 0 at once, leaving behind a child that holds its stdout and stderr for 5 s (pid in $PIDFILE).
  writeFileSync(
    script('background.mjs'),
    `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
writeFileSync(process.env.PIDFILE, String(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'inherit' }).pid));
process.exit(0);
`,
  );
  // Never reads stdin, and exits 0 after the writer has filled the pipe.
  writeFileSync(script('ignore-stdin.mjs'), `setTimeout(() => process.exit(0), 300);\n`);
  // Several megabytes on stdout and stderr, the last stderr line a marker, then exit 2.
  writeFileSync(
    script('chatty.mjs'),
    `const mb = 'x'.repeat(1 << 20);
for (let i = 0; i < 4; i++) { process.stdout.write(mb); process.stderr.write(mb); }
process.stderr.write('\\nLAST-LINE: quota exceeded\\n', () => process.exit(2));
`,
  );
  // Counts the runs in progress in $RUNNING (its own included) into $OUT_DIR, then lingers.
  writeFileSync(
    script('count.mjs'),
    `import { readdirSync, rmSync, writeFileSync } from 'node:fs';
const mine = process.env.RUNNING + '/' + process.pid;
writeFileSync(mine, '');
writeFileSync(process.env.OUT_DIR + '/' + process.pid, String(readdirSync(process.env.RUNNING).length));
setTimeout(() => rmSync(mine), 150);
`,
  );
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let dirs = 0;
/** A fresh empty directory. */
function dir(): string {
  const d = join(tmp, `d${dirs++}`);
  mkdirSync(d);
  return d;
}
interface Run {
  argv: string[];
  env: Record<string, string>;
  stdin: string;
}
const records = (d: string): Run[] => readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(d, f), 'utf8')) as Run);
const node = (name: string, ...args: string[]) => [process.execPath, script(name), ...args];

/** Whether the process runs: a zombie (killed, its parent gone, not yet reaped by init) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}
async function gone(pids: number[]): Promise<boolean> {
  for (let i = 0; i < 40 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
  return !pids.some(alive);
}

describe('command channel', () => {
  it('gives the program the finding as the webhook JSON on stdin and as TLOGWATCH_* variables', async () => {
    const out = dir();
    const parentEnv = { PATH: '/usr/bin:/bin', HOME: '/home/tlogwatch', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TZ: 'Europe/Berlin', TLOGWATCH_ADMIN_TOKEN: 'admin-token-0123456789', SMTP_PASSWORD: 'pw' };
    const channel = commandChannel(3, { command: node('record.mjs', '--queue', 'SEC'), timeout: 10_000, env: { OUT_DIR: out, TICKET_TOKEN: 'from-config' } }, { parentEnv });
    expect(channel.name).toBe('command:3');
    await channel.send(finding);
    const [r] = records(out);
    expect(r!.argv).toEqual(['--queue', 'SEC']);
    expect(r!.stdin.endsWith('}\n')).toBe(true);
    expect(JSON.parse(r!.stdin)).toEqual({ type: 'tlogwatch.finding', finding });
    // Exactly this environment: the passed-on five, the configured ones and the finding's.
    expect(r!.env).toEqual({
      ...parentEnv,
      TLOGWATCH_ADMIN_TOKEN: undefined,
      SMTP_PASSWORD: undefined,
      OUT_DIR: out,
      TICKET_TOKEN: 'from-config',
      TLOGWATCH_FINDING_ID: finding.id,
      TLOGWATCH_RULE: 'acme-release',
      TLOGWATCH_SEVERITY: 'high',
      TLOGWATCH_LOG: 'rekor',
      TLOGWATCH_INDEX: '100',
      TLOGWATCH_MESSAGE: finding.message,
      TLOGWATCH_IDENTITY: finding.identity,
      TLOGWATCH_DIGEST: finding.digest,
    });
    // A finding without an index, identity or digest leaves those variables unset, not empty; and the
    // configured environment cannot pass one off as the finding's (the schema refuses such names too).
    const out2 = dir();
    const { index: _i, identity: _id, digest: _d, ...bare } = finding;
    await commandChannel(0, { command: node('record.mjs'), timeout: 10_000, env: { OUT_DIR: out2, TLOGWATCH_RULE: 'forged', TLOGWATCH_INDEX: '7' } }, { parentEnv: {} }).send({ ...bare, rule: 'mirror-stalled' });
    const env = records(out2)[0]!.env;
    expect(Object.keys(env).sort()).toEqual(['OUT_DIR', 'TLOGWATCH_FINDING_ID', 'TLOGWATCH_LOG', 'TLOGWATCH_MESSAGE', 'TLOGWATCH_RULE', 'TLOGWATCH_SEVERITY']);
    expect(env['TLOGWATCH_RULE']).toBe('mirror-stalled');
  });

  it("keeps the daemon's own environment from the program: only PATH, HOME, LANG, LC_ALL and TZ pass", async () => {
    const out = dir();
    const saved = { ...process.env };
    process.env['TLOGWATCH_ADMIN_TOKEN'] = 'admin-token-that-must-not-leak';
    process.env['SMTP_PASSWORD'] = 'smtp-password-that-must-not-leak';
    try {
      await commandChannel(0, { command: node('record.mjs'), timeout: 10_000, env: { OUT_DIR: out } }).send(finding);
    } finally {
      for (const k of ['TLOGWATCH_ADMIN_TOKEN', 'SMTP_PASSWORD']) if (saved[k] === undefined) delete process.env[k];
    }
    const env = records(out)[0]!.env;
    expect(JSON.stringify(env)).not.toMatch(/must-not-leak/);
    const own = Object.keys(env).filter((k) => !k.startsWith('TLOGWATCH_') && k !== 'OUT_DIR');
    expect(own.every((k) => (PASSED_ENV as readonly string[]).includes(k))).toBe(true);
    expect(env['PATH']).toBe(process.env['PATH']);
  });

  it('passes shell metacharacters in a finding and in its arguments through verbatim, running nothing', async () => {
    const out = dir();
    const canary = (n: number) => join(tmp, `pwned-${n}`);
    const hostile = `$(touch ${canary(1)}) \`touch ${canary(2)}\`; touch ${canary(3)} && touch ${canary(4)} | tee ${canary(5)} > ${canary(6)} 'q' "dq" $HOME * ~ \\ #\nsecond line`;
    const args = [`; touch ${canary(7)}`, `$(touch ${canary(8)})`, '*', '$HOME', "'", '"'];
    await commandChannel(0, { command: node('record.mjs', ...args), timeout: 10_000, env: { OUT_DIR: out } }).send({ ...finding, message: `identity ${hostile} is not allowed`, identity: hostile });
    const [r] = records(out);
    expect(r!.argv).toEqual(args);
    expect(r!.env['TLOGWATCH_MESSAGE']).toBe(`identity ${hostile} is not allowed`);
    expect(r!.env['TLOGWATCH_IDENTITY']).toBe(hostile);
    expect(JSON.parse(r!.stdin).finding.identity).toBe(hostile);
    for (let n = 1; n <= 8; n++) expect(existsSync(canary(n))).toBe(false);
  });

  it('fails on a non-zero exit with the code and stderr, and the outbox delivers it once the program succeeds', async () => {
    const out = dir();
    const up = join(tmp, 'ticket-api-up');
    const store = await Store.open(join(tmp, 'store'));
    try {
      await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 1, 0)]);
      const metrics = createMetrics({ defaultMetrics: false });
      let clock = 1_000;
      const channel = commandChannel(0, { command: node('record.mjs'), timeout: 10_000, env: { OUT_DIR: out, FAIL_UNLESS: up } });
      const n = new Notifier([channel], new Outbox(store), new FindingsRepo(store), metrics, createLogger({ level: 'silent' }), { baseDelayMs: 1000, now: () => clock });
      await n.runOnce();
      const [row] = await new Outbox(store).due(Number.MAX_SAFE_INTEGER);
      expect(row).toMatchObject({ channel: 0, findingId: finding.id, attempts: 1 });
      expect(row!.lastError).toMatch(/^NOTIFY_FAILED: \/.*node exited with code 1; stderr: ticket API down: 503$/);
      // Not due yet: backoff holds the retry.
      await n.runOnce();
      expect((await new Outbox(store).due(Number.MAX_SAFE_INTEGER))[0]!.attempts).toBe(1);
      writeFileSync(up, '');
      clock += 60_000;
      await n.runOnce();
      expect((await new Outbox(store).pending()).size).toBe(0);
      expect(records(out).map((r) => JSON.parse(r.stdin).finding.id)).toEqual([finding.id]);
      const results = Object.fromEntries((await metrics.notifications.get()).values.map((v) => [`${v.labels.channel}:${v.labels.result}`, v.value]));
      expect(results).toEqual({ 'command:0:failed': 1, 'command:0:delivered': 1 });
      await n.stop();
    } finally {
      await store.close();
    }
  });

  it('kills a program still running at the timeout, and what it started, and fails', async () => {
    const pidfile = join(tmp, 'pids-timeout');
    const started = Date.now();
    // 3 s, not less: a loaded machine can take over a second to start node, and a program killed before it
    // wrote its pid file (or set its SIGTERM handler) leaves this test nothing to check. It sleeps 60 s.
    await expect(commandChannel(0, { command: node('sleep.mjs'), timeout: 3000, env: { PIDFILE: pidfile } }).send(finding)).rejects.toThrow(/^\/.*node timed out after 3000 ms and was killed$/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await gone(readFileSync(pidfile, 'utf8').split(' ').map(Number))).toBe(true);

    // One that ignores SIGTERM, with a child of its own: SIGKILL to the whole group after the grace.
    const pidfile2 = join(tmp, 'pids-stubborn');
    const t = Date.now();
    await expect(commandChannel(0, { command: node('sleep.mjs'), timeout: 3000, env: { PIDFILE: pidfile2, IGNORE_TERM: '1', GRANDCHILD: '1' } }, { killGraceMs: 200 }).send(finding)).rejects.toMatchObject({
      code: 'NOTIFY_FAILED',
      data: { stoppedBy: 'timeout', signal: 'SIGKILL' },
    });
    expect(Date.now() - t).toBeGreaterThanOrEqual(3200);
    const pids = readFileSync(pidfile2, 'utf8').split(' ').map(Number);
    expect(pids).toHaveLength(2);
    expect(await gone(pids)).toBe(true);
  });

  it('takes the exit status of a program that exits while something it started keeps its output open', async () => {
    const pidfile = join(tmp, 'pids-background');
    try {
      // The timeout is shorter than the wait for the pipes to close (30 s) but leaves a loaded machine time to
      // start node twice: the exit status stands all the same.
      await expect(commandChannel(0, { command: node('background.mjs'), timeout: 5000, env: { PIDFILE: pidfile } }).send(finding)).resolves.toBeUndefined();
    } finally {
      process.kill(Number(readFileSync(pidfile, 'utf8')));
    }
  });

  it('stops a running program when the notifier stops, and keeps its row for the next start', async () => {
    const pidfile = join(tmp, 'pids-shutdown');
    const store = await Store.open(join(tmp, 'store-shutdown'));
    try {
      await store.db.batch([...findingOps(finding), ...outboxOps(finding.id, 1, 0)]);
      const channel = commandChannel(0, { command: node('sleep.mjs'), timeout: 600_000, env: { PIDFILE: pidfile } });
      const n = new Notifier([channel], new Outbox(store), new FindingsRepo(store), createMetrics({ defaultMetrics: false }), createLogger({ level: 'silent' }));
      const pass = n.runOnce();
      while (!existsSync(pidfile) || !readFileSync(pidfile, 'utf8')) await new Promise((r) => setTimeout(r, 20));
      const started = Date.now();
      await n.stop();
      await pass;
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await gone([Number(readFileSync(pidfile, 'utf8'))])).toBe(true);
      expect((await new Outbox(store).due(Number.MAX_SAFE_INTEGER))[0]?.lastError).toMatch(/was stopped: tlogwatch is shutting down$/);
    } finally {
      await store.close();
    }
  });

  it('holds back only its own channel while it runs: the others deliver the findings that come meanwhile', async () => {
    const pidfile = join(tmp, 'pids-slow');
    const out = dir();
    const store = await Store.open(join(tmp, 'store-slow'));
    const queue = (f: Finding) => store.db.batch([...findingOps(f), ...outboxOps(f.id, 2, 0)]);
    const later: Finding = { ...finding, id: findingId('acme-release', 'rekor', '101'), index: 101 };
    const delivered = (id: string) => records(out).some((r) => JSON.parse(r.stdin).finding.id === id);
    const n = new Notifier(
      [commandChannel(0, { command: node('sleep.mjs'), timeout: 600_000, env: { PIDFILE: pidfile } }), commandChannel(1, { command: node('record.mjs'), timeout: 10_000, env: { OUT_DIR: out } })],
      new Outbox(store),
      new FindingsRepo(store),
      createMetrics({ defaultMetrics: false }),
      createLogger({ level: 'silent' }),
      { intervalMs: 50 },
    );
    try {
      await queue(finding);
      n.start();
      for (let i = 0; i < 100 && !delivered(finding.id); i++) await new Promise((r) => setTimeout(r, 50));
      expect(delivered(finding.id)).toBe(true);
      // Channel 0's program still runs; a finding committed now reaches channel 1 on the next tick.
      await queue(later);
      for (let i = 0; i < 100 && !delivered(later.id); i++) await new Promise((r) => setTimeout(r, 50));
      expect(delivered(later.id)).toBe(true);
      expect(alive(Number(readFileSync(pidfile, 'utf8')))).toBe(true);
    } finally {
      await n.stop();
      await store.close();
    }
  });

  it('fails when the program does not exist', async () => {
    await expect(commandChannel(0, { command: ['/nonexistent/tlogwatch-hook', '--flag'], timeout: 10_000, env: {} }).send(finding)).rejects.toThrow(/^could not start \/nonexistent\/tlogwatch-hook: not found \(ENOENT\)$/);
    await expect(commandChannel(0, { command: [join(tmp, 'bin', 'record.mjs')], timeout: 10_000, env: {} }).send(finding)).rejects.toThrow(/not executable \(EACCES\)$/);
  });

  it('keeps only the end of what a chatty program writes, and quotes it in the failure', async () => {
    const err = await commandChannel(0, { command: node('chatty.mjs'), timeout: 20_000, env: {} })
      .send(finding)
      .then(
        () => undefined,
        (e: unknown) => e as Error & { data: { stderr: string } },
      );
    expect(err?.message).toMatch(/node exited with code 2; stderr: x+\nLAST-LINE: quota exceeded$/);
    expect(err!.data.stderr.length).toBeLessThanOrEqual(500);
    expect(err!.message.length).toBeLessThan(700);
  });

  it('delivers a large finding to a program that never reads stdin, and cuts only the environment variables', async () => {
    const big: Finding = { ...finding, message: `a\u0000b ${'x'.repeat(300_000)}`, evidence: { blob: 'y'.repeat(2 << 20) } };
    await expect(commandChannel(0, { command: node('ignore-stdin.mjs'), timeout: 10_000, env: {} }).send(big)).resolves.toBeUndefined();
    // A program that reads it gets all of it on stdin; the variable (at most 128 KiB on Linux) is cut.
    const out = dir();
    await commandChannel(0, { command: node('record.mjs'), timeout: 10_000, env: { OUT_DIR: out } }).send(big);
    const [r] = records(out);
    expect(JSON.parse(r!.stdin).finding).toEqual(big);
    const message = r!.env['TLOGWATCH_MESSAGE']!;
    expect(message.startsWith('a\uFFFDb xxx')).toBe(true);
    expect(message.endsWith('x…')).toBe(true);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(ENV_VALUE_MAX_BYTES);
  });

  it('hands a certificate\'s control, bidi and invisible characters over exactly, as data: stdin and the environment\'s bytes', async () => {
    // A SAN may hold any ASCII control character and a claim any Unicode: a program gets them as they are
    // (only NUL, which an environment cannot hold, becomes U+FFFD); showing them to a person is its business.
    const hostile = `x\r\nidentity: forged\u001b[8m\u007f\u0085 refs/heads/\u202emain\u202c\u200b\ufeff\u{e0041}`;
    const f: Finding = { ...finding, message: `rule: ${hostile}\u0000`, identity: hostile };
    const out = dir();
    writeFileSync(script('environ.mjs'), `import { readFileSync, writeFileSync } from 'node:fs';\nwriteFileSync(process.env.OUT_DIR + '/environ', readFileSync('/proc/self/environ'));\nconst c = [];\nfor await (const x of process.stdin) c.push(x);\nwriteFileSync(process.env.OUT_DIR + '/stdin', Buffer.concat(c));\n`);
    await commandChannel(0, { command: node('environ.mjs'), timeout: 10_000, env: { OUT_DIR: out } }, { parentEnv: {} }).send(f);
    const environ = readFileSync(join(out, 'environ'));
    const vars = new Map(environ.toString('utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    expect(vars.get('TLOGWATCH_IDENTITY')).toBe(hostile);
    expect(vars.get('TLOGWATCH_MESSAGE')).toBe(`rule: ${hostile}\uFFFD`);
    expect(environ.includes(Buffer.from(`TLOGWATCH_IDENTITY=${hostile}\0`, 'utf8'))).toBe(true);
    const stdin = readFileSync(join(out, 'stdin'), 'utf8');
    expect(JSON.parse(stdin)).toEqual({ type: 'tlogwatch.finding', finding: f });
  });

  it('runs at most 8 programs of one channel at once', async () => {
    const out = dir();
    const running = dir();
    const channel = commandChannel(0, { command: node('count.mjs'), timeout: 20_000, env: { OUT_DIR: out, RUNNING: running } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => channel.send({ ...finding, id: findingId('r', 'l', String(i)) })));
    const counts = readdirSync(out).map((f) => Number(readFileSync(join(out, f), 'utf8')));
    expect(counts).toHaveLength(20);
    expect(Math.max(...counts)).toBeLessThanOrEqual(8);
  });
});
