/**
 * `npm run SCRIPT` as a user runs it, then SIGTERM to npm as a supervisor or `kill` sends it: whether what ran
 * under npm ended with it (src/util/launcher.ts). Linux: processes are read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, expect } from 'vitest';

/** Every process a test saw under npm, killed at the end should one have survived (a failing run leaves nothing). */
export const seen = new Set<number>();
afterAll(() => {
  for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL'); // a pid seen alive at the end is one this test started
});

/**
 * Whether `pid` still runs. An orphan that has exited stays a zombie until PID 1 reaps it, which a container's
 * init may do late or never; kill(pid, 0) succeeds on a zombie, so its state is read.
 */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The processes below `pid` (children, grandchildren…), from /proc: npm's shell and what it runs. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      // Field 4 of /proc/PID/stat, after the command name in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      parentOf.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  for (let frontier = [pid]; frontier.length; ) {
    frontier = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child);
    out.push(...frontier);
  }
  return out;
}

/** `npm run SCRIPT -- ARGS` as a user runs it, resolved once its stdout matches `ready`. */
export async function npmRun(script: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<{ npm: ChildProcess; match: RegExpExecArray; output: () => string }> {
  const npm = spawn('npm', ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  npm.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    npm.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve(m);
    });
    npm.once('exit', (code) => reject(new Error(`npm run ${script} exited ${code} before it was ready: ${err}`)));
  });
  return { npm, match, output: () => `${out}${err}` };
}

/** SIGTERM to npm, then the processes that ran under it still alive after `ms` (none, when all ended with it). */
export async function survivorsOfSigterm(npm: ChildProcess, ms = 10_000): Promise<number[]> {
  const below = descendants(npm.pid!);
  for (const p of below) seen.add(p);
  expect(below.length).toBeGreaterThan(0);
  npm.kill('SIGTERM');
  let left = below.filter(alive);
  for (const t = Date.now(); left.length && Date.now() - t < ms; left = below.filter(alive)) await new Promise((r) => setTimeout(r, 100));
  return left;
}

/** Whether anything still accepts connections at `url`. */
export const serving = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    () => true,
    () => false,
  );

