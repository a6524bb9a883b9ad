/** rekor-monitor RE2 patterns, run by re2js: unanchored, meaning what Go's regexp means, linear in the value. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRe2 } from '../../../src/monitor/rules/re2.ts';

const m = (re: string, v: string) => compileRe2(re).test(v);

describe('RE2 patterns', () => {
  it('keeps rekor-monitor README patterns working, unanchored', () => {
    expect(m('user@domain\\.com', 'user@domain.com')).toBe(true);
    expect(m('user@domain\\.com', 'otheruser@domain.com.evil')).toBe(true); // unanchored, as in rekor-monitor
    expect(m('https://github\\.com/actions/starter-workflows/blob/main/\\.github/workflows/lint\\.yaml@.*', 'https://github.com/actions/starter-workflows/blob/main/.github/workflows/lint.yaml@refs/heads/main')).toBe(true);
    expect(m('https://token\\.actions\\.githubusercontent\\.com', 'https://token.actions.githubusercontent.com')).toBe(true);
    expect(m('^anchored$', 'anchored')).toBe(true);
    expect(m('^anchored$', 'not anchored')).toBe(false);
  });
  it('has RE2 flags, named groups, \\A \\z, \\Q…\\E, \\x{…}, POSIX classes and punctuation escapes', () => {
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
  it('has the flags ECMAScript has not: mid-pattern and ungreedy', () => {
    expect(m('^a(?i)b$', 'aB')).toBe(true);
    expect(m('^a(?i)b$', 'AB')).toBe(false);
    expect(m('^(?U)a+$', 'aaa')).toBe(true);
  });
  it('rejects what RE2 rejects, saying why', () => {
    expect(() => compileRe2('(a)\\1')).toThrow(/^not a valid RE2 regular expression: .*invalid escape sequence: `\\1`/);
    expect(() => compileRe2('a(?=b)')).toThrow(/unsupported Perl syntax: `\(\?=`/);
    expect(() => compileRe2('(?<!a)b')).toThrow(/not a valid RE2/);
    expect(() => compileRe2('[[:nope:]]')).toThrow(/invalid character class range/);
    expect(() => compileRe2('[abc')).toThrow(/missing closing \]/);
    expect(() => compileRe2('(')).toThrow(/missing closing \)/);
  });
  it('rejects a near miss in time linear in the value, where a backtracking engine takes seconds', () => {
    // V8 took 18 s on this (three `.*` and 3,000 slashes); anyone can log a certificate with such a SAN.
    // No timing assertion: exponential or polynomial matching would not finish within the test's timeout.
    const re = 'https://github\\.com/acme/.*/.*/.*\\.yml@refs/tags/.*';
    expect(m(re, `https://github.com/acme/${'/'.repeat(100_000)}x`)).toBe(false);
    expect(m(re, 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1')).toBe(true);
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
