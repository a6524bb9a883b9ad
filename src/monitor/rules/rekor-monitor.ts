/**
 * A sigstore/rekor-monitor identity config as one rule that means what it means there
 * (reference/rekor.md §4.3 config, §4.4 matching; rekor-monitor pkg/identity, pkg/fulcio/extensions):
 *
 * - certIdentities: `certSubject` is an UNANCHORED RE2 regex over the certificate's SAN; with `issuers`,
 *   one issuer regex (unanchored) must match the issuer (.8, else .1); a certificate without an issuer
 *   never matches, with or without `issuers`.
 * - subjects: unanchored RE2 regexes over signer identities.
 * - fingerprints: exact string equality with the lower-case hex SHA-256 of the DER certificate or key.
 * - oidMatchers: exact values. `fulcioExtensions.issuer` is both .1 and .8; when one OID is given in
 *   several of oidExtensions, fulcioExtensions, customExtensions, the later one replaces the earlier
 *   (RenderOIDMatchers builds one map in that order).
 * Every match is reported (rekor-monitor notifies on every match), one finding per matched value.
 */
import { FULCIO_OIDS, type FulcioClaimName } from '../../entries/types.ts';
import type { CompiledRule, WatchSelector } from './compiled.ts';
import type { Path, Problems } from './compile.ts';
import type { Matcher } from './pattern.ts';
import { compileRe2 } from './re2.ts';
import type { RekorMonitorConfig } from './schema.ts';

/** rekor-monitor's YAML names (FulcioExtensions yaml tags; `issuer` has none, so yaml.v2 lower-cases it). */
const FULCIO_EXTENSION_NAMES: Readonly<Record<string, FulcioClaimName>> = {
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

/**
 * Claims whose values say how or where something was signed, never by whom: an issuer, a runner
 * environment, a trigger, a visibility. rekor-monitor ORs its matchers, so a matcher on one of these alone
 * reports every entry of the log with that value, whoever signed it.
 */
const WHOLE_LOG_CLAIMS: ReadonlySet<FulcioClaimName> = new Set(['issuerV1', 'issuer', 'runnerEnvironment', 'buildTrigger', 'githubWorkflowTrigger', 'sourceRepositoryVisibilityAtSigning']);

const CLAIM_BY_OID = new Map<string, FulcioClaimName>(
  (Object.entries(FULCIO_OIDS) as Array<[FulcioClaimName, string]>).filter(([name]) => name !== 'otherNameSan').map(([name, oid]) => [oid, name]),
);

/** A rule id from the file name: `rekor-monitor/acme.yaml` → `rekor-monitor-acme`. */
function idFromFile(file: string): string {
  const base = file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '');
  const slug = base.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  return (slug.startsWith('rekor-monitor') ? slug : `rekor-monitor-${slug}`).slice(0, 64).replace(/[-._]+$/, '');
}

export interface RekorMonitorWarning {
  path: Path;
  message: string;
}

export function compileRekorMonitor(cfg: RekorMonitorConfig, file: string, order: number, p: Problems, warn: (w: RekorMonitorWarning) => void): CompiledRule {
  const mv = cfg.monitoredValues;
  const base = ['monitoredValues'];
  const watch: WatchSelector[] = [];
  (mv.certIdentities ?? []).forEach((c, i) => {
    const subject = p.attempt([...base, 'certIdentities', i, 'certSubject'], () => compileRe2(c.certSubject));
    const issuers = c.issuers?.map((r, j) => p.attempt([...base, 'certIdentities', i, 'issuers', j], () => compileRe2(r)));
    if (!subject || issuers?.some((r) => r === undefined)) return;
    const src = c.issuers?.length ? `${c.certSubject} (issuers ${c.issuers.join(', ')})` : c.certSubject;
    // An empty issuers list allows any issuer, as in rekor-monitor ("issuers can be empty").
    const iss = issuers?.length ? { issuers: issuers as Matcher[] } : {};
    watch.push({ type: 'certIdentity', selector: `monitoredValues.certIdentities[${i}]`, subject, ...iss, source: src });
  });
  (mv.subjects ?? []).forEach((s, i) => {
    const subject = p.attempt([...base, 'subjects', i], () => compileRe2(s));
    if (subject) watch.push({ type: 'subject', selector: `monitoredValues.subjects[${i}]`, subject, source: s });
  });
  (mv.fingerprints ?? []).forEach((f, i) => {
    if (!/^[0-9a-f]{64}$/.test(f)) {
      warn({ path: [...base, 'fingerprints', i], message: `fingerprint ${f} is not 64 lower-case hex digits: rekor-monitor compares exactly with the lower-case hex SHA-256 of a certificate or key, so it only matches SSH/PGP-style fingerprints, which tlogwatch does not compute` });
    }
    watch.push({ type: 'hexFingerprint', selector: `monitoredValues.fingerprints[${i}]`, values: [f] });
  });

  // RenderOIDMatchers: one map, filled from oidExtensions, then fulcioExtensions, then customExtensions.
  const byOid = new Map<string, { values: string[]; selector: string }>();
  const warned = new Set<string>();
  const om = mv.oidMatchers;
  (om?.oidExtensions ?? []).forEach((m, i) => byOid.set(m.objectIdentifier.join('.'), { values: m.extensionValues, selector: `monitoredValues.oidMatchers.oidExtensions[${i}]` }));
  for (const [name, values] of Object.entries(om?.fulcioExtensions ?? {})) {
    const selector = `monitoredValues.oidMatchers.fulcioExtensions.${name}`;
    if (name === 'issuer') {
      byOid.set(FULCIO_OIDS.issuerV1, { values, selector });
      byOid.set(FULCIO_OIDS.issuer, { values, selector });
      continue;
    }
    const claim = FULCIO_EXTENSION_NAMES[name];
    if (!claim) p.add([...base, 'oidMatchers', 'fulcioExtensions', name], `unknown fulcioExtensions key ${name}; rekor-monitor knows issuer, ${Object.keys(FULCIO_EXTENSION_NAMES).join(', ')}`);
    else byOid.set(FULCIO_OIDS[claim], { values, selector });
  }
  (om?.customExtensions ?? []).forEach((m, i) => byOid.set(m.objectIdentifier, { values: m.extensionValues, selector: `monitoredValues.oidMatchers.customExtensions[${i}]` }));
  for (const [oid, { values, selector }] of byOid) {
    const claim = CLAIM_BY_OID.get(oid);
    if (!claim) {
      p.add(selectorPath(selector), `OID ${oid} is not a Fulcio extension 1.3.6.1.4.1.57264.1.{1–6,8–24}: tlogwatch records only those, so this matcher could never match`);
      continue;
    }
    watch.push({ type: 'claim', selector, claims: [claim], values, oid });
    if (WHOLE_LOG_CLAIMS.has(claim) && !warned.has(selector)) {
      warned.add(selector);
      warn({
        path: selectorPath(selector),
        message: `${selector} (${claim}: ${values.join(', ')}) names no one: rekor-monitor ORs its matchers, so this reports every entry in the log with that value, whoever signed it. To check it for your own identities, write a tlogwatch rule that watches them and expects it`,
      });
    }
  }

  const t = cfg.tlogwatch;
  return {
    order,
    id: t?.id ?? idFromFile(file),
    name: t?.name ?? `rekor-monitor config ${file.replace(/^.*[\\/]/, '')}`,
    file,
    severity: t?.severity ?? 'medium',
    labels: t?.labels ?? {},
    ...(t?.owner !== undefined ? { owner: t.owner } : {}),
    notify: 'violations',
    mode: 'report',
    watch,
    expect: {},
    suppress: [],
  };
}

/** `monitoredValues.oidMatchers.oidExtensions[2]` → ['monitoredValues', 'oidMatchers', 'oidExtensions', 2]. */
function selectorPath(selector: string): Path {
  return selector.split(/\.|\[|\]/).filter((s) => s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}
