/**
 * `tlogwatch serve` as a real process against the simulator: kill -9 at random moments during catch-up,
 * restart, and the store still ends up exactly equal to the manifest (nothing lost, nothing doubled);
 * SIGTERM stops cleanly; the HTTP API answers from the daemon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { CompactRange } from '../../src/merkle/compact.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { expectStoreMatchesManifest } from '../helpers/mirror.ts';
import { SECURITY_HEADERS } from '../../src/api/security-headers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-serve-'));
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ api: 'tiles', entries: 12_000, seed: 'crash', out: join(tmp, 'sim'), log: () => {} });
}, 60_000);
afterAll(async () => {
  await sim.close();
  rmSync(tmp, { recursive: true, force: true });
});

function serve(dataDir: string, extra: string[] = []): { child: ChildProcess; listening: Promise<{ url: string; ms: number }> } {
  const started = performance.now();
  const child = spawn(process.execPath, ['src/cli.ts', 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--trusted-root', sim.trustedRootPath, '--log', `tiles=${sim.url}`, '--start', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' },
  });
  const listening = new Promise<{ url: string; ms: number }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, ms: performance.now() - started });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code} before listening`)));
  });
  return { child, listening };
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

async function stateOf(dataDir: string) {
  const store = await Store.open(join(dataDir, 'store'));
  try {
    return await store.getLogState(new URL(sim.url).host.replace(/[^a-zA-Z0-9._-]/g, '_'));
  } finally {
    await store.close();
  }
}

describe('tlogwatch serve', () => {
  it('survives kill -9 at random moments and ends with exactly the manifest', { timeout: 180_000 }, async () => {
    const dataDir = join(tmp, 'data-crash');
    const resumes: number[] = [];
    const sizes: bigint[] = [];
    for (let round = 0; round < 6; round++) {
      const { child, listening } = serve(dataDir);
      const { ms } = await listening;
      resumes.push(ms);
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 600)));
      child.kill('SIGKILL');
      await exited(child);
      const s = await stateOf(dataDir);
      if (s) sizes.push(CompactRange.deserialize(s.frontier).size);
    }
    // Progress was made across the kills, and never went backwards.
    expect(sizes.length).toBeGreaterThan(0);
    expect([...sizes].sort((a, b) => (a < b ? -1 : 1))).toEqual(sizes);
    const { child, listening } = serve(dataDir);
    const { url } = await listening;
    for (let i = 0; i < 600; i++) {
      const logs = (await (await fetch(`${url}/v1/logs`)).json()) as Array<{ verifiedSize: number }>;
      if (logs[0]?.verifiedSize === 12_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const digest = ((await import('node:fs')).readFileSync(sim.manifestPath, 'utf8').split('\n')[5] ?? '').match(/"digests":\["([^"]+)"/)![1];
    const res = await fetch(`${url}/v1/search?digest=${digest}`);
    // The security headers reach the wire from the daemon's own server (src/api/security-headers.ts).
    for (const [name, value] of SECURITY_HEADERS) expect(res.headers.get(name)).toBe(value);
    const found = (await res.json()) as { entries: Array<{ index: number }> };
    expect(found.entries.map((e) => e.index)).toContain(5);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    const store = await Store.open(join(dataDir, 'store'));
    try {
      const name = new URL(sim.url).host.replace(/[^a-zA-Z0-9._-]/g, '_');
      expect((await store.getLogState(name))?.verified?.size).toBe(12_000n);
      expect(await expectStoreMatchesManifest(store, sim, name)).toBe(12_000);
      let keys = 0;
      for await (const _ of store.entryDb.keys({ gte: new Uint8Array([0x02]), lt: new Uint8Array([0x03]) })) keys++;
      expect(keys).toBe(12_000);
    } finally {
      await store.close();
    }
    console.log(`resume to listening after kill -9: ${resumes.map((m) => Math.round(m)).join(', ')} ms`);
  });

  it('refuses a bad config before starting, with the path and line', async () => {
    const { writeFileSync } = await import('node:fs');
    const cfg = join(tmp, 'bad.yaml');
    writeFileSync(cfg, 'logs:\n  - name: x\n    type: tiles\n    url: http://127.0.0.1:1\n    colour: blue\n');
    const child = spawn(process.execPath, ['src/cli.ts', 'serve', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await exited(child)).toBe(2);
    expect(err).toMatch(/bad\.yaml:5:5: logs\.0: .*"colour"/);
  });

  it('keeps running when its stdout reader has gone before the "listening" line, and still stops cleanly on SIGTERM', { timeout: 60_000 }, async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const dataDir = join(tmp, 'data-closed-stdout');
    const child = spawn(process.execPath, ['src/cli.ts', 'serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--trusted-root', sim.trustedRootPath, '--log', `tiles=${sim.url}`, '--start', 'latest'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' },
    });
    child.stdout.destroy(); // as `tlogwatch serve | head -c 0`: the reader is gone before the first write
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let ready = false;
    for (let i = 0; i < 300 && child.exitCode === null && !ready; i++) {
      ready = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready, err).toBe(true);
    // Well after the "listening" write failed, the daemon is still there and serving.
    await new Promise((r) => setTimeout(r, 500));
    expect(child.exitCode, err).toBeNull();
    expect((await fetch(`http://127.0.0.1:${port}/v1/logs`)).status).toBe(200);
    expect(err).toContain('stdout is closed or unwritable');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
  });
});
