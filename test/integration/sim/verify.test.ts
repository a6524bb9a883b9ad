/**
 * `tlogwatch verify` accepts what the simulator serves, with the trusted root it writes: Rekor v1
 * LogEntry responses of every kind and shard, and Rekor v2 TransparencyLogEntry JSON built from its
 * tiles (proof and checkpoint from the tiles, as a client of Rekor v2 would get them). A rewritten entry fails.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { proveInclusionAsync } from '../../../src/merkle/prove.ts';
import { entriesPath, nodesFromTiles } from '../../../src/merkle/tiles.ts';
import { parseEntryBundle } from '../../../src/sources/tiles.ts';
import { bytes, getJson, httpTiles, manifest, sim, stopAll } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-simverify-'));
afterAll(async () => {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

async function verifyCli(trustedRoot: string, files: string[]): Promise<{ code: number; lines: Array<{ ok: boolean; checks: Record<string, string>; logIndex: number }> }> {
  const r = await promisify(execFile)(process.execPath, ['src/cli.ts', 'verify', '--json', '--trusted-root', trustedRoot, ...files], { maxBuffer: 16 << 20 }).then(
    (x) => ({ code: 0, stdout: x.stdout }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout + e.stderr }),
  );
  return { code: r.code, lines: r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; checks: Record<string, string>; logIndex: number }) };
}

describe('tlogwatch verify on what the simulator serves', () => {
  it('verifies Rekor v1 entries of every kind from both shards: body, inclusion, checkpoint and SET', { timeout: 60_000 }, async () => {
    const s = await sim({ api: 'v1', entries: 120, seed: 'verify', shards: 2, inject: [{ at: 70, key: 'ed25519', digest: `sha256:${'a'.repeat(64)}` }] });
    const m = manifest(s);
    const pick = [0, 59, 60, 70, 119, ...['dsse', 'intoto'].map((k) => m.find((l) => l.kind === k)!.index)];
    const files = [];
    for (const i of pick) {
      const f = join(tmp, `v1-${i}.json`);
      writeFileSync(f, JSON.stringify(await getJson(`${s.url}/api/v1/log/entries?logIndex=${i}`)));
      files.push(f);
    }
    const r = await verifyCli(s.trustedRootPath, files);
    // A certificate is judged at the time the SET signs; an entry signed with a key (no SAN) has none to judge.
    expect(r.lines.map((l) => l.checks)).toEqual(pick.map((i) => ({ body: 'ok', inclusion: 'ok', checkpoint: 'ok', set: 'ok', tsa: 'absent', certificate: m[i]!.san === null ? 'absent' : 'ok' })));
    expect(r.code).toBe(0);

    s.faults.enable('rewrite', 59);
    const bad = join(tmp, 'v1-rewritten.json');
    writeFileSync(bad, JSON.stringify(await getJson(`${s.url}/api/v1/log/entries?logIndex=59`)));
    const r2 = await verifyCli(s.trustedRootPath, [bad]);
    expect(r2.code).toBe(1);
    expect(r2.lines[0]!.ok).toBe(false);
    expect(r2.lines[0]!.checks['inclusion']).toBe('fail');
  });

  it('verifies Rekor v2 entries (hashedrekord and dsse) with proofs and checkpoints taken from the tiles', { timeout: 60_000 }, async () => {
    const s = await sim({ api: 'tiles', entries: 300, seed: 'verify-tiles' });
    const size = 300n;
    const checkpoint = await (await fetch(`${s.url}/checkpoint`)).text();
    const keyId = JSON.parse(readFileSync(s.trustedRootPath, 'utf8')).tlogs[0].logId.keyId as string;
    const bodies = [...parseEntryBundle(await bytes(`${s.url}/${entriesPath(0n)}`)), ...parseEntryBundle(await bytes(`${s.url}/${entriesPath(1n, 44)}`))];
    const m = manifest(s);
    const pick = [0, 255, 256, 299, m.find((l) => l.kind === 'dsse')!.index];
    const files = [];
    for (const i of pick) {
      const hashes = await proveInclusionAsync(BigInt(i), size, (nodes) => nodesFromTiles(nodes, size, httpTiles(s)));
      const tle = {
        logIndex: String(i),
        logId: { keyId },
        kindVersion: { kind: m[i]!.kind, version: '0.0.2' },
        integratedTime: '0',
        inclusionProof: {
          logIndex: String(i),
          rootHash: checkpoint.split('\n')[2], // base64, as in the checkpoint
          treeSize: String(size),
          hashes: hashes.map((h) => Buffer.from(h).toString('base64')),
          checkpoint: { envelope: checkpoint },
        },
        canonicalizedBody: Buffer.from(bodies[i]!).toString('base64'),
      };
      const f = join(tmp, `v2-${i}.json`);
      writeFileSync(f, JSON.stringify(tle));
      files.push(f);
    }
    const r = await verifyCli(s.trustedRootPath, files);
    // Bare Rekor v2 entries: no signed time to judge a certificate at (verify warns), and ok.
    expect(r.lines.map((l) => l.checks)).toEqual(pick.map(() => ({ body: 'ok', inclusion: 'ok', checkpoint: 'ok', set: 'absent', tsa: 'absent', certificate: 'absent' })));
    expect(r.code).toBe(0);
  });
});
