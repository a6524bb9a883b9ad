/** forTerminal (src/util/terminal.ts): control and bidi characters from the logs never reach a terminal raw. */
/* eslint-disable no-control-regex -- control characters are what these tests look for */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forTerminal } from '../../src/util/terminal.ts';

describe('forTerminal', () => {
  it('escapes C0/C1 controls, DEL and bidi controls, and leaves the rest alone', () => {
    expect(forTerminal('a\u001b[2Jb\u0007c\u007fd\u009be')).toBe('a\\u{1b}[2Jb\\u{7}c\\u{7f}d\\u{9b}e');
    expect(forTerminal('abc\u202edef\u2066')).toBe('abc\\u{202e}def\\u{2066}');
    expect(forTerminal('https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1 ✓ Å')).toBe('https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1 ✓ Å');
  });
  it('no output holds a control character, and text without one is unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const out = forTerminal(s);
        expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u);
        if (!/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(s)) expect(out).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});
