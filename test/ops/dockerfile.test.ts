/**
 * The Dockerfile, linted and checked without a Docker engine: dockerfile-utils' validator (the linter of
 * the Docker language server) must report nothing, and the image has the properties docs/operations.md
 * promises: multi-stage on Node 24 slim, `npm ci` + build, production dependencies only at runtime, a
 * non-root numeric user, state only in the /data volume, port 8080, a /healthz HEALTHCHECK, tini as
 * PID 1, OCI labels, the native Merkle addon built (strictly) where the compiler is, and a .dockerignore
 * that keeps the context small without dropping what COPY needs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { args, byKeyword, contextCopies, DOCKERFILE, DOCKERFILE_TEXT, env, execForm, healthcheck, labels, runCommand, runFlags, stage, stages } from './dockerfile.ts';
import { ROOT } from './tools.ts';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string };
const build = stage('build');
const runtime = stage('runtime');
const runs = (s: typeof build) => byKeyword(s, 'RUN').map(runCommand);
const indexOf = (s: typeof build, pred: (kw: string, text: string) => boolean) =>
  s.instructions.findIndex((i) => pred(i.getKeyword(), i.getKeyword() === 'RUN' ? runCommand(i) : (i.getArgumentsContent() ?? '')));

describe('Dockerfile', () => {
  it('passes the Dockerfile linter with no diagnostics', () => {
    const diagnostics = validate(DOCKERFILE_TEXT).map((d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`);
    expect(diagnostics).toEqual([]);
  });

  it('declares the BuildKit syntax it uses (RUN --mount)', () => {
    expect(DOCKERFILE.getDirectives().map((d) => `${d.getName()}=${d.getValue()}`)).toContain('syntax=docker/dockerfile:1');
  });

  it('is multi-stage on the Node 24 slim image, runtime last, no ADD, no floating tags', () => {
    const all = stages();
    expect(all.map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const s of all) expect(s.image).toBe('node:24-slim');
    expect(DOCKERFILE.getInstructions().filter((i) => i.getKeyword() === 'ADD')).toEqual([]);
  });

  it('build stage: npm ci before the sources are copied (layer cache), then npm run build', () => {
    const ci = indexOf(build, (kw, t) => kw === 'RUN' && /^npm ci\b/.test(t));
    const src = indexOf(build, (kw, t) => kw === 'COPY' && /^src\b/.test(t));
    const compile = indexOf(build, (kw, t) => kw === 'RUN' && t === 'npm run build');
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(ci).toBeLessThan(src);
    expect(src).toBeLessThan(compile);
    expect(runs(build).some((r) => /npm install\b/.test(r))).toBe(false);
    expect(runFlags(build.instructions[ci]!)).toEqual(['mount=type=cache,target=/root/.npm']);
  });

  it('build stage: the native addon from native/ with gcc, strictly (no silent node:crypto fallback in the image)', () => {
    const gcc = indexOf(build, (kw, t) => kw === 'RUN' && /apt-get install -y --no-install-recommends gcc libc6-dev\b/.test(t));
    const native = indexOf(build, (kw, t) => kw === 'COPY' && /^native\b/.test(t));
    const compile = indexOf(build, (kw, t) => kw === 'RUN' && t === 'npm run build:native -- --strict');
    expect(gcc).toBeGreaterThanOrEqual(0);
    expect(runs(build)[0]).toContain('rm -rf /var/lib/apt/lists/*');
    // After npm ci and tsc, so editing the C rebuilds neither layer.
    expect(native).toBeGreaterThan(indexOf(build, (kw, t) => kw === 'RUN' && t === 'npm run build'));
    expect(native).toBeLessThan(compile);
    // The compiler never reaches the runtime image.
    expect(runs(runtime).some((r) => /\b(gcc|build-essential|clang)\b/.test(r))).toBe(false);
  });

  it('runtime stage: production dependencies only, compiled dist/ and the addon from the build stage, no TypeScript sources', () => {
    expect(runs(runtime)).toContain('npm ci --omit=dev --no-audit --no-fund');
    expect(runs(runtime).some((r) => /npm install\b/.test(r))).toBe(false);
    const fromBuild = byKeyword(runtime, 'COPY').filter((c) => runFlags(c).includes('from=build'));
    expect(fromBuild.map((c) => c.getArgumentsContent())).toEqual(['/app/dist ./dist', '/app/build ./build']);
    expect(contextCopies(runtime).flatMap((c) => c.sources)).toEqual(['package.json', 'package-lock.json']);
    expect(env(runtime)['NODE_ENV']).toBe('production');
  });

  it('runs as a non-root numeric user that the image creates, owning /data', () => {
    const users = byKeyword(runtime, 'USER').map((u) => u.getArgumentsContent() ?? '');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    const setup = runs(runtime).join(' && ');
    expect(setup).toContain(`useradd --system --uid ${uid} `);
    expect(setup).toContain(`groupadd --system --gid ${gid} `);
    expect(setup).toContain(`chown ${uid}:${gid} /data`);
    // USER comes after every RUN, so nothing at runtime runs as root.
    const lastRun = Math.max(...runtime.instructions.map((i, n) => (i.getKeyword() === 'RUN' ? n : -1)));
    expect(indexOf(runtime, (kw) => kw === 'USER')).toBeGreaterThan(lastRun);
  });

  it('keeps state only in the /data volume, listens on 0.0.0.0:8080 and exposes 8080', () => {
    expect(byKeyword(runtime, 'VOLUME').map((v) => execForm(v))).toEqual([['/data']]);
    expect(byKeyword(runtime, 'EXPOSE').map((e) => e.getArgumentsContent())).toEqual(['8080']);
    const [cmd] = byKeyword(runtime, 'CMD');
    const argv = execForm(cmd!);
    expect(argv[0]).toBe('serve');
    expect(argv[argv.indexOf('--data-dir') + 1]).toBe('/data');
    expect(argv[argv.indexOf('--listen') + 1]).toBe('0.0.0.0:8080');
  });

  it('runs node under tini (installed from Debian) with exec-form ENTRYPOINT and CMD', () => {
    const [ep] = byKeyword(runtime, 'ENTRYPOINT');
    expect(execForm(ep!)).toEqual(['/usr/bin/tini', '--', 'node', '--max-semi-space-size=4', '--expose-gc', '/app/dist/cli.js']);
    expect(byKeyword(runtime, 'WORKDIR').map((w) => w.getArgumentsContent())).toEqual(['/app']);
    const apt = runs(runtime).find((r) => r.includes('apt-get install'));
    expect(apt).toMatch(/apt-get install -y --no-install-recommends tini\b/);
    expect(apt).toContain('rm -rf /var/lib/apt/lists/*');
  });

  it('preloads jemalloc from Debian by soname (any architecture), installed before the ENV that names it', () => {
    const install = indexOf(runtime, (kw, t) => kw === 'RUN' && /apt-get install -y --no-install-recommends [^&]*\blibjemalloc2\b/.test(t));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(env(runtime)['LD_PRELOAD']).toBe('libjemalloc.so.2');
    const preload = indexOf(runtime, (kw, t) => kw === 'ENV' && t.startsWith('LD_PRELOAD='));
    expect(preload).toBeGreaterThan(install);
    // jemalloc's options: freed pages go back to the kernel from a background thread after 500 ms.
    const conf = Object.fromEntries((env(runtime)['MALLOC_CONF'] ?? '').split(',').map((p) => p.split(':')));
    expect(conf).toEqual({ background_thread: 'true', dirty_decay_ms: '500', muzzy_decay_ms: '0' });
  });

  it('has a HEALTHCHECK on /healthz with node -e fetch (no curl in slim images)', () => {
    const hc = healthcheck(runtime);
    expect(Object.keys(hc.flags).sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
    expect(hc.cmd.slice(0, 2)).toEqual(['node', '-e']);
    expect(hc.cmd[2]).toContain('fetch(process.env.TLOGWATCH_HEALTHCHECK_URL');
    expect(hc.cmd[2]).toContain('process.exit(r.ok ? 0 : 1)');
    expect(env(runtime)['TLOGWATCH_HEALTHCHECK_URL']).toBe('http://127.0.0.1:8080/healthz');
  });

  it('carries the OCI labels, with the package version and license', () => {
    const l = labels(runtime);
    expect(l['org.opencontainers.image.source']).toMatch(/^https:\/\/github\.com\//);
    expect(l['org.opencontainers.image.licenses']).toBe(pkg.license);
    expect(l['org.opencontainers.image.version']).toBe('${VERSION}');
    expect(args(runtime)['VERSION']).toBe(pkg.version);
    expect(l['org.opencontainers.image.title']).toBe('tlogwatch');
  });

  it('sets no secret-looking environment variables', () => {
    for (const s of stages()) for (const k of Object.keys(env(s))) expect(k).not.toMatch(/TOKEN|SECRET|PASSWORD|KEY/i);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  // Top-level patterns only (all this file uses): a name, or a name with * wildcards.
  const ignored = (path: string) =>
    patterns.some((p) => {
      const first = path.split('/')[0]!;
      const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
      return re.test(path) || re.test(first);
    });

  it('keeps dependencies, build output, local state, VCS data and secrets out of the context', () => {
    for (const p of ['node_modules', '.git', 'dist', '.data', 'test', 'coverage', '.env', '.env.production', 'debug.log']) expect(ignored(p), p).toBe(true);
  });

  it('keeps everything the Dockerfile copies from the context', () => {
    const sources = stages().flatMap((s) => contextCopies(s).flatMap((c) => c.sources));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), `${src} exists`).toBe(true);
      expect(ignored(src), `${src} is not ignored`).toBe(false);
    }
  });
});
