/** For tests of what the configuration reads from files (secret files): the files, and the errors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { isTlogwatchError } from '../../src/errors.ts';

/** A directory of the test file's own, removed after its tests; `file` writes one there and gives its path. */
export function tempFiles(prefix: string): { dir: string; file: (name: string, text: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    file: (name, text) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    },
  };
}

/** The message of the CONFIG_INVALID error `f` throws; fails the test when it throws none or another. */
export function configErrorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isTlogwatchError(e, 'CONFIG_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a CONFIG_INVALID error');
}
