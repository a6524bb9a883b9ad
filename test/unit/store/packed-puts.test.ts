/** PackedPuts against the plain array of puts it stands for: same ops, same order, same bytes, across growth and reuse. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PackedPuts } from '../../../src/store/packed-puts.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const dump = (p: PackedPuts) => {
  const out: Array<[string, string]> = [];
  p.forEach((k, v) => out.push([hex(k), hex(v)]));
  return out;
};
const value = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 2000, maxLength: 5000 }));
/** A put: key, value, and sometimes a tail, which is stored as the value's continuation. */
const op = fc.tuple(fc.uint8Array({ maxLength: 80 }), value, fc.option(value, { nil: undefined }));
const joined = (v: Uint8Array, tail: Uint8Array | undefined) => hex(v) + (tail ? hex(tail) : '');

describe('PackedPuts', () => {
  it('hands back every put in order, byte for byte, however often it grows or is reset', () => {
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 300 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 4096 }), (batches, initial) => {
        const p = new PackedPuts(initial);
        for (const ops of batches) {
          p.reset();
          for (const [k, v, tail] of ops) p.put(k, v, tail);
          expect(p.length).toBe(ops.length);
          expect(p.byteLength).toBe(ops.reduce((n, [k, v, tail]) => n + k.length + v.length + (tail?.length ?? 0), 0));
          expect(dump(p)).toEqual(ops.map(([k, v, tail]) => [hex(k), joined(v, tail)]));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('copies what it is given: later changes to the caller\'s buffers do not reach it', () => {
    const p = new PackedPuts(8);
    const k = Buffer.from('key');
    const v = Buffer.from('value');
    const tail = Buffer.from('+tail');
    p.put(k, v, tail);
    k.fill(0);
    v.fill(0);
    tail.fill(0);
    expect(dump(p)).toEqual([[hex(Buffer.from('key')), hex(Buffer.from('value+tail'))]]);
  });

  it('reset empties it for the next batch', () => {
    const p = new PackedPuts(64);
    for (let i = 0; i < 1000; i++) p.put(Buffer.alloc(40, i), Buffer.alloc(2000, i));
    expect(p.byteLength).toBe(1000 * 2040);
    p.reset();
    expect(p.length).toBe(0);
    expect(dump(p)).toEqual([]);
    p.put(Uint8Array.of(1), Uint8Array.of(2));
    expect(dump(p)).toEqual([['01', '02']]);
  });
});
