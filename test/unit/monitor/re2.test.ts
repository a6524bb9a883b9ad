/** rekor-monitor RE2 patterns → ECMAScript, unanchored, meaning what Go's regexp means. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRe2, translateRe2 } from '../../../src/monitor/rules/re2.ts';

const m = (re: string, v: string) => compileRe2(re).test(v);

describe('RE2 translation', () => {
  it('keeps rekor-monitor README patterns working, unanchored', () => {
    expect(m('user@domain\\.com', 'user@domain.com')).toBe(true);
    expect(m('user@domain\\.com', 'otheruser@domain.com.evil')).toBe(true); // unanchored, as in rekor-monitor
    expect(m('https://github\\.com/actions/starter-workflows/blob/main/\\.github/workflows/lint\\.yaml@.*', 'https://github.com/actions/starter-workflows/blob/main/.github/workflows/lint.yaml@refs/heads/main')).toBe(true);
    expect(m('https://token\\.actions\\.githubusercontent\\.com', 'https://token.actions.githubusercontent.com')).toBe(true);
    expect(m('^anchored$', 'anchored')).toBe(true);
    expect(m('^anchored$', 'not anchored')).toBe(false);
  });
  it('translates flags, named groups, \\A \\z, \\Q…\\E, \\x{…}, POSIX classes and punctuation escapes', () => {
    expect(m('(?i)ACME', 'acme')).toBe(true);
    expect(m('(?s)a.b', 'a\nb')).toBe(true);
    expect(m('a.b', 'a\nb')).toBe(false);
    expect(m('(?P<org>acme)/x', 'acme/x')).toBe(true);
    expect(m('\\Aacme\\z', 'acme')).toBe(true);
    expect(m('\\Aacme\\z', 'acme\n')).toBe(false);
    expect(m('\\Qa.b*c\\E', 'a.b*c')).toBe(true);
    expect(m('\\Qa.b*c\\E', 'aXbbbc')).toBe(false);
    expect(m('\\x{41}', 'A')).toBe(true);
    expect(m('^[[:alpha:]]+$', 'abcXYZ')).toBe(true);
    expect(m('^[[:digit:]]+$', '12a')).toBe(false);
    expect(m('user\\@acme\\.com', 'user@acme.com')).toBe(true);
    expect(m('a\\-b', 'a-b')).toBe(true);
    expect(m('[a\\-z]', '-')).toBe(true);
    expect(m('^[]a]+$', ']a]')).toBe(true);
    expect(m('^[^]a]$', 'b')).toBe(true);
    expect(m('a{', 'a{')).toBe(true);
    expect(m('a{2}', 'aa')).toBe(true);
    expect(m('\\pL+', 'é')).toBe(true);
  });
  it('rejects what RE2 rejects and what ECMAScript cannot express', () => {
    expect(() => translateRe2('(a)\\1')).toThrow(/backreference/);
    expect(() => translateRe2('a(?=b)')).toThrow(/lookaround/);
    expect(() => translateRe2('(?<!a)b')).toThrow(/lookaround/);
    expect(() => translateRe2('a(?i)b')).toThrow(/middle/);
    expect(() => translateRe2('(?U)a+')).toThrow(/ungreedy/);
    expect(() => translateRe2('[[:nope:]]')).toThrow(/POSIX/);
    expect(() => translateRe2('[abc')).toThrow(/missing \]/);
    expect(() => compileRe2('(')).toThrow(/not a valid RE2 pattern/);
  });
  it('never throws anything but an Error with a message, on any input', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          compileRe2(s).test('x');
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });
  it('plain literals mean substring search, as regexp.MatchString does', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9@/:_-]{1,12}$/), fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (lit, pre, post) => {
        expect(m(lit.replace(/-/g, '\\-'), pre + lit + post)).toBe(true);
      }),
    );
  });
});
