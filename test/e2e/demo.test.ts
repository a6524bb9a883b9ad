/**
 * `npm run demo` (scripts/demo.ts) as a newcomer runs it: the simulator and the daemon start, the daemon
 * mirrors the growing log with the example rules, the four rogue acme signatures (three in the history,
 * one appended live) become acme-release findings, and Ctrl-C stops everything with exit 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run demo', () => {
  it('mirrors the growing log, flags the rogue signatures, and stops on Ctrl-C', { timeout: 90_000 }, async () => {
    const demo = spawn(process.execPath, ['scripts/demo.ts'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEMO_DIR: join(dir, 'demo'), DEMO_LISTEN: '127.0.0.1:0', TLOGWATCH_LOG_LEVEL: 'warn' } });
    let out = '';
    demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
    demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
    try {
      const api = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /API\s+(http:\/\/\S+)\/v1\/logs/.exec(out);
          if (m) {
            clearInterval(timer);
            resolve(m[1]!);
          }
        }, 50);
        void exited.then((code) => (clearInterval(timer), reject(new Error(`demo exited ${code}: ${out}`))));
      });
      expect(out).toContain(`${api}/v1/findings?rule=acme-release`);
      let indexes: number[] = [];
      for (const t = Date.now(); Date.now() - t < 60_000; await new Promise((r) => setTimeout(r, 250))) {
        const body = (await (await fetch(`${api}/v1/findings?rule=acme-release&limit=50`)).json()) as { findings: Array<{ index: number }> };
        indexes = body.findings.map((f) => f.index).sort((a, b) => a - b);
        if (indexes.length >= 4) break;
      }
      // The three injected into the history, and the one appended after the 5,000 (the log grows live).
      expect(indexes.slice(0, 3)).toEqual([1200, 2500, 4000]);
      expect(indexes[3]).toBeGreaterThanOrEqual(5000);
      expect(indexes).toHaveLength(4);
      const logs = (await (await fetch(`${api}/v1/logs`)).json()) as Array<{ name: string; state: string; verifiedSize: number; checkpointSources?: Array<{ source: string }> }>;
      expect(logs[0]).toMatchObject({ name: 'rekor-v2-sim', state: 'following' });
      // The demo's checkpoint source has been asked (its result depends on how far the mirror is by then).
      expect(logs[0]!.checkpointSources?.map((c) => c.source)).toEqual(['second-path']);
      expect(logs[0]!.verifiedSize).toBeGreaterThan(5000);
    } finally {
      demo.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
