/**
 * The one-pass matcher of undecoded-entry (src/monitor/eval/literal-matcher.ts) against the plain oracle:
 * a literal occurs when the text, its ASCII letters in lower case, holds the literal's UTF-8 bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiteralMatcher } from '../../../src/monitor/eval/literal-matcher.ts';

const lowerAscii = (b: Uint8Array) => b.map((x) => (x >= 65 && x <= 90 ? x + 32 : x));

function oracle(text: Uint8Array, literals: readonly string[]): number[] {
  const hay = Buffer.from(lowerAscii(text));
  return literals.flatMap((l, i) => (hay.includes(Buffer.from(lowerAscii(new Uint8Array(Buffer.from(l, 'utf8'))))) ? [i] : []));
}

function matched(m: LiteralMatcher, text: Uint8Array): number[] {
  const found = new Uint8Array(m.count);
  m.find(text, found);
  return [...found.keys()].filter((i) => found[i]);
}

describe('LiteralMatcher', () => {
  it('finds exactly the literals the text holds, ASCII case ignored (fast-check, the plain search as oracle)', () => {
    // A small alphabet, so literals overlap, share prefixes and suffixes, and nest in each other.
    const char = fc.constantFrom('a', 'b', 'c', '@', '.', '/', 'é');
    const literal = fc.string({ unit: char, minLength: 1, maxLength: 6 });
    const textByte = fc.constantFrom(...Buffer.from('abcABC@./'), 0xc3, 0xa9, 0x00, 0xff);
    fc.assert(
      fc.property(fc.array(literal, { minLength: 1, maxLength: 12 }), fc.uint8Array({ maxLength: 200 }).chain((seed) => fc.array(textByte, { minLength: seed.length, maxLength: seed.length + 40 })), (literals, bytes) => {
        const m = LiteralMatcher.of(literals)!;
        const text = new Uint8Array(bytes);
        expect(matched(m, text)).toEqual(oracle(text, literals));
      }),
      { numRuns: 2000 },
    );
  });

  it('adds to what an earlier text found and says how many it added, across the layers of one body', () => {
    const m = LiteralMatcher.of(['alice@acme.example', 'bob@acme.example', 'https://github.com/acme/'])!;
    const found = new Uint8Array(m.count);
    expect(m.find(Buffer.from('{"x":"ALICE@Acme.Example"}'), found)).toBe(1);
    expect(m.find(Buffer.from('alice@acme.example and https://GitHub.com/acme/api'), found)).toBe(1);
    expect([...found]).toEqual([1, 0, 1]);
  });

  it('looks for a literal as the UTF-8 a body spells it, and folds the case of ASCII letters only', () => {
    const m = LiteralMatcher.of(['josé@exämple.com'])!;
    expect(matched(m, Buffer.from('"san":"JOSÉ@EXÄMPLE.COM"'))).toEqual([]); // É is not é: only ASCII folds
    expect(matched(m, Buffer.from('"san":"José@Exämple.com"'))).toEqual([0]);
    expect(matched(m, Buffer.from('José@Exämple.com', 'latin1'))).toEqual([]);
  });

  it('has no matcher for an empty literal or a rule set whose table would pass its bound', () => {
    expect(LiteralMatcher.of(['a', ''])).toBeUndefined();
    // A trie node a literal byte, a column a byte value in use: 100,000 watched addresses pass MAX_CELLS.
    const many = Array.from({ length: 100_000 }, (_, i) => `user${i.toString(36).padStart(8, '0')}@acme.example`);
    expect(LiteralMatcher.of(many.slice(0, 1000))).toBeDefined();
    expect(LiteralMatcher.of(many)).toBeUndefined();
  });
});
