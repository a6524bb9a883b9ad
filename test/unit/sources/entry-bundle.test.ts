/**
 * Entry bundles as a log serves them (C2SP tlog-tiles "entries": uint16 big-endian length, then the entry),
 * parsed by `entryBundleBounds` against a naive encoder. What a cut or padded response can make of a bundle:
 * refused (a transient fault), or exactly a prefix of its entries (which the caller counts against the
 * checkpoint); never other entries, never more.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryBundleBounds, parseEntryBundle } from '../../../src/sources/tiles.ts';

const encode = (entries: readonly Uint8Array[]): Uint8Array =>
  Buffer.concat(entries.flatMap((e) => [Buffer.of(e.length >> 8, e.length & 255), Buffer.from(e)]));
const hex = (es: readonly Uint8Array[]) => es.map((e) => Buffer.from(e).toString('hex'));

const entries = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 256 });

describe('entryBundleBounds', () => {
  it('gives back the entries of any bundle of 1..256, 65,535-byte entries included', () => {
    fc.assert(
      fc.property(entries, (es) => {
        expect(hex(parseEntryBundle(encode(es)))).toEqual(hex(es));
      }),
    );
    const big = [new Uint8Array(65_535).fill(1), new Uint8Array(0), new Uint8Array(65_535).fill(2)];
    expect(hex(parseEntryBundle(encode(big)))).toEqual(hex(big));
  });

  it('reads a cut bundle as refused, or as exactly the entries before the cut when it falls between two', () => {
    fc.assert(
      fc.property(entries, fc.nat(), (es, at) => {
        const data = encode(es);
        const cut = at % data.length; // strictly shorter than the bundle
        const ends = es.reduce<number[]>((acc, e) => [...acc, (acc.at(-1) ?? 0) + 2 + e.length], []);
        const k = ends.indexOf(cut);
        if (k < 0) expect(() => entryBundleBounds(data.subarray(0, cut))).toThrow();
        else expect(hex(parseEntryBundle(data.subarray(0, cut)))).toEqual(hex(es.slice(0, k + 1)));
      }),
    );
  });

  it('refuses an empty body, a trailing byte, a dangling length prefix and a 257th entry', () => {
    fc.assert(
      fc.property(entries, fc.integer({ min: 1, max: 0xffff }), fc.boolean(), (es, prefix, whole) => {
        // One byte past the last entry, or a length prefix with fewer bytes after it than it says.
        const tail = whole ? Buffer.of(prefix >> 8, prefix & 255) : Buffer.of(prefix & 255);
        expect(() => entryBundleBounds(Buffer.concat([encode(es), tail]))).toThrow();
      }),
    );
    expect(() => entryBundleBounds(new Uint8Array(0))).toThrow(/empty/);
    expect(() => entryBundleBounds(encode(Array.from({ length: 257 }, () => new Uint8Array(1))))).toThrow(/more than 256/);
  });
});
