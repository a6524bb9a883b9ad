/**
 * Which malloc this process runs on. The container image preloads jemalloc (LD_PRELOAD, docs/operations.md
 * "Memory"); a preload that fails is only a line on stderr, so the daemon reports what it actually got
 * (the `malloc` label of tlogwatch_build_info, the start-up log line).
 */
import { readFileSync } from 'node:fs';

export type MallocName = 'jemalloc' | 'tcmalloc' | 'mimalloc' | 'libc';

/** From the text of /proc/<pid>/maps: an allocator library mapped into the process, else the C library's malloc. */
export function mallocFromMaps(maps: string): MallocName {
  if (/\/libjemalloc\.so[.\d]*$/m.test(maps)) return 'jemalloc';
  if (/\/libtcmalloc(_minimal)?\.so[.\d]*$/m.test(maps)) return 'tcmalloc';
  if (/\/libmimalloc\.so[.\d]*$/m.test(maps)) return 'mimalloc';
  return 'libc';
}

/** This process's malloc (`libc` where /proc is not there to say otherwise). Reads /proc/self/maps. */
export function processMalloc(): MallocName {
  try {
    return mallocFromMaps(readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return 'libc';
  }
}
