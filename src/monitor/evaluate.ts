/**
 * Rule evaluation: a pure function of (compiled rule set, Entry, time) → findings. An entry is watched by
 * a rule when any watch selector matches; a watched entry that breaks any expectation is one `violation`
 * finding naming every broken expectation; with `notify: all` a watched entry that breaks nothing is an
 * `info` finding. A claim an expectation needs but the certificate lacks breaks that expectation.
 */
import type { Entry, Signer } from '../entries/types.ts';
import type { CompiledRule, RuleSet } from './compile.ts';
import { findingId, type Finding } from './finding.ts';
import type { PatternSet } from './match.ts';
import { outsideWindow } from './timewindow.ts';

export interface Violation {
  expectation: string;
  message: string;
  actual: string | null;
}

function signersOf(e: Entry): Signer[] {
  return e.signers ?? (e.signer ? [e.signer] : []);
}

function watchedBy(r: CompiledRule, e: Entry): string | undefined {
  const w = r.watch;
  if (w.digests) for (const d of e.digests) if (w.digests.has(d)) return `digest ${d}`;
  for (const s of signersOf(e)) {
    const f = s.fulcio;
    let p;
    if ((p = w.identities?.matches(s.san))) return `identity ${p.source}`;
    if ((p = w.repositories?.matches(f?.sourceRepositoryURI))) return `repository ${p.source}`;
    if ((p = w.owners?.matches(f?.sourceRepositoryOwnerURI))) return `owner ${p.source}`;
    if ((p = w.buildSigners?.matches(f?.buildSignerURI))) return `build signer ${p.source}`;
    if ((p = w.issuers?.matches(s.issuer))) return `issuer ${p.source}`;
    if (w.fingerprints?.has(s.fingerprint)) return `fingerprint ${s.fingerprint}`;
    for (const c of w.identityWithIssuer ?? []) {
      if (s.san === undefined || !c.subject.test(s.san)) continue;
      if (!c.issuers) return `certSubject ${c.subject.source}`;
      if (s.issuer !== undefined && c.issuers.some((i) => i.test(s.issuer!))) return `certSubject ${c.subject.source} with issuer ${s.issuer}`;
    }
    for (const c of w.claims ?? []) {
      const v = f?.[c.claim];
      if (v !== undefined && c.values.has(v)) return `${c.claim} ${v}`;
    }
  }
  return undefined;
}

function checkSet(out: Violation[], name: string, set: PatternSet | Set<string> | undefined, value: string | undefined, what: string): void {
  if (!set) return;
  const ok = value !== undefined && (set instanceof Set ? set.has(value) : set.matches(value) !== undefined);
  if (ok) return;
  const allowed = set instanceof Set ? [...set] : set.patterns.map((p) => p.source);
  out.push({
    expectation: `expect.${name}`,
    actual: value ?? null,
    message: value === undefined ? `${what} is missing, expected one of ${allowed.join(', ')}` : `${what} ${value} is not one of ${allowed.join(', ')}`,
  });
}

export function violations(r: CompiledRule, e: Entry): Violation[] {
  const x = r.expect;
  const out: Violation[] = [];
  const s = e.signer;
  const f = s?.fulcio;
  checkSet(out, 'kinds', x.kinds, e.kind, 'entry kind');
  checkSet(out, 'issuers', x.issuers, s?.issuer, 'OIDC issuer');
  checkSet(out, 'buildSigners', x.buildSigners, f?.buildSignerURI, 'build signer');
  checkSet(out, 'sourceRefs', x.sourceRefs, f?.sourceRepositoryRef ?? f?.githubWorkflowRef, 'source ref');
  checkSet(out, 'triggers', x.triggers, f?.buildTrigger ?? f?.githubWorkflowTrigger, 'build trigger');
  checkSet(out, 'runnerEnvironment', x.runnerEnvironment, f?.runnerEnvironment, 'runner environment');
  checkSet(out, 'visibility', x.visibility, f?.sourceRepositoryVisibilityAtSigning, 'repository visibility');
  if (x.keys) {
    const unknown = signersOf(e).find((sg) => !x.keys!.has(sg.fingerprint));
    if (unknown || signersOf(e).length === 0) out.push({ expectation: 'expect.keys', actual: unknown?.fingerprint ?? null, message: `signer ${unknown?.fingerprint ?? '(none)'} is not an allowed key` });
  }
  if (x.timeWindow) {
    const t = e.integratedTime ?? e.observedAt;
    const why = t === undefined ? 'the entry has no time' : outsideWindow(t, x.timeWindow);
    if (why) out.push({ expectation: 'expect.timeWindow', actual: t === undefined ? null : new Date(t * 1000).toISOString(), message: `signed outside the allowed window: ${why}` });
    for (const [what, pt] of [['build started', e.provenance?.startedOn], ['build finished', e.provenance?.finishedOn]] as const) {
      const w = pt === undefined ? undefined : outsideWindow(pt, x.timeWindow);
      if (w) out.push({ expectation: 'expect.timeWindow', actual: new Date(pt! * 1000).toISOString(), message: `${what} outside the allowed window: ${w}` });
    }
  }
  const xp = x.provenance;
  if (xp) {
    const p = e.provenance;
    if (!p) {
      if (xp.required) out.push({ expectation: 'expect.provenance', actual: null, message: 'no provenance statement is known for this entry' });
    } else {
      checkSet(out, 'provenance.builders', xp.builders, p.builderId, 'provenance builder');
      checkSet(out, 'provenance.buildTypes', xp.buildTypes, p.buildType, 'provenance build type');
      checkSet(out, 'provenance.sourceRepositories', xp.sourceRepositories, p.sourceRepository, 'provenance source repository');
    }
  }
  return out;
}

function suppression(r: CompiledRule, e: Entry, now: number): string | undefined {
  for (const sp of r.suppress) {
    if (sp.until !== undefined && now >= sp.until) continue;
    if (sp.digest !== undefined && !e.digests.includes(sp.digest as never)) continue;
    if (sp.identity && !signersOf(e).some((s) => s.san !== undefined && sp.identity!.test(s.san))) continue;
    return sp.reason;
  }
  return undefined;
}

export function evaluateEntry(set: RuleSet, e: Entry, now: number): Finding[] {
  const out: Finding[] = [];
  for (const r of set.rules) {
    const why = watchedBy(r, e);
    if (!why) continue;
    const broken = violations(r, e);
    if (broken.length === 0 && r.rule.notify !== 'all') continue;
    const suppressed = suppression(r, e, now);
    const s = e.signer;
    const finding: Finding = {
      id: findingId(r.rule.id, e.log, String(e.index)),
      rule: r.rule.id,
      kind: broken.length ? 'violation' : 'info',
      severity: broken.length ? r.rule.severity : 'info',
      message: broken.length ? `${r.rule.name ?? r.rule.id}: ${broken.map((b) => b.message).join('; ')}` : `${r.rule.name ?? r.rule.id}: watched entry (${why})`,
      log: e.log,
      index: e.index,
      uuid: e.uuid,
      firstSeen: now,
      status: suppressed !== undefined ? 'suppressed' : 'open',
      evidence: { watchedBy: why, violations: broken, ruleFile: r.file },
      ...(broken[0] ? { expectation: broken[0].expectation } : {}),
      ...(suppressed !== undefined ? { statusReason: suppressed, statusAt: now } : {}),
      ...(e.digests[0] ? { digest: e.digests[0] } : {}),
      ...(s?.san !== undefined ? { identity: s.san } : {}),
      ...(s?.issuer !== undefined ? { issuer: s.issuer } : {}),
      ...(s?.fulcio ? { fulcio: s.fulcio } : {}),
      ...(e.integratedTime !== undefined ? { integratedTime: e.integratedTime } : {}),
      ...(r.rule.labels ? { labels: r.rule.labels } : {}),
      ...(r.rule.owner ? { owner: r.rule.owner } : {}),
    };
    out.push(finding);
  }
  return out;
}

/** True when any rule watches the entry (index mode `watched`). */
export function isWatched(set: RuleSet, e: Entry): boolean {
  return set.rules.some((r) => watchedBy(r, e) !== undefined);
}
