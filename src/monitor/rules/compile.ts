/**
 * Rule → CompiledRule: patterns compiled once (globs → matchers, exact values → Set), time windows
 * resolved, fingerprints and digests normalised to the Entry record's form (`sha256:<lower hex>`).
 * Problems are collected with their path in the file (check.ts turns paths into line:column).
 */
import { compileTimeWindow } from '../eval/timewindow.ts';
import type { CompiledExpect, CompiledRule, CompiledSuppression, WatchField, WatchSelector } from './compiled.ts';
import { lintPattern, type UriField } from './lint.ts';
import { compilePattern, PatternSet, type FieldKind, type PatternSpec } from './pattern.ts';
import type { Rule } from './schema.ts';

export type Path = ReadonlyArray<string | number>;
export interface PathProblem {
  path: Path;
  message: string;
}

/** Collects problems; `attempt` runs a compile step and records what it throws at `path`. */
export class Problems {
  readonly list: PathProblem[] = [];
  /** Legal but suspicious: reported, and the rules still load. */
  readonly warnings: PathProblem[] = [];
  add(path: Path, message: string): void {
    this.list.push({ path, message });
  }
  warn(path: Path, message: string): void {
    this.warnings.push({ path, message });
  }
  attempt<T>(path: Path, f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      this.add(path, e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }
}

const HEX_LEN: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

export const normaliseFingerprint = (s: string) => `sha256:${s.replace(/^sha256:/i, '').toLowerCase()}`;
export const normaliseDigest = (s: string) => {
  const i = s.indexOf(':');
  return `${s.slice(0, i)}:${s.slice(i + 1).toLowerCase()}`;
};

/** Compiles each pattern separately so a bad one is reported at its own index; lint.ts's warnings at it too. */
function patternSet(specs: readonly PatternSpec[] | undefined, kind: FieldKind, path: Path, p: Problems, uri?: UriField): PatternSet | undefined {
  if (!specs) return undefined;
  const at = (s: PatternSpec, i: number): Path => [...path, i, ...(typeof s === 'string' ? [] : ['regex'])];
  specs.forEach((s, i) => {
    for (const w of lintPattern(s, kind, uri)) p.warn(at(s, i), w);
  });
  const ok = specs.map((s, i) => p.attempt(at(s, i), () => compilePattern(s, kind)) !== undefined);
  return ok.every(Boolean) ? new PatternSet(specs, kind) : undefined;
}

/** `repositories`, `owners`, `buildSigners` and `issuers` hold only repository, owner, workflow and issuer URLs, in watch and expect alike. */
const URI_FIELDS: Readonly<Record<string, UriField>> = { repositories: 'repository', owners: 'owner', buildSigners: 'buildSigner', buildConfigs: 'buildConfig', issuers: 'issuer' };
const uriField = (key: string): UriField | undefined => URI_FIELDS[key];

const WATCH_FIELDS: ReadonlyArray<['identities' | 'issuers' | 'repositories' | 'owners' | 'buildSigners', WatchField, FieldKind]> = [
  ['identities', 'identity', 'identity'],
  ['issuers', 'issuer', 'url'],
  ['repositories', 'repository', 'url'],
  ['owners', 'owner', 'url'],
  ['buildSigners', 'buildSigner', 'url'],
];

function compileWatch(w: Rule['watch'], path: Path, p: Problems): WatchSelector[] {
  const out: WatchSelector[] = [];
  for (const [key, field, kind] of WATCH_FIELDS) {
    const specs = w[key];
    if (!specs) continue;
    const set = patternSet(specs, kind, [...path, key], p, uriField(key));
    if (set) out.push({ type: 'pattern', selector: `watch.${key}`, field, kind, patterns: set.patterns });
  }
  if (w.fingerprints) out.push({ type: 'fingerprint', selector: 'watch.fingerprints', values: w.fingerprints.map(normaliseFingerprint) });
  if (w.digests) {
    w.digests.forEach((d, i) => {
      const len = HEX_LEN[d.slice(0, 6)];
      if (len !== undefined && d.length - 7 !== len) p.warn([...path, 'digests', i], `${d} has ${d.length - 7} hex digits, not ${len}: it can never match`);
    });
    out.push({ type: 'digest', selector: 'watch.digests', values: w.digests.map(normaliseDigest) });
  }
  return out;
}

function compileExpect(x: Rule['expect'], path: Path, p: Problems): CompiledExpect {
  const out: CompiledExpect = {};
  const set = (key: 'issuers' | 'buildSigners' | 'buildConfigs' | 'repositories' | 'owners' | 'sourceRefs' | 'triggers' | 'runnerEnvironment', kind: FieldKind) => {
    const s = patternSet(x[key], kind, [...path, key], p, uriField(key));
    if (s) out[key] = s;
  };
  set('issuers', 'url');
  set('buildSigners', 'url');
  set('buildConfigs', 'url');
  // The watch selectors' field kinds (WATCH_FIELDS), so a pattern means the same in watch and expect.
  set('repositories', 'url');
  set('owners', 'url');
  set('sourceRefs', 'text');
  set('triggers', 'text');
  set('runnerEnvironment', 'text');
  if (x.visibility) out.visibility = new Set(x.visibility);
  if (x.keys) out.keys = new Set(x.keys.map(normaliseFingerprint));
  if (x.kinds) out.kinds = new Set(x.kinds);
  if (x.timeWindow) {
    const tw = x.timeWindow;
    const w = p.attempt([...path, 'timeWindow', 'timezone'], () => compileTimeWindow(tw));
    if (w) out.timeWindow = w;
  }
  const xp = x.provenance;
  if (xp) {
    const pp = [...path, 'provenance'];
    const builders = patternSet(xp.builders, 'url', [...pp, 'builders'], p);
    const buildTypes = patternSet(xp.buildTypes, 'url', [...pp, 'buildTypes'], p);
    const sourceRepositories = patternSet(xp.sourceRepositories, 'url', [...pp, 'sourceRepositories'], p);
    const sourceRefs = patternSet(xp.sourceRefs, 'text', [...pp, 'sourceRefs'], p);
    out.provenance = {
      required: xp.required,
      matchCertificate: xp.matchCertificate,
      ...(xp.predicateTypes ? { predicateTypes: new Set(xp.predicateTypes) } : {}),
      ...(builders ? { builders } : {}),
      ...(buildTypes ? { buildTypes } : {}),
      ...(sourceRepositories ? { sourceRepositories } : {}),
      ...(sourceRefs ? { sourceRefs } : {}),
    };
  }
  return out;
}

/** `YYYY-MM-DD` → the end of that day, UTC (exclusive); an RFC 3339 time → that instant. */
export function untilInstant(s: string): number {
  const t = s.length === 10 ? Date.parse(`${s}T00:00:00Z`) / 1000 + 86_400 : Date.parse(s) / 1000;
  if (!Number.isFinite(t)) throw new Error(`${s} is not a valid date`);
  return t;
}

function compileSuppress(list: Rule['suppress'], path: Path, p: Problems): CompiledSuppression[] {
  return list.map((s, index) => {
    const identity = s.identity === undefined ? undefined : patternSet([s.identity], 'identity', [...path, index, 'identity'], p);
    const until = s.until === undefined ? undefined : p.attempt([...path, index, 'until'], () => untilInstant(s.until!));
    return {
      index,
      reason: s.reason,
      ...(s.digest !== undefined ? { digest: normaliseDigest(s.digest) } : {}),
      ...(identity ? { identity } : {}),
      ...(s.expectations ? { expectations: new Set<string>(s.expectations) } : {}),
      ...(until !== undefined ? { until } : {}),
    };
  });
}

export function compileRule(rule: Rule, file: string, order: number, path: Path, p: Problems): CompiledRule {
  if (rule.notify === 'violations' && Object.keys(rule.expect).length === 0) {
    p.warn([...path, 'expect'], 'a rule with no expectations never fires: add `expect:` or set `notify: all`');
  }
  return {
    order,
    id: rule.id,
    name: rule.name ?? rule.id,
    file,
    severity: rule.severity,
    labels: rule.labels ?? {},
    ...(rule.owner !== undefined ? { owner: rule.owner } : {}),
    notify: rule.notify,
    mode: 'expect',
    watch: compileWatch(rule.watch, [...path, 'watch'], p),
    expect: compileExpect(rule.expect, [...path, 'expect'], p),
    suppress: compileSuppress(rule.suppress, [...path, 'suppress'], p),
  };
}
