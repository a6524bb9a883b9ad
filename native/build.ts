/**
 * Builds native/merkle.c into build/native/merkle.node, the addon src/merkle/native.ts loads, and checks
 * that it loads and agrees with node:crypto. npm runs it on `npm ci` (the `install` script); by hand:
 *
 *   npm run build:native            # or: npx node native/build.ts [--strict]
 *
 * Optional by design: without a C compiler or Node-API headers it prints one line and exits 0, and
 * tlogwatch hashes with node:crypto (slower, same results). `--strict` exits 1 instead, for builds that
 * must ship the fast path (the Dockerfile's build stage). CC overrides the compiler (default `cc`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'native', 'merkle.c');
const OUT = join(ROOT, 'build', 'native', 'merkle.node');
const strict = process.argv.includes('--strict');

/** node_api.h: the node-api-headers devDependency, else the headers installed beside this node binary. */
function headerDir(): string | undefined {
  const candidates: string[] = [];
  try {
    const dir = (createRequire(import.meta.url)('node-api-headers') as { include_dir?: unknown }).include_dir;
    if (typeof dir === 'string') candidates.push(dir);
  } catch {
    // not installed (npm ci --omit=dev): try node's own headers
  }
  candidates.push(join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node');
  return candidates.find((d) => existsSync(join(d, 'node_api.h')));
}

function compile(cc: string, include: string): void {
  // -z now: a symbol this node lacks fails the dlopen (and so the fallback), not a later call. The
  // SHA-256 functions are weak references the module's init checks itself (native/merkle.c).
  const link = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared', '-Wl,-z,now'];
  const tmp = `${OUT}.${process.pid}.tmp`;
  rmSync(OUT, { force: true }); // a failed build must not leave an addon of older sources behind
  mkdirSync(dirname(OUT), { recursive: true });
  try {
    execFileSync(cc, ['-O2', '-fPIC', '-std=c11', '-Wall', '-Wextra', '-fvisibility=hidden', ...link, '-I', include, '-o', tmp, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, OUT); // never leave a half-written addon where the loader looks
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Loads the fresh addon in this process and runs the loader's self-test on it. */
async function check(): Promise<string | undefined> {
  const { selfTest } = await import('../src/merkle/native.ts');
  const addon = createRequire(import.meta.url)(OUT) as Parameters<typeof selfTest>[0];
  return selfTest(addon);
}

/** The compiler's first error line, or the exit status, or the error's first line. */
function firstLine(e: unknown): string {
  const { stderr, status } = e as { stderr?: unknown; status?: unknown };
  const text = stderr instanceof Buffer ? stderr.toString().trim() : '';
  if (text) return text.split('\n').find((l) => /error/i.test(l)) ?? text.split('\n')[0]!;
  if (typeof status === 'number') return `exit status ${status}`;
  return String(e).split('\n')[0]!;
}

async function main(): Promise<boolean> {
  const say = (ok: boolean, what: string) => {
    const tail = ok ? '' : `; src/merkle hashes with node:crypto${strict ? '' : ' (slower, same results)'}`;
    process.stdout.write(`native: ${what}${tail}\n`);
    return ok;
  };
  if (process.platform === 'win32') return say(false, 'not built on Windows');
  const include = headerDir();
  if (!include) return say(false, 'no Node-API headers (node-api-headers or <node>/include/node)');
  const cc = process.env['CC'] || 'cc';
  try {
    compile(cc, include);
  } catch (e) {
    const missing = (e as { code?: unknown }).code === 'ENOENT';
    return say(false, missing ? `no C compiler (${cc})` : `${cc} failed: ${firstLine(e)}`);
  }
  const failed = await check().catch((e: unknown) => `it does not load: ${firstLine(e)}`);
  if (failed !== undefined) {
    rmSync(OUT, { force: true });
    return say(false, `built, but ${failed}`);
  }
  return say(true, `built ${OUT} (self-test passed${process.env['TLOGWATCH_NATIVE'] === '0' ? '; TLOGWATCH_NATIVE=0 disables it at run time' : ''})`);
}

const ok = await main().catch((e: unknown) => {
  process.stdout.write(`native: build script failed: ${firstLine(e)}\n`);
  return false;
});
if (!ok && strict) process.exitCode = 1;
