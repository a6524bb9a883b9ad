/**
 * in-toto Statements (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md; v0.1 is
 * the same shape with `_type` https://in-toto.io/Statement/v0.1). Pure and bounded: the payload is
 * untrusted bytes, so a bad one yields a problem, never an exception.
 */
import { IN_TOTO_PAYLOAD_TYPE, MAX_STATEMENT_BYTES, MAX_SUBJECTS } from '../../entries/intoto-statement.ts';
import type { Digest, DigestAlgorithm } from '../../entries/types.ts';
import { isRecord } from '../../util/json.ts';
import { parseDsseEnvelope } from './envelope.ts';

export const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'] as const;

export interface StatementSubject {
  name?: string;
  /** DigestSet: algorithm → hex (spec/v1/digest_set.md), as given. */
  digest: Readonly<Record<string, string>>;
}

export interface Statement {
  type: (typeof STATEMENT_TYPES)[number];
  subjects: StatementSubject[];
  /** sha256/sha384/sha512 subject digests in the Entry record's form, sorted and unique. */
  subjectDigests: Digest[];
  predicateType: string;
  /** The predicate, still untrusted: read it with provenanceFacts. */
  predicate: Readonly<Record<string, unknown>>;
}

export interface StatementProblem {
  problem: { code: 'STATEMENT_TOO_LARGE' | 'STATEMENT_MALFORMED' | 'STATEMENT_NOT_INTOTO'; message: string };
}

export function isStatementProblem(r: Statement | StatementProblem): r is StatementProblem {
  return 'problem' in r;
}

const HEX_LEN: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const problem = (code: StatementProblem['problem']['code'], message: string): StatementProblem => ({ problem: { code, message } });

function parseSubject(s: unknown, i: number): StatementSubject | string {
  if (!isRecord(s) || !isRecord(s['digest'])) return `subject[${i}] needs a digest object`;
  const digest: Record<string, string> = {};
  for (const [alg, v] of Object.entries(s['digest'])) {
    if (typeof v !== 'string' || v.length > 1024) return `subject[${i}].digest.${alg} must be a string`;
    digest[alg] = v;
  }
  const name = s['name'];
  if (name !== undefined && (typeof name !== 'string' || name.length > 4096)) return `subject[${i}].name must be a string`;
  return { ...(name !== undefined ? { name } : {}), digest };
}

export function decodeStatement(payload: Uint8Array): Statement | StatementProblem {
  if (payload.length > MAX_STATEMENT_BYTES) return problem('STATEMENT_TOO_LARGE', `statement of ${payload.length} bytes exceeds ${MAX_STATEMENT_BYTES}`);
  let doc: unknown;
  try {
    doc = JSON.parse(utf8.decode(payload)) as unknown;
  } catch (e) {
    return problem('STATEMENT_MALFORMED', `not UTF-8 JSON: ${e instanceof Error ? e.message.slice(0, 120) : 'unparseable'}`);
  }
  if (!isRecord(doc)) return problem('STATEMENT_MALFORMED', 'a statement is a JSON object');
  const type = doc['_type'];
  if (!STATEMENT_TYPES.includes(type as never)) return problem('STATEMENT_NOT_INTOTO', `_type ${JSON.stringify(type)?.slice(0, 100) ?? 'undefined'} is not an in-toto Statement v1 or v0.1`);
  const predicateType = doc['predicateType'];
  if (typeof predicateType !== 'string' || predicateType.length === 0 || predicateType.length > 1024) return problem('STATEMENT_MALFORMED', 'predicateType must be a non-empty string');
  const subject = doc['subject'];
  if (!Array.isArray(subject) || subject.length === 0) return problem('STATEMENT_MALFORMED', 'subject must be a non-empty array');
  const subjects: StatementSubject[] = [];
  for (const [i, s] of subject.slice(0, MAX_SUBJECTS).entries()) {
    const parsed = parseSubject(s, i);
    if (typeof parsed === 'string') return problem('STATEMENT_MALFORMED', parsed);
    subjects.push(parsed);
  }
  const predicate = doc['predicate'];
  if (predicate !== undefined && !isRecord(predicate)) return problem('STATEMENT_MALFORMED', 'predicate must be an object');
  const digests = new Set<Digest>();
  for (const s of subjects) {
    for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
      const hex = s.digest[alg];
      if (hex !== undefined && hex.length === HEX_LEN[alg] && /^[0-9a-fA-F]+$/.test(hex)) digests.add(`${alg}:${hex.toLowerCase()}`);
    }
  }
  return { type: type as Statement['type'], subjects, subjectDigests: [...digests].sort(), predicateType, predicate: predicate ?? {} };
}

/** The statement inside a DSSE envelope's JSON (a bundle's `dsseEnvelope`), if its payload is in-toto. */
export function decodeEnvelopeStatement(envelope: unknown): Statement | StatementProblem {
  const env = parseDsseEnvelope(envelope);
  if ('problem' in env) return problem('STATEMENT_MALFORMED', env.problem.message);
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) return problem('STATEMENT_NOT_INTOTO', `payloadType ${env.payloadType} is not ${IN_TOTO_PAYLOAD_TYPE}`);
  return decodeStatement(env.payload);
}
