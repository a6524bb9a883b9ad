/**
 * The compiled form of rule files: what evaluation runs. Patterns are compiled, exact values are Sets,
 * and a WatchIndex (watch-index.ts) maps watch keys to the rules that can match, so an entry only runs
 * the rules that concern it.
 */
import type { FulcioClaimName } from '../../entries/types.ts';
import type { TimeWindow } from '../eval/timewindow.ts';
import type { FieldKind, Matcher, Pattern, PatternSet } from './pattern.ts';
import type { Severity } from './schema.ts';
import type { WatchIndex } from './watch-index.ts';

/** Entry values a watch selector can look at; see eval/values.ts for where each comes from. */
export type WatchField = 'identity' | 'issuer' | 'repository' | 'owner' | 'buildSigner';

export type WatchSelector =
  /** Patterns over one field (tlogwatch `watch.*`). */
  | { type: 'pattern'; selector: string; field: WatchField; kind: FieldKind; patterns: readonly Pattern[] }
  /** Exact signer fingerprints (`sha256:<hex>`) or digests. */
  | { type: 'fingerprint' | 'digest'; selector: string; values: readonly string[] }
  /** rekor-monitor `fingerprints`: exact against the lower-case hex, as rekor-monitor compares. */
  | { type: 'hexFingerprint'; selector: string; values: readonly string[] }
  /** rekor-monitor oidMatchers: exact value of any of these Fulcio claims. */
  | { type: 'claim'; selector: string; claims: readonly FulcioClaimName[]; values: readonly string[]; oid: string }
  /** rekor-monitor certIdentities: unanchored subject regex, and (when given) an issuer regex. */
  | { type: 'certIdentity'; selector: string; subject: Matcher; issuers?: readonly Matcher[]; source: string }
  /** rekor-monitor subjects: unanchored regex over signer identities. */
  | { type: 'subject'; selector: string; subject: Matcher; source: string };

export interface CompiledProvenance {
  required: boolean;
  predicateTypes?: ReadonlySet<string>;
  builders?: PatternSet;
  buildTypes?: PatternSet;
  sourceRepositories?: PatternSet;
  sourceRefs?: PatternSet;
  matchCertificate: boolean;
}

export interface CompiledExpect {
  issuers?: PatternSet;
  buildSigners?: PatternSet;
  buildConfigs?: PatternSet;
  repositories?: PatternSet;
  owners?: PatternSet;
  sourceRefs?: PatternSet;
  triggers?: PatternSet;
  runnerEnvironment?: PatternSet;
  visibility?: ReadonlySet<string>;
  keys?: ReadonlySet<string>;
  kinds?: ReadonlySet<string>;
  timeWindow?: TimeWindow;
  provenance?: CompiledProvenance;
}

export interface CompiledSuppression {
  index: number;
  reason: string;
  digest?: string;
  identity?: PatternSet;
  expectations?: ReadonlySet<string>;
  /** Unix seconds (exclusive). */
  until?: number;
}

export interface CompiledRule {
  /** Position in the rule set; findings come out in this order. */
  order: number;
  id: string;
  name: string;
  file: string;
  severity: Severity;
  labels: Readonly<Record<string, string>>;
  owner?: string;
  notify: 'violations' | 'all';
  /** `expect`: a watched entry is checked against `expect`. `report`: every match is a finding (rekor-monitor). */
  mode: 'expect' | 'report';
  watch: readonly WatchSelector[];
  expect: CompiledExpect;
  suppress: readonly CompiledSuppression[];
}

export interface LogIntegrityConfig {
  severity: Severity;
  owner?: string;
  labels: Readonly<Record<string, string>>;
}

export interface MirrorStalledConfig extends LogIntegrityConfig {
  /**
   * Seconds without progress, while upstream grows, before the log counts as stalled. Unset, the daemon's
   * `stalledAfter` (its configuration) applies.
   */
  after?: number;
  /** Only these logs; undefined = all. */
  logs?: ReadonlySet<string>;
}

export interface UndecodedEntryConfig extends LogIntegrityConfig {
  enabled: boolean;
  /** Only entries whose body names a value a rule watches (eval/undecoded.ts). */
  watchedOnly: boolean;
  /** Only these logs; undefined = all. */
  logs?: ReadonlySet<string>;
}

export interface BuiltinRules {
  logIntegrity: LogIntegrityConfig;
  mirrorStalled: MirrorStalledConfig;
  /** Absent in a set built before the rule existed: DEFAULT_BUILTINS.undecodedEntry applies. */
  undecodedEntry?: UndecodedEntryConfig;
}

export const DEFAULT_BUILTINS: Required<BuiltinRules> = {
  logIntegrity: { severity: 'critical', labels: {} },
  mirrorStalled: { severity: 'high', labels: {} },
  // On, low: see eval/undecoded.ts for why (and monitor-rules/README.md "Built-in rules").
  undecodedEntry: { enabled: true, severity: 'low', watchedOnly: true, labels: {} },
};

export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  /** Defaults apply when absent. */
  readonly builtins?: BuiltinRules;
  /** Built by checkRules; built (once, cached) on first use for a hand-made set. */
  readonly index?: WatchIndex;
}
