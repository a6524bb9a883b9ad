/**
 * Strict readers for the JSON fields of tlog-entry inputs (Sigstore bundles, Rekor v1 and v2 responses).
 * Every reader names the path of the field it rejects, so `tlogwatch verify` can say what is wrong.
 */
import { TlogwatchError } from '../errors.ts';
import { parseBase64, parseHex } from '../util/bytes.ts';
import { isRecord } from '../util/json.ts';

export function bad(where: string, what: string): TlogwatchError {
  return new TlogwatchError('ENTRY_MALFORMED', `${where}: ${what}`);
}

export const rec = (o: unknown): Record<string, unknown> | undefined => (isRecord(o) ? o : undefined);

export function obj(v: unknown, where: string): Record<string, unknown> {
  if (!isRecord(v)) throw bad(where, v === undefined ? 'missing' : 'expected an object');
  return v;
}

export function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw bad(where, v === undefined ? 'missing' : 'expected a string');
  return v;
}

const INT64_MAX = (1n << 63n) - 1n;

/**
 * A non-negative int64: a JSON number that is a safe integer (Rekor v1) or a canonical decimal string
 * (protobuf JSON for int64: bundles, Rekor v2). "007" and "1e3" are rejected, not normalised.
 */
export function int(v: unknown, where: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0|[1-9]\d{0,18})$/.test(v) && BigInt(v) <= INT64_MAX) return BigInt(v);
  throw bad(where, `expected a non-negative integer, got ${v === undefined ? 'nothing' : JSON.stringify(v).slice(0, 40)}`);
}

export function b64(v: unknown, where: string, len?: number): Uint8Array {
  const b = typeof v === 'string' ? parseBase64(v, len) : undefined;
  if (!b) throw bad(where, `${v === undefined ? 'missing; ' : ''}expected ${len === undefined ? '' : `${len} bytes of `}standard base64`);
  return b;
}

export function hex(v: unknown, where: string, len?: number): Uint8Array {
  const b = typeof v === 'string' ? parseHex(v, len) : undefined;
  if (!b) throw bad(where, `${v === undefined ? 'missing; ' : ''}expected ${len === undefined ? '' : `${len} bytes of `}lower-case hex`);
  return b;
}

/** An array of at most `max` elements. */
export function list(v: unknown, where: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw bad(where, v === undefined ? 'missing' : 'expected an array');
  if (v.length > max) throw bad(where, `${v.length} elements, more than the ${max} allowed`);
  return v;
}
