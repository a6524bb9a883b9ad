/** tlogwatch backup / restore: a point-in-time copy that reopens with the same entries, state and proofs. */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { cli } from '../helpers/cli.ts';
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

  it('refuses a store the daemon holds, saying so, and leaves nothing behind to retry over', async () => {
    const h = await harness({ api: 'tiles', entries: 50, seed: 'backup-locked' }, {}, undefined, { cliLayout: true });
    try {
      await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 50n);
      // The harness's store is open in this process: LevelDB's lock, as a running tlogwatch serve holds it.
      const out = join(tmp, 'locked-backup');
      const locked = /^tlogwatch (backup|restore): the store at .* is in use by another process .*: stop tlogwatch serve first/;
      const b = await cli(['backup', '--data-dir', h.dataDir, '--out', out]);
      expect(b).toMatchObject({ code: 2, stdout: '' });
      expect(b.stderr).toMatch(locked);
      expect(existsSync(out)).toBe(false);
      // An OUT made beforehand is left as it was: there, but empty.
      const made = join(tmp, 'made-restore');
      mkdirSync(made);
      const r = await cli(['restore', '--from', h.dataDir, '--data-dir', made]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(locked);
      expect(readdirSync(made)).toEqual([]);
      await h.store.close();
      // Stopped: the same --out works.
      const again = await cli(['backup', '--data-dir', h.dataDir, '--out', out]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^backed up \d+ records to /);
    } finally {
      await h.cleanup();
    }
  });
});
