/** Canonical base64 (RFC 4648 §3.5, §4) against Node's encoder and the strict util decoder. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBase64Canonical, parseBase64CanonicalTransient } from '../../../src/entries/base64.ts';
import { parseBase64 } from '../../../src/util/bytes.ts';

describe('parseBase64Canonical', () => {
  it('round-trips every byte string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(parseBase64Canonical(Buffer.from(b).toString('base64'))).toEqual(b);
      }),
    );
  });
  it('accepts exactly what the strict util decoder accepts, minus non-zero pad bits', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AQZazg09+/=-_ \n'.split('')), maxLength: 12 }), (s) => {
        const mine = parseBase64Canonical(s);
        const util = parseBase64(s);
        if (mine) expect(util).toEqual(mine);
        else if (util) expect(Buffer.from(util).toString('base64')).not.toBe(s);
      }),
      { numRuns: 5000 },
    );
  });
  it('rejects whitespace, URL-safe letters, missing padding and non-zero pad bits', () => {
    for (const s of ['QUJD\n', 'QU JD', 'a-_b', 'QUI', 'QUI=A===', 'QR==', 'QUJ=']) expect(parseBase64Canonical(s), s).toBeUndefined();
    expect(parseBase64Canonical('QQ==')).toEqual(Uint8Array.of(0x41));
    expect(parseBase64Canonical('')).toEqual(new Uint8Array(0));
  });
});

/** The definition: canonical means re-encoding the decoded bytes gives the string back (RFC 4648 §3.5, §4). */
const byReencoding = (s: string): Uint8Array | undefined => {
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? Uint8Array.from(b) : undefined;
};
/** Strings near base64: its alphabet, padding, the URL-safe letters, whitespace, other ASCII and non-ASCII. */
const nearBase64 = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'AQZazg09+/=-_ \n.é\u2028'.split('')), maxLength: 12 }),
  fc.uint8Array({ maxLength: 40 }).chain((b) => {
    const e = Buffer.from(b).toString('base64');
    return fc.tuple(fc.nat(e.length), fc.constantFrom('', '=', '-', '_', ' ', '\n', 'A', '==', 'é', '.')).map(([i, c]) => e.slice(0, i) + c + e.slice(i));
  }),
);

describe('canonical base64 against its definition (re-encoding)', () => {
  it('parseBase64Canonical and the transient variant accept and reject exactly what re-encoding does', () => {
    fc.assert(
      fc.property(nearBase64, (s) => {
        const want = byReencoding(s);
        expect(parseBase64Canonical(s)).toEqual(want);
        const t = parseBase64CanonicalTransient(s);
        expect(t ? Uint8Array.from(t) : undefined).toEqual(want);
      }),
      { numRuns: 20000 },
    );
  });
});

describe('parseBase64CanonicalTransient', () => {
  const copy = (b: Uint8Array | undefined) => (b ? Uint8Array.from(b) : undefined);
  it('decodes exactly what parseBase64Canonical decodes, and rejects what it rejects', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')), fc.string({ unit: fc.constantFrom(...'AQZazg09+/=-_ \n'.split('')), maxLength: 12 })), (s) => {
        expect(copy(parseBase64CanonicalTransient(s))).toEqual(parseBase64Canonical(s));
      }),
      { numRuns: 5000 },
    );
  });
  it('grows its buffer for a large input and still decodes small ones after it', () => {
    const big = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    expect(copy(parseBase64CanonicalTransient(Buffer.from(big).toString('base64')))).toEqual(big);
    expect(copy(parseBase64CanonicalTransient('QUJD'))).toEqual(Uint8Array.of(0x41, 0x42, 0x43));
    // A longer input that fails the canonical check must not be read as the earlier, shorter bytes.
    expect(parseBase64CanonicalTransient('QUJDRA=')).toBeUndefined();
  });
  it('reuses its buffer: a result is only valid until the next call', () => {
    const a = parseBase64CanonicalTransient('QUJD')!;
    parseBase64CanonicalTransient('WFla');
    expect(Buffer.from(a).toString()).toBe('XYZ');
  });
});
