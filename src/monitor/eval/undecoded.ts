/**
 * The `undecoded-entry` built-in: an entry whose body the decoder did not fully understand (its `problem`:
 * a certificate over the key-material bound, a body over 4 MiB, a kind it has no decoder for, a malformed
 * field). Such an entry may have lost its signer, and then no rule can match it, whoever it names. Rekor
 * takes bodies of any size under any certificate, so anyone can log one naming a watched identity.
 *
 * certspotter meets the same gap by notifying about every certificate it cannot parse (`malformed_cert`,
 * man/certspotter-script.md: it "can't determine if a certificate matches your watch list"). Here that is
 * `watchedOnly: false`, at a low severity (a mirror of 100M+ entries holds some bodies nobody can read, and
 * most name no one); by default (`watchedOnly`) only an entry that names a watched value is raised, since
 * anyone can log undecodable entries to Rekor and every finding reaches every channel without a floor
 * (notify `minSeverity`). What names one is cheap to look for: the values the rules watch, as literal
 * text, in the raw body and in the base64 layers nested in it (body JSON → base64 of a PEM → base64 of the
 * DER, whose SAN and Fulcio claims are plain ASCII). An entry whose body names one takes that rule's
 * severity. This is a heuristic on purpose: the decoder refused the body, so nothing here parses it; a
 * match is bytes that spell a watched value, case-insensitively, wherever they are.
 *
 * Only entries with a problem reach here (hooks.ts checks `entry.problem` first): ordinary entries pay
 * nothing. Pure.
 */
import type { Entry } from '../../entries/types.ts';
import type { CompiledRule, UndecodedEntryConfig, WatchSelector } from '../rules/compiled.ts';
import { severityRank as rank, type Severity } from '../rules/schema.ts';
import { LiteralMatcher } from './literal-matcher.ts';

/** A value a rule watches, as text to look for in a body (lower case: the search ignores case). */
export interface WatchedLiteral {
  text: string;
  /** `@` or `://` when the text has one (found by its occurrences, see findLiterals), else ''. */
  anchor: string;
  /** Where the anchor is in `text`. */
  anchorAt: number;
  /** The pattern or value as the rule file writes it. */
  source: string;
  rule: CompiledRule;
}

/** Where a watched literal was found: `0` the body itself, `1` a base64 value in it, `2` one inside that… */
export interface LiteralHit {
  rule: string;
  source: string;
  literal: string;
  layer: number;
}

export interface UndecodedCandidate {
  severity: Severity;
  /** The watched values the body names, at most MAX_HITS, the highest severity's first. */
  watched: LiteralHit[];
  /** The rule whose watch the body names with the highest severity: its owner and labels route the finding. */
  lead?: CompiledRule;
  /** False when the body is larger than the scan budget and only its first SCAN_BUDGET bytes were read. */
  scannedWhole: boolean;
  message: string;
}

/** Base64 text shorter than this is not decoded: 48 bytes, shorter than any certificate, key or PEM. */
const MIN_RUN = 64;
/** Body → base64 PEM → base64 DER, and one more for an envelope's payload. */
const MAX_DEPTH = 3;
/**
 * Bytes read across every layer of one entry: a body the decoder would read (MAX_BODY_BYTES, 4 MiB) with
 * all the layers it can nest (each ¾ of the one above), and a bound on what a hostile body costs: one pass
 * over at most this many bytes (literal-matcher.ts), ~0.2–0.3 s for 4 MiB of base64 nested four deep
 * (BENCHMARKS.md "Undecoded entries"), whatever the rule set.
 */
export const SCAN_BUDGET = 12 * 1024 * 1024;
/** Hits listed in a finding. */
const MAX_HITS = 5;

/** Fields whose values name who signed, or for whom: an issuer names everyone Fulcio certifies, so it is left out. */
const IDENTIFYING_FIELDS = new Set(['identity', 'repository', 'owner', 'buildSigner']);

/**
 * Whether a glob's literal part names someone: a URL prefix with a path past its host
 * (`https://github.com/acme/`, not `https://github.com/`), an email domain (`@acme.com`), or other text
 * of eight characters or more.
 */
function specific(lit: string, at: 'prefix' | 'suffix'): boolean {
  if (at === 'suffix') return lit.startsWith('@') && lit.includes('.') && !lit.includes('/');
  const sep = lit.indexOf('://');
  if (sep > 0) {
    const path = lit.indexOf('/', sep + 3);
    return path > 0 && path + 1 < lit.length;
  }
  return lit.length >= 8;
}

/** A claim value (rekor-monitor oidMatchers) that names someone: a URL with a path or an address, not `push` or `github-hosted`. */
const identifying = (v: string) => v.includes('@') || specific(v, 'prefix');

function literalsOf(w: WatchSelector): Array<{ text: string; source: string }> {
  switch (w.type) {
    case 'pattern': {
      if (!IDENTIFYING_FIELDS.has(w.field)) return [];
      const out: Array<{ text: string; source: string }> = [];
      for (const p of w.patterns) {
        if (p.type === 'exact' && p.prefix.length >= 4) out.push({ text: p.prefix, source: p.source });
        else if (p.type === 'glob' && specific(p.prefix, 'prefix')) out.push({ text: p.prefix, source: p.source });
        else if (p.type === 'glob' && !p.prefix && specific(p.suffix, 'suffix')) out.push({ text: p.suffix, source: p.source });
      }
      return out;
    }
    case 'claim':
      return w.values.filter(identifying).map((v) => ({ text: v, source: v }));
    case 'digest':
      // A digest is in the body as the hex its hashedrekord or rekord spec carries.
      return w.values.map((v) => ({ text: v.slice(v.indexOf(':') + 1), source: v }));
    default:
      // Fingerprints are of the DER, not in it; regexes have no literal to look for.
      return [];
  }
}

const cache = new WeakMap<readonly CompiledRule[], readonly WatchedLiteral[]>();

/** Every literal the rules watch (computed once per rule set). */
export function watchedLiterals(rules: readonly CompiledRule[]): readonly WatchedLiteral[] {
  let found = cache.get(rules);
  if (!found) {
    const seen = new Set<string>();
    const list: WatchedLiteral[] = [];
    for (const rule of rules)
      for (const w of rule.watch)
        for (const l of literalsOf(w)) {
          const text = l.text.toLowerCase();
          const k = `${rule.id}\u0000${text}`;
          if (seen.has(k)) continue;
          seen.add(k);
          const anchor = text.includes('://') ? '://' : text.includes('@') ? '@' : '';
          list.push({ text, anchor, anchorAt: anchor ? text.indexOf(anchor) : -1, source: l.source, rule });
        }
    cache.set(rules, (found = list));
  }
  return found;
}

const BREAKS = /\\[rn]|[\r\n]/g;

/** A-Z, a-z, 0-9, `+`, `/`. */
const isBase64 = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;

/**
 * The next layer of `text`: its base64 runs of at least MIN_RUN characters, PEM line breaks inside them
 * (raw, or escaped as JSON writes them) dropped, decoded and joined, a NUL after each (no watched value
 * holds one, so none is found across a join); undefined when it has none. One text per layer, not one per
 * run: 4 MiB of 64-character runs (65,536 of them) searched run by run cost a findLiterals call, a regex
 * replace and a Buffer each, ~0.9 s against 200 watched values, where one 4 MiB run costs ~0.1 s.
 * A loop, not a regex: V8's regex engine recursed past its stack on an 8 MiB run of
 * `(?:[…]|\\[rn])+`, and a body is anyone's.
 */
function nextLayer(text: string): Buffer | undefined {
  const runs: string[] = [];
  let bytes = 0;
  let start = -1;
  let breaks = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : -1;
    if (isBase64(c)) {
      if (start < 0) start = i;
    } else if (c === 10 || c === 13) {
      if (start < 0) start = i;
      breaks = true;
    } else if (c === 92 && (text.charCodeAt(i + 1) === 110 || text.charCodeAt(i + 1) === 114)) {
      if (start < 0) start = i;
      breaks = true;
      i++;
    } else if (start >= 0) {
      const run = i - start < MIN_RUN ? '' : breaks ? text.slice(start, i).replace(BREAKS, '') : text.slice(start, i);
      if (run.length >= MIN_RUN) {
        runs.push(run);
        bytes += Math.ceil(run.length / 4) * 3 + 1;
      }
      start = -1;
      breaks = false;
    }
  }
  if (runs.length === 0) return undefined;
  // Buffer.from decodes base64 faster than Buffer#write does (measured: a fifth on a 4 MiB run).
  const layer = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const run of runs) {
    at += Buffer.from(run, 'base64').copy(layer, at);
    layer[at++] = 0;
  }
  return layer.subarray(0, at);
}

/*
 * The search for a rule set too large for a LiteralMatcher (tens of thousands of watched values, past its
 * table's bound): literal by literal, so its cost grows with the literals and with near misses in the text.
 */

/** Occurrences of an anchor looked at one by one; past this many, each literal is searched for whole. */
const MAX_ANCHORS = 4096;

/**
 * The literals `lower` contains. Emails and URLs (nearly every literal) are looked for only where their
 * `@` or `://` occurs: a base64 layer has neither, and a DER layer a few, where searching the whole text
 * once per literal took ~135 ms for 200 literals in 4 MiB. A text with more than MAX_ANCHORS of one falls
 * back to that search, so it costs at most that.
 */
function findLiterals(lower: string, literals: Iterable<WatchedLiteral>): WatchedLiteral[] {
  const found: WatchedLiteral[] = [];
  const anchors = new Map<string, number[] | undefined>();
  const occurrences = (a: string) => {
    if (anchors.has(a)) return anchors.get(a);
    const at: number[] = [];
    for (let p = lower.indexOf(a); p >= 0; p = lower.indexOf(a, p + 1)) {
      if (at.length === MAX_ANCHORS) {
        anchors.set(a, undefined);
        return undefined;
      }
      at.push(p);
    }
    anchors.set(a, at);
    return at;
  };
  for (const l of literals) {
    const at = l.anchor ? occurrences(l.anchor) : undefined;
    if (at ? at.some((p) => p >= l.anchorAt && lower.startsWith(l.text, p - l.anchorAt)) : lower.includes(l.text)) found.push(l);
  }
  return found;
}

/**
 * The watched literals `body` spells, in itself or in the base64 values nested in it, within SCAN_BUDGET
 * bytes in all. Never throws: Node's base64 decoder skips what is not base64.
 */
export function literalsIn(body: Uint8Array, literals: readonly WatchedLiteral[]): { hits: LiteralHit[]; scannedWhole: boolean } {
  const hits: LiteralHit[] = [];
  if (literals.length === 0) return { hits, scannedWhole: true };
  const matcher = matcherOf(literals);
  const found = new Uint8Array(literals.length);
  const left = new Set(literals);
  let budget = SCAN_BUDGET;
  const scannedWhole = body.length <= budget;
  let layer: Buffer | undefined = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (let depth = 0; depth <= MAX_DEPTH && layer && left.size > 0 && budget > 0; depth++) {
    const n = Math.min(layer.length, budget);
    budget -= n;
    const text = layer.toString('latin1', 0, n);
    const met = matcher ? newlyFound(matcher, layer.subarray(0, n), found, literals) : findLiterals(text.toLowerCase(), left);
    for (const l of met) {
      hits.push({ rule: l.rule.id, source: l.source, literal: l.text, layer: depth });
      left.delete(l);
    }
    layer = depth < MAX_DEPTH ? nextLayer(text) : undefined;
  }
  return { hits, scannedWhole };
}

const matchers = new WeakMap<readonly WatchedLiteral[], LiteralMatcher | null>();

/** The one-pass matcher of `literals` (made once per list), or undefined for a list too large for one. */
function matcherOf(literals: readonly WatchedLiteral[]): LiteralMatcher | undefined {
  let m = matchers.get(literals);
  if (m === undefined) matchers.set(literals, (m = LiteralMatcher.of(literals.map((l) => l.text)) ?? null));
  return m ?? undefined;
}

/** The literals `bytes` holds that `found` did not mark yet (and marks them), in the list's order. */
function newlyFound(matcher: LiteralMatcher, bytes: Uint8Array, found: Uint8Array, literals: readonly WatchedLiteral[]): WatchedLiteral[] {
  const before = found.slice();
  if (matcher.find(bytes, found) === 0) return [];
  return literals.filter((_, i) => found[i] && !before[i]);
}

/** The finding's substance for an entry with a decode problem, or undefined when the rule is off for it. */
export function evaluateUndecoded(e: Entry, body: Uint8Array, rules: readonly CompiledRule[], config: UndecodedEntryConfig): UndecodedCandidate | undefined {
  if (!e.problem || !config.enabled || (config.logs && !config.logs.has(e.log))) return undefined;
  const literals = watchedLiterals(rules);
  let scan: ReturnType<typeof literalsIn>;
  try {
    scan = literalsIn(body, literals);
  } catch {
    // Written not to throw; should a body find a way, it is reported unread rather than stopping the mirror.
    scan = { hits: [], scannedWhole: false };
  }
  const { hits, scannedWhole } = scan;
  if (hits.length === 0 && config.watchedOnly) return undefined;
  const byId = new Map(rules.map((r) => [r.id, r]));
  hits.sort((a, b) => rank(byId.get(b.rule)!.severity) - rank(byId.get(a.rule)!.severity));
  const lead = hits.length ? byId.get(hits[0]!.rule) : undefined;
  const severity = lead && rank(lead.severity) > rank(config.severity) ? lead.severity : config.severity;
  const watched = hits.slice(0, MAX_HITS);
  const what = `${e.kind === 'unknown' ? 'an entry of no kind' : `a ${e.kind}${e.apiVersion ? ` ${e.apiVersion}` : ''} entry`}`;
  const signer = e.signer ? `the rules judged the signer it could read${e.signer.san !== undefined ? ` (${e.signer.san})` : ''}, not what it could not` : 'no signer was read, so no rule could match it';
  const names = watched.length
    ? `its body names ${hits.length === 1 ? 'a watched value' : `${hits.length} watched values`}: ${watched.map((h) => `${h.source} (rule ${h.rule})`).join(', ')}${hits.length > MAX_HITS ? ` and ${hits.length - MAX_HITS} more` : ''}`
    : `its body names nothing the rules watch${scannedWhole ? '' : ` in the ${SCAN_BUDGET} bytes read of it`}, but tlogwatch cannot tell whom it concerns`;
  return {
    severity,
    watched,
    ...(lead ? { lead } : {}),
    scannedWhole,
    message: `${what} that tlogwatch did not fully decode (${e.problem.code}: ${e.problem.message}): ${signer}; ${names}`,
  };
}
