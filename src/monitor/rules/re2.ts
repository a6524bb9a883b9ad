/**
 * RE2 (Go `regexp`) patterns from rekor-monitor configs, translated to ECMAScript so that they mean
 * what they mean there. Syntax: https://github.com/google/re2/wiki/Syntax (Go: pkg.go.dev/regexp/syntax).
 *
 * Translated: leading `(?flags)` (i, m, s) → RegExp flags; `(?P<name>` → `(?<name>`; `\A`, `\z`;
 * `\Q…\E`; `\x{…}`; POSIX classes `[[:alpha:]]`; escaped punctuation (`\@`, `\:`), which RE2 allows
 * and ECMAScript's `u` mode does not; literal `{` `}` `]` where they are not syntax.
 * Rejected, as RE2 rejects them (so rekor-monitor would refuse the config): backreferences and
 * lookaround. Rejected because ECMAScript cannot express them: flags that change mid-pattern, `(?U)`.
 * Matching stays UNANCHORED, as Go's `regexp.MatchString` is (reference/rekor.md §4.4).
 */

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** ECMAScript SyntaxCharacter (ES2024 §22.2.1) and `/`: the only identity escapes `u` mode allows. */
const JS_ESCAPABLE = new Set('^$\\.*+?()[]{}|/');
const hexEscape = (c: string) => `\\u{${c.codePointAt(0)!.toString(16)}}`;

function escapeLiteral(s: string): string {
  return [...s].map((c) => (JS_ESCAPABLE.has(c) ? `\\${c}` : /[\w\s]/.test(c) ? c : hexEscape(c))).join('');
}

export interface TranslatedRegex {
  source: string;
  flags: string;
}

/** Throws an Error saying what is not supported. */
export function translateRe2(re2: string): TranslatedRegex {
  let i = 0;
  let flags = 'u';
  const lead = /^\(\?([imsU]+)\)/.exec(re2);
  if (lead?.[1] !== undefined) {
    if (lead[1].includes('U')) throw new Error('RE2 flag U (ungreedy) has no ECMAScript equivalent');
    flags += [...new Set(lead[1])].join('');
    i = lead[0].length;
  }
  let out = '';
  let inClass = false;
  while (i < re2.length) {
    const c = re2[i]!;
    if (c === '\\') {
      const n = re2[i + 1];
      if (n === undefined) throw new Error('trailing backslash');
      if (n === 'Q') {
        const end = re2.indexOf('\\E', i + 2);
        const lit = re2.slice(i + 2, end < 0 ? undefined : end);
        out += escapeLiteral(lit);
        i = end < 0 ? re2.length : end + 2;
        continue;
      }
      if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'z') out += '(?![\\s\\S])';
      else if (/[1-9]/.test(n)) throw new Error(`backreference \\${n} is not RE2 syntax`);
      else if (n === 'x' && re2[i + 2] === '{') {
        const end = re2.indexOf('}', i + 3);
        if (end < 0) throw new Error('unterminated \\x{');
        out += `\\u{${re2.slice(i + 3, end)}}`;
        i = end + 1;
        continue;
      } else if ((n === 'p' || n === 'P') && re2[i + 2] !== undefined && re2[i + 2] !== '{') {
        out += `\\${n}{${re2[i + 2]!}}`;
        i += 3;
        continue;
      } else if (n === '-') out += inClass ? '\\-' : '-';
      else if (/[A-Za-z0-9]/.test(n)) out += `\\${n}`;
      else out += JS_ESCAPABLE.has(n) ? `\\${n}` : hexEscape(n);
      i += 2;
      continue;
    }
    if (inClass) {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(re2.slice(i));
      if (posix) {
        const cls = POSIX[posix[2]!];
        if (!cls || posix[1]) throw new Error(`POSIX class [:${posix[1]!}${posix[2]!}:] is not supported`);
        out += cls;
        i += posix[0].length;
        continue;
      }
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      i++;
      continue;
    }
    if (c === '[') {
      // `[]a]` and `[^]a]`: a `]` first in a class is a literal in RE2, an empty class in ECMAScript.
      const neg = re2[i + 1] === '^';
      out += neg ? '[^' : '[';
      i += neg ? 2 : 1;
      if (re2[i] === ']') {
        out += '\\]';
        i++;
      }
      inClass = true;
      continue;
    }
    if (c === '(' && re2[i + 1] === '?') {
      const rest = re2.slice(i + 2);
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 4;
        continue;
      }
      if (/^(=|!|<=|<!)/.test(rest)) throw new Error('lookaround is not RE2 syntax');
      if (/^[imsU-]+\)/.test(rest)) throw new Error('flags in the middle of a pattern are not supported; put them first');
    }
    if (c === '{' && !/^\{\d+(,\d*)?\}/.test(re2.slice(i))) out += '\\{';
    else if (c === '}' && !/\{\d+(,\d*)?$/.test(out)) out += '\\}';
    else if (c === ']') out += '\\]';
    else out += c;
    i++;
  }
  if (inClass) throw new Error('missing ] in character class');
  return { source: out, flags };
}

/** An unanchored matcher for a rekor-monitor RE2 pattern; throws with a message when unusable. */
export function compileRe2(re2: string): RegExp {
  const t = translateRe2(re2);
  try {
    return new RegExp(t.source, t.flags);
  } catch (e) {
    throw new Error(`not a valid RE2 pattern: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
