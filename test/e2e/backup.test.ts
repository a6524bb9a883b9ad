/** tlogwatch backup / restore: a point-in-time copy that reopens with the same entries, state and proofs. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { expectStoreMatchesManifest, harness, roundsUntil } from '../helpers/mirror.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-backup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('backup and restore', () => {
  it('copies the store and restores it into an empty data directory', async () => {
    const h = await harness({ api: 'tiles', entries: 500, seed: 'backup' });
    try {
      await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 500n);
      await h.store.close();
      // The harness keeps its store in dataDir itself; backup expects <data-dir>/store, so point at the parent layout.
      const dataDir = join(tmp, 'data');
      await run('cp', ['-r', h.dataDir, join(tmp, 'data-store')]);
      await run('mkdir', ['-p', dataDir]);
      await run('mv', [join(tmp, 'data-store'), join(dataDir, 'store')]);
      const b = await run(process.execPath, ['src/cli.ts', 'backup', '--data-dir', dataDir, '--out', join(tmp, 'backup')]);
      expect(b.stdout).toMatch(/backed up \d+ records/);
      const r = await run(process.execPath, ['src/cli.ts', 'restore', '--from', join(tmp, 'backup'), '--data-dir', join(tmp, 'restored')]);
      expect(r.stdout).toMatch(/restored \d+ records/);
      const again = await run(process.execPath, ['src/cli.ts', 'restore', '--from', join(tmp, 'backup'), '--data-dir', join(tmp, 'restored')]).catch((e: { code: number; stderr: string }) => e);
      expect((again as { code: number }).code).toBe(2);
      expect((again as { stderr: string }).stderr).toMatch(/not empty; refusing to overwrite/);
      const restored = await Store.open(join(tmp, 'restored', 'store'));
      try {
        expect((await restored.getLogState('sim'))?.verified?.size).toBe(500n);
        expect(await expectStoreMatchesManifest(restored, h.sim)).toBe(500);
      } finally {
        await restored.close();
      }
    } finally {
      await h.cleanup();
    }
  });
});
