/** tlogwatch backup / restore: a point-in-time copy that reopens with the same entries, state and proofs. */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { cli } from '../helpers/cli.ts';
import { expectStoreMatchesManifest, harness, roundsUntil } from '../helpers/mirror.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-backup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs `tlogwatch ARGS` (a backup or restore into `store`) and SIGKILLs it as soon as its copy has begun
 * (`store`'s main database exists); tries again in a fresh place the rare time the copy finished first.
 */
async function killedMidCopy(args: readonly string[], store: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    rmSync(dirname(store), { recursive: true, force: true });
    const child = spawn(process.execPath, ['src/cli.ts', ...args], { stdio: 'ignore' });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let done = false;
    void exited.then(() => (done = true));
    while (!done && !existsSync(join(store, 'CURRENT'))) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    const [, signal] = await exited;
    if (signal === 'SIGKILL') return;
  }
  throw new Error(`${args[0]} finished before it could be killed, five times`);
}

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
      expect((again as { stderr: string }).stderr).toBe(`tlogwatch restore: ${join(tmp, 'restored', 'store')} is not empty; refusing to overwrite: give --data-dir a directory with no store in it, or move ${join(tmp, 'restored', 'store')} away first\n`);
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

  it('a backup or restore killed mid-copy leaves a store every command refuses; the same command again completes it', { timeout: 120_000 }, async () => {
    const h = await harness({ api: 'tiles', entries: 3000, seed: 'backup-killed' }, {}, undefined, { cliLayout: true });
    try {
      await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 3000n);
      await h.store.close();
      const incomplete = /is an incomplete copy: the (tlogwatch )?backup or restore that made it was cut short/;
      // [command, from flag, from, to flag, to]: the backup, then a restore from it.
      const copies = [
        ['backup', '--data-dir', h.dataDir, '--out', join(tmp, 'killed-backup')],
        ['restore', '--from', join(tmp, 'killed-backup'), '--data-dir', join(tmp, 'killed-restore')],
      ] as const;
      for (const [command, fromFlag, from, toFlag, to] of copies) {
        await killedMidCopy([command, fromFlag, from, toFlag, to], join(to, 'store'));
        // Nothing takes the part-copy for a store: neither a restore from it, nor check, nor the daemon (Store.open).
        if (command === 'backup') expect(await cli(['restore', '--from', to, '--data-dir', join(tmp, 'from-killed')])).toMatchObject({ code: 2, stderr: expect.stringMatching(incomplete) });
        expect(await cli(['check', '--data-dir', to])).toMatchObject({ code: 2, stderr: expect.stringMatching(incomplete) });
        const open = await Store.open(join(to, 'store')).catch((e: unknown) => e);
        expect((open as Error).message).toMatch(incomplete);
        // The same command again starts the copy over, into the same place.
        const again = await cli([command, fromFlag, from, toFlag, to]);
        expect(again.code, again.stderr).toBe(0);
      }
      // A backup that lost its CURRENT file is damaged, not "not a store", and nothing is restored from it.
      rmSync(join(tmp, 'killed-backup', 'store', 'CURRENT'));
      const damaged = await cli(['restore', '--from', join(tmp, 'killed-backup'), '--data-dir', join(tmp, 'from-damaged')]);
      expect(damaged).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tlogwatch restore: STORE_CORRUPT: the store at \S+ is damaged: .* no CURRENT file/) });
      expect(existsSync(join(tmp, 'from-damaged'))).toBe(false);
      const restored = await Store.open(join(tmp, 'killed-restore', 'store'));
      try {
        expect(await expectStoreMatchesManifest(restored, h.sim)).toBe(3000);
      } finally {
        await restored.close();
      }
    } finally {
      await h.cleanup();
    }
  });

  it('a directory with no store is named as one, with the directory the flag wants, and nothing is created', async () => {
    const nowhere = join(tmp, 'nothing-here');
    const b = await cli(['backup', '--data-dir', nowhere, '--out', join(tmp, 'never-out')]);
    expect(b).toEqual({ code: 2, stdout: '', stderr: `tlogwatch backup: no store at ${join(nowhere, 'store')}: nothing has been mirrored there (--data-dir is the directory tlogwatch serve ran with)\n` });
    const r = await cli(['restore', '--from', nowhere, '--data-dir', join(tmp, 'never-restored')]);
    expect(r).toEqual({ code: 2, stdout: '', stderr: `tlogwatch restore: no backup at ${join(nowhere, 'store')} (--from is the directory tlogwatch backup wrote, its --out)\n` });
    expect(existsSync(join(tmp, 'never-out')) || existsSync(join(tmp, 'never-restored'))).toBe(false);
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
