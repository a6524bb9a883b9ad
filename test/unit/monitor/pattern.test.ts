/** The rule pattern language: anchoring, glob semantics, case per field, scheme-less URLs, escapes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, normalise, PatternSet, regexLiteralPrefix, type FieldKind, type PatternSpec } from '../../../src/monitor/rules/pattern.ts';

const matches = (spec: PatternSpec, value: string, kind: FieldKind = 'identity') => new PatternSet([spec], kind).match(value) !== undefined;
const escapeGlob = (s: string) => s.replace(/[\\*]/g, '\\$&');

/** A deliberately naive glob matcher (backtracking over the raw pattern): the oracle for compiled globs. */
function naiveGlob(p: string, v: string): boolean {
  if (p === '') return v === '';
  if (p.startsWith('\\') && (p[1] === '*' || p[1] === '\\')) return v[0] === p[1] && naiveGlob(p.slice(2), v.slice(1));
  if (p.startsWith('**')) {
    for (let i = 0; i <= v.length; i++) if (naiveGlob(p.replace(/^\*+/, ''), v.slice(i))) return true;
    return false;
  }
  if (p.startsWith('*')) {
    for (let i = 0; i <= v.length && !v.slice(0, i).includes('/'); i++) if (naiveGlob(p.slice(1), v.slice(i))) return true;
    return false;
  }
  return v[0] === p[0] && naiveGlob(p.slice(1), v.slice(1));
}

describe('identity globs (GitHub Actions workflows)', () => {
  const release = 'https://github.com/acme/*/.github/workflows/*@refs/tags/*';
  it('match every repository and workflow of the org on a tag', () => {
    expect(matches(release, 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.2.3')).toBe(true);
    expect(matches(release, 'https://github.com/acme/web/.github/workflows/publish.yaml@refs/tags/v2')).toBe(true);
  });
  it('do not match other orgs, look-alike orgs, hosts or refs', () => {
    expect(matches(release, 'https://github.com/acme-evil/api/.github/workflows/release.yml@refs/tags/v1')).toBe(false);
    expect(matches(release, 'https://github.com/evil/acme/.github/workflows/release.yml@refs/tags/v1')).toBe(false);
    expect(matches(release, 'https://github.com.evil.example/acme/api/.github/workflows/release.yml@refs/tags/v1')).toBe(false);
    expect(matches(release, 'https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main')).toBe(false);
    expect(matches(release, 'http://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1')).toBe(false);
  });
  it('`*` does not cross `/`: no nested repository paths, no workflow subdirectories, no slashed tags', () => {
    expect(matches(release, 'https://github.com/acme/a/b/.github/workflows/release.yml@refs/tags/v1')).toBe(false);
    expect(matches(release, 'https://github.com/acme/api/.github/workflows/x/release.yml@refs/tags/v1')).toBe(false);
    expect(matches(release, 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1/../../heads/x')).toBe(false);
    expect(matches('https://github.com/acme/**', 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/release/v1')).toBe(true);
    expect(matches('https://github.com/acme/api/.github/workflows/release.yml@refs/tags/**', 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/release/v1')).toBe(true);
  });
  it('are anchored at both ends', () => {
    expect(matches('https://github.com/acme/*', 'https://github.com/acme/api/extra')).toBe(false);
    expect(matches('https://github.com/acme/*', 'x https://github.com/acme/api')).toBe(false);
    expect(matches('*@acme.com', 'alice@acme.com.evil.net')).toBe(false);
    expect(matches('*@acme.com', 'alice@evil-acme.com')).toBe(false);
  });
});

describe('case follows the field', () => {
  it('URLs: scheme and host are case-insensitive, the path is exact', () => {
    expect(matches('https://GitHub.com/acme/*', 'HTTPS://github.COM/acme/api', 'url')).toBe(true);
    expect(matches('https://gitlab.com/ACME/*', 'https://gitlab.com/acme/api', 'url')).toBe(false);
    expect(matches('https://github.example/acme/api', 'https://github.example/acme/API', 'url')).toBe(false);
  });
  it('github.com URLs: the owner and repository are case-insensitive too, as GitHub\'s names are; the rest exact', () => {
    // Fulcio writes the names as GitHub spells them (`Azure`); github.com/azure is the same owner.
    const san = 'https://github.com/Azure/Azure-SDK/.github/workflows/Release.yml@refs/tags/V1';
    expect(matches('github.com/azure/*', 'https://github.com/Azure/azure-sdk', 'url')).toBe(true);
    expect(matches('https://github.com/ACME', 'https://github.com/acme', 'url')).toBe(true);
    expect(matches('github.com/azure/azure-sdk/.github/workflows/Release.yml@refs/tags/V1', san, 'identity')).toBe(true);
    expect(matches('github.com/azure/*/.github/workflows/release.yml@refs/tags/V1', san, 'identity')).toBe(false);
    expect(matches('github.com/azure/*/.github/workflows/Release.yml@refs/tags/v1', san, 'identity')).toBe(false);
    expect(matches('https://github.com/acme/api/X', 'https://github.com/acme/api/x', 'url')).toBe(false);
    expect(matches({ regex: 'https://github\\.com/azure/[a-z-]+' }, 'https://github.com/Azure/azure-sdk', 'url')).toBe(true);
  });
  it('emails: the domain is case-insensitive, the local part exact', () => {
    expect(matches('*@acme.com', 'Alice@ACME.com')).toBe(true);
    expect(matches('alice@Acme.COM', 'alice@acme.com')).toBe(true);
    expect(matches('alice@acme.com', 'Alice@acme.com')).toBe(false);
  });
  it('text fields (refs, triggers) are exact', () => {
    expect(matches('refs/tags/v*', 'refs/tags/v1.0.0', 'text')).toBe(true);
    expect(matches('refs/tags/v*', 'refs/tags/V1.0.0', 'text')).toBe(false);
    expect(matches('github-hosted', 'GitHub-Hosted', 'text')).toBe(false);
  });
  it('regexes see the normalised value', () => {
    expect(matches({ regex: 'https://github\\.com/acme/[a-z]+' }, 'https://GITHUB.com/acme/api', 'url')).toBe(true);
  });
});

describe('scheme-less URL patterns mean https://', () => {
  it('match https values of that host and path only', () => {
    expect(matches('github.com/acme/*', 'https://github.com/acme/api', 'url')).toBe(true);
    expect(matches('github.com/acme', 'https://github.com/acme', 'url')).toBe(true);
    expect(matches('token.actions.githubusercontent.com', 'https://token.actions.githubusercontent.com', 'url')).toBe(true);
    expect(matches('github.com/acme/*', 'http://github.com/acme/api', 'url')).toBe(false);
    expect(matches('github.com/acme/*', 'git+https://github.com/acme/api', 'url')).toBe(false);
    expect(matches('github.com/acme/*', 'https://evil.example/github.com/acme/api', 'url')).toBe(false);
    expect(matches('github.com/acme/*', 'github.com/acme/api', 'url')).toBe(false);
  });
  it('in identities only when a path follows, so emails and bare names stay exact', () => {
    expect(matches('github.com/acme/*/.github/workflows/*@**', 'https://github.com/acme/api/.github/workflows/ci.yml@refs/heads/main')).toBe(true);
    expect(matches('github.com/acme/*/.github/workflows/*@*', 'https://github.com/acme/api/.github/workflows/ci.yml@refs/heads/main')).toBe(false); // a ref has slashes
    expect(matches('alice@acme.com', 'alice@acme.com')).toBe(true);
    expect(matches('acme.com', 'acme.com')).toBe(true);
    expect(matches('acme.com', 'https://acme.com')).toBe(false);
  });
});

describe('regexes', () => {
  it('are anchored: an unanchored-looking regex still has to match the whole value', () => {
    expect(matches({ regex: 'acme' }, 'https://github.com/acme')).toBe(false);
    expect(matches({ regex: '.*acme.*' }, 'https://github.com/acme')).toBe(true);
    expect(matches({ regex: 'a|b' }, 'ab')).toBe(false); // ^(?:a|b)$, not ^a|b$
    expect(matches({ regex: 'a|b' }, 'b')).toBe(true);
  });
  it('reject invalid syntax with the reason', () => {
    expect(() => compilePattern({ regex: '(' }, 'text')).toThrow(/^not a valid RE2 regular expression: .*missing closing \)/);
    expect(() => compilePattern({ regex: '\\q' }, 'text')).toThrow(/not a valid RE2 regular expression/); // no stray escapes
    expect(() => compilePattern({ regex: 'x)|(.*' }, 'text')).toThrow(/not a valid RE2 regular expression/); // cannot escape the anchors
    expect(() => compilePattern({ regex: '(a)\\1' }, 'text')).toThrow(/not a valid RE2 regular expression/); // no backreferences
    expect(() => compilePattern({ regex: 'a(?=b)' }, 'text')).toThrow(/not a valid RE2 regular expression/); // no lookaround
  });
  it('match in time linear in the value (RE2), where a backtracking engine took 18 s on a near miss', () => {
    // Anyone can log a certificate with such a SAN, and the mirror matches on its one thread. No timing
    // assertion: backtracking would not finish within the test's timeout.
    const re = { regex: 'https://github\\.com/acme/.*/.*/.*\\.yml@refs/tags/.*' };
    expect(matches(re, `https://github.com/acme/${'/'.repeat(100_000)}x`)).toBe(false);
    expect(matches(re, 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1')).toBe(true);
  });
});

describe('special characters are literal in globs', () => {
  it('., ?, [, (, +, $ and ^ match themselves; \\* is a literal star', () => {
    expect(matches('https://github.com/acme/a.b?c[d](e)+$^', 'https://github.com/acme/a.b?c[d](e)+$^', 'url')).toBe(true);
    expect(matches('https://github.com/acme/a.b', 'https://github.com/acme/aXb', 'url')).toBe(false);
    expect(matches('release\\*', 'release*', 'text')).toBe(true);
    expect(matches('release\\*', 'release-1', 'text')).toBe(false);
    expect(matches('a\\\\*', 'a\\xyz', 'text')).toBe(true);
  });
  it('a hyphen in a glob with a wildcard is literal (it once made the pattern fail to compile)', () => {
    expect(matches('github.com/my-org/*', 'https://github.com/my-org/some-repo', 'url')).toBe(true);
    expect(matches('https://github.com/acme/replay-test/.github/workflows/release.yml@refs/tags/*', 'https://github.com/acme/replay-test/.github/workflows/release.yml@refs/tags/v1-rc', 'identity')).toBe(true);
    expect(matches('a-*', 'ab', 'text')).toBe(false);
  });
  it('regex syntax in a glob is literal text (no injection)', () => {
    expect(matches('.*', 'anything', 'text')).toBe(false);
    expect(matches('.*', '.x', 'text')).toBe(true);
  });
});

describe('properties', () => {
  it('an exact pattern matches exactly its value (text fields)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const set = new PatternSet([escapeGlob(a) || '\\*'], 'text');
        const value = a || '*';
        expect(set.match(value)).toBeDefined();
        if (b !== value) expect(set.match(b)).toBeUndefined();
      }),
    );
  });
  it('an exact identity (URL or email) matches itself and exactly its case variants the field allows', () => {
    // An email with `/` in its local part that starts like a host (`a.b/c@d.e`) reads as a scheme-less URL pattern.
    const email = fc.emailAddress().filter((e) => !e.includes('/'));
    fc.assert(
      fc.property(fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), email), fc.oneof(fc.webUrl(), email), (a, b) => {
        const set = new PatternSet([escapeGlob(a)], 'identity');
        expect(set.match(a)).toBeDefined();
        expect(set.match(b) !== undefined).toBe(normalise('identity', a) === normalise('identity', b));
      }),
    );
  });
  it('a glob without wildcards behaves like equality of normalised values', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.webUrl(), (a, b) => {
        expect(compilePattern(escapeGlob(a), 'url').test(normalise('url', b))).toBe(normalise('url', a) === normalise('url', b));
      }),
    );
  });
  it('compiled globs agree with a naive backtracking matcher', () => {
    // Every ASCII punctuation character, so each one the regex engine treats specially (or refuses to see
    // escaped, like `-` in u mode) is tried in a pattern.
    const alphabet = fc.constantFrom('a', 'b', '*', ...'!"#$%&\'()+,-./:;<=>?@[\\]^_`{|}~');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 8 }), fc.array(fc.constantFrom('a', 'b', '*', ...'!"#$%&\'()+,-./:;<=>?@[\\]^_`{|}~'), { maxLength: 10 }), (p, v) => {
        const pattern = p.join('');
        const value = v.join('');
        expect(compilePattern(pattern, 'text').test(value)).toBe(naiveGlob(pattern, value));
      }),
      { numRuns: 3000 },
    );
  });
  it('agree with the naive matcher on globs of stars, slashes and few letters (the one-star, greedy and mixed paths)', () => {
    // A small alphabet makes many stars, overlapping literals and slashes inside literals likely.
    const pat = fc.array(fc.constantFrom('a', 'b', '/', '*', '**'), { maxLength: 8 }).map((xs) => xs.join(''));
    const val = fc.array(fc.constantFrom('a', 'b', '/'), { maxLength: 12 }).map((xs) => xs.join(''));
    fc.assert(
      fc.property(pat, val, (pattern, value) => {
        expect(compilePattern(pattern, 'text').test(value)).toBe(naiveGlob(pattern, value));
      }),
      { numRuns: 20_000 },
    );
  });
  it('globs never split a surrogate pair, as the u-mode regexes they replaced did not', () => {
    // A `u`-mode regex `^[^/]*\uDE00$` does not match '😀' (one code point); a glob with a lone surrogate must not either.
    expect(matches('*\uDE00', 'a\u{1F600}', 'text')).toBe(false);
    expect(matches('\uD83D*', '\u{1F600}a', 'text')).toBe(false);
    expect(matches('*\uDE00', 'a\uDE00', 'text')).toBe(true);
    expect(matches('a*\uD83D*', 'a\u{1F600}', 'text')).toBe(false);
    expect(matches('*\u{1F600}*', '/\u{1F600}', 'text')).toBe(false);
    expect(matches('**\u{1F600}*', '/\u{1F600}x', 'text')).toBe(true);
  });
  it('a hostile value that almost matches a glob with many stars costs linear time, not exponential', () => {
    // These took seconds to hours with the glob compiled to a backtracking regex (`^[^/]*-[^/]*-…$`); a SAN
    // like these is in any certificate an attacker logs, and matching runs on the mirror's only thread.
    // [glob, a value that almost matches, the same value made to match]
    const cases: [string, string, string][] = [
      ['https://github.com/acme/*-*-*-*-*-*/x', `https://github.com/acme/${'-'.repeat(5000)}/y/x`, `https://github.com/acme/${'-'.repeat(5000)}/x`],
      ['**a*a*a*a*/b', `${'a'.repeat(5000)}/c/b`, `${'a'.repeat(5000)}/b`],
      ['refs/tags/*.*.*.*-*', `refs/tags/${'.'.repeat(5000)}`, `refs/tags/${'.'.repeat(5000)}-`],
      ['https://github.com/acme/**@**@**@**@*/x', `https://github.com/acme/${'@'.repeat(100_000)}/y/x`, `https://github.com/acme/${'@'.repeat(100_000)}/x`],
    ];
    // No timing assertion (benchmarks measure speed): exponential matching would not finish within the
    // test's timeout, which is the bound here.
    for (const [glob, nearMiss, hit] of cases) {
      expect(matches(glob, nearMiss, 'text')).toBe(false);
      expect(matches(glob, hit, 'text')).toBe(true);
      // The same shapes, small enough for the naive oracle.
      const small = (v: string) => v.replace(/([-.@a])\1{4999,}/, '$1$1$1$1$1$1');
      expect(naiveGlob(glob, small(nearMiss))).toBe(false);
      expect(naiveGlob(glob, small(hit))).toBe(true);
    }
  });
  it('every glob compiles, whatever its characters (a glob is text and wildcards, never a syntax error)', () => {
    for (const kind of ['url', 'identity', 'text'] as const) {
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ maxLength: 60 }).map((t) => `${t}*`), fc.webUrl().map((u) => `${u}/*`)), (glob) => {
          expect(() => compilePattern(glob, kind)).not.toThrow();
        }),
        { numRuns: 2000 },
      );
    }
  });
  it('`*` never crosses `/`', () => {
    fc.assert(
      fc.property(fc.string(), (seg) => {
        expect(matches('https://github.com/acme/*', `https://github.com/acme/${seg}`, 'url')).toBe(!seg.includes('/'));
      }),
    );
  });
});

describe('regex literal prefixes (the watch index buckets regexes by them)', () => {
  it('are the literal text every match starts with', () => {
    expect(regexLiteralPrefix('https://github\\.com/acme/(api|web)/.*')).toBe('https://github.com/acme/');
    expect(regexLiteralPrefix('abc?')).toBe('ab');
    expect(regexLiteralPrefix('ab|cd')).toBe('');
    expect(regexLiteralPrefix('(ab|cd)ef')).toBe('');
    expect(regexLiteralPrefix('a[|]b')).toBe('a');
    expect(regexLiteralPrefix('\\d+x')).toBe('');
    expect(regexLiteralPrefix('x{2}')).toBe('');
  });
  it('property: every value a regex matches starts with its prefix', () => {
    const piece = fc.constantFrom('a', 'b', '.', '\\.', '|', '(', ')', '*', '+', '?', '[ab]', '\\d', '1', '/');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 7 }), fc.array(fc.constantFrom('a', 'b', '.', '1', '/'), { maxLength: 8 }), (ps, vs) => {
        let p;
        try {
          p = compilePattern({ regex: ps.join('') }, 'text');
        } catch {
          return;
        }
        const v = vs.join('');
        if (p.test(v)) expect(v.startsWith(p.prefix)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('normalise', () => {
  /** The definition, written with regexes: the scanning implementation must agree with it. */
  function reference(kind: FieldKind, v: string): string {
    if (kind === 'text') return v;
    const url = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([\s\S]*)$/.exec(v);
    if (url) {
      const folded = url[2]!.toLowerCase() === 'github.com' ? /^(\/[^/?#]*){0,2}/.exec(url[3]!)![0].length : 0;
      return `${url[1]!.toLowerCase()}://${url[2]!.toLowerCase()}${url[3]!.slice(0, folded).toLowerCase()}${url[3]!.slice(folded)}`;
    }
    const email = kind === 'identity' ? /^([^@/\s]+)@([^@/\s]+)$/.exec(v) : null;
    return email ? `${email[1]!}@${email[2]!.toLowerCase()}` : v;
  }
  it('agrees with its regex definition on URLs, emails and arbitrary strings', () => {
    const piece = fc.constantFrom('https', 'HTTP', 'git+SSH', 'a1', '://', ':', '/', '?', '#', '@', 'Acme', 'acme', '.COM', ' ', '\u00a0', 'É', '1', '-', 'github.com', 'GitHub.COM', 'https://github.com/', 'https://GITHUB.com');
    const value = fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.emailAddress(), fc.string(), fc.array(piece, { maxLength: 8 }).map((a) => a.join('')));
    fc.assert(
      fc.property(fc.constantFrom<FieldKind>('url', 'identity', 'text'), value, (kind, v) => {
        expect(normalise(kind, v)).toBe(reference(kind, v));
        expect(normalise(kind, v.toUpperCase())).toBe(reference(kind, v.toUpperCase()));
      }),
      { numRuns: 5000 },
    );
  });
});
