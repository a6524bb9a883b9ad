/**
 * ReverseKeyCursors (src/store/key-cursors.ts) against a real LevelDB, with a fresh bounded iterator
 * (`db.keys({gte, lt, reverse})`) as the oracle: same keys, same order, for any range, any first chunk
 * size and any stopping point, however often the open iterators are reused; and no reuse across a write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReverseKeyCursors } from '../../../src/store/key-cursors.ts';
import { MARKER } from '../../../src/store/keys.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ALPHABET = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
/** Range ends: arbitrary bytes, or over the stored keys' alphabet so they often equal a stored key. */
const key = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 4 }),
  fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 3 }).map((a) => new Uint8Array(a)),
);

describe('ReverseKeyCursors', () => {
  let dir: string;
  let db: Level<Uint8Array, Uint8Array>;
  const present = new Set<string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tlw-cursors-'));
    db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    // Short keys over a small alphabet, so random ranges often start or end exactly on a stored key.
    const batch = db.batch();
    for (let i = 0; i < 3000; i++) {
      const n = 1 + (i % 3);
      const k = new Uint8Array(n);
      for (let j = 0; j < n; j++) k[j] = ALPHABET[(i * 7 + j * 13 + (i >> j)) % 6]!;
      batch.put(k, MARKER);
      present.add(hex(k));
    }
    await batch.write();
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const oracle = async (gte: Uint8Array, lt: Uint8Array) => (Buffer.compare(gte, lt) >= 0 ? [] : (await db.keys({ gte, lt, reverse: true }).all()).map(hex));

  it('reads exactly the keys a bounded reverse iterator reads, in the same order, stopping where asked', async () => {
    const cursors = new ReverseKeyCursors(db);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, key, fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 200 })), { minLength: 1, maxLength: 8 }), async (scans) => {
        // Several scans in a row reuse the same open iterators.
        for (const [a, b, first, stopAfter] of scans) {
          const want = await oracle(a, b);
          const got: string[] = [];
          await cursors.scan(a, b, first, (chunk) => {
            for (const k of chunk) {
              if (got.length === stopAfter) return false;
              got.push(hex(k));
            }
            return true;
          });
          expect(got).toEqual(want.slice(0, stopAfter));
        }
      }),
      { numRuns: 120 },
    );
    await cursors.close();
  });

  it('runs scans side by side, each on an iterator of its own', async () => {
    const cursors = new ReverseKeyCursors(db);
    // More scans in flight than the idle iterators kept (64), so some open and close their own.
    const ranges: Array<[Uint8Array, Uint8Array]> = Array.from({ length: 80 }, (_, i) => [new Uint8Array([i % 3 === 0 ? 0x00 : 0x01]), new Uint8Array([0xff, i % 2 ? 0x80 : 0xff])]);
    const results = await Promise.all(
      ranges.map(async ([a, b]) => {
        const got: string[] = [];
        await cursors.scan(a, b, 2, async (chunk) => {
          await new Promise((r) => setImmediate(r));
          for (const k of chunk) got.push(hex(k));
          return true;
        });
        return got;
      }),
    );
    for (let i = 0; i < ranges.length; i++) expect(results[i]).toEqual(await oracle(...ranges[i]!));
    await cursors.close();
  });

  it('sees a write made after invalidate(), even by an iterator opened before it', async () => {
    const cursors = new ReverseKeyCursors(db);
    const lo = new Uint8Array([0x42]);
    const hi = new Uint8Array([0x43]);
    const scanAll = async () => {
      const got: string[] = [];
      await cursors.scan(lo, hi, 2, (chunk) => (chunk.forEach((k) => got.push(hex(k))), true));
      return got;
    };
    expect(await scanAll()).toEqual([]); // leaves an idle iterator on the old snapshot
    await db.put(new Uint8Array([0x42, 0x01]), MARKER);
    cursors.invalidate();
    expect(await scanAll()).toEqual(['4201']);

    // A scan in flight across a write finishes on its own snapshot, and its iterator is not kept.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inFlight = (async () => {
      const got: string[] = [];
      await cursors.scan(lo, hi, 1, async (chunk) => {
        chunk.forEach((k) => got.push(hex(k)));
        await gate;
        return true;
      });
      return got;
    })();
    await new Promise((r) => setTimeout(r, 20));
    await db.put(new Uint8Array([0x42, 0x02]), MARKER);
    cursors.invalidate();
    release();
    expect(await inFlight).toEqual(['4201']);
    expect(await scanAll()).toEqual(['4202', '4201']);
    await cursors.close();
  });

  it('an empty or inverted range reads nothing and opens nothing', async () => {
    const cursors = new ReverseKeyCursors(db);
    let calls = 0;
    await cursors.scan(new Uint8Array([5]), new Uint8Array([5]), 2, () => (calls++, true));
    await cursors.scan(new Uint8Array([6]), new Uint8Array([5]), 2, () => (calls++, true));
    expect(calls).toBe(0);
    await cursors.close();
  });
});
