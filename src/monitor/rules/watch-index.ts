/**
 * The watch index: which rules can concern an entry, found by lookups keyed on the entry's values
 * rather than by running every rule. Exact patterns and fingerprints/digests/claim values are Map keys;
 * globs are bucketed by their literal prefix (probed with the value's prefixes of the bucket lengths) or,
 * when they start with `*`, by their literal suffix (`*@acme.com`); regexes and bare `*` are scanned.
 * Every candidate is still confirmed by its pattern, so the index only ever saves work.
 */
import { sansOf } from '../../entries/subject-alt-name.ts';
import type { Entry, FulcioClaimName } from '../../entries/types.ts';
import type { WatchedBy } from '../eval/finding.ts';
import { claimOf, digestsOf, issuerOf, signersOf, str, watchValue } from '../eval/values.ts';
import type { CompiledRule, WatchField, WatchSelector } from './compiled.ts';
import { normalise, type FieldKind, type Pattern } from './pattern.ts';

interface Hit {
  rule: CompiledRule;
  selector: WatchSelector;
  /** The pattern or value as written. */
  label: string;
  pattern?: Pattern;
}

const NO_HITS: readonly Hit[] = [];

/** Values whose probe results each field index keeps (see FieldIndex.probe). */
const PROBE_MEMO_SIZE = 4096;

const push = <K>(m: Map<K, Hit[]>, k: K, h: Hit) => {
  const list = m.get(k);
  if (list) list.push(h);
  else m.set(k, [h]);
};

/** `https://github.com/acme/…` → `https://github.com/acme/`: a URL cut after its owner-level segment. */
const SEGMENTS = 4;
function segmentKey(v: string): string | undefined {
  let at = -1;
  for (let n = 0; n < SEGMENTS; n++) {
    at = v.indexOf('/', at + 1);
    if (at < 0) return undefined;
  }
  return v.slice(0, at + 1);
}

/** `alice@acme.com` → `@acme.com`. */
function domainKey(v: string): string | undefined {
  const at = v.lastIndexOf('@');
  return at < 0 ? undefined : v.slice(at);
}

/**
 * One field's patterns, bucketed so a value costs a few Map lookups whatever the number of rules:
 * exact values by value; globs and regexes whose literal prefix reaches the owner level of a URL by
 * that segment key (one lookup); globs ending in `@domain` by domain (one lookup); other prefixes and
 * suffixes by length (one lookup per distinct length); the rest scanned.
 */
class FieldIndex {
  readonly kind: FieldKind;
  size = 0;
  private readonly exact = new Map<string, Hit[]>();
  private readonly bySegment = new Map<string, Hit[]>();
  private readonly byDomain = new Map<string, Hit[]>();
  private readonly prefix = new Map<string, Hit[]>();
  private readonly suffix = new Map<string, Hit[]>();
  private prefixLens: number[] = [];
  private suffixLens: number[] = [];
  private readonly scan: Hit[] = [];

  constructor(kind: FieldKind) {
    this.kind = kind;
  }

  add(h: Hit & { pattern: Pattern }): void {
    this.size++;
    const p = h.pattern;
    const seg = p.prefix ? segmentKey(p.prefix) : undefined;
    const dom = p.type === 'glob' && !p.prefix && p.suffix ? domainKey(p.suffix) : undefined;
    if (p.type === 'exact') push(this.exact, p.prefix, h);
    else if (seg !== undefined) push(this.bySegment, seg, h);
    else if (p.prefix) push(this.prefix, p.prefix, h);
    else if (dom !== undefined) push(this.byDomain, dom, h);
    else if (p.type === 'glob' && p.suffix) push(this.suffix, p.suffix, h);
    else this.scan.push(h);
    this.prefixLens = [...new Set([...this.prefix.keys()].map((k) => k.length))];
    this.suffixLens = [...new Set([...this.suffix.keys()].map((k) => k.length))];
  }

  /**
   * The confirmed hits of each value probed lately. A probe is a pure function of the value, and values
   * repeat: a log's signers sign again and again (261 distinct identities in 4,096 simulator entries), so
   * most probes are one Map lookup instead of normalising, slicing and looking up each bucket. Bounded:
   * cleared when full, so a flood of distinct values (anyone can log any SAN) costs only the clearing.
   */
  private readonly memo = new Map<string, readonly Hit[]>();

  probe(raw: string, found: (h: Hit, value: string) => void): void {
    let hits = this.memo.get(raw);
    if (hits === undefined) {
      const acc: Hit[] = [];
      this.compute(raw, (h) => acc.push(h));
      hits = acc.length ? acc : NO_HITS;
      if (this.memo.size >= PROBE_MEMO_SIZE) this.memo.clear();
      this.memo.set(raw, hits);
    }
    for (const h of hits) found(h, raw);
  }

  private compute(raw: string, found: (h: Hit, value: string) => void): void {
    const v = normalise(this.kind, raw);
    if (this.exact.size) {
      const exact = this.exact.get(v);
      if (exact) for (const h of exact) found(h, raw);
    }
    if (this.bySegment.size) {
      const seg = segmentKey(v);
      if (seg !== undefined) this.confirm(this.bySegment.get(seg), v, raw, found);
    }
    if (this.byDomain.size) {
      const dom = domainKey(v);
      if (dom !== undefined) this.confirm(this.byDomain.get(dom), v, raw, found);
    }
    for (const n of this.prefixLens) if (n <= v.length) this.confirm(this.prefix.get(v.slice(0, n)), v, raw, found);
    for (const n of this.suffixLens) if (n <= v.length) this.confirm(this.suffix.get(v.slice(v.length - n)), v, raw, found);
    if (this.scan.length) this.confirm(this.scan, v, raw, found);
  }

  /** Candidates from a bucket still have to match: the index only narrows. */
  private confirm(list: Hit[] | undefined, v: string, raw: string, found: (h: Hit, value: string) => void): void {
    if (list) for (const h of list) if (h.pattern!.test(v)) found(h, raw);
  }
}

const FIELDS: ReadonlyArray<[WatchField, FieldKind]> = [
  ['identity', 'identity'],
  ['issuer', 'url'],
  ['repository', 'url'],
  ['owner', 'url'],
  ['buildSigner', 'url'],
];

export interface WatchMatch {
  rule: CompiledRule;
  /** Every selector that matched, first one first (one per selector). */
  watchedBy: WatchedBy[];
}

export class WatchIndex {
  private readonly fields = new Map<WatchField, FieldIndex>(FIELDS.map(([f, k]) => [f, new FieldIndex(k)]));
  private readonly fieldList: Array<[WatchField, FieldIndex]> = [];
  private readonly fingerprints = new Map<string, Hit[]>();
  private readonly hexFingerprints = new Map<string, Hit[]>();
  private readonly digests = new Map<string, Hit[]>();
  private readonly claims = new Map<FulcioClaimName, Map<string, Hit[]>>();
  private readonly identityScans: Hit[] = [];

  constructor(rules: readonly CompiledRule[]) {
    for (const rule of rules) for (const sel of rule.watch) this.add(rule, sel);
    for (const [f, idx] of this.fields) if (idx.size > 0) this.fieldList.push([f, idx]);
  }

  private add(rule: CompiledRule, sel: WatchSelector): void {
    switch (sel.type) {
      case 'pattern':
        for (const p of sel.patterns) this.fields.get(sel.field)!.add({ rule, selector: sel, label: p.source, pattern: p });
        return;
      case 'fingerprint':
      case 'digest':
      case 'hexFingerprint': {
        const m = sel.type === 'fingerprint' ? this.fingerprints : sel.type === 'digest' ? this.digests : this.hexFingerprints;
        for (const v of sel.values) push(m, v, { rule, selector: sel, label: v });
        return;
      }
      case 'claim':
        for (const c of sel.claims) {
          let m = this.claims.get(c);
          if (!m) this.claims.set(c, (m = new Map<string, Hit[]>()));
          for (const v of sel.values) push(m, v, { rule, selector: sel, label: v });
        }
        return;
      case 'certIdentity':
      case 'subject':
        this.identityScans.push({ rule, selector: sel, label: sel.source });
    }
  }

  /** Rules whose watch matches the entry, in rule order. `extraDigests`: provenance subjects. */
  lookup(e: Entry, extraDigests: readonly string[] = []): WatchMatch[] {
    let found: Map<number, WatchMatch> | undefined;
    const hit = (h: Hit, value: string) => {
      found ??= new Map();
      const by: WatchedBy = { selector: h.selector.selector, pattern: h.label, value };
      const m = found.get(h.rule.order);
      if (!m) found.set(h.rule.order, { rule: h.rule, watchedBy: [by] });
      else if (h.rule.mode === 'report' && !m.watchedBy.some((w) => w.selector === by.selector)) m.watchedBy.push(by);
    };
    if (this.digests.size) {
      for (const d of digestsOf(e)) for (const h of this.digests.get(d) ?? NO_HITS) hit(h, d);
      for (const d of extraDigests) for (const h of this.digests.get(d) ?? NO_HITS) hit(h, d);
    }
    for (const s of signersOf(e)) {
      for (const [field, idx] of this.fieldList) {
        // Every identity the certificate names: a rogue certificate may name a watched one second.
        if (field === 'identity') for (const san of sansOf(s)) idx.probe(san, hit);
        else {
          const v = watchValue(s, field);
          if (v !== undefined) idx.probe(v, hit);
        }
      }
      const fp = str(s.fingerprint);
      if (this.fingerprints.size) {
        // A certificate's, or the key it certifies: one made around a stolen long-lived key is that key's signature.
        if (fp !== undefined) for (const h of this.fingerprints.get(fp) ?? NO_HITS) hit(h, fp);
        const key = str(s.keyFingerprint);
        if (key !== undefined) for (const h of this.fingerprints.get(key) ?? NO_HITS) hit(h, key);
      }
      if (fp !== undefined && this.hexFingerprints.size) {
        const hex = fp.startsWith('sha256:') ? fp.slice(7) : fp;
        for (const h of this.hexFingerprints.get(hex) ?? NO_HITS) hit(h, hex);
      }
      for (const [claim, values] of this.claims) {
        const v = claimOf(s, claim);
        if (v !== undefined) for (const h of values.get(v) ?? NO_HITS) hit(h, v);
      }
      if (this.identityScans.length) {
        // rekor-monitor matches every SAN of the certificate (pkg/identity CertMatchesPolicy).
        const issuer = issuerOf(s);
        for (const san of sansOf(s)) {
          for (const h of this.identityScans) {
            const v = scanMatch(h.selector, san, issuer);
            if (v !== undefined) hit(h, v);
          }
        }
      }
    }
    if (!found) return [];
    return [...found.values()].sort((a, b) => a.rule.order - b.rule.order);
  }
}

/** rekor-monitor CertMatchesPolicy (reference/rekor.md §4.4): a certificate without an issuer never matches. */
function scanMatch(sel: WatchSelector, san: string, issuer: string | undefined): string | undefined {
  if (sel.type === 'subject') return sel.subject.test(san) ? san : undefined;
  if (sel.type !== 'certIdentity' || issuer === undefined || !sel.subject.test(san)) return undefined;
  if (sel.issuers && !sel.issuers.some((r) => r.test(issuer))) return undefined;
  return sel.issuers ? `${san} (issuer ${issuer})` : san;
}
