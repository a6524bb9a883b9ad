/**
 * Small filesystems for the disk-full tests: a tmpfs mounted at a directory, grown later by remounting, as
 * an operator freeing space would. Mounting needs root (CAP_SYS_ADMIN); `canMountTmpfs` says whether this
 * machine allows it (CI's does), so a suite can say why it skips elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataDirHooks } from './mirror.ts';

export function canMountTmpfs(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'tlogwatch-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(probe);
  }
}

export function mountTmpfs(dir: string, mib: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir]);
}

/** Unmounts `dir` if something is mounted there. */
export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    // not mounted (mounting failed): nothing to undo
  }
}

/** The tmpfs at `dir`, resized to `mib` MiB. */
export function growTmpfs(dir: string, mib: number): void {
  execFileSync('mount', ['-o', `remount,size=${mib}m`, dir]);
}

/**
 * The tmpfs at `dir` shrunk to what it holds plus `room` bytes (a page at least), as a disk that another
 * process filled. A tmpfs refuses to shrink below what it holds, and what is writing to it (LevelDB's
 * compactions run in the background) may grow it between the statfs and the remount: tried again then.
 */
export function fillTmpfs(dir: string, room: number): void {
  for (let attempt = 1; ; attempt++) {
    const fs = statfsSync(dir);
    const kib = Math.ceil(((fs.blocks - fs.bfree) * fs.bsize + Math.max(room, 4096)) / 1024);
    try {
      execFileSync('mount', ['-o', `remount,size=${kib}k`, dir], { stdio: 'ignore' });
      return;
    } catch (e) {
      if (attempt >= 20) throw e;
    }
  }
}

/** A tmpfs of `mib` MiB at the mirror harness's data directory, unmounted after the store has closed. */
export function tmpfsDataDir(mib: number): DataDirHooks {
  return { setUp: (dir) => mountTmpfs(dir, mib), tearDown: unmount };
}
