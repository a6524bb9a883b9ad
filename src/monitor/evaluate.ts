/**
 * Finding candidates (./eval/evaluate.ts) → the stored findings the daemon commits with each batch
 * (./finding.ts): one finding per rule per entry, whose `expectation` is the first that broke and whose
 * evidence lists every candidate. It is suppressed only when all of its candidates are.
 */
import type { Entry } from '../entries/types.ts';
import { evaluate, isWatched as watched } from './eval/evaluate.ts';
import type { FindingCandidate } from './eval/finding.ts';
import { findingId, type Finding } from './finding.ts';
import type { ProvenanceFacts } from './provenance/slsa.ts';
import type { RuleSet } from './rules/compiled.ts';

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
    const s = e.signer;
    out.push({
      id: findingId(ruleId, e.log, String(e.index)),
      rule: ruleId,
      kind: first.kind,
      severity: first.severity,
      message: `${first.ruleName}: ${cs.map((c) => c.message).join('; ')}`,
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
      ...(s?.san !== undefined ? { identity: s.san } : {}),
      ...(s?.issuer !== undefined ? { issuer: s.issuer } : {}),
      ...(s?.fulcio ? { fulcio: s.fulcio } : {}),
      ...(e.integratedTime !== undefined ? { integratedTime: e.integratedTime } : {}),
      ...(Object.keys(first.labels).length ? { labels: { ...first.labels } } : {}),
      ...(first.owner !== undefined ? { owner: first.owner } : {}),
    });
  }
  return out;
}

/** Stored findings for one entry (the daemon's hooks, `tlogwatch verify --rules`, `rules test`). */
export function evaluateEntry(set: RuleSet, e: Entry, now: number, provenance?: ProvenanceFacts): Finding[] {
  return toStoredFindings(evaluate(set, e, now, provenance), e, now);
}

/** True when any rule watches the entry (index mode `watched`). */
export function isWatched(set: RuleSet, e: Entry): boolean {
  return watched(set, e);
}
