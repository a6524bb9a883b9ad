/**
 * A stalling log: an HTTP proxy on 127.0.0.1 in front of the simulator that passes every request on except
 * those for entries below an index, which it holds without an answer until the client gives up (a mirror
 * stopping, a timeout) or the proxy closes. Backfill reads a log from the top down, so its batches above
 * that index commit and the next one waits on requests that never end, as on a log that hangs.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reply } from './hostile-proxy.ts';

export interface StallingProxy {
  /** The log's URL through the proxy (the simulator's path prefix kept). */
  url: string;
  /** Requests held so far. */
  readonly stalled: number;
  close(): Promise<void>;
}

/**
 * Whether a request asks for an entry below `index`: Rekor v1 by index (`GET …/entries?logIndex=`, a
 * retrieve's `logIndexes`), tlog-tiles an entry bundle whose first entry is below it.
 */
export function asksBelow(index: number): (method: string, path: string, body: string) => boolean {
  return (method, path, body) => {
    const byIndex = /[?&]logIndex=(\d+)/.exec(path);
    if (byIndex) return Number(byIndex[1]) < index;
    if (method === 'POST' && path.endsWith('/entries/retrieve')) {
      const q = JSON.parse(body) as { logIndexes?: number[] };
      return (q.logIndexes ?? []).some((i) => i < index);
    }
    const bundle = /\/tile\/entries\/((?:x\d{3}\/)*\d{3})(?:\.p\/\d+)?$/.exec(path);
    return bundle ? Number(bundle[1]!.replace(/x|\//g, '')) * 256 < index : false;
  };
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function startStallingProxy(target: string, stall: (method: string, path: string, body: string) => boolean): Promise<StallingProxy> {
  const base = new URL(target);
  let stalled = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      if (stall(req.method ?? 'GET', req.url ?? '/', body.toString('utf8'))) {
        stalled++;
        return; // never answered: the client's abort or timeout, or close(), ends it
      }
      const r = await fetch(`${base.origin}${req.url}`, { method: req.method ?? 'GET', headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, ...(body.length ? { body } : {}) });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
      res.end(Buffer.from(await r.arrayBuffer()));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${base.pathname.replace(/\/+$/, '')}`,
    get stalled() {
      return stalled;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The log refuses (400, final) entries at or past `index` while `refusing()` says so. */
export function refusingFrom(index: number, refusing: () => boolean) {
  const below = asksBelow(index);
  return async (req: { method: string; path: string; body: Buffer; forward: () => Promise<{ status: number; contentType: string; body: Buffer }> }, res: Parameters<typeof reply>[0]) => {
    const asksEntries = /\/tile\/entries\/|\/entries\/retrieve$|[?&]logIndex=/.test(req.path);
    if (refusing() && asksEntries && !below(req.method, req.path, req.body.toString())) return void res.writeHead(400).end();
    reply(res, await req.forward());
  };
}
