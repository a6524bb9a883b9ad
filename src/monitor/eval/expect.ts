/**
 * Expectations: what a legitimate entry of yours looks like. Each check returns the expectations the
 * entry breaks, with expected and actual values. A claim an expectation needs but the entry lacks breaks
 * that expectation and the message says it is missing: absence never passes silently.
 * Claims: reference/rekor.md §6. Provenance: provenance/slsa.ts.
 */
import type { Entry, Signer } from '../../entries/types.ts';
import type { CompiledExpect, CompiledProvenance } from '../rules/compiled.ts';
import { normalise, type PatternSet } from '../rules/pattern.ts';
import type { ExpectationName } from '../rules/schema.ts';
import type { ProvenanceFacts } from '../provenance/slsa.ts';
import type { SignerIssuer } from './suppress.ts';
import { outsideWindow, type TimeWindow } from './timewindow.ts';
import { buildSignerClaim, claimWithFallback, issuerClaim, issuerOf, num, repositoryClaim, signersOf, str, type ClaimValue } from './values.ts';

export interface Broken {
  expectation: ExpectationName;
  message: string;
  expected?: string[] | string;
  actual: string | null;
  field?: string;
  timeSource?: string;
  signer?: number;
}

type ClaimCheck = readonly [ExpectationName, 'issuers' | 'buildSigners' | 'buildConfigs' | 'repositories' | 'owners' | 'sourceRefs' | 'triggers' | 'runnerEnvironment' | 'visibility', string, (s: Signer | undefined) => ClaimValue];

const CLAIM_CHECKS: readonly ClaimCheck[] = [
  ['expect.issuers', 'issuers', 'OIDC issuer', issuerClaim],
  ['expect.buildSigners', 'buildSigners', 'build signer URI', buildSignerClaim],
  // The workflow that ran: a reusable workflow's caller, where the SAN and build signer name the reusable one.
  ['expect.buildConfigs', 'buildConfigs', 'build config URI', (s) => claimWithFallback(s, 'buildConfigURI')],
  // The caller's repository: a reusable workflow's SAN and build signer name the workflow's repository.
  ['expect.repositories', 'repositories', 'source repository', (s) => repositoryClaim(s, 'repository')],
  ['expect.owners', 'owners', 'source repository owner', (s) => repositoryClaim(s, 'owner')],
  ['expect.sourceRefs', 'sourceRefs', 'source ref', (s) => claimWithFallback(s, 'sourceRepositoryRef', 'githubWorkflowRef')],
  ['expect.triggers', 'triggers', 'build trigger', (s) => claimWithFallback(s, 'buildTrigger', 'githubWorkflowTrigger')],
  ['expect.runnerEnvironment', 'runnerEnvironment', 'runner environment', (s) => claimWithFallback(s, 'runnerEnvironment')],
  ['expect.visibility', 'visibility', 'repository visibility', (s) => claimWithFallback(s, 'sourceRepositoryVisibilityAtSigning')],
];

const list = (xs: Iterable<string>) => [...xs].join(', ');

function missing(what: string, field: string, expected: string[]): string {
  return `${what} is missing: the entry has no ${field}; expected one of ${list(expected)}`;
}

function checkValue(name: ExpectationName, what: string, allowed: PatternSet | ReadonlySet<string>, v: ClaimValue, signer: number | undefined): Broken | undefined {
  const ok = v.value !== undefined && (allowed instanceof Set ? allowed.has(v.value) : (allowed as PatternSet).match(v.value) !== undefined);
  if (ok) return undefined;
  const expected: string[] = allowed instanceof Set ? [...(allowed as ReadonlySet<string>)] : (allowed as PatternSet).sources();
  const who = signer === undefined ? '' : ` (signer ${signer})`;
  return {
    expectation: name,
    message: v.value === undefined ? missing(what, v.field, expected) + who : `${what} ${v.value}${who} is not one of ${list(expected)}`,
    expected,
    actual: v.value ?? null,
    field: v.field,
    ...(signer !== undefined ? { signer } : {}),
  };
}

/**
 * Claim checks run for every signer (a DSSE co-signer must be legitimate too), and each signer's break is
 * reported: one signer's break must not stand for another's, since a suppression or a triage decision is
 * about the signer it names (a self-made certificate beside a genuine one, say).
 */
function checkClaims(x: CompiledExpect, signers: readonly Signer[], out: Broken[]): void {
  const each: ReadonlyArray<Signer | undefined> = signers.length ? signers : [undefined];
  const many = signers.length > 1;
  for (const [name, key, what, read] of CLAIM_CHECKS) {
    const allowed = x[key];
    if (!allowed) continue;
    for (const [i, s] of each.entries()) {
      const b = checkValue(name, what, allowed, read(s), many ? i : undefined);
      if (b) out.push(b);
    }
  }
  if (x.keys) {
    const expected = [...x.keys];
    if (signers.length === 0) out.push({ expectation: 'expect.keys', message: `the entry has no signer key or certificate, expected one of ${list(x.keys)}`, expected, actual: null, field: 'signer.fingerprint' });
    for (const [i, s] of signers.entries()) {
      const fp = str(s.fingerprint) ?? null;
      // A certificate's key counts as that key (types.ts Signer.keyFingerprint): only its holder can sign with it.
      const key = str(s.keyFingerprint);
      if ((fp !== null && x.keys.has(fp)) || (key !== undefined && x.keys.has(key))) continue;
      out.push({
        expectation: 'expect.keys',
        message: fp === null ? `a signer has no key fingerprint, expected one of ${list(x.keys)}` : `signer ${fp}${key === undefined ? '' : ` (a certificate for key ${key})`} is not an allowed key`,
        expected,
        actual: fp,
        field: 'signer.fingerprint',
        ...(many ? { signer: i } : {}),
      });
    }
  }
}

/** An instant (Unix seconds) and what it is (`details.timeSource`). */
export interface EntryTime {
  t: number;
  source: string;
}

/**
 * The time a caller passes in place of the entry's own (`entryTime`): `tlogwatch verify --rules` passes
 * the bundle's signed time (verify/signing-time.ts), or null when nothing signed one: then a time check
 * has no time, and breaks (a rule about when signing happens must not pass on a time anyone could write).
 */
export type SignedTimeOverride = EntryTime | null | undefined;

/** A Fulcio certificate lives 10 minutes (fulcio docs); its notBefore is when Fulcio issued it. */
const FULCIO_MAX_VALIDITY = 3600;

/**
 * The time an off-hours check uses: integratedTime (the log's); else the notBefore of a short-lived
 * Fulcio certificate (Fulcio's, minutes before signing; Rekor v2 has no integratedTime); else, when this
 * mirror observed the entry live (mirror/observed-live.ts), when it first saw it, which is then within a
 * poll interval of the log taking it; else the provenance statement's finishedOn/startedOn (the signer's
 * claim); else when this mirror first saw it (a catch-up's or backfill's time).
 * `issuer` (which CA of the trusted root issued each signer's certificate, where known): a certificate
 * none issued is not Fulcio's, and its notBefore is whatever its maker wrote, so it is not used: Rekor v2
 * logs a signature under any certificate, and one made around a stolen key with a notBefore in office
 * hours would pass every time window at 3 a.m. The provenance dates come after a live observation for
 * the same reason: whoever holds a stolen key writes them, and a statement signed at 03:00 on a Sunday
 * can say it finished on Wednesday morning. For an entry reached in a catch-up they are still used, since
 * observedAt is then the catch-up's time, not the signing's.
 */
export function entryTime(e: Entry, facts: ProvenanceFacts | undefined, issuer?: SignerIssuer): EntryTime | undefined {
  const it = num(e.integratedTime);
  if (it !== undefined) return { t: it, source: 'integratedTime' };
  for (const [i, s] of signersOf(e).entries()) {
    if (issuer?.(i) === null) continue;
    const nb = num(s.notBefore);
    const na = num(s.notAfter);
    if (s.type === 'x509' && issuerOf(s) !== undefined && nb !== undefined && na !== undefined && na - nb <= FULCIO_MAX_VALIDITY) return { t: nb, source: 'Fulcio certificate notBefore' };
  }
  const seen = num(e.observedAt);
  if (seen !== undefined && e.observedLive === true) return { t: seen, source: 'observedAt (seen live by this mirror, within a poll interval of being logged)' };
  const fin = num(facts?.finishedOn);
  if (fin !== undefined) return { t: fin, source: "provenance finishedOn (the signer's claim)" };
  const st = num(facts?.startedOn);
  if (st !== undefined) return { t: st, source: "provenance startedOn (the signer's claim)" };
  if (seen !== undefined) return { t: seen, source: 'observedAt (first seen by this mirror)' };
  return undefined;
}

const iso = (t: number) => (Math.abs(t) < 8.64e12 ? new Date(t * 1000).toISOString() : String(t));

const UNSIGNED = 'no signed time (no verified SET, no verified RFC 3161 timestamp; an unsigned integrated time, a certificate\'s notBefore and provenance dates are not used)';

function checkTime(name: ExpectationName, w: TimeWindow, at: EntryTime | undefined, what: string, unsigned = false): Broken | undefined {
  if (!at) return { expectation: name, message: `${what}: the entry has ${unsigned ? UNSIGNED : 'no time'} to check against ${w.text}`, expected: w.text, actual: null };
  const why = outsideWindow(at.t, w);
  if (!why) return undefined;
  return { expectation: name, message: `${what} outside the allowed window (${at.source}): ${why}`, expected: w.text, actual: iso(at.t), timeSource: at.source };
}

function checkProvenance(xp: CompiledProvenance, w: TimeWindow | undefined, facts: ProvenanceFacts | undefined, signer: Signer | undefined, out: Broken[]): void {
  if (!facts) {
    if (xp.required) out.push({ expectation: 'expect.provenance', message: 'no in-toto provenance statement is known for this entry (required)', actual: null });
    return;
  }
  const where = `the ${facts.predicateType} statement`;
  const field = (name: ExpectationName, what: string, allowed: PatternSet | ReadonlySet<string> | undefined, value: string | undefined, src: string) => {
    if (!allowed) return;
    const b = checkValue(name, what, allowed, { value, field: `${where}'s ${src}` }, undefined);
    if (b) out.push(b);
  };
  field('expect.provenance.predicateTypes', 'provenance predicate type', xp.predicateTypes, facts.predicateType, 'predicateType');
  field('expect.provenance.builders', 'provenance builder', xp.builders, str(facts.builderId), 'builder.id');
  field('expect.provenance.buildTypes', 'provenance build type', xp.buildTypes, str(facts.buildType), 'buildType');
  field('expect.provenance.sourceRepositories', 'provenance source repository', xp.sourceRepositories, str(facts.sourceRepository), 'source repository');
  field('expect.provenance.sourceRefs', 'provenance source ref', xp.sourceRefs, str(facts.sourceRef), 'source ref');
  if (xp.matchCertificate) {
    // As expect.repositories reads it: certificates issued before .12 existed carry only .5 (owner/repo).
    const certRepo = repositoryClaim(signer, 'repository').value;
    const repo = str(facts.sourceRepository);
    const reported = out.some((b) => b.expectation === 'expect.provenance.sourceRepositories');
    if (!reported && certRepo !== undefined && repo !== undefined && normalise('url', certRepo) !== normalise('url', repo)) {
      out.push({ expectation: 'expect.provenance.sourceRepositories', message: `provenance source repository ${repo} is not the certificate's ${certRepo}`, expected: certRepo, actual: repo, field: `${where}'s source repository` });
    }
    const certSha = claimWithFallback(signer, 'sourceRepositoryDigest', 'githubWorkflowSha').value;
    const sha = str(facts.sourceDigest);
    if (certSha !== undefined && sha !== undefined && certSha.toLowerCase() !== sha.toLowerCase()) {
      out.push({ expectation: 'expect.provenance.sourceDigest', message: `provenance source commit ${sha} is not the certificate's ${certSha}`, expected: certSha, actual: sha, field: `${where}'s source digest` });
    }
  }
  if (w) {
    for (const [name, key] of [['expect.provenance.startedOn', 'startedOn'], ['expect.provenance.finishedOn', 'finishedOn']] as const) {
      const t = num(facts[key]);
      if (t === undefined) continue;
      const b = checkTime(name, w, { t, source: `provenance ${key}` }, `build ${key === 'startedOn' ? 'started' : 'finished'}`);
      if (b) out.push(b);
    }
  }
}

/** `time`: see SignedTimeOverride; undefined = the entry's own time (`entryTime`, which `issuer` informs). */
export function brokenExpectations(x: CompiledExpect, e: Entry, facts: ProvenanceFacts | undefined, time?: SignedTimeOverride, issuer?: SignerIssuer): Broken[] {
  const out: Broken[] = [];
  const signers = signersOf(e);
  if (x.kinds) {
    const kind = str(e.kind);
    const b = checkValue('expect.kinds', 'entry kind', x.kinds, { value: kind, field: 'kind' }, undefined);
    if (b) out.push(b);
  }
  checkClaims(x, signers, out);
  if (x.timeWindow) {
    const b = checkTime('expect.timeWindow', x.timeWindow, time === undefined ? entryTime(e, facts, issuer) : (time ?? undefined), 'signed', time === null);
    if (b) out.push(b);
  }
  if (x.provenance) checkProvenance(x.provenance, x.timeWindow, facts, signers[0], out);
  return out;
}
