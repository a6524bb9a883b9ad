/**
 * Small filesystems for the disk-full tests: a tmpfs mounted at a directory, grown later by remounting, as
 * an operator freeing space would. Mounting needs root (CAP_SYS_ADMIN); `canMountTmpfs` says whether this
 * machine allows it (CI's does), so a suite can say why it skips elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
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

/** A tmpfs of `mib` MiB at the mirror harness's data directory, unmounted after the store has closed. */
export function tmpfsDataDir(mib: number): DataDirHooks {
  return { setUp: (dir) => mountTmpfs(dir, mib), tearDown: unmount };
}
