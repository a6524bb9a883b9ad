/**
 * Rule evaluation: a pure function of (compiled rule set, Entry, time[, provenance facts]) → finding
 * candidates. No I/O and no clock: `now` (Unix seconds) only decides which suppressions are in force.
 *
 *   entry ──WatchIndex.lookup──▶ rules that watch it ──expect──▶ broken expectations ──suppress──▶ candidates
 *
 * One candidate per broken expectation (`expectation` names it); with `notify: all`, a watched entry that
 * breaks nothing is one `info` candidate. A rekor-monitor rule reports one candidate per matched value.
 */
import type { Entry } from '../../entries/types.ts';
import type { CompiledRule, RuleSet } from '../rules/compiled.ts';
import type { ProvenanceFacts } from '../provenance/slsa.ts';
import { WatchIndex, type WatchMatch } from '../rules/watch-index.ts';
import { brokenExpectations, type Broken, type SignedTimeOverride } from './expect.ts';
import type { FindingCandidate, WatchedBy } from './finding.ts';
import { suppressionFor, type SignerIssuer } from './suppress.ts';
import { str } from './values.ts';

const indexes = new WeakMap<RuleSet, WatchIndex>();

/** The set's index: the one checkRules built, else one built now and kept for the set's lifetime. */
export function indexOf(set: RuleSet): WatchIndex {
  if (set.index) return set.index;
  let idx = indexes.get(set);
  if (!idx) indexes.set(set, (idx = new WatchIndex(set.rules)));
  return idx;
}

function factsOf(e: Entry, facts: ProvenanceFacts | undefined): ProvenanceFacts | undefined {
  if (facts) return facts;
  const p: unknown = e.provenance;
  return typeof p === 'object' && p !== null && typeof (p as ProvenanceFacts).predicateType === 'string' ? (p as ProvenanceFacts) : undefined;
}

/** True when any rule watches the entry (the store's `watched` index mode). */
export function isWatched(set: RuleSet, e: Entry, facts?: ProvenanceFacts): boolean {
  return indexOf(set).lookup(e, factsOf(e, facts)?.subjects ?? []).length > 0;
}

function candidate(rule: CompiledRule, e: Entry, now: number, facts: ProvenanceFacts | undefined, by: WatchedBy, b: Broken | undefined, report: boolean, issuer: SignerIssuer | undefined): FindingCandidate {
  const kind = b || report ? 'violation' : 'info';
  const expectation = b?.expectation ?? (report ? by.selector : undefined);
  const message = b ? b.message : report ? `matched ${by.selector} ${by.pattern}: ${by.value}` : `watched entry (${by.selector} ${by.pattern}: ${by.value})`;
  const s = rule.suppress.length ? suppressionFor(rule, e, now, expectation, facts?.subjects ?? [], b?.signer, issuer) : undefined;
  return {
    ruleId: rule.id,
    ruleName: rule.name,
    file: rule.file,
    kind,
    ...(expectation !== undefined ? { expectation } : {}),
    severity: kind === 'info' ? 'info' : rule.severity,
    labels: rule.labels,
    ...(rule.owner !== undefined ? { owner: rule.owner } : {}),
    message,
    details: {
      watchedBy: by,
      ...(b ? { expected: b.expected, actual: b.actual } : {}),
      ...(b?.field !== undefined ? { field: b.field } : {}),
      ...(b?.timeSource !== undefined ? { timeSource: b.timeSource } : {}),
      ...(b?.signer !== undefined ? { signer: b.signer } : {}),
    },
    suppressed: s !== undefined,
    ...(s ? { suppression: s } : {}),
  };
}

function evaluateRule(m: WatchMatch, e: Entry, now: number, facts: ProvenanceFacts | undefined, out: FindingCandidate[], issuer: SignerIssuer | undefined, time: SignedTimeOverride): void {
  const { rule, watchedBy } = m;
  if (rule.mode === 'report') {
    for (const by of watchedBy) out.push(candidate(rule, e, now, facts, by, undefined, true, issuer));
    return;
  }
  const by = watchedBy[0]!;
  const broken = brokenExpectations(rule.expect, e, facts, time, issuer);
  for (const b of broken) out.push(candidate(rule, e, now, facts, by, b, false, issuer));
  if (broken.length === 0 && rule.notify === 'all') out.push(candidate(rule, e, now, facts, by, undefined, false, issuer));
}

/**
 * `issuer` says which CA issued each signer's certificate, where the caller knows (the trusted root's CAs:
 * monitor/evaluate.ts); an identity suppression never holds for a certificate none of them issued.
 * `time`, when given, is the only time time windows read (expect.ts SignedTimeOverride).
 */
export function evaluate(set: RuleSet, e: Entry, now: number, provenance?: ProvenanceFacts, issuer?: SignerIssuer, time?: SignedTimeOverride): FindingCandidate[] {
  if (set.rules.length === 0) return [];
  const facts = factsOf(e, provenance);
  const matches = indexOf(set).lookup(e, facts?.subjects ?? []);
  if (matches.length === 0) return [];
  const out: FindingCandidate[] = [];
  for (const m of matches) {
    try {
      evaluateRule(m, e, now, facts, out, issuer, time);
    } catch (err) {
      // Never expected (values are read defensively), but a throw here would stall the mirror's commit:
      // report it as a finding on the entry instead, so it is seen and the log keeps moving.
      out.push({
        ruleId: m.rule.id,
        ruleName: m.rule.name,
        file: m.rule.file,
        kind: 'violation',
        expectation: 'evaluation',
        severity: m.rule.severity,
        labels: m.rule.labels,
        ...(m.rule.owner !== undefined ? { owner: m.rule.owner } : {}),
        message: `rule could not be evaluated on entry ${str(e.log) ?? '?'}#${String(e.index)}: ${err instanceof Error ? err.message : String(err)}`,
        details: { watchedBy: m.watchedBy[0]! },
        suppressed: false,
      });
    }
  }
  return out;
}
