/**
 * `tlogwatch backup --data-dir DIR --out DIR` and `tlogwatch restore --from DIR --data-dir DIR`: a consistent
 * copy of the LevelDB store. LevelDB iterators read from a snapshot, so the copy is one point in time.
 * The store is locked by a running daemon: stop it first (or copy a filesystem snapshot of the volume).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import { describeError } from '../errors.ts';

async function copyDb(from: string, to: string): Promise<number> {
  if (!existsSync(join(from, 'CURRENT'))) throw new Error(`${from} is not a LevelDB store`);
  if (existsSync(to) && readdirSync(to).length > 0) throw new Error(`${to} is not empty; refusing to overwrite`);
  const src = new Level<Uint8Array, Uint8Array>(from, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
  const dst = new Level<Uint8Array, Uint8Array>(to, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await src.open();
    await dst.open();
    let batch = dst.batch();
    let n = 0;
    for await (const [k, v] of src.iterator()) {
      batch.put(k, v);
      if (++n % 10_000 === 0) {
        await batch.write();
        batch = dst.batch();
      }
    }
    await batch.write();
    return n;
  } finally {
    await src.close();
    await dst.close();
  }
}

function args(argv: string[], a: string, b: string) {
  const { values } = parseArgs({ args: argv, options: { [a]: { type: 'string' }, [b]: { type: 'string' } } });
  const x = values[a];
  const y = values[b];
  if (typeof x !== 'string' || typeof y !== 'string') throw new Error(`usage: --${a} DIR --${b} DIR`);
  return [x, y] as const;
}

export async function backupCommand(argv: string[]): Promise<number> {
  try {
    const [dataDir, out] = args(argv, 'data-dir', 'out');
    const n = await copyDb(join(dataDir, 'store'), join(out, 'store'));
    process.stdout.write(`backed up ${n} records to ${out}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`tlogwatch backup: ${describeError(e)}${/lock/i.test(String(e)) ? ' (stop tlogwatch serve first)' : ''}\n`);
    return 2;
  }
}

export async function restoreCommand(argv: string[]): Promise<number> {
  try {
    const [from, dataDir] = args(argv, 'from', 'data-dir');
    const n = await copyDb(join(from, 'store'), join(dataDir, 'store'));
    process.stdout.write(`restored ${n} records into ${dataDir}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`tlogwatch restore: ${describeError(e)}\n`);
    return 2;
  }
}
