/**
 * Provenance facts from an in-toto statement: what rules check (`expect.provenance`).
 *
 * SLSA provenance v1 (https://slsa.dev/spec/v1.0/provenance): runDetails.builder.id,
 * buildDefinition.buildType, the source from externalParameters.workflow.{repository, ref} (GitHub
 * Actions build type, https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1) or else the
 * first `git+` entry of buildDefinition.resolvedDependencies, its digest (gitCommit, else sha1), and
 * runDetails.metadata.{startedOn, finishedOn}.
 * SLSA provenance v0.2 (https://slsa.dev/spec/v0.2/provenance): builder.id, buildType, the source from
 * invocation.configSource.{uri, digest} or else the first `git+` material, and
 * metadata.{buildStartedOn, buildFinishedOn}.
 * Other predicate types: only the type and the subjects are recorded.
 */
import type { Digest, Provenance } from '../../entries/types.ts';
import { isRecord } from '../../util/json.ts';
import type { Statement } from './statement.ts';

export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';

/** The Entry record's provenance facts (entries/types.ts `Provenance`) before their source is known, with subjects. */
export type ProvenanceFacts = Omit<Provenance, 'from'> & {
  /** Subject digests, `sha256:<hex>` … */
  subjects?: Digest[];
};

const rec = (o: unknown): Record<string, unknown> => (isRecord(o) ? o : {});
const str = (o: unknown): string | undefined => (typeof o === 'string' && o.length > 0 && o.length <= 4096 ? o : undefined);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** RFC 3339 timestamps only (both specs say so); anything else is ignored rather than guessed. */
function time(o: unknown): number | undefined {
  const s = str(o);
  if (s === undefined || !RFC3339.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
}

/** `git+https://github.com/acme/api.git@refs/tags/v1` → repository and ref (SPDX-style VCS locator). */
export function splitSourceUri(uri: string): { repository: string; ref?: string } {
  const clean = uri.replace(/^git\+/, '');
  const scheme = clean.indexOf('://');
  // The first `@` in the path: one in the authority is userinfo, and a ref may itself contain `@`.
  const pathStart = scheme < 0 ? -1 : clean.indexOf('/', scheme + 3);
  const at = pathStart < 0 ? -1 : clean.indexOf('@', pathStart);
  const repo = at < 0 ? clean : clean.slice(0, at);
  const ref = at < 0 ? undefined : clean.slice(at + 1);
  return { repository: repo.replace(/\.git$/, ''), ...(ref ? { ref } : {}) };
}

const commitOf = (digest: unknown): string | undefined => {
  const d = rec(digest);
  const v = str(d['gitCommit']) ?? str(d['sha1']);
  return v && /^[0-9a-fA-F]{40,64}$/.test(v) ? v.toLowerCase() : undefined;
};

function firstGit(list: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const x of list.slice(0, 256)) if (isRecord(x) && str(x['uri'])?.startsWith('git+')) return x;
  return undefined;
}

type Mutable = { -readonly [K in keyof ProvenanceFacts]: ProvenanceFacts[K] };

function setSource(out: Mutable, uri: string | undefined, digest: unknown): void {
  if (uri === undefined) return;
  const s = splitSourceUri(uri);
  out.sourceRepository ??= s.repository;
  if (s.ref !== undefined) out.sourceRef ??= s.ref;
  const c = commitOf(digest);
  if (c !== undefined) out.sourceDigest ??= c;
}

function slsaV1(p: Record<string, unknown>, out: Mutable): void {
  const bd = rec(p['buildDefinition']);
  const rd = rec(p['runDetails']);
  const builder = str(rec(rd['builder'])['id']);
  const buildType = str(bd['buildType']);
  if (builder) out.builderId = builder;
  if (buildType) out.buildType = buildType;
  const wf = rec(rec(bd['externalParameters'])['workflow']);
  const repo = str(wf['repository']);
  const ref = str(wf['ref']);
  if (repo) out.sourceRepository = repo.replace(/^git\+/, '').replace(/\.git$/, '');
  if (ref) out.sourceRef = ref;
  const dep = firstGit(bd['resolvedDependencies']);
  if (dep) setSource(out, str(dep['uri']), dep['digest']);
  const md = rec(rd['metadata']);
  const started = time(md['startedOn']);
  const finished = time(md['finishedOn']);
  if (started !== undefined) out.startedOn = started;
  if (finished !== undefined) out.finishedOn = finished;
}

function slsaV02(p: Record<string, unknown>, out: Mutable): void {
  const builder = str(rec(p['builder'])['id']);
  const buildType = str(p['buildType']);
  if (builder) out.builderId = builder;
  if (buildType) out.buildType = buildType;
  const cs = rec(rec(p['invocation'])['configSource']);
  setSource(out, str(cs['uri']), cs['digest']);
  const mat = firstGit(p['materials']);
  if (mat) setSource(out, str(mat['uri']), mat['digest']);
  const md = rec(p['metadata']);
  const started = time(md['buildStartedOn']);
  const finished = time(md['buildFinishedOn']);
  if (started !== undefined) out.startedOn = started;
  if (finished !== undefined) out.finishedOn = finished;
}

export function provenanceFacts(statement: Statement): ProvenanceFacts {
  const out: Mutable = { predicateType: statement.predicateType, subjects: statement.subjectDigests };
  if (statement.predicateType === SLSA_V1) slsaV1(statement.predicate, out);
  else if (statement.predicateType === SLSA_V02) slsaV02(statement.predicate, out);
  return out;
}
