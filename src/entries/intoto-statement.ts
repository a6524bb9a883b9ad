/**
 * Subject digests of an in-toto Statement carried in a DSSE envelope.
 * https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md (subject[].digest, a DigestSet:
 * https://github.com/in-toto/attestation/blob/main/spec/v1/digest_set.md), DSSE payloadType
 * `application/vnd.in-toto+json` (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md).
 *
 * Rekor v1 drops the envelope payload from stored dsse/intoto bodies (reference/rekor.md §2), so these
 * digests usually come from a bundle's envelope or a body that still carries the envelope. Pure, bounded.
 */
import { isRecord } from '../util/json.ts';
import type { Digest, DigestAlgorithm } from './types.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Larger statements are not opened: subjects are a few hundred bytes each, provenance a few KB. */
export const MAX_STATEMENT_BYTES = 1024 * 1024;
/**
 * More subjects than a statement of MAX_STATEMENT_BYTES can hold (the smallest subject,
 * `{"digest":{"sha256":"<64 hex>"}}`, takes 79 bytes), so every subject of a statement that is opened is
 * read: a release artifact listed past some bound must still count for `watch.digests`. Releases with
 * thousands of files exist.
 */
export const MAX_SUBJECTS = 16_384;

const HEX_LEN: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };
const HEX_RE = /^[0-9a-fA-F]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** sha256/sha384/sha512 subject digests, lower-cased; other algorithms (gitCommit, …) are not artifact digests here. */
export function statementSubjectDigests(payloadType: string, payload: Uint8Array): Digest[] {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE || payload.length > MAX_STATEMENT_BYTES) return [];
  let statement: unknown;
  try {
    statement = JSON.parse(utf8.decode(payload)) as unknown;
  } catch {
    return [];
  }
  if (!isRecord(statement) || !Array.isArray(statement['subject'])) return [];
  const out: Digest[] = [];
  for (const subject of statement['subject'].slice(0, MAX_SUBJECTS)) {
    const set = isRecord(subject) ? subject['digest'] : undefined;
    if (!isRecord(set)) continue;
    for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
      const hex = set[alg];
      if (typeof hex === 'string' && hex.length === HEX_LEN[alg] && HEX_RE.test(hex)) out.push(`${alg}:${hex.toLowerCase()}`);
    }
  }
  return out;
}
