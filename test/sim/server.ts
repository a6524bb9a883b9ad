/**
 * The simulator's HTTP face: node:http on 127.0.0.1, the Rekor v1 read API (server-v1.ts) or C2SP
 * tlog-tiles under a path prefix (server-tiles.ts), with the transient faults (faults.ts) applied to
 * every response here and nowhere else.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { GZIP_LEVEL } from './chunk.ts';
import type { SimLog } from './log.ts';
import { errorReply, RequestError, type Reply } from './reply.ts';
import { v1Route } from './server-v1.ts';
import { tilesRoute } from './server-tiles.ts';
import type { LogView } from './view.ts';

const GARBAGE = Buffer.from('\u0000{"garbage": [}\u00ff not what you asked for');

async function send(log: SimLog, req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<void> {
  const f = log.faults;
  const slow = f.get('slow');
  if (slow && f.tick('slow')) {
    const ms = slow.param ?? 2000;
    f.fired('slow', `${req.url} delayed ${ms} ms`);
    await new Promise((r) => setTimeout(r, ms));
  }
  for (const [name, status] of [['http-429', 429], ['http-503', 503]] as const) {
    if (!f.tick(name)) continue;
    // Every other firing says when to come back, as a rate limiter or a draining server may.
    const retryAfter = Math.floor(f.count(name) / Math.max(1, f.get(name)?.param ?? 3)) % 2 === 0 ? { 'retry-after': '1' } : undefined;
    f.fired(name, `${req.method} ${req.url} → ${status}${retryAfter ? ' with Retry-After: 1' : ''}`);
    const text = status === 429 ? 'Too Many Requests' : 'Service Unavailable';
    res.writeHead(status, { 'content-type': 'text/html', ...retryAfter }).end(`<html><body>${status} ${text}</body></html>`);
    return;
  }
  const garbage = f.tick('garbage');
  if (garbage) f.fired('garbage', `${req.url} answered with garbage`);
  const source: Pick<Reply, 'body' | 'gzipped' | 'compressible'> = garbage ? { body: GARBAGE } : reply;
  const headers: Record<string, string> = { 'content-type': reply.type ?? 'application/octet-stream', ...reply.headers };
  let gzip = reply.status === 200 && source.compressible !== false && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  let body: Buffer;
  if (gzip && source.gzipped) body = source.gzipped;
  else {
    try {
      body = typeof source.body === 'string' ? Buffer.from(source.body) : typeof source.body === 'function' ? source.body() : source.body;
    } catch (e) {
      // A body that cannot be built (a read past the body file): a 500, as when the route itself fails.
      const err = errorReply(500, e instanceof Error ? e.message : String(e));
      res.writeHead(err.status, { 'content-type': err.type ?? 'application/json' }).end(err.body);
      return;
    }
    if (gzip && body.length > 512) body = gzipSync(body, { level: GZIP_LEVEL });
    else gzip = false;
  }
  if (gzip) headers['content-encoding'] = 'gzip';
  headers['content-length'] = String(body.length);
  if (f.tick('truncate')) {
    f.fired('truncate', `${req.url} cut after ${Math.floor(body.length / 2)} of ${body.length} bytes`);
    res.writeHead(reply.status, headers);
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
    return;
  }
  res.writeHead(reply.status, headers).end(body);
}

/** `prefix` ('' or '/api/v2'-like) applies to tiles only: Rekor v1 serves at the root. */
export function createSimServer(log: SimLog, view: LogView, prefix: string, authorization?: string): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const route = async (): Promise<Reply> => {
      // A private log behind an authenticating proxy, at the URL its trusted root names (RFC 9110 §11.6.1).
      if (authorization !== undefined && req.headers.authorization !== authorization) return { ...errorReply(401, 'authentication required'), headers: { 'www-authenticate': 'Bearer realm="sim"' } };
      if (log.api === 'v1') return v1Route(log, view, req, url);
      if (!url.pathname.startsWith(`${prefix}/`)) return errorReply(404, 'not found');
      return tilesRoute(log, view, req, url.pathname.slice(prefix.length + 1));
    };
    route()
      .catch((e: unknown) => (e instanceof RequestError ? errorReply(e.status, e.message) : errorReply(500, e instanceof Error ? e.message : String(e))))
      .then((reply) => send(log, req, res, reply))
      .catch(() => res.destroy());
  });
}
