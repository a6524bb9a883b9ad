/**
 * What evaluation returns: finding candidates. Storing, deduplicating and notifying them is the
 * findings store's job (src/monitor/finding.ts, src/store/findings.ts); candidates carry everything it
 * needs and nothing time- or store-dependent beyond the `now` they were evaluated at.
 */
import type { Severity } from '../rules/schema.ts';

export type { Severity };

/** Which rule selector made the entry "yours". */
export interface WatchedBy {
  /** `watch.repositories`, `watch.digests`, `monitoredValues.certIdentities[0]`, … */
  selector: string;
  /** The pattern or value as written in the rule. */
  pattern: string;
  /** The entry's value that matched. */
  value: string;
}

export interface FindingDetails {
  watchedBy: WatchedBy;
  /** What the rule allows (pattern sources, window description); absent for info findings. */
  expected?: string[] | string;
  /** The entry's value; null when the entry does not carry it (a missing claim). */
  actual?: string | null;
  /** Where the value comes from: `signer.fulcio.sourceRepositoryRef (1.3.6.1.4.1.57264.1.14)`, … */
  field?: string;
  /** For time checks: which time was used (`integratedTime`, `certificate notBefore`, …). */
  timeSource?: string;
  /** Which signer broke it, when an entry has several (DSSE). */
  signer?: number;
}

export interface Suppression {
  reason: string;
  /** Unix seconds at which the suppression ends, if it does. */
  until?: number;
  /** Which suppression of the rule applied (0-based, in file order). */
  index: number;
}

export interface FindingCandidate {
  ruleId: string;
  ruleName: string;
  /** The rule file it came from. */
  file: string;
  /** `violation`: a watched entry broke `expectation`. `info`: a watched entry (notify: all). */
  kind: 'violation' | 'info';
  /** The expectation that broke, e.g. `expect.sourceRefs`; for rekor-monitor configs the monitored value. */
  expectation?: string;
  severity: Severity;
  labels: Readonly<Record<string, string>>;
  owner?: string;
  message: string;
  details: FindingDetails;
  suppressed: boolean;
  suppression?: Suppression;
}
