import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mallocFromMaps, processMalloc } from '../../../src/util/malloc.ts';

// Lines as /proc/<pid>/maps writes them (proc(5)): address perms offset dev inode, then the path.
const line = (path: string) => `7f3a1c000000-7f3a1c021000 r-xp 00000000 fe:00 1234567                    ${path}`;
const node = line('/work/node_modules/node/bin/node');
const libc = line('/usr/lib/x86_64-linux-gnu/libc.so.6');

describe('mallocFromMaps', () => {
  it('names jemalloc when its library is mapped (Debian soname, or a versioned file)', () => {
    expect(mallocFromMaps([node, line('/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'), libc].join('\n'))).toBe('jemalloc');
    expect(mallocFromMaps([node, line('/usr/local/lib/libjemalloc.so'), libc].join('\n'))).toBe('jemalloc');
  });

  it('names tcmalloc and mimalloc the same way', () => {
    expect(mallocFromMaps([node, line('/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.9')].join('\n'))).toBe('tcmalloc');
    expect(mallocFromMaps([node, line('/usr/lib/libmimalloc.so.2.1')].join('\n'))).toBe('mimalloc');
  });

  it('is libc otherwise, also for files that only look alike', () => {
    expect(mallocFromMaps([node, libc, line('[heap]')].join('\n'))).toBe('libc');
    expect(mallocFromMaps([node, line('/tmp/libjemalloc.so.2.bak'), line('/data/libjemalloc.so.2/store/000005.ldb')].join('\n'))).toBe('libc');
    expect(mallocFromMaps('')).toBe('libc');
  });

  it('reads this process: jemalloc exactly when it is mapped here', () => {
    const mapped = /\/libjemalloc\.so[.\d]*$/m.test(readFileSync('/proc/self/maps', 'utf8'));
    expect(processMalloc() === 'jemalloc').toBe(mapped);
  });
});
