/** Canonical base64 (RFC 4648 §3.5, §4) against Node's encoder and the strict util decoder. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBase64Canonical } from '../../../src/entries/base64.ts';
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
