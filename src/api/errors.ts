/** Errors become responses in exactly one place (STYLE.md habit 9): `{"error":{"code","message"}}`, never a stack. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { TlogwatchError, type ErrorCode } from '../errors.ts';

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  API_BAD_REQUEST: 400,
  API_NOT_FOUND: 404,
  API_UNAUTHORIZED: 401,
  API_PAYLOAD_TOO_LARGE: 413,
  API_RATE_LIMITED: 429,
  API_UNAVAILABLE: 503,
  STORE_WRITE_FAILED: 503,
  STORE_UNAVAILABLE: 503,
  MERKLE_RANGE: 400,
  ENTRY_MALFORMED: 400,
};

export function apiError(code: ErrorCode, message: string): TlogwatchError {
  return new TlogwatchError(code, message);
}

export function errorResponse(c: Context, e: unknown): Response {
  if (e instanceof TlogwatchError) {
    const status = STATUS[e.code] ?? (e.kind === 'input' ? 400 : 500);
    return c.json({ error: { code: e.code, message: status === 500 ? 'internal error' : e.message } }, status);
  }
  // The store's databases are closed while tlogwatch reopens them after a write fault (store/write-fault.ts),
  // and a write can meet the fault before the store has noted it: both pass, so they are 503s, not bugs.
  const level = (e as { code?: unknown } | null)?.code;
  if (level === 'LEVEL_DATABASE_NOT_OPEN' || level === 'LEVEL_IO_ERROR') {
    return c.json({ error: { code: 'STORE_UNAVAILABLE', message: 'the store is unavailable: a write failed and tlogwatch is reopening it; try again shortly' } }, 503);
  }
  return c.json({ error: { code: 'INTERNAL', message: 'internal error' } }, 500);
}
