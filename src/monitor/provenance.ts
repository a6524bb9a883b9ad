/**
 * In-toto statements → provenance facts (pure). SLSA provenance v1 (https://slsa.dev/spec/v1.0/provenance):
 * runDetails.builder.id, buildDefinition.buildType, externalParameters.workflow.{repository,ref} or
 * resolvedDependencies[0].{uri,digest}, runDetails.metadata.{startedOn,finishedOn}. SLSA v0.2
 * (https://slsa.dev/provenance/v0.2): builder.id, buildType, invocation.configSource.{uri,digest} or
 * materials[0], metadata.{buildStartedOn,buildFinishedOn}. Other predicate types are recorded by type.
 */
import { IN_TOTO_PAYLOAD_TYPE, MAX_STATEMENT_BYTES, statementSubjectDigests } from '../entries/intoto-statement.ts';
import type { Digest, Provenance } from '../entries/types.ts';
import { isRecord } from '../util/json.ts';

const rec = (o: unknown): Record<string, unknown> => (isRecord(o) ? o : {});
const str = (o: unknown): string | undefined => (typeof o === 'string' && o.length <= 4096 ? o : undefined);
const time = (o: unknown): number | undefined => {
  const s = str(o);
  const t = s === undefined ? NaN : Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
};

/** `git+https://github.com/acme/api@refs/tags/v1` → repository and ref. */
export function splitSourceUri(uri: string): { repository: string; ref?: string } {
  const clean = uri.replace(/^git\+/, '');
  const at = clean.lastIndexOf('@');
  return at > clean.indexOf('://') + 3 ? { repository: clean.slice(0, at).replace(/\.git$/, ''), ref: clean.slice(at + 1) } : { repository: clean.replace(/\.git$/, '') };
}

export interface DecodedStatement {
  provenance: Provenance;
  subjects: Digest[];
}

export function decodeStatement(payload: Uint8Array, from: Provenance['from'], payloadType = IN_TOTO_PAYLOAD_TYPE): DecodedStatement | undefined {
  if (payload.length > MAX_STATEMENT_BYTES) return undefined;
  let st: unknown;
  try {
    st = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) as unknown;
  } catch {
    return undefined;
  }
  if (!isRecord(st) || typeof st['predicateType'] !== 'string') return undefined;
  const type = st['predicateType'];
  const p = rec(st['predicate']);
  const prov: Provenance = { predicateType: type, from };
  const set = <K extends keyof Provenance>(k: K, v: Provenance[K] | undefined) => {
    if (v !== undefined) prov[k] = v;
  };
  if (type === 'https://slsa.dev/provenance/v1') {
    const bd = rec(p['buildDefinition']);
    const rd = rec(p['runDetails']);
    set('builderId', str(rec(rd['builder'])['id']));
    set('buildType', str(bd['buildType']));
    const wf = rec(rec(bd['externalParameters'])['workflow']);
    const dep = rec(Array.isArray(bd['resolvedDependencies']) ? bd['resolvedDependencies'][0] : undefined);
    const fromDep = str(dep['uri']) ? splitSourceUri(str(dep['uri'])!) : undefined;
    set('sourceRepository', str(wf['repository']) ?? fromDep?.repository);
    set('sourceRef', str(wf['ref']) ?? fromDep?.ref);
    set('sourceDigest', str(rec(dep['digest'])['gitCommit']) ?? str(rec(dep['digest'])['sha1']));
    set('startedOn', time(rec(rd['metadata'])['startedOn']));
    set('finishedOn', time(rec(rd['metadata'])['finishedOn']));
  } else if (type === 'https://slsa.dev/provenance/v0.2') {
    set('builderId', str(rec(p['builder'])['id']));
    set('buildType', str(p['buildType']));
    const cs = rec(rec(p['invocation'])['configSource']);
    const mat = rec(Array.isArray(p['materials']) ? p['materials'][0] : undefined);
    const src = str(cs['uri']) ?? str(mat['uri']);
    if (src) {
      const s = splitSourceUri(src);
      set('sourceRepository', s.repository);
      set('sourceRef', s.ref);
    }
    set('sourceDigest', str(rec(cs['digest'])['sha1']) ?? str(rec(mat['digest'])['sha1']));
    set('startedOn', time(rec(p['metadata'])['buildStartedOn']));
    set('finishedOn', time(rec(p['metadata'])['buildFinishedOn']));
  }
  return { provenance: prov, subjects: statementSubjectDigests(payloadType, payload) };
}
