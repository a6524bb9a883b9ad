/**
 * The reused native write batches behind `writeBatch` (reused-batches.ts): taken with the installed
 * classic-level (not its chained-batch fallback), one native batch serves write after write without
 * carrying ops from one write into the next, concurrent writes each get their own, a fill that throws
 * writes nothing, and a closed database is refused the way abstract-level refuses it. A property test
 * checks random sequences of writes against a Map.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Level } from 'level';
import { LEVEL_OPTIONS, writeArrayBatch, writeBatch, type BatchOp } from '../../../src/store/level.ts';
import { PackedPuts } from '../../../src/store/packed-puts.ts';
import { reusedBatches } from '../../../src/store/reused-batches.ts';

type Db = Level<Uint8Array, Uint8Array>;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(): Promise<Db> {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-reused-'));
  dirs.push(dir);
  const db = new Level<Uint8Array, Uint8Array>(dir, LEVEL_OPTIONS);
  await db.open();
  return db;
}

async function dump(db: Db): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const [k, v] of db.iterator()) out[Buffer.from(k).toString()] = Buffer.from(v).toString();
  return out;
}

const put = (k: string, v: string): BatchOp => ({ type: 'put', key: Buffer.from(k), value: Buffer.from(v) });
const del = (k: string): BatchOp => ({ type: 'del', key: Buffer.from(k) });

describe('reused write batches', () => {
  it('are what writeBatch uses with the installed classic-level (not the chained-batch fallback)', async () => {
    const db = await open();
    const pool = reusedBatches(db);
    expect(pool).toBeDefined();
    expect(reusedBatches(db)).toBe(pool);
    // Anything that is not a classic-level database gets none.
    expect(reusedBatches({} as Db)).toBeUndefined();
    await db.close();
  });

  it('serve write after write with one native batch, each write carrying only its own ops', async () => {
    const db = await open();
    const pool = reusedBatches(db)!;
    await writeBatch(db, [put('a', '1'), put('b', '1')]);
    // Deleted by another path in between: a reused batch that still held 'a' would bring it back.
    await writeArrayBatch(db, [del('a')]);
    await writeBatch(db, [put('c', '2')], {}, [del('b')]);
    const arena = new PackedPuts(16);
    arena.put(Buffer.from('d'), Buffer.from('3'));
    await writeBatch(db, arena, { sync: true }, [put('e', '3')]);
    expect(await dump(db)).toEqual({ c: '2', d: '3', e: '3' });
    expect(pool.created).toBe(1);
    await db.close();
  });

  it("copies an arena's bytes before it returns: resetting and refilling the arena changes nothing written", async () => {
    const db = await open();
    const arena = new PackedPuts(16);
    arena.put(Buffer.from('k'), Buffer.from('first'));
    const written = writeBatch(db, arena);
    arena.reset();
    arena.put(Buffer.from('x'), Buffer.from('later'));
    await written;
    expect(await dump(db)).toEqual({ k: 'first' });
    await db.close();
  });

  it('give concurrent writes a batch each, and keep at most two idle', async () => {
    const db = await open();
    const pool = reusedBatches(db)!;
    await Promise.all(Array.from({ length: 5 }, (_, i) => writeBatch(db, [put(`k${i}`, `${i}`)])));
    expect(await dump(db)).toEqual({ k0: '0', k1: '1', k2: '2', k3: '3', k4: '4' });
    expect(pool.created).toBe(5);
    await Promise.all(Array.from({ length: 2 }, (_, i) => writeBatch(db, [put(`j${i}`, 'x')])));
    expect(pool.created).toBe(5);
    await db.close();
  });

  it('refuse a key or value that is not bytes, write nothing then, and leave the batch clean for the next write', async () => {
    const db = await open();
    const pool = reusedBatches(db)!;
    const bad = [put('a', '1'), { type: 'put', key: 42, value: Buffer.from('x') }] as unknown as BatchOp[];
    const badDel = [put('a', '1'), { type: 'del', key: 'a' }] as unknown as BatchOp[];
    await expect(writeBatch(db, bad)).rejects.toThrow(TypeError);
    await expect(writeBatch(db, [], {}, badDel)).rejects.toThrow(TypeError);
    await writeBatch(db, [put('b', '2')]);
    expect(await dump(db)).toEqual({ b: '2' });
    expect(pool.created).toBe(1);
    await db.close();
  });

  it('refuse a database that is not open with LEVEL_DATABASE_NOT_OPEN, and let a write in flight finish before close', async () => {
    const db = await open();
    const dir = db.location;
    const inFlight = writeBatch(db, [put('a', '1')], { sync: true });
    const closing = db.close();
    await expect(writeBatch(db, [put('b', '2')])).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
    await inFlight;
    await closing;
    await expect(writeBatch(db, [put('c', '3')])).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
    const again = new Level<Uint8Array, Uint8Array>(dir, LEVEL_OPTIONS);
    await again.open();
    expect(await dump(again)).toEqual({ a: '1' });
    await again.close();
  });

  it('agree with a Map over random sequences of writes (puts, overwrites, deletes; arenas and op lists)', async () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    const op = fc.oneof(fc.tuple(key, fc.string({ minLength: 1, maxLength: 40 })).map(([k, v]) => put(k, v)), key.map(del));
    const write = fc.record({ ops: fc.array(op, { maxLength: 8 }), more: fc.array(op, { maxLength: 3 }), arena: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 12 }), async (writes) => {
        const db = await open();
        try {
          const model = new Map<string, string>();
          for (const w of writes) {
            const apply = (o: BatchOp) => (o.type === 'put' ? model.set(Buffer.from(o.key).toString(), Buffer.from(o.value).toString()) : model.delete(Buffer.from(o.key).toString()));
            if (w.arena) {
              // An arena holds puts only; its deletes go in `more`, after it, as in a commit.
              const arena = new PackedPuts(8);
              for (const o of w.ops) if (o.type === 'put') arena.put(o.key, o.value);
              const more = [...w.ops.filter((o) => o.type === 'del'), ...w.more];
              await writeBatch(db, arena, {}, more);
              for (const o of w.ops) if (o.type === 'put') apply(o);
              for (const o of more) apply(o);
            } else {
              await writeBatch(db, w.ops, {}, w.more);
              for (const o of [...w.ops, ...w.more]) apply(o);
            }
          }
          expect(await dump(db)).toEqual(Object.fromEntries(model));
        } finally {
          await db.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
