/**
 * The pattern language of rule files (monitor-rules/README.md "Matching"). Patterns are compiled once;
 * values are normalised once per entry and then compared by Set lookup, prefix/suffix probe, a glob scan
 * or an RE2 regex: every match is linear in the value, whatever the pattern, since values (a SAN, a ref)
 * are whatever anyone put in a certificate a log accepted.
 *
 * - A string without `*` is an exact match.
 * - A string with `*` is a glob, always anchored at both ends: `*` is any run of characters except `/`
 *   (so `acme/*` cannot reach `acme/x/y` and `refs/tags/*` cannot reach `refs/tags/v1/../x`), `**` is any
 *   run including `/`. `\*` is a literal star. Nothing else is special (`?`, `[`, `.` are literal).
 * - `{regex: '…'}` is an RE2 regular expression (github.com/google/re2/wiki/Syntax, as rekor-monitor's and
 *   Go's), matched against the whole value (as if anchored `^(?:…)$`): an unanchored `acme` would match
 *   `https://evil.example/acme`, the false positive (or bypass) other monitors suffer. RE2, run by re2js,
 *   matches in time linear in the value; a backtracking engine (V8's) took 18 s to reject a 3,000-character
 *   near miss of an ordinary URL regex with three `.*`, on the mirror's one
 *   thread. RE2 has no backreferences or lookaround.
 *
 * Case follows the field (`FieldKind`): URLs compare scheme and host case-insensitively and the rest
 * exactly (RFC 3986 §6.2.2.1), except a github.com URL's owner and repository, which GitHub's are
 * (a workflow's path and ref are git's, and exact); an email compares its domain case-insensitively and its local part
 * exactly (RFC 5321 §2.4); refs, triggers and other text exactly. Both pattern and value are normalised
 * the same way before comparing, and a regex sees the normalised value (write hosts in lower case).
 *
 * A URL pattern without a scheme whose first segment is a host (`github.com/acme/*`) means
 * `https://github.com/acme/*`: it matches `https://github.com/acme/x`, never `http://` or `git+https://`
 * and never a value that merely contains it (`https://evil.example/github.com/acme/x`).
 */

import { RE2JS } from 're2js';

/** How a field's values compare (see the module comment). */
export type FieldKind = 'url' | 'identity' | 'text';

export type PatternSpec = string | { regex: string };

export interface Pattern {
  /** The pattern as written in the rule file, for messages. */
  readonly source: string;
  readonly type: 'exact' | 'glob' | 'regex';
  /** Exact patterns: the normalised value. Globs: the literal text before the first `*`. */
  readonly prefix: string;
  /** Globs: the literal text after the last `*` ('' for others). */
  readonly suffix: string;
  /** Tests a value that was already normalised for this pattern's field kind. */
  test(normalised: string): boolean;
}

const EMAIL_RE = /^([^@/\s]+)@([^@/\s]+)$/;
/** A host, possibly with a port and glob stars, as the first segment of a scheme-less URL pattern. */
const HOST_RE = /^[A-Za-z0-9*]([A-Za-z0-9*-]*\.)+[A-Za-z0-9*-]+(:\d+)?$/;

/** True when lower-casing could change v[from, to): an ASCII capital, or any non-ASCII character. */
function hasUpper(v: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = v.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c > 127) return true;
  }
  return false;
}

/** RFC 3986 §3.1 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), ending at `end`. */
function isScheme(v: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = v.charCodeAt(i) | 0x20;
    const alpha = c >= 97 && c <= 122;
    if (i === 0 ? !alpha : !alpha && !(v.charCodeAt(i) >= 48 && v.charCodeAt(i) <= 57) && !'+-.'.includes(v[i]!)) return false;
  }
  return end > 0;
}

const GITHUB = 'github.com';

/** Whether v[from, to) is the host github.com, in any case (no port, no user info). */
function isGithub(v: string, from: number, to: number): boolean {
  if (to - from !== GITHUB.length) return false;
  for (let i = 0; i < GITHUB.length; i++) if ((v.charCodeAt(from + i) | 0x20) !== GITHUB.charCodeAt(i)) return false;
  return true;
}

/** The end of the `n` path segments that start at `at` (a `/`), stopping at `?` or `#`. */
function segmentsEnd(v: string, at: number, n: number): number {
  let end = at;
  for (let seg = 0; seg < n && v.charCodeAt(end) === 47; seg++) {
    end++;
    while (end < v.length) {
      const c = v.charCodeAt(end);
      if (c === 47 || c === 63 || c === 35) break;
      end++;
    }
  }
  return end;
}

/**
 * Normalises a value (or a pattern's literal text) for comparison under `kind`: a URL's scheme and
 * authority (up to the first `/`, `?` or `#`) lower-cased, and on github.com its owner and repository
 * segments; in identities, an email's domain lower-cased.
 * Runs on every watched field of every entry, so it scans instead of running regexes where it can.
 */
export function normalise(kind: FieldKind, v: string): string {
  if (kind === 'text') return v;
  const sep = v.indexOf('://');
  if (sep > 0 && isScheme(v, sep)) {
    let end = sep + 3;
    for (; end < v.length; end++) {
      const c = v.charCodeAt(end);
      if (c === 47 || c === 63 || c === 35) break; // / ? #
    }
    // On github.com the owner and repository segments too: GitHub's names are case-insensitive (one owner
    // `Azure`, reached as github.com/azure), and Fulcio writes them as GitHub spells them, so
    // `github.com/azure/*` would otherwise watch nothing of `https://github.com/Azure/…`.
    const fold = isGithub(v, sep + 3, end) ? segmentsEnd(v, end, 2) : end;
    return hasUpper(v, 0, fold) ? v.slice(0, fold).toLowerCase() + v.slice(fold) : v;
  }
  if (kind === 'identity') {
    const at = v.indexOf('@');
    if (at > 0 && hasUpper(v, at + 1, v.length)) {
      const email = EMAIL_RE.exec(v);
      if (email) return `${email[1]!}@${email[2]!.toLowerCase()}`;
    }
  }
  return v;
}

/** `github.com/acme/*` → `https://github.com/acme/*` for URL-like fields; other patterns unchanged. */
export function withImpliedScheme(kind: FieldKind, pattern: string): string {
  if (kind === 'text' || pattern.includes('://')) return pattern;
  const slash = pattern.indexOf('/');
  const first = slash < 0 ? pattern : pattern.slice(0, slash);
  // An identity may be an email or any other name, so only a host followed by a path is a URL there.
  if (kind === 'identity' && slash < 0) return pattern;
  return HOST_RE.test(first) ? `https://${pattern}` : pattern;
}

type Token = { star: 1 | 2 } | { text: string };

/** Splits a glob into literal text and `*` / `**`; `\*` and `\\` are escapes. */
function tokenize(glob: string): Token[] {
  const out: Token[] = [];
  let text = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && (glob[i + 1] === '*' || glob[i + 1] === '\\')) {
      text += glob[++i]!;
    } else if (c === '*') {
      if (text) out.push({ text });
      text = '';
      const double = glob[i + 1] === '*';
      if (double) i++;
      // `***` is `**` followed by `*`: both match anything, so collapse runs.
      while (glob[i + 1] === '*') i++;
      out.push({ star: double ? 2 : 1 });
    } else {
      text += c;
    }
  }
  if (text) out.push({ text });
  return out;
}

export function isGlob(pattern: string): boolean {
  return tokenize(pattern).some((t) => 'star' in t);
}

const isSurrogate = (c: number) => c >= 0xd800 && c <= 0xdfff;

/** True when v[i-1], v[i] is a surrogate pair: a match boundary there would split a code point. */
function splitsPair(v: string, i: number): boolean {
  const lo = v.charCodeAt(i);
  const hi = v.charCodeAt(i - 1);
  return lo >= 0xdc00 && lo <= 0xdfff && hi >= 0xd800 && hi <= 0xdbff;
}

/**
 * Whether literal `lit` may match at v[at…]: as in a `u`-mode regex, a literal that starts with a low or ends
 * with a high surrogate never matches half of a pair in the value.
 */
const literalAt = (lit: string, v: string, at: number): boolean => !splitsPair(v, at) && !splitsPair(v, at + lit.length);

/**
 * Whether `tokens` (stars and literals alternating, a star first and last, as tokenize makes them after
 * the literal ends are cut off) match all of v[from, to). Tracks the positions each star may start at;
 * a literal's next occurrences come from indexOf within the range its star can reach (`*` up to the
 * next `/`, `**` up to the end). Linear in v per token whatever the pattern, where a backtracking regex
 * is exponential in the number of stars.
 */
function matchMiddle(tokens: readonly Token[], v: string, from: number, to: number): boolean {
  let starts = [from];
  for (let t = 0; ; t += 2) {
    const star = (tokens[t] as { star: 1 | 2 }).star;
    if (t === tokens.length - 1) {
      // The last star takes the rest: `**` always can, `*` when the rest after its latest start has no `/`.
      const s = starts[starts.length - 1]!;
      return star === 2 || s === to || v.lastIndexOf('/', to - 1) < s;
    }
    const lit = (tokens[t + 1] as { text: string }).text;
    const last = to - lit.length;
    const next: number[] = [];
    // The first occurrence of lit at or after the start of the range being searched, or -1 for none at all.
    let found = -2;
    let reach = -1;
    for (const s of starts) {
      if (s <= reach) continue; // within the range of an earlier start (`*`), or after the first one (`**`)
      if (star === 2) reach = to;
      else {
        const slash = v.indexOf('/', s);
        reach = slash < 0 || slash > to ? to : slash;
      }
      const end = Math.min(reach, last);
      if (found < s) found = s > last ? -1 : v.indexOf(lit, s);
      while (found >= 0 && found <= end) {
        if (literalAt(lit, v, found)) next.push(found + lit.length);
        found = v.indexOf(lit, found + 1);
      }
      if (found < 0) break;
    }
    if (next.length === 0) return false;
    starts = next;
  }
}

/**
 * A glob's matcher. Not a RegExp: a backtracking engine takes time exponential in the number of stars on
 * a value that almost matches (`^[^/]*-[^/]*-[^/]*-[^/]*$` took seconds on a 300-character value, and
 * anyone can put such a SAN in a certificate a log accepts). Literal ends first, then matchMiddle.
 */
function globMatcher(tokens: readonly Token[]): { prefix: string; suffix: string; test: (v: string) => boolean } {
  const first = tokens[0]!;
  const last = tokens[tokens.length - 1]!;
  const prefix = 'text' in first ? first.text : '';
  const suffix = 'text' in last ? last.text : '';
  const middle = tokens.slice(prefix ? 1 : 0, suffix ? -1 : undefined);
  const minLength = tokens.reduce((n, t) => n + ('text' in t ? t.text.length : 0), 0);
  // Surrogate checks only where a literal end could split a pair (a lone surrogate in the pattern).
  const edgy = (l: string) => l !== '' && (isSurrogate(l.charCodeAt(0)) || isSurrogate(l.charCodeAt(l.length - 1)));
  const ends = edgy(prefix) || edgy(suffix) ? (v: string) => v.length >= minLength && v.startsWith(prefix) && v.endsWith(suffix) && literalAt(prefix, v, 0) && literalAt(suffix, v, v.length - suffix.length) : (v: string) => v.length >= minLength && v.startsWith(prefix) && v.endsWith(suffix);
  const only = middle.length === 1 ? (middle[0] as { star: 1 | 2 }).star : undefined;
  // One star, the most common glob (`github.com/acme/*`, `*@acme.com`, `refs/tags/v*`): its ends, and for `*` no `/` between them.
  if (only === 2) return { prefix, suffix, test: ends };
  if (only === 1) {
    const s = suffix.length;
    return {
      prefix,
      suffix,
      test: (v) => {
        if (!ends(v)) return false;
        const slash = v.indexOf('/', prefix.length);
        return slash < 0 || slash >= v.length - s;
      },
    };
  }
  const greedy = greedyMiddle(middle);
  const test = greedy ? (v: string) => ends(v) && greedy(v, prefix.length, v.length - suffix.length) : (v: string) => ends(v) && matchMiddle(middle, v, prefix.length, v.length - suffix.length);
  return { prefix, suffix, test };
}

/**
 * The common globs' faster path: every star of the same kind (all `*` or all `**`) and no literal that
 * could split a surrogate pair. Then the leftmost occurrence of each literal in turn is as good as any
 * later one (the usual argument for `*` wildcards; for `*`, the star before a literal spans no `/` either
 * way, since a later occurrence's span contains the leftmost's, and overlapping occurrences are periodic,
 * so the text a later star takes over has no `/` when the earlier span had none). One indexOf per literal:
 * linear in the value, without matchMiddle's position sets. Mixed `*` and `**` take matchMiddle.
 */
function greedyMiddle(middle: readonly Token[]): ((v: string, from: number, to: number) => boolean) | undefined {
  const stars = middle.filter((t): t is { star: 1 | 2 } => 'star' in t).map((t) => t.star);
  const literals = middle.filter((t): t is { text: string } => 'text' in t).map((t) => t.text);
  if (new Set(stars).size !== 1 || literals.some((l) => isSurrogate(l.charCodeAt(0)) || isSurrogate(l.charCodeAt(l.length - 1)))) return undefined;
  const anything = stars[0] === 2;
  // A `*` span [a, b) holds no `/`.
  const slashFree = (v: string, a: number, b: number) => {
    if (anything || a >= b) return true;
    const i = v.indexOf('/', a);
    return i < 0 || i >= b;
  };
  return (v, from, to) => {
    let at = from;
    for (const lit of literals) {
      const found = v.indexOf(lit, at);
      if (found < 0 || found + lit.length > to || !slashFree(v, at, found)) return false;
      at = found + lit.length;
    }
    return slashFree(v, at, to);
  };
}

/** Throws a plain Error with a human message; rule checking turns it into a located error. */
export function compilePattern(spec: PatternSpec, kind: FieldKind): Pattern {
  if (typeof spec !== 'string') {
    const re = compileRegex(spec.regex);
    return { source: `{regex: ${spec.regex}}`, type: 'regex', prefix: regexLiteralPrefix(spec.regex), suffix: '', test: (v) => re.test(v) };
  }
  const normalised = normalise(kind, withImpliedScheme(kind, spec));
  const tokens = tokenize(normalised);
  if (!tokens.some((t) => 'star' in t)) {
    const exact = tokens.map((t) => ('text' in t ? t.text : '')).join('');
    return { source: spec, type: 'exact', prefix: exact, suffix: '', test: (v) => v === exact };
  }
  return { source: spec, type: 'glob', ...globMatcher(tokens) };
}

/**
 * The literal text every match of an (anchored) regex starts with, so the watch index can bucket it
 * like a glob: `https://github\\.com/acme/(api|web)/.*` → `https://github.com/acme/`. Conservative:
 * '' when unsure (a top-level `|`, a quantified last literal, any escape other than punctuation).
 */
export function regexLiteralPrefix(source: string): string {
  let prefix = '';
  let i = 0;
  for (; i < source.length; i++) {
    const c = source[i]!;
    let lit: string | undefined;
    let width = 1;
    if (c === '\\') {
      const n = source[i + 1];
      if (n === undefined || !/[!-/:-@[-`{-~]/.test(n)) break; // \d, \w, \u…: not a literal
      lit = n;
      width = 2;
    } else if (!'.[](){}*+?|^$'.includes(c)) lit = c;
    if (lit === undefined) break;
    const next = source[i + width];
    if (next === '*' || next === '+' || next === '?' || next === '{') break;
    prefix += lit;
    i += width - 1;
  }
  return topLevelAlternation(source) ? '' : prefix;
}

/** True when `source` has a `|` outside every group and class (then no prefix is shared by all matches). */
function topLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

/** What a compiled regex pattern needs: whether it matches a value. */
export interface Matcher {
  test(value: string): boolean;
}

/**
 * An RE2 regex (re2js: linear-time matching) that must match the whole value. Throws an Error saying why
 * a pattern is not valid RE2 (backreferences and lookaround are not).
 */
export function compileRegex(source: string): Matcher {
  const re = compileRe2Source(source);
  return { test: (v) => re.testExact(v) };
}

/** re2js's compile with its syntax error as a plain Error with the pattern's problem. */
export function compileRe2Source(source: string): RE2JS {
  try {
    return RE2JS.compile(source);
  } catch (e) {
    throw new Error(`not a valid RE2 regular expression: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Patterns of one field: exact values in a Set, the rest tested in order. */
export class PatternSet {
  readonly kind: FieldKind;
  readonly patterns: readonly Pattern[];
  private readonly exact = new Map<string, Pattern>();
  private readonly others: Pattern[] = [];

  constructor(specs: readonly PatternSpec[], kind: FieldKind) {
    this.kind = kind;
    this.patterns = specs.map((s) => compilePattern(s, kind));
    for (const p of this.patterns) {
      if (p.type === 'exact') {
        if (!this.exact.has(p.prefix)) this.exact.set(p.prefix, p);
      } else this.others.push(p);
    }
  }

  /** The first pattern that matches the raw value, or undefined. */
  match(value: string | undefined): Pattern | undefined {
    if (typeof value !== 'string') return undefined;
    const v = normalise(this.kind, value);
    const hit = this.exact.get(v);
    if (hit) return hit;
    for (const p of this.others) if (p.test(v)) return p;
    return undefined;
  }

  /** The patterns as written, for "expected one of …" messages. */
  sources(): string[] {
    return this.patterns.map((p) => p.source);
  }
}
