/** forTerminal and visibleJson (src/util/terminal.ts): control, bidi and invisible characters from the logs never reach a person raw. */
/* eslint-disable no-control-regex -- control characters are what these tests look for */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forTerminal, visibleJson } from '../../src/util/terminal.ts';

/** Written out by hand, apart from the property-escape class the module uses: controls, bidi, zero-width, separators, BOM, tags, fillers. */
// eslint-disable-next-line no-misleading-character-class -- the variation selectors are listed on their own on purpose
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\u{e0000}-\u{e0fff}]/u;

describe('forTerminal', () => {
  it('escapes C0/C1 controls, DEL and bidi controls, and leaves the rest alone', () => {
    expect(forTerminal('a\u001b[2Jb\u0007c\u007fd\u009be')).toBe('a\\u{1b}[2Jb\\u{7}c\\u{7f}d\\u{9b}e');
    expect(forTerminal('abc\u202edef\u2066')).toBe('abc\\u{202e}def\\u{2066}');
    expect(forTerminal('https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1 ✓ Å')).toBe('https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1 ✓ Å');
  });
  it('escapes what is invisible: zero-width characters, separators, the BOM, tag characters, lone surrogates', () => {
    expect(forTerminal('vic\u200btim@corp.example')).toBe('vic\\u{200b}tim@corp.example');
    expect(forTerminal('a\u2028b\u2029c\u2060d\ufeffe\u00adf\u3164g')).toBe('a\\u{2028}b\\u{2029}c\\u{2060}d\\u{feff}e\\u{ad}f\\u{3164}g');
    expect(forTerminal('x\u{e0041}\u{e007f}y\ud800z')).toBe('x\\u{e0041}\\u{e007f}y\\u{d800}z');
    // Look-alikes are letters: a Cyrillic а stays as it is.
    expect(forTerminal('\u0430cme')).toBe('\u0430cme');
  });
  it('no output holds a control or invisible character, and text without one is unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const out = forTerminal(s);
        expect(out).not.toMatch(HIDDEN);
        // Beyond the hand-written list, every format character (Cf: U+13430, a hieroglyph joiner, say) and
        // default-ignorable one is escaped too; text with none of those is left as it is.
        if (!HIDDEN.test(s) && !/[\ud800-\udfff\p{Cf}\p{Default_Ignorable_Code_Point}]/u.test(s)) expect(out).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('visibleJson', () => {
  it('writes hidden characters as JSON escapes, and parses back to exactly the same value', () => {
    const value = { identity: 'a\u202eb\u200bc\u{e0041}d\u007fe\u0085f\u2028g', plain: 'https://github.com/acme/api ✓' };
    const text = visibleJson(JSON.stringify(value, null, 2));
    expect(text).toContain('a\\u202eb\\u200bc\\udb40\\udc41d\\u007fe\\u0085f\\u2028g');
    expect(text).toContain('https://github.com/acme/api ✓');
    expect(JSON.parse(text)).toEqual(value);
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary', maxLength: 40 }), (v, s) => {
        const doc = { v, s };
        const out = visibleJson(JSON.stringify(doc));
        expect(out).not.toMatch(HIDDEN);
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(doc)));
      }),
      { numRuns: 1000 },
    );
  });
});
