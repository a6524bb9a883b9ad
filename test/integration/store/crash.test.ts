/**
 * Crash safety (DESIGN.md principle 2): a writer process is killed with SIGKILL at random moments; after
 * each kill the store must reopen with its state describing exactly the entries present, every index
 * consistent, no gap and no duplicate, and the marker written through extraOps in step with the state.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { checkLog } from '../../../src/store/check.ts';
import { fetchedSize } from '../../../src/store/codec.ts';
import { Bucket, key, readU64 } from '../../../src/store/keys.ts';
import { Store } from '../../../src/store/store.ts';

const WRITER = join(import.meta.dirname, 'crash-writer.ts');
const MARKER = key(Bucket.RULE_STATE, 'crash-test:fetched');
const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer; with `killAfterMs`, SIGKILLs it that long after its first commit. Resolves with its last report. */
function runWriter(opts: { killAfterMs?: number; target?: number }): Promise<{ signal: NodeJS.Signals | null; code: number | null; reported: number }> {
  return new Promise((resolve, reject) => {
    // process.execPath is the Node 24 vitest runs on, so the kill reaches the writer itself (not an npx wrapper).
    const child = spawn(process.execPath, [WRITER, dir, ...(opts.target ? [String(opts.target)] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let reported = 0;
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const m of chunk.matchAll(/committed (\d+)/g)) reported = Number(m[1]);
      if (!armed && opts.killAfterMs !== undefined) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (code, signal) => (code && code !== 0 ? reject(new Error(`writer failed (${code}): ${stderr}`)) : resolve({ code, signal, reported })));
  });
}

async function checkConsistent(): Promise<{ held: number; openMs: number }> {
  const t0 = performance.now();
  const store = await Store.open(dir);
  const openMs = performance.now() - t0;
  try {
    const check = await checkLog(store, 'l');
    expect(check.problems).toEqual([]);
    const state = check.state!;
    expect(Number(fetchedSize(state))).toBe(check.entries);
    const marker = await store.db.get(MARKER);
    expect(readU64(marker, 0)).toBe(fetchedSize(state));
    // The newest verified checkpoint is the frontier's root (checkLog rehashed the bodies into it).
    const frontier = CompactRange.deserialize(state.frontier);
    const latest = (await store.listCheckpoints('l', { limit: 1 })).checkpoints[0]!;
    expect(latest.size).toBe(frontier.size);
    expect(Buffer.from(latest.rootHash).equals(Buffer.from(frontier.root()))).toBe(true);
    return { held: check.entries, openMs };
  } finally {
    await store.close();
  }
}

describe('store crash safety', () => {
  it('stays consistent across SIGKILLs at random moments, and reopens fast with 100k+ entries', { timeout: 300_000 }, async () => {
    let before = 0;
    const kills: string[] = [];
    for (let round = 0; round < 8; round++) {
      const run = await runWriter({ killAfterMs: Math.floor(Math.random() * 400) });
      expect(run.signal).toBe('SIGKILL');
      const { held } = await checkConsistent();
      // Everything the writer reported as committed survived; at most the in-flight batch is lost.
      expect(held).toBeGreaterThanOrEqual(run.reported);
      expect(held).toBeGreaterThanOrEqual(before);
      kills.push(`${held - before}`);
      before = held;
    }
    await runWriter({ target: Math.max(before, 0) + 100_000 });
    const { held, openMs } = await checkConsistent();
    expect(held).toBeGreaterThanOrEqual(100_000);
    console.log(`crash test: entries gained per killed run ${kills.join(', ')}; reopened ${held} entries in ${openMs.toFixed(1)} ms`);
  });
});
