/**
 * Shared helpers of the operations tests: the repository root, and the external tools they need
 * (promtool, amtool, prometheus, tini from Debian; scripts/ci-deps.sh installs them). A missing tool
 * skips its tests on a developer machine, loudly; in CI (CI=true) it fails them.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const inCI = () => /^(1|true|yes)$/i.test(process.env['CI'] ?? '');

/** Whether ld.so finds a shared library by its soname (what a bare LD_PRELOAD entry relies on), per `ldconfig -p`. */
export function loadable(soname: string): boolean {
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes(`\t${soname} `);
  } catch {
    return false;
  }
}

/** The tool's path, or undefined (with a warning) when it is missing outside CI; throws in CI. */
export function tool(name: string): string | undefined {
  let path: string | undefined;
  try {
    path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    path = undefined;
  }
  if (path) return path;
  const message = `${name} is not installed (Debian: run scripts/ci-deps.sh)`;
  if (inCI()) throw new Error(`${message}; CI must run these tests`);
  console.warn(`SKIPPING tests that need ${name}: ${message}`);
  return undefined;
}

/** A TCP port that was free a moment ago on 127.0.0.1 (for tools that cannot report the port they bound). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (typeof addr !== 'object' || !addr) throw new Error('no port');
  return addr.port;
}

/** Polls `check` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
