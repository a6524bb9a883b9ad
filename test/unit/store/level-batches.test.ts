/**
 * The store's two batch writes (level.ts): a chained batch (many small ops) and an array batch (a few large
 * values, freed as soon as written) write the same records from a PackedPuts arena or an op list, and the
 * array batch's arena views are consumed before it returns, so the arena can be reset at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Level } from 'level';
import { MARKER } from '../../../src/store/keys.ts';
import { copyRecords, LEVEL_OPTIONS, writeArrayBatch, writeBatch, type BatchOp } from '../../../src/store/level.ts';
import { PackedPuts } from '../../../src/store/packed-puts.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(): Promise<Level<Uint8Array, Uint8Array>> {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-level-'));
  dirs.push(dir);
  const db = new Level<Uint8Array, Uint8Array>(dir, LEVEL_OPTIONS);
  await db.open();
  return db;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
async function dump(db: Level<Uint8Array, Uint8Array>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const [k, v] of db.iterator()) out.push([hex(k), hex(v)]);
  return out;
}

/** 300 records: keys in random order, values from one byte to several KB (never empty: keys.ts MARKER). */
function records(seed: number): Array<[Buffer, Buffer]> {
  const out: Array<[Buffer, Buffer]> = [];
  for (let i = 0; i < 300; i++) {
    const k = Buffer.alloc(12);
    k.writeUInt32BE((i * 2654435761 + seed) >>> 0, 0);
    k.writeUInt32BE(i, 8);
    out.push([k, Buffer.alloc(1 + ((i * 37) % 5000), (i + seed) & 0xff)]);
  }
  return out;
}

describe('writeArrayBatch and writeBatch', () => {
  it('write the same records, from an arena (writeBatch) or from an op list', async () => {
    const recs = records(7);
    const expected = recs.map(([k, v]) => [hex(k), hex(v)] as [string, string]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const arena = new PackedPuts(64);
    for (const [k, v] of recs) arena.put(k, v);
    const list: BatchOp[] = recs.map(([key, value]) => ({ type: 'put', key, value }));
    for (const write of [
      (db: Level<Uint8Array, Uint8Array>) => writeArrayBatch(db, list, { sync: true }),
      (db: Level<Uint8Array, Uint8Array>) => writeBatch(db, arena),
      (db: Level<Uint8Array, Uint8Array>) => writeBatch(db, list),
    ]) {
      const db = await open();
      await write(db);
      expect(await dump(db)).toEqual(expected);
      await db.close();
    }
  });

  it('refuse an empty value, which classic-level would leak, on every path, writing nothing', async () => {
    const db = await open();
    const ops: BatchOp[] = [{ type: 'put', key: Buffer.from('a'), value: Buffer.from('1') }, { type: 'put', key: Buffer.from('b'), value: new Uint8Array(0) }];
    const arena = new PackedPuts(64);
    for (const op of ops) if (op.type === 'put') arena.put(op.key, op.value);
    for (const write of [() => writeArrayBatch(db, ops), () => writeBatch(db, ops), () => writeBatch(db, arena), () => writeBatch(db, [], {}, ops)]) {
      await expect(write()).rejects.toThrow(/empty LevelDB value/);
    }
    expect(await dump(db)).toEqual([]);
    await db.close();
  });

  it('copyRecords copies every record, writing an empty value (a store from before MARKER) as MARKER', async () => {
    const src = await open();
    // Written with level's own put: the leak is one allocation per value, harmless for three.
    await src.put(Buffer.from('k1'), Buffer.from('v1'));
    await src.put(Buffer.from('k2'), new Uint8Array(0));
    await src.put(Buffer.from('k3'), MARKER);
    const dst = await open();
    expect(await copyRecords(src, dst)).toBe(3);
    expect(await dump(dst)).toEqual([
      [hex(Buffer.from('k1')), hex(Buffer.from('v1'))],
      [hex(Buffer.from('k2')), '00'],
      [hex(Buffer.from('k3')), '00'],
    ]);
    await src.close();
    await dst.close();
  });

  it('an array batch is all or nothing: a bad op writes none of them', async () => {
    const db = await open();
    const ops = [{ type: 'put', key: Buffer.from('a'), value: Buffer.from('1') }, { type: 'put', key: null, value: Buffer.from('2') }] as unknown as BatchOp[];
    await expect(writeArrayBatch(db, ops)).rejects.toThrow();
    expect(await dump(db)).toEqual([]);
    await db.close();
  });
});
