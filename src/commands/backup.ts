/**
 * `tlogwatch backup --data-dir DIR --out DIR` and `tlogwatch restore --from DIR --data-dir DIR`: a consistent
 * copy of the store, both of its LevelDB databases (the store directory and its `entries/`, store.ts).
 * LevelDB iterators read from a snapshot, and both sources stay open (locked) for the whole copy, so the
 * copy is one point in time. A running daemon holds the locks: stop it first (or copy a filesystem
 * snapshot of the volume).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Level } from 'level';
import { copyRecords, ENTRIES_DB_OPTIONS, MAIN_DB_OPTIONS, openLevel } from '../store/level.ts';
import { ENTRIES_DIR } from '../store/store.ts';
import { storeErrorText } from './offline-store.ts';

type Db = Level<Uint8Array, Uint8Array>;

/** The outermost of `dir` and its parents that does not exist yet: what a copy into `dir` creates. */
function firstMissing(dir: string): string | undefined {
  let missing: string | undefined;
  for (let d = resolve(dir); !existsSync(d) && d !== dirname(d); d = dirname(d)) missing = d;
  return missing;
}

/**
 * Copies the store at `from` (its main database and, when present, its entries database) into an empty
 * `to`. The sources are opened first, so a store the daemon holds is refused before anything is created
 * (level.ts STORE_LOCKED); a copy that fails for any reason removes what it created, so the same `to` can
 * be used again.
 */
async function copyStore(from: string, to: string): Promise<number> {
  if (!existsSync(join(from, 'CURRENT'))) throw new Error(`${from} is not a LevelDB store`);
  if (existsSync(to) && readdirSync(to).length > 0) throw new Error(`${to} is not empty; refusing to overwrite`);
  const parts: Array<[string, typeof MAIN_DB_OPTIONS | typeof ENTRIES_DB_OPTIONS]> = [['', MAIN_DB_OPTIONS]];
  if (existsSync(join(from, ENTRIES_DIR, 'CURRENT'))) parts.push([ENTRIES_DIR, ENTRIES_DB_OPTIONS]);
  const open: Db[] = [];
  const created = firstMissing(to);
  try {
    const sources: Db[] = [];
    for (const [dir, options] of parts) {
      sources.push(await openLevel(join(from, dir), from, options, { createIfMissing: false }));
      open.push(sources.at(-1)!);
    }
    let n = 0;
    for (const [i, [dir, options]] of parts.entries()) {
      const dst = await openLevel(join(to, dir), to, options);
      open.push(dst);
      n += await copyRecords(sources[i]!, dst);
    }
    return n;
  } catch (e) {
    for (const db of open.splice(0)) await db.close().catch(() => undefined);
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    else if (existsSync(to)) for (const f of readdirSync(to)) rmSync(join(to, f), { recursive: true, force: true });
    throw e;
  } finally {
    for (const db of open) await db.close();
  }
}

/**
 * One of the two commands: both copy the store under `--<from> DIR` into an empty store under `--<to> DIR`
 * (each DIR/store), and differ only in their flags, usage and report.
 */
function storeCopyCommand(name: string, [fromFlag, toFlag]: readonly [string, string], what: string, report: (n: number, to: string) => string) {
  const usage = `usage: tlogwatch ${name} --${fromFlag} DIR --${toFlag} DIR\n\n${what}\n`;
  return async (argv: string[]): Promise<number> => {
    try {
      const { values } = parseArgs({ args: argv, options: { [fromFlag]: { type: 'string' }, [toFlag]: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
      if (values['help']) {
        process.stdout.write(usage);
        return 0;
      }
      const from = values[fromFlag];
      const to = values[toFlag];
      if (typeof from !== 'string' || typeof to !== 'string') throw new Error(`usage: --${fromFlag} DIR --${toFlag} DIR`);
      const n = await copyStore(join(from, 'store'), join(to, 'store'));
      process.stdout.write(`${report(n, to)}\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`tlogwatch ${name}: ${storeErrorText(e)}\n`);
      return 2;
    }
  };
}

export const backupCommand = storeCopyCommand(
  'backup',
  ['data-dir', 'out'],
  'Copies the store at DIR/store into an empty OUT/store, as of one point in time. Stop tlogwatch serve first.',
  (n, out) => `backed up ${n} records to ${out}`,
);

export const restoreCommand = storeCopyCommand(
  'restore',
  ['from', 'data-dir'],
  'Copies a backup (DIR/store) into an empty DATA-DIR/store; it refuses to overwrite a store.',
  (n, dataDir) => `restored ${n} records into ${dataDir}`,
);
