/**
 * The `command` channel: a program run once per finding, as certspotter runs its hook scripts
 * (github.com/SSLMate/certspotter, man/certspotter-script.md). The program reads the finding on stdin as
 * the JSON the webhook posts, one line, and finds its main fields in TLOGWATCH_* environment variables.
 *
 * A finding quotes what a logged certificate says, and anyone can log a certificate. So its text reaches
 * the program only as data, on stdin and in environment variables: the argument vector comes from the
 * configuration alone and is executed directly (spawn without a shell), and nothing of the finding is
 * ever part of a command line.
 *
 * The program gets a small environment, not the daemon's, which may hold the admin token, SMTP passwords
 * or webhook secrets (certspotter passes its whole environment on; tlogwatch does not): PATH, HOME, LANG,
 * LC_ALL and TZ from the daemon, then the configured `env`, then the finding's variables.
 *
 * Exit status 0 is delivery. A non-zero exit, a signal, a program that cannot be started or one still
 * running at the timeout (then killed: SIGTERM to its process group, SIGKILL a grace period later) throws
 * NOTIFY_FAILED with the exit status and the end of its stderr, and the outbox retries the row.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { TlogwatchError } from '../errors.ts';
import type { Finding } from '../monitor/finding.ts';
import { findingDocument, type Channel } from './channels.ts';

/** Passed on from the daemon's environment: where programs are, the home directory, locale and time zone. */
export const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ'] as const;
/** The longest TLOGWATCH_* value, in UTF-8 bytes; Linux refuses to start a program given one over 128 KiB. */
export const ENV_VALUE_MAX_BYTES = 16_384;
/** How much of the end of stderr (or of stdout when stderr is empty) a failure quotes. */
const TAIL_BYTES = 500;
/** Runs of one command at once: a burst of findings must not start hundreds of processes. */
const CONCURRENCY = 8;
/** A program stopped with SIGTERM has this long to exit before its process group gets SIGKILL. */
const KILL_GRACE_MS = 5000;
/** After the program exits, how long descendants that still hold its stdout or stderr are waited for. */
const IO_GRACE_MS = 1000;

/**
 * An environment variable holds no NUL and has a size limit; the finding on stdin is whole and exact, so
 * a value is made fit rather than the run refused: NUL becomes U+FFFD, and a longer value is cut at a
 * character boundary and ends with `…`.
 */
export function envValue(s: string): string {
  const clean = s.replaceAll('\0', '\uFFFD');
  if (Buffer.byteLength(clean) <= ENV_VALUE_MAX_BYTES) return clean;
  const { read } = new TextEncoder().encodeInto(clean, new Uint8Array(ENV_VALUE_MAX_BYTES - 3));
  return `${clean.slice(0, read)}…`;
}

/** The program's whole environment: PASSED_ENV from `parent`, then `configured`, then the finding's. */
export function commandEnv(f: Finding, configured: Readonly<Record<string, string>>, parent: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_ENV) {
    const v = parent[name];
    if (v !== undefined) env[name] = v;
  }
  // The schema refuses configured TLOGWATCH_* names; here too they never stand for the finding's.
  for (const [name, v] of Object.entries(configured)) if (!name.startsWith('TLOGWATCH_')) env[name] = v;
  const finding: Record<string, string | number | undefined> = {
    TLOGWATCH_FINDING_ID: f.id,
    TLOGWATCH_RULE: f.rule,
    TLOGWATCH_SEVERITY: f.severity,
    TLOGWATCH_LOG: f.log,
    TLOGWATCH_INDEX: f.index,
    TLOGWATCH_MESSAGE: f.message,
    TLOGWATCH_IDENTITY: f.identity,
    TLOGWATCH_DIGEST: f.digest,
  };
  for (const [name, v] of Object.entries(finding)) if (v !== undefined) env[name] = envValue(String(v));
  return env;
}

/** The last `max` bytes written to it. */
class Tail {
  #buf = Buffer.alloc(0);
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  push(chunk: Buffer): void {
    const all = Buffer.concat([this.#buf, chunk]);
    this.#buf = all.length <= this.#max ? all : Buffer.from(all.subarray(-this.#max)); // a copy: the rest is freed
  }
  text(): string {
    return this.#buf.toString('utf8').trim();
  }
}

export interface RunOptions {
  env: Record<string, string>;
  input: string;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL when the run is stopped. */
  killGraceMs: number;
  /** Stops the run as the timeout does (the daemon shutting down). */
  signal?: AbortSignal;
}

export interface RunResult {
  /** Exit code, or null when a signal ended it (or it never ran, or never exited). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when tlogwatch stopped the run. */
  stoppedBy?: 'timeout' | 'abort';
  /** Set when the program could not be started (ENOENT, EACCES, E2BIG). */
  spawnError?: NodeJS.ErrnoException;
  stderr: string;
  stdout: string;
}

/**
 * Runs `argv` without a shell, writes `input` to its stdin and resolves with how it ended; never rejects.
 * The program leads a process group of its own, so stopping it stops what it started (a `curl` under a
 * shell script) too.
 */
export function runCommand(argv: readonly [string, ...string[]], o: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const stdout = new Tail(TAIL_BYTES);
    const stderr = new Tail(TAIL_BYTES);
    let child: ChildProcess;
    try {
      child = spawn(argv[0], argv.slice(1), { env: o.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, shell: false });
    } catch (e) {
      resolve({ code: null, signal: null, spawnError: e as NodeJS.ErrnoException, stderr: '', stdout: '' });
      return;
    }
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let stoppedBy: RunResult['stoppedBy'];
    let spawnError: NodeJS.ErrnoException | undefined;
    let settled = false;
    const timers = new Set<NodeJS.Timeout>();
    const after = (ms: number, f: () => void) => timers.add(setTimeout(f, ms));
    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is gone already.
      }
    };
    const settle = () => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      o.signal?.removeEventListener('abort', onAbort);
      // A descendant may still hold the pipes: stop reading them rather than wait for it.
      for (const s of [child.stdin, child.stdout, child.stderr]) s?.destroy();
      resolve({ code: exit?.code ?? null, signal: exit?.signal ?? null, ...(stoppedBy ? { stoppedBy } : {}), ...(spawnError ? { spawnError } : {}), stderr: stderr.text(), stdout: stdout.text() });
    };
    const stop = (why: 'timeout' | 'abort') => {
      // Once the program has exited its status stands, even while a descendant keeps the pipes open.
      if (settled || stoppedBy || exit) return;
      stoppedBy = why;
      signalGroup('SIGTERM');
      after(o.killGraceMs, () => {
        signalGroup('SIGKILL');
        after(IO_GRACE_MS, settle); // bounded even if something in the group cannot be killed
      });
    };
    const onAbort = () => stop('abort');

    child.on('error', (e: NodeJS.ErrnoException) => {
      // Only a failed spawn leaves no pid; other 'error' events (a failed kill) do not end the run.
      if (child.pid !== undefined) return;
      spawnError = e;
      settle();
    });
    child.on('exit', (code, sig) => {
      exit = { code, signal: sig };
      // No timeout or SIGKILL later: once the program is reaped, its group id may be reused.
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // Stopping: what the program started goes with it, now.
      if (stoppedBy) signalGroup('SIGKILL');
      after(IO_GRACE_MS, settle);
    });
    child.on('close', settle);
    child.stdout!.on('data', (c: Buffer) => stdout.push(c));
    child.stderr!.on('data', (c: Buffer) => stderr.push(c));
    // EPIPE when the program exits without reading all of it: its exit status decides, not the pipe.
    child.stdin!.on('error', () => {});
    child.stdin!.end(o.input);
    after(o.timeoutMs, () => stop('timeout'));
    if (o.signal?.aborted) stop('abort');
    else o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Why a run is not a delivery (the end of its stderr included), or undefined when it is one. */
export function failureOf(program: string, r: RunResult, timeoutMs: number): string | undefined {
  let why: string;
  if (r.spawnError) {
    const code = r.spawnError.code;
    why = `could not start ${program}: ${code === 'ENOENT' ? 'not found (ENOENT)' : code === 'EACCES' ? 'not executable (EACCES)' : (code ?? r.spawnError.message)}`;
  } else if (r.stoppedBy === 'timeout') why = `${program} timed out after ${timeoutMs} ms and was killed`;
  else if (r.stoppedBy === 'abort') why = `${program} was stopped: tlogwatch is shutting down`;
  else if (r.signal) why = `${program} was killed by ${r.signal}`;
  else if (r.code !== 0) why = `${program} exited with code ${r.code ?? 'unknown'}`;
  else return undefined;
  if (r.stderr) return `${why}; stderr: ${r.stderr}`;
  if (r.stdout) return `${why}; stdout: ${r.stdout}`;
  return why;
}

/** At most `n` at once; the rest wait their turn in order. */
function limiter(n: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(f: () => Promise<T>): Promise<T> => {
    if (active < n) active++;
    else await new Promise<void>((r) => waiting.push(r)); // the slot is handed over, still counted
    try {
      return await f();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** One `notify.commands` item (config/schema.ts). */
export interface CommandConfig {
  /** The program, then its arguments. */
  command: readonly string[];
  timeout: number;
  env: Readonly<Record<string, string>>;
}

export interface CommandChannelOptions {
  /** Where PASSED_ENV is read from; the daemon's environment unless a test says otherwise. */
  parentEnv?: NodeJS.ProcessEnv;
  /** Between SIGTERM and SIGKILL: KILL_GRACE_MS unless a test says otherwise. */
  killGraceMs?: number;
}

export function commandChannel(i: number, c: CommandConfig, o: CommandChannelOptions = {}): Channel {
  const [program] = c.command;
  if (program === undefined) throw new TypeError('command: an empty argument vector');
  const argv: [string, ...string[]] = [program, ...c.command.slice(1)];
  const limit = limiter(CONCURRENCY);
  const name = `command:${i}`;
  return {
    name,
    send: (f, signal) =>
      limit(async () => {
        // Stopped while waiting its turn: nothing is started, the row stays for the next start.
        if (signal?.aborted) throw new TlogwatchError('NOTIFY_FAILED', `${program} was not started: tlogwatch is shutting down`, { kind: 'transient', data: { channel: name } });
        const env = commandEnv(f, c.env, o.parentEnv ?? process.env);
        const r = await runCommand(argv, { env, input: `${JSON.stringify(findingDocument(f))}\n`, timeoutMs: c.timeout, killGraceMs: o.killGraceMs ?? KILL_GRACE_MS, ...(signal ? { signal } : {}) });
        const failure = failureOf(program, r, c.timeout);
        if (failure !== undefined) {
          throw new TlogwatchError('NOTIFY_FAILED', failure, { kind: 'transient', data: { channel: name, program, exitCode: r.code, signal: r.signal, ...(r.stoppedBy ? { stoppedBy: r.stoppedBy } : {}), stderr: r.stderr } });
        }
      }),
  };
}
