/**
 * The API's security headers: the set Hono's `secureHeaders({ crossOriginResourcePolicy: 'same-origin' })`
 * sends (helmet's defaults; test/integration/api/security-headers.test.ts keeps the two equal), written the
 * cheap way. Hono's middleware sets them on `c.res.headers`, which turns @hono/node-server's lightweight
 * response into a WHATWG Headers and back for every request: measured, ~14 µs of a 55 µs "hello" request on
 * the API bench's server. Served by @hono/node-server, the context's env carries Node's ServerResponse
 * (`c.env.outgoing`); `setHeader` there is a plain property write, and Node merges those headers with the
 * ones the response is written with. Anywhere else (`app.request` in tests, another runtime) they go on
 * `c.res.headers` as Hono's middleware would.
 *
 * One difference from Hono's `overwrite: true`: a header a handler sets itself wins over these (Node gives
 * `writeHead`'s headers precedence). No handler sets any of them.
 */
import type { ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';

export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];

function nodeResponse(env: unknown): ServerResponse | undefined {
  const outgoing = (env as { outgoing?: Partial<ServerResponse> } | undefined)?.outgoing;
  return typeof outgoing?.setHeader === 'function' && outgoing.headersSent === false ? (outgoing as ServerResponse) : undefined;
}

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const outgoing = nodeResponse(c.env);
    if (outgoing) for (const [name, value] of SECURITY_HEADERS) outgoing.setHeader(name, value);
    else for (const [name, value] of SECURITY_HEADERS) c.res.headers.set(name, value);
  };
}
