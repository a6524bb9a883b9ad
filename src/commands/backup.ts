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

/** The two directories, or undefined when `--help` asked for the usage instead. */
function args(argv: string[], a: string, b: string): readonly [string, string] | undefined {
  const { values } = parseArgs({ args: argv, options: { [a]: { type: 'string' }, [b]: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values['help']) return undefined;
  const x = values[a];
  const y = values[b];
  if (typeof x !== 'string' || typeof y !== 'string') throw new Error(`usage: --${a} DIR --${b} DIR`);
  return [x, y] as const;
}

export async function backupCommand(argv: string[]): Promise<number> {
  try {
    const dirs = args(argv, 'data-dir', 'out');
    if (!dirs) {
      process.stdout.write('usage: tlogwatch backup --data-dir DIR --out DIR\n\nCopies the store at DIR/store into an empty OUT/store, as of one point in time. Stop tlogwatch serve first.\n');
      return 0;
    }
    const [dataDir, out] = dirs;
    const n = await copyStore(join(dataDir, 'store'), join(out, 'store'));
    process.stdout.write(`backed up ${n} records to ${out}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`tlogwatch backup: ${describeError(e)}${/lock/i.test(String(e)) ? ' (stop tlogwatch serve first)' : ''}\n`);
    return 2;
  }
}

export async function restoreCommand(argv: string[]): Promise<number> {
  try {
    const dirs = args(argv, 'from', 'data-dir');
    if (!dirs) {
      process.stdout.write('usage: tlogwatch restore --from DIR --data-dir DIR\n\nCopies a backup (DIR/store) into an empty DATA-DIR/store; it refuses to overwrite a store.\n');
      return 0;
    }
    const [from, dataDir] = dirs;
    const n = await copyStore(join(from, 'store'), join(dataDir, 'store'));
    process.stdout.write(`restored ${n} records into ${dataDir}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`tlogwatch restore: ${describeError(e)}\n`);
    return 2;
  }
}
