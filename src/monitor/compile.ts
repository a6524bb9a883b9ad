/**
 * A rule set compiled for speed: patterns compiled once, and rekor-monitor configs translated into
 * equivalent rules (unanchored regexes and exact OID values, as reference/rekor.md §4.4 describes).
 */
import { FULCIO_OIDS, type FulcioClaimName } from '../entries/types.ts';
import { compilePattern, compileSet, type Pattern, type PatternSet, type PatternSpec } from './match.ts';
import type { RekorMonitorConfig, Rule } from './schema.ts';
import type { TimeWindow } from './timewindow.ts';

export interface CompiledRule {
  rule: Rule;
  file: string;
  watch: {
    identities?: PatternSet;
    issuers?: PatternSet;
    repositories?: PatternSet;
    owners?: PatternSet;
    buildSigners?: PatternSet;
    fingerprints?: Set<string>;
    digests?: Set<string>;
    /** rekor-monitor: a SAN regex that must come with one of these issuer regexes. */
    identityWithIssuer?: Array<{ subject: Pattern; issuers?: Pattern[] }>;
    /** rekor-monitor oidMatchers: exact values of Fulcio claims. */
    claims?: Array<{ claim: FulcioClaimName; values: Set<string> }>;
  };
  expect: {
    issuers?: PatternSet;
    buildSigners?: PatternSet;
    sourceRefs?: PatternSet;
    triggers?: Set<string>;
    runnerEnvironment?: Set<string>;
    visibility?: Set<string>;
    keys?: Set<string>;
    kinds?: Set<string>;
    timeWindow?: TimeWindow;
    provenance?: { required: boolean; builders?: PatternSet; buildTypes?: PatternSet; sourceRepositories?: PatternSet };
  };
  suppress: Array<{ digest?: string; identity?: Pattern; until?: number; reason: string }>;
}

export interface RuleSet {
  rules: CompiledRule[];
}

const fp = (s: string) => `sha256:${s.replace(/^sha256:/, '').toLowerCase()}`;
const set = (xs: readonly string[] | undefined) => (xs ? new Set(xs) : undefined);
const def = <T>(k: string, v: T | undefined): Record<string, T> => (v === undefined ? {} : { [k]: v });

export function compileRule(rule: Rule, file: string): CompiledRule {
  const w = rule.watch;
  const e = rule.expect;
  return {
    rule,
    file,
    watch: {
      ...def('identities', compileSet(w.identities)),
      ...def('issuers', compileSet(w.issuers)),
      ...def('repositories', compileSet(w.repositories)),
      ...def('owners', compileSet(w.owners)),
      ...def('buildSigners', compileSet(w.buildSigners)),
      ...def('fingerprints', w.fingerprints ? new Set(w.fingerprints.map(fp)) : undefined),
      ...def('digests', set(w.digests)),
    },
    expect: {
      ...def('issuers', compileSet(e.issuers)),
      ...def('buildSigners', compileSet(e.buildSigners)),
      ...def('sourceRefs', compileSet(e.sourceRefs)),
      ...def('triggers', set(e.triggers)),
      ...def('runnerEnvironment', set(e.runnerEnvironment)),
      ...def('visibility', set(e.visibility)),
      ...def('keys', e.keys ? new Set(e.keys.map(fp)) : undefined),
      ...def('kinds', set(e.kinds)),
      ...def('timeWindow', e.timeWindow),
      ...def(
        'provenance',
        e.provenance && {
          required: e.provenance.required,
          ...def('builders', compileSet(e.provenance.builders)),
          ...def('buildTypes', compileSet(e.provenance.buildTypes)),
          ...def('sourceRepositories', compileSet(e.provenance.sourceRepositories)),
        },
      ),
    },
    suppress: rule.suppress.map((s) => ({
      reason: s.reason,
      ...def('digest', s.digest),
      ...def('identity', s.identity !== undefined ? compilePattern(s.identity) : undefined),
      ...def('until', s.until !== undefined ? Date.parse(`${s.until}T00:00:00Z`) / 1000 : undefined),
    })),
  };
}

/** rekor-monitor's YAML names of the Fulcio extensions (pkg/fulcio/extensions) → our claim names. */
const REKOR_MONITOR_NAMES: Record<string, FulcioClaimName> = {
  issuer: 'issuer',
  'github-workflow-trigger': 'githubWorkflowTrigger',
  'github-workflow-sha': 'githubWorkflowSha',
  'github-workflow-name': 'githubWorkflowName',
  'github-workflow-repository': 'githubWorkflowRepository',
  'github-workflow-ref': 'githubWorkflowRef',
  'build-signer-uri': 'buildSignerURI',
  'build-signer-digest': 'buildSignerDigest',
  'runner-environment': 'runnerEnvironment',
  'source-repository-uri': 'sourceRepositoryURI',
  'source-repository-digest': 'sourceRepositoryDigest',
  'source-repository-ref': 'sourceRepositoryRef',
  'source-repository-identifier': 'sourceRepositoryIdentifier',
  'source-repository-owner-uri': 'sourceRepositoryOwnerURI',
  'source-repository-owner-identifier': 'sourceRepositoryOwnerIdentifier',
  'build-config-uri': 'buildConfigURI',
  'build-config-digest': 'buildConfigDigest',
  'build-trigger': 'buildTrigger',
  'run-invocation-uri': 'runInvocationURI',
  'source-repository-visibility-at-signing': 'sourceRepositoryVisibilityAtSigning',
};
const NAME_BY_OID = new Map<string, FulcioClaimName>((Object.entries(FULCIO_OIDS) as Array<[FulcioClaimName, string]>).map(([name, oid]) => [oid, name]));

/**
 * A rekor-monitor config as one rule that reports every match (rekor-monitor notifies on each match):
 * regexes unanchored as in Go's regexp.MatchString; an identity with issuers needs one issuer to match
 * (an entry without an issuer never matches then); fingerprints and OID values exact.
 * `issuer` renders to both .1 and .8 there; here it matches the issuer claim (.8, else .1).
 */
export function compileRekorMonitor(cfg: RekorMonitorConfig, file: string): CompiledRule {
  const mv = cfg.monitoredValues;
  const unanchored = (r: string): PatternSpec => ({ regex: r, anchored: false });
  const claims: Array<{ claim: FulcioClaimName; values: Set<string> }> = [];
  for (const [k, values] of Object.entries(mv.oidMatchers?.fulcioExtensions ?? {})) {
    const claim = REKOR_MONITOR_NAMES[k];
    if (!claim) throw new Error(`${file}: unknown rekor-monitor fulcioExtensions key ${k}`);
    claims.push({ claim, values: new Set(values) });
  }
  for (const m of [...(mv.oidMatchers?.oidExtensions ?? []), ...(mv.oidMatchers?.customExtensions ?? [])]) {
    const oid = Array.isArray(m.objectIdentifier) ? m.objectIdentifier.join('.') : m.objectIdentifier;
    const claim = NAME_BY_OID.get(oid);
    if (!claim) throw new Error(`${file}: OID ${oid} is not a Fulcio extension tlogwatch decodes`);
    claims.push({ claim, values: new Set(m.extensionValues) });
  }
  const rule: Rule = {
    id: `rekor-monitor-${file.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`.slice(0, 64).replace(/-+$/, ''),
    name: `rekor-monitor config ${file}`,
    severity: 'medium',
    notify: 'all',
    watch: { identities: [{ regex: '.*' }] },
    expect: {},
    suppress: [],
  };
  return {
    rule,
    file,
    watch: {
      identityWithIssuer: [...(mv.certIdentities ?? []).map((c) => ({ subject: compilePattern(unanchored(c.certSubject)), ...def('issuers', c.issuers?.map((i) => compilePattern(unanchored(i)))) })), ...(mv.subjects ?? []).map((s) => ({ subject: compilePattern(unanchored(s)) }))],
      ...def('fingerprints', mv.fingerprints?.length ? new Set(mv.fingerprints.map(fp)) : undefined),
      ...def('claims', claims.length ? claims : undefined),
    },
    expect: {},
    suppress: [],
  };
}
