/**
 * Provenance for the mirror's Entry records (entries/types.ts `Provenance`): an in-toto payload →
 * facts plus subject digests, via ./provenance/statement.ts and ./provenance/slsa.ts. Undefined when the
 * payload is not an in-toto statement (then there is nothing to record).
 */
import { IN_TOTO_PAYLOAD_TYPE } from '../entries/intoto-statement.ts';
import type { Digest, Provenance } from '../entries/types.ts';
import { provenanceFacts } from './provenance/slsa.ts';
import { decodeStatement as decodeInToto, isStatementProblem } from './provenance/statement.ts';

export { splitSourceUri } from './provenance/slsa.ts';

export interface DecodedStatement {
  provenance: Provenance;
  subjects: Digest[];
}

export function decodeStatement(payload: Uint8Array, from: Provenance['from'], payloadType = IN_TOTO_PAYLOAD_TYPE): DecodedStatement | undefined {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) return undefined;
  const st = decodeInToto(payload);
  if (isStatementProblem(st)) return undefined;
  const { subjects, ...facts } = provenanceFacts(st);
  return { provenance: { ...facts, from }, subjects: subjects ?? [] };
}
