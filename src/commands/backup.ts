/**
 * `tlogwatch backup --data-dir DIR --out DIR` and `tlogwatch restore --from DIR --data-dir DIR`: a consistent
 * copy of the store, both of its LevelDB databases (the store directory and its `entries/`, store.ts).
 * LevelDB iterators read from a snapshot, and both sources stay open (locked) for the whole copy, so the
 * copy is one point in time. A running daemon holds the locks: stop it first (or copy a filesystem
 * snapshot of the volume).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import { describeError } from '../errors.ts';
import { copyRecords, ENTRIES_DB_OPTIONS, MAIN_DB_OPTIONS } from '../store/level.ts';
import { ENTRIES_DIR } from '../store/store.ts';

type Db = Level<Uint8Array, Uint8Array>;

/** Copies the store at `from` (its main database and, when present, its entries database) into an empty `to`. */
async function copyStore(from: string, to: string): Promise<number> {
  if (!existsSync(join(from, 'CURRENT'))) throw new Error(`${from} is not a LevelDB store`);
  if (existsSync(to) && readdirSync(to).length > 0) throw new Error(`${to} is not empty; refusing to overwrite`);
  const pairs: Array<[Db, Db]> = [[new Level(from, { ...MAIN_DB_OPTIONS, createIfMissing: false }), new Level(to, MAIN_DB_OPTIONS)]];
  if (existsSync(join(from, ENTRIES_DIR, 'CURRENT'))) {
    pairs.push([new Level(join(from, ENTRIES_DIR), { ...ENTRIES_DB_OPTIONS, createIfMissing: false }), new Level(join(to, ENTRIES_DIR), ENTRIES_DB_OPTIONS)]);
  }
  try {
    for (const [src] of pairs) await src.open();
    for (const [, dst] of pairs) await dst.open();
    let n = 0;
    for (const [src, dst] of pairs) n += await copyRecords(src, dst);
    return n;
  } finally {
    for (const db of pairs.flat()) await db.close();
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
      process.stderr.write(`tlogwatch ${name}: ${describeError(e)}${/lock/i.test(String(e)) ? ' (stop tlogwatch serve first)' : ''}\n`);
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
