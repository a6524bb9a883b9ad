/**
 * Errors become responses in exactly one place (STYLE.md habit 9): `{"error":{"code","message"}}`, never a
 * stack. The Rekor-compatible routes (/api/v1/…) answer in Rekor's shape instead, `{"code","message"}`
 * (openapi.yaml definitions/Error), which Rekor's clients decode: `code` is the HTTP status, or for a value
 * the schema refuses go-openapi's validation code (600–611, served as 422), as Rekor's server sends it.
 */
import { RequestError } from '@hono/node-server';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { TlogwatchError, type ErrorCode } from '../errors.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  API_BAD_REQUEST: 400,
  API_NOT_FOUND: 404,
  API_UNAUTHORIZED: 401,
  API_PAYLOAD_TOO_LARGE: 413,
  API_RATE_LIMITED: 429,
  API_BUSY: 429,
  API_UNPROCESSABLE: 422,
  API_UNAVAILABLE: 503,
  STORE_WRITE_FAILED: 503,
  STORE_UNAVAILABLE: 503,
  MERKLE_RANGE: 400,
  ENTRY_MALFORMED: 400,
};

export function apiError(code: ErrorCode, message: string): TlogwatchError {
  return new TlogwatchError(code, message);
}

/** Whether a path is one of the Rekor-compatible routes', whose errors take Rekor's shape. */
export const isRekorPath = (path: string) => path === '/api/v1' || path.startsWith('/api/v1/');

/** An error response: tlogwatch's shape, or Rekor's on its routes (`rekorCode`, when given, is the body's code). */
export function errorJson(c: Context, status: ContentfulStatusCode, code: string, message: string, rekorCode?: number): Response {
  if (isRekorPath(c.req.path)) return c.json({ code: rekorCode ?? status, message }, status);
  return c.json({ error: { code, message } }, status);
}

export function errorResponse(c: Context, e: unknown): Response {
  if (e instanceof TlogwatchError) {
    const status = STATUS[e.code] ?? (e.kind === 'input' ? 400 : 500);
    const rekorCode = typeof e.data['rekorCode'] === 'number' ? e.data['rekorCode'] : undefined;
    return errorJson(c, status, e.code, status === 500 ? 'internal error' : e.message, rekorCode);
  }
  // The store's databases are closed while tlogwatch reopens them after a write fault (store/write-fault.ts),
  // and a write can meet the fault before the store has noted it: both pass, so they are 503s, not bugs.
  const level = (e as { code?: unknown } | null)?.code;
  if (level === 'LEVEL_DATABASE_NOT_OPEN' || level === 'LEVEL_IO_ERROR') {
    return errorJson(c, 503, 'STORE_UNAVAILABLE', 'the store is unavailable: a write failed and tlogwatch is reopening it; try again shortly');
  }
  return errorJson(c, 500, 'INTERNAL', 'internal error');
}

/**
 * The answer to a request the app never saw: @hono/node-server turns no Request out of a target with a
 * backslash before its query, a Host header that names no host, or a target that is no URL
 * (`RequestError`), and answered those with a bare 400 and no body; any other error here is one of the
 * adapter's own. The same JSON error as every other answer; the path is unknown here, so it is in
 * tlogwatch's shape on a Rekor-compatible path too. The adapter's message names only what it refused.
 */
export function adapterErrorResponse(e: unknown): Response {
  const [status, code, message] = e instanceof RequestError ? [400, 'API_BAD_REQUEST', `malformed request: ${e.message}`] : [500, 'INTERNAL', 'internal error'];
  return Response.json({ error: { code, message } }, { status, headers: SECURITY_HEADERS.map(([k, v]) => [k, v]) });
}
