/**
 * A hostile upstream: an HTTP proxy on 127.0.0.1 in front of the simulator (or any loopback log) that
 * passes each request on unless the test's behaviour answers it otherwise. A behaviour gets the request
 * and a way to fetch the simulator's answer, and writes what it likes: the answer edited, another status,
 * a body that never ends, a redirect. It covers what the simulator's fault list does not (faults.ts), for
 * tests of what the mirror does with an upstream that lies about what it was asked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The simulator's answer to a request, as the proxy fetched it (decompressed). */
export interface Upstream {
  status: number;
  contentType: string;
  body: Buffer;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query, as the client sent them (the log's path prefix included). */
  path: string;
  body: Buffer;
  /** Fetches the simulator's answer to this same request, or to a GET of `path` (another entry, another tile). */
  forward(path?: string): Promise<Upstream>;
}

/** Answers `req` on `res`; returning without ending `res` leaves the request hanging until the client gives up. */
export type Behaviour = (req: ProxiedRequest, res: ServerResponse) => Promise<void> | void;

export interface HostileProxy {
  /** The log's URL through the proxy (the target's path prefix kept). */
  url: string;
  /** Replaces the behaviour; `undefined` passes everything on. */
  set(b: Behaviour | undefined): void;
  /** Requests seen so far whose path matches `re`. */
  count(re: RegExp): number;
  close(): Promise<void>;
}

/** Sends the simulator's answer on unchanged. */
export function reply(res: ServerResponse, u: Upstream): void {
  res.writeHead(u.status, { 'content-type': u.contentType }).end(u.body);
}

/** Sends the simulator's answer with its JSON body replaced by `edit`'s result (edit may change the value in place). */
export async function editJson(req: ProxiedRequest, res: ServerResponse, edit: (doc: any) => unknown): Promise<void> {
  const u = await req.forward();
  if (u.status !== 200) return reply(res, u);
  const doc = JSON.parse(u.body.toString('utf8')) as unknown;
  const out = edit(doc);
  reply(res, { ...u, body: Buffer.from(JSON.stringify(out === undefined ? doc : out)) });
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function startHostileProxy(target: string, initial?: Behaviour): Promise<HostileProxy> {
  const base = new URL(target);
  let behaviour = initial;
  const seen: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      const path = req.url ?? '/';
      seen.push(path);
      const method = req.method ?? 'GET';
      const forward = async (other?: string): Promise<Upstream> => {
        const r = await fetch(`${base.origin}${other ?? path}`, other !== undefined ? {} : { method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, ...(body.length ? { body } : {}) });
        return { status: r.status, contentType: r.headers.get('content-type') ?? 'application/octet-stream', body: Buffer.from(await r.arrayBuffer()) };
      };
      if (behaviour) await behaviour({ method, path, body, forward }, res);
      else reply(res, await forward());
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${base.pathname.replace(/\/+$/, '')}`,
    set: (b) => (behaviour = b),
    count: (re) => seen.filter((p) => re.test(p)).length,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
