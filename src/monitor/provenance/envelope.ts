/**
 * DSSE envelopes (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md): the JSON form
 * `{payload, payloadType, signatures: [{keyid?, sig}]}` as found in Sigstore bundles (`dsseEnvelope`)
 * and Rekor dsse/intoto entries. Parsing only: signatures are not verified here (`tlogwatch verify`
 * does that); the payload is what provenance decoding reads.
 */
import { isRecord } from '../../util/json.ts';

export interface DsseEnvelope {
  payloadType: string;
  payload: Uint8Array;
  signatures: Array<{ keyid?: string; sig: Uint8Array }>;
}

export interface EnvelopeProblem {
  problem: { code: 'ENVELOPE_MALFORMED'; message: string };
}

/** Envelopes larger than this are not opened (statements are a few KB; see MAX_STATEMENT_BYTES). */
export const MAX_ENVELOPE_BASE64 = 4 * 1024 * 1024;
const MAX_SIGNATURES = 64;

const STD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/** DSSE allows standard or URL-safe base64, padded or not (envelope.md "Base64"). Nothing else. */
export function parseDsseBase64(s: string): Uint8Array | undefined {
  if (s.length > MAX_ENVELOPE_BASE64 || s.length % 4 === 1) return undefined;
  if (STD.test(s)) return new Uint8Array(Buffer.from(s, 'base64'));
  if (URL_SAFE.test(s)) return new Uint8Array(Buffer.from(s, 'base64url'));
  return undefined;
}

const bad = (message: string): EnvelopeProblem => ({ problem: { code: 'ENVELOPE_MALFORMED', message } });

export function parseDsseEnvelope(json: unknown): DsseEnvelope | EnvelopeProblem {
  if (!isRecord(json)) return bad('a DSSE envelope is a JSON object');
  const { payload, payloadType, signatures } = json;
  if (typeof payloadType !== 'string' || payloadType.length === 0 || payloadType.length > 256) return bad('payloadType must be a non-empty string');
  if (typeof payload !== 'string') return bad('payload must be a base64 string');
  const bytes = parseDsseBase64(payload);
  if (!bytes) return bad('payload is not valid base64');
  if (!Array.isArray(signatures) || signatures.length > MAX_SIGNATURES) return bad(`signatures must be an array of at most ${MAX_SIGNATURES}`);
  const sigs: DsseEnvelope['signatures'] = [];
  for (const [i, s] of signatures.entries()) {
    if (!isRecord(s) || typeof s['sig'] !== 'string') return bad(`signatures[${i}].sig must be a base64 string`);
    const sig = parseDsseBase64(s['sig']);
    if (!sig) return bad(`signatures[${i}].sig is not valid base64`);
    const keyid = s['keyid'];
    if (keyid !== undefined && typeof keyid !== 'string') return bad(`signatures[${i}].keyid must be a string`);
    sigs.push({ ...(keyid ? { keyid } : {}), sig });
  }
  return { payloadType, payload: bytes, signatures: sigs };
}
