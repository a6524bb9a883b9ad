/**
 * `tlogwatch backup --data-dir DIR --out DIR` and `tlogwatch restore --from DIR --data-dir DIR`: a consistent
 * copy of the store, both of its LevelDB databases (the store directory and its `entries/`, store.ts).
 * LevelDB iterators read from a snapshot, and both sources stay open (locked) for the whole copy, so the
 * copy is one point in time. A running daemon holds the locks: stop it first (or copy a filesystem
 * snapshot of the volume).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Level } from 'level';
import { isTlogwatchError, TlogwatchError } from '../errors.ts';
import { copyRecords, damagedStoreMessage, ENTRIES_DB_OPTIONS, levelDirState, MAIN_DB_OPTIONS, openLevel } from '../store/level.ts';
import { COPY_INCOMPLETE, ENTRIES_DIR } from '../store/store.ts';
import { flagErrorText, isFlagError } from './flag-error.ts';
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
 * (level.ts STORE_LOCKED); a copy that fails removes what it created, so the same `to` can be used again.
 *
 * A copy cut short by a signal or a kill is a LevelDB store like any other, one that holds part of the
 * records: restored, the daemon served a state that says it holds entries the copy never got. So `to` is
 * marked (store.ts COPY_INCOMPLETE) before anything is written into it, every batch is synced, and the
 * mark goes only once all of it is on disk. Store.open refuses a marked store, a backup or restore refuses
 * to copy from one, and the next copy into it starts it again. A mark rather than a rename into place:
 * `to` may be a mount point.
 */
async function copyStore(from: string, to: string, noStore: (from: string) => string, toFlag: string): Promise<number> {
  if (existsSync(join(from, COPY_INCOMPLETE))) throw new Error(`${from} is an incomplete copy: the backup or restore that made it was cut short; make it again`);
  const found = levelDirState(from);
  if (found === 'damaged') throw new TlogwatchError('STORE_CORRUPT', damagedStoreMessage(from, from), { kind: 'fatal' });
  if (found === 'none') throw new Error(noStore(from));
  const mark = join(to, COPY_INCOMPLETE);
  const redo = existsSync(mark);
  if (!redo && existsSync(to) && readdirSync(to).length > 0) throw new Error(`${to} is not empty; refusing to overwrite: give --${toFlag} a directory with no store in it, or move ${to} away first`);
  const parts: Array<[string, typeof MAIN_DB_OPTIONS | typeof ENTRIES_DB_OPTIONS]> = [['', MAIN_DB_OPTIONS]];
  if (existsSync(join(from, ENTRIES_DIR, 'CURRENT'))) parts.push([ENTRIES_DIR, ENTRIES_DB_OPTIONS]);
  const open: Db[] = [];
  const created = firstMissing(to);
  // Set once `to` is this copy's: before that, what is there (another copy's, running) is left alone.
  let taken = false;
  try {
    const sources: Db[] = [];
    for (const [dir, options] of parts) {
      sources.push(await openLevel(join(from, dir), from, options, { createIfMissing: false }));
      open.push(sources.at(-1)!);
    }
    if (redo) await emptyCutShort(to);
    taken = true;
    mkdirSync(to, { recursive: true });
    writeFileSync(mark, 'a tlogwatch backup or restore into this store has not finished: tlogwatch refuses the store until one does\n', { flush: true });
    syncDir(to);
    let n = 0;
    for (const [i, [dir, options]] of parts.entries()) {
      const dst = await openLevel(join(to, dir), to, options);
      open.push(dst);
      n += await copyRecords(sources[i]!, dst, {}, { sync: true });
    }
    for (const db of open.splice(0)) await db.close();
    unlinkSync(mark);
    syncDir(to);
    return n;
  } catch (e) {
    for (const db of open.splice(0)) await db.close().catch(() => undefined);
    if (!taken) throw e;
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    else if (existsSync(to)) for (const f of readdirSync(to)) rmSync(join(to, f), { recursive: true, force: true });
    throw e;
  }
}

/**
 * Empties `to`, a copy cut short, unless a copy still running holds it (its LevelDB lock): two copies into
 * one place would each remove the other's records.
 */
async function emptyCutShort(to: string): Promise<void> {
  if (existsSync(join(to, 'CURRENT'))) {
    const db = await openLevel(to, to, MAIN_DB_OPTIONS, { createIfMissing: false }).catch((e: unknown) => {
      if (isTlogwatchError(e, 'STORE_LOCKED')) throw new Error(`another backup or restore is copying into ${to}; wait for it to finish`, { cause: e });
      return undefined; // unreadable: it is emptied all the same
    });
    await db?.close();
  }
  for (const f of readdirSync(to)) rmSync(join(to, f), { recursive: true, force: true });
}

/** fsync of a directory: the names created or removed in it survive a crash. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * One of the two commands: both copy the store under `--<from> DIR` into an empty store under `--<to> DIR`
 * (each DIR/store), and differ only in their flags, usage, report, and what they say when `--<from>` holds
 * no store (`noStore`: usually the wrong directory was given).
 */
function storeCopyCommand(name: string, [fromFlag, toFlag]: readonly [string, string], what: string, noStore: (from: string) => string, report: (n: number, to: string) => string) {
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
      const n = await copyStore(join(from, 'store'), join(to, 'store'), noStore, toFlag);
      process.stdout.write(`${report(n, to)}\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`${isFlagError(e) ? flagErrorText(name, e) : `tlogwatch ${name}: ${storeErrorText(e)}`}\n`);
      return 2;
    }
  };
}

export const backupCommand = storeCopyCommand(
  'backup',
  ['data-dir', 'out'],
  'Copies the store at DIR/store into an empty OUT/store, as of one point in time. Stop tlogwatch serve first.',
  (at) => `no store at ${at}: nothing has been mirrored there (--data-dir is the directory tlogwatch serve ran with)`,
  (n, out) => `backed up ${n} records to ${out}`,
);

export const restoreCommand = storeCopyCommand(
  'restore',
  ['from', 'data-dir'],
  'Copies a backup (DIR/store) into an empty DATA-DIR/store; it refuses to overwrite a store.',
  (at) => `no backup at ${at} (--from is the directory tlogwatch backup wrote, its --out)`,
  (n, dataDir) => `restored ${n} records into ${dataDir}`,
);
