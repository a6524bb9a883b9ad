/** Runs `node src/cli.ts ARGS` (the real CLI, in its own process) and returns its exit code and output. */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `env` is added to this process's environment (e.g. a HOME of the test's own). */
export async function cli(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['src/cli.ts', ...args], { maxBuffer: 16 << 20, ...(env ? { env: { ...process.env, ...env } } : {}) });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/**
 * The CLI with its stdout a pipe whose reader has already gone, as after `… | head -1` read its line:
 * deterministic, where a real `| head` races the command's writes against the pipe's 64 KB buffer.
 */
export async function cliClosedStdout(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stderr };
}
