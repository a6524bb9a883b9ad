import { describe, expect, it } from 'vitest';
import { parseBase64, parseHex, toHex } from '../../src/util/bytes.ts';

describe('strict byte codecs', () => {
  it('round-trips hex and rejects upper case, odd length and wrong sizes', () => {
    expect(toHex(parseHex('00ff')!)).toBe('00ff');
    expect(parseHex('00FF')).toBeUndefined();
    expect(parseHex('0')).toBeUndefined();
    expect(parseHex('00', 2)).toBeUndefined();
  });
  it('rejects base64 that Node would silently accept', () => {
    expect(parseBase64('AAAA')).toEqual(new Uint8Array(3));
    expect(parseBase64('AA AA')).toBeUndefined();
    expect(parseBase64('AAA')).toBeUndefined();
    expect(parseBase64('AA==', 2)).toBeUndefined();
  });
});
