/**
 * Finding candidates (./eval/evaluate.ts) → the stored findings the daemon commits with each batch
 * (./finding.ts): one finding per rule per entry, whose `expectation` is the first that broke and whose
 * evidence lists every candidate. It is suppressed only when all of its candidates are. Its identity is
 * that of the signer whose break it leads with.
 */
import { certificateOf } from '../entries/signer.ts';
import { sansOf } from '../entries/subject-alt-name.ts';
import type { Entry, Signer } from '../entries/types.ts';
import type { CertificateAuthorities } from '../trust/certificate-authority.ts';
import { evaluate, isWatched as watched } from './eval/evaluate.ts';
import type { SignedTimeOverride } from './eval/expect.ts';
import type { FindingCandidate, WatchedBy } from './eval/finding.ts';
import type { SignerIssuer } from './eval/suppress.ts';
import { signersOf } from './eval/values.ts';
import { evaluateUndecoded } from './eval/undecoded.ts';
import { findingId, undecodedFinding, type Finding } from './finding.ts';
import type { ProvenanceFacts } from './provenance/slsa.ts';
import { DEFAULT_BUILTINS, type RuleSet } from './rules/compiled.ts';

/**
 * The finding's identity: the signer's SAN its watch matched, when it matched one of them (a certificate
 * naming several identities is found through any, and whoever owns the watched one must see it named);
 * else the signer's primary SAN.
 */
function identityOf(s: Signer | undefined, by: WatchedBy): { identity?: string } {
  if (s === undefined) return {};
  const sans = sansOf(s);
  if (sans.length > 1 && sans.includes(by.value)) return { identity: by.value };
  return s.san !== undefined ? { identity: s.san } : {};
}

/** Names listed per signer in a finding's message, so a hostile certificate cannot make it unbounded. */
const LISTED_NAMES = 5;

/**
 * Words for the finding's message when a signer's certificate names several identities: Fulcio never issues
 * such a certificate, so whoever triages it should know every identity it claims.
 */
function severalNames(e: Entry): string {
  const parts: string[] = [];
  const signers = signersOf(e);
  for (const [i, s] of signers.entries()) {
    const sans = sansOf(s);
    if (sans.length < 2) continue;
    const more = sans.length > LISTED_NAMES ? ` and ${sans.length - LISTED_NAMES} more` : '';
    parts.push(`the certificate${signers.length > 1 ? ` of signer ${i}` : ''} names ${sans.length} identities: ${sans.slice(0, LISTED_NAMES).join(', ')}${more}`);
  }
  return parts.length ? ` (${parts.join('; ')})` : '';
}

export function toStoredFindings(candidates: readonly FindingCandidate[], e: Entry, now: number): Finding[] {
  if (candidates.length === 0) return [];
  const byRule = new Map<string, FindingCandidate[]>();
  for (const c of candidates) {
    const list = byRule.get(c.ruleId);
    if (list) list.push(c);
    else byRule.set(c.ruleId, [c]);
  }
  const out: Finding[] = [];
  for (const [ruleId, cs] of byRule) {
    const first = cs[0]!;
    const open = cs.filter((c) => !c.suppressed);
    const suppressed = open.length === 0 ? first.suppression : undefined;
    const lead = (open[0] ?? first).details.signer;
    const s = lead !== undefined ? (signersOf(e)[lead] ?? e.signer) : e.signer;
    out.push({
      id: findingId(ruleId, e.log, String(e.index)),
      rule: ruleId,
      kind: first.kind,
      severity: first.severity,
      message: `${first.ruleName}: ${cs.map((c) => c.message).join('; ')}${severalNames(e)}`,
      log: e.log,
      index: e.index,
      uuid: e.uuid,
      firstSeen: now,
      status: suppressed ? 'suppressed' : 'open',
      evidence: {
        watchedBy: first.details.watchedBy,
        ruleFile: first.file,
        violations: cs.filter((c) => c.kind === 'violation').map((c) => ({ expectation: c.expectation, message: c.message, ...c.details, ...(c.suppression ? { suppressed: c.suppression.reason } : {}) })),
      },
      ...((open[0] ?? first).expectation !== undefined ? { expectation: (open[0] ?? first).expectation } : {}),
      ...(suppressed ? { statusReason: suppressed.reason, statusAt: now } : {}),
      ...(e.digests[0] ? { digest: e.digests[0] } : {}),
      ...identityOf(s, first.details.watchedBy),
      ...(s?.issuer !== undefined ? { issuer: s.issuer } : {}),
      ...(s?.fulcio ? { fulcio: s.fulcio } : {}),
      ...(e.integratedTime !== undefined ? { integratedTime: e.integratedTime } : {}),
      ...(Object.keys(first.labels).length ? { labels: { ...first.labels } } : {}),
      ...(first.owner !== undefined ? { owner: first.owner } : {}),
    });
  }
  return out;
}

export interface EvaluateOptions {
  provenance?: ProvenanceFacts;
  /**
   * The trusted root's CAs: which issued each signer's certificate is checked for entries with findings
   * (and for identity suppressions, which never hold for a certificate none of them issued).
   */
  cas?: CertificateAuthorities | undefined;
  /**
   * The signed time to judge the entry at, in place of its own (`tlogwatch verify --rules`: a verified SET's
   * or RFC 3161 timestamp's, verify/signing-time.ts); null when nothing signed one. It is what time windows
   * read and what the issuing CA is checked at; with null, time windows break ("no signed time") and no CA
   * counts as having issued a certificate, so no identity suppression holds on a time nobody vouched for.
   * Undefined: the entry's own time (the mirror's, whose integrated time a SET signed at ingest).
   */
  signedTime?: SignedTimeOverride;
}

/** Stored findings for one entry by the rules (`POST /v1/bundles`; through evaluateLogged, the daemon's hooks, `tlogwatch verify --rules`, `rules test`). */
export function evaluateEntry(set: RuleSet, e: Entry, now: number, o: EvaluateOptions = {}): Finding[] {
  const issuer = o.cas ? signerIssuers(e, o.cas, o.signedTime === undefined ? issuedAt(e, now) : () => o.signedTime?.t ?? null) : undefined;
  const found = toStoredFindings(evaluate(set, e, now, o.provenance, issuer, o.signedTime), e, now);
  return issuer ? withCertificateIssuers(found, e, issuer, o.signedTime === null) : found;
}

/**
 * evaluateEntry for an entry as logged, with its body: an entry the decoder could not fully read
 * (`e.problem`) is also judged by the built-in `undecoded-entry` (eval/undecoded.ts), which reads the raw
 * body for watched values no rule could match. The daemon's hooks, `tlogwatch verify --rules` and
 * `rules test` all judge through here, so each says of an entry what the others do. With no rules there
 * is no watch an entry could have concerned, so nothing to raise.
 */
export function evaluateLogged(set: RuleSet, e: Entry, body: Uint8Array, now: number, o: EvaluateOptions = {}): Finding[] {
  const found = evaluateEntry(set, e, now, o);
  // The only cost to an ordinary entry: this test.
  if (!e.problem || set.rules.length === 0) return found;
  const config = set.builtins?.undecodedEntry ?? DEFAULT_BUILTINS.undecodedEntry;
  const c = evaluateUndecoded(e, body, set.rules, config);
  return c ? [...found, undecodedFinding(e, c, config, now)] : found;
}

/**
 * When the mirror judges a signer's CA (its own entries: the daemon, `rules test`, `POST /v1/bundles`): the
 * integrated time, which a SET signed at ingest; else (Rekor v2 has none) the certificate's notBefore, the
 * time its CA signed into it as when it issued it; else now. Now alone would judge a backfilled or
 * caught-up entry by the CAs of today, and call the certificates of a CA retired since not issued by any.
 */
function issuedAt(e: Entry, now: number): (s: Signer | undefined) => number {
  return (s) => e.integratedTime ?? (s?.type === 'x509' ? s.notBefore : undefined) ?? now;
}

/**
 * Which CA of the trusted root issued each signer's certificate (by index in signersOf), checked once
 * each and only when asked: null for none, undefined for a key, a signer read back from the store (no
 * certificate bytes), or a check that failed, which never stops the mirror at a hostile certificate.
 * A CA is trusted for what it issued over its validFor only, so `at` gives when the signer's certificate
 * was used or issued; null when no one signed a time, and then no CA is known to have issued it.
 */
function signerIssuers(e: Entry, cas: CertificateAuthorities, at: (s: Signer | undefined) => number | null): SignerIssuer {
  const signers = signersOf(e);
  const known = new Map<number, string | null | undefined>();
  return (i) => {
    if (known.has(i)) return known.get(i);
    const s = signers[i];
    const der = s?.type === 'x509' ? certificateOf(s) : undefined;
    let name: string | null | undefined;
    try {
      const when = der ? at(s) : null;
      name = der ? (when === null ? null : cas.issuerOf(der, s!.fingerprint, when)) : undefined;
    } catch {
      name = undefined;
    }
    known.set(i, name);
    return name;
  };
}

/**
 * Says on each finding of an x509-signed entry which CA of the trusted root issued its certificates
 * (`evidence.certificateIssuers`, one per x509 signer: the CA's name, or null). A finding whose break a
 * certificate no trusted CA issued is behind (the signer it names, or any signer for a break of the whole
 * entry) is a signature Sigstore clients reject, and its message says so, so that whoever triages it knows
 * a spoofed identity from a used one; a genuine signer's break beside a spoofed co-signer is not called one.
 * `timeUnknown`: no signed time to check the CAs at, which the message says instead.
 */
function withCertificateIssuers(found: Finding[], e: Entry, issuer: SignerIssuer, timeUnknown: boolean): Finding[] {
  const x509 = signersOf(e).flatMap((s, i) => (s.type === 'x509' ? [i] : []));
  if (found.length === 0 || x509.length === 0) return found;
  const issuers = x509.map(issuer);
  if (issuers.some((n) => n === undefined)) return found; // a signer read back from the store: no certificate bytes to check
  return found.map((f) => {
    const violations = ((f.evidence?.['violations'] ?? []) as Array<{ signer?: number; suppressed?: string }>).filter((v) => v.suppressed === undefined);
    const named = violations.length > 0 && violations.every((v) => v.signer !== undefined);
    const involved = named ? violations.map((v) => v.signer!) : x509;
    const spoofed = involved.some((i) => issuer(i) === null);
    return {
      ...f,
      ...(spoofed ? { message: `${f.message} (${timeUnknown ? 'no signed time to tell which certificate authority of the trusted root issued it' : 'not issued by a certificate authority of the trusted root'}: Sigstore clients reject this signature)` } : {}),
      evidence: { ...f.evidence, certificateIssuers: issuers },
    };
  });
}

/** True when any rule watches the entry (index mode `watched`). */
export function isWatched(set: RuleSet, e: Entry): boolean {
  return watched(set, e);
}
