/**
 * Suppressions: known-good exceptions. A suppression applies when every condition it gives holds
 * (digest carried, identity signed, expectation broken, `now` before `until`). Suppressed findings are
 * still returned, marked, with the reason, so every exception stays auditable.
 */
import type { Entry } from '../../entries/types.ts';
import type { CompiledRule } from '../rules/compiled.ts';
import type { Suppression } from './finding.ts';
import { digestsOf, signersOf, str } from './values.ts';

/** `extraDigests`: the provenance statement's subjects, which count as the entry's digests. */
export function suppressionFor(rule: CompiledRule, e: Entry, now: number, expectation: string | undefined, extraDigests: readonly string[]): Suppression | undefined {
  for (const s of rule.suppress) {
    if (s.until !== undefined && !(now < s.until)) continue;
    if (s.expectations && (expectation === undefined || !s.expectations.has(expectation))) continue;
    if (s.digest !== undefined && !digestsOf(e).includes(s.digest) && !extraDigests.includes(s.digest)) continue;
    if (s.identity && !signersOf(e).some((sg) => s.identity!.match(str(sg.san)) !== undefined)) continue;
    return { reason: s.reason, index: s.index, ...(s.until !== undefined ? { until: s.until } : {}) };
  }
  return undefined;
}
