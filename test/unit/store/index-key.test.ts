/**
 * An index key read back (keys.ts parseIndexKey, indexKeyValue): what indexKey wrote, with the numbers read
 * without BigInt as Number(readU64) reads them (exact below 2^53), which check, the re-index and the search
 * scans relied on when each decoded keys by hand.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Field, indexKey, indexKeyValue, parseIndexKey, readU16, readU64 } from '../../../src/store/keys.ts';

/** An index value: any bytes but the 0x00 separator. */
const value = fc.uint8Array({ maxLength: 80 }).map((b) => b.map((x) => x || 1));

describe('parseIndexKey', () => {
  it('gives back the field, value, time, log id and index indexKey wrote', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(Field)), value, fc.maxSafeInteger().filter((n) => n >= 0), fc.integer({ min: 0, max: 0xffff }), fc.maxSafeInteger().filter((n) => n >= 0), (field, v, time, logId, index) => {
        const k = indexKey(field, v, time, logId, index);
        expect(parseIndexKey(k)).toEqual({ field, time, logId, index });
        expect(Buffer.from(indexKeyValue(k))).toEqual(Buffer.from(v));
      }),
    );
    // Past 2^32, where a 32-bit operator would wrap.
    expect(parseIndexKey(indexKey(Field.DIGEST, Uint8Array.of(1), 2 ** 33 + 5, 0xfffe, 3_000_000_001n))).toEqual({ field: Field.DIGEST, time: 2 ** 33 + 5, logId: 0xfffe, index: 3_000_000_001 });
  });

  it('reads any u64 as Number(readU64) does, rounded alike past 2^53', () => {
    fc.assert(
      fc.property(value, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v, time, index) => {
        const k = indexKey(Field.SAN, v, 0, 1, index);
        Buffer.from(k.buffer, k.byteOffset, k.length).writeBigUInt64BE(time, k.length - 18);
        const n = k.length;
        expect(parseIndexKey(k)).toEqual({ field: Field.SAN, time: Number(readU64(k, n - 18)), logId: readU16(k, n - 10), index: Number(readU64(k, n - 8)) });
      }),
    );
  });
});
