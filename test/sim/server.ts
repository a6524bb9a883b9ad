/**
 * The simulator's HTTP face over node:http on 127.0.0.1: the Rekor v1 read API (reference/rekor.md §1.1)
 * or C2SP tlog-tiles under a path prefix (§3.1), with transient faults applied to every response.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { parseTilePath, TILE_WIDTH } from '../../src/merkle/tiles.ts';
import { json } from '@sigstore/core';
import { sign } from 'node:crypto';
import type { SimLog, Shard } from './log.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Reply {
  status: number;
  body: Buffer | string;
  type?: string;
  headers?: Record<string, string>;
}
const jsonReply = (v: unknown, status = 200): Reply => ({ status, body: JSON.stringify(v), type: 'application/json' });
const errorReply = (status: number, message: string): Reply => jsonReply({ code: status, message }, status);

/** Applies transient faults, then writes the reply. */
async function send(log: SimLog, req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<void> {
  const f = log.faults;
  const slow = f.get('slow');
  if (slow) {
    f.fired('slow', `${req.url} delayed ${slow.param ?? 1500} ms`);
    await new Promise((r) => setTimeout(r, slow.param ?? 1500));
  }
  for (const [name, status] of [['http-429', 429], ['http-503', 503]] as const) {
    if (f.tick(name)) {
      const retryAfter = f.count(name) % 2 === 0 ? { 'retry-after': '1' } : {};
      f.fired(name, `${req.url} → ${status}${'retry-after' in retryAfter ? ' with Retry-After' : ''}`);
      res.writeHead(status, { 'content-type': 'text/html', ...retryAfter }).end('<html>Too Many Requests</html>');
      return;
    }
  }
  let body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  if (f.tick('garbage')) {
    f.fired('garbage', `${req.url} answered with garbage`);
    body = Buffer.from('\u0000{"garbage": [}\u00ff not what you asked for');
  }
  const headers: Record<string, string> = { 'content-type': reply.type ?? 'application/octet-stream', ...reply.headers };
  if (reply.status === 200 && body.length > 512 && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
    body = gzipSync(body, { level: 1 });
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = String(body.length);
  if (f.tick('truncate')) {
    f.fired('truncate', `${req.url} cut after ${Math.floor(body.length / 2)} of ${body.length} bytes`);
    res.writeHead(reply.status, headers);
    res.write(body.subarray(0, Math.floor(body.length / 2)));
    res.destroy();
    return;
  }
  res.writeHead(reply.status, headers).end(body);
}

async function readBody(req: IncomingMessage, max = 1 << 20): Promise<string> {
  let n = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new Error('request body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------- Rekor v1

function logEntry(log: SimLog, index: number): Record<string, unknown> | undefined {
  const shard = log.shardOf(index);
  if (!shard || index >= log.published) return undefined;
  const body = log.servedBody(index);
  if (!body) return undefined;
  const tree = log.viewTree(shard);
  const treeIndex = index - shard.offset;
  const treeSize = shard.final ?? log.publishedTreeSize();
  if (treeIndex >= treeSize) return undefined;
  const integratedTime = log.integratedTime(index);
  const logID = hex(log.logKeyId());
  const payload = { body: body.toString('base64'), integratedTime, logID, logIndex: index };
  const set = sign('sha256', Buffer.from(json.canonicalize(payload)), { key: log.logKey.privateKey, dsaEncoding: 'der' }).toString('base64');
  const uuid = hex(tree.leaf(treeIndex));
  const attestation = log.attestations.get(index);
  return {
    [`${BigInt(shard.treeID).toString(16).padStart(16, '0')}${uuid}`]: {
      ...payload,
      ...(attestation ? { attestation: { data: attestation.toString('base64') } } : {}),
      verification: {
        inclusionProof: {
          checkpoint: log.checkpoint(shard, treeSize),
          hashes: tree.inclusion(treeIndex, treeSize).map(hex),
          logIndex: treeIndex,
          rootHash: hex(tree.root(treeSize)),
          treeSize,
        },
        signedEntryTimestamp: set,
      },
    },
  };
}


function shardInfo(log: SimLog, s: Shard) {
  const size = s.final!;
  return { rootHash: hex(log.viewTree(s).root(size)), signedTreeHead: log.checkpoint(s, size), treeID: s.treeID, treeSize: size };
}

function findByUuid(log: SimLog, id: string): number | undefined {
  const uuid = id.slice(-64);
  const lh = Buffer.from(uuid, 'hex');
  for (const s of log.shards) {
    const tree = log.viewTree(s);
    const size = s.final ?? log.publishedTreeSize();
    for (let i = 0; i < Math.min(size, tree.size); i++) if (lh.equals(tree.leaf(i))) return s.offset + i;
  }
  return undefined;
}

async function v1(log: SimLog, req: IncomingMessage, url: URL): Promise<Reply> {
  const p = url.pathname;
  if (req.method === 'GET' && p === '/api/v1/log') {
    const a = log.active;
    const size = log.publishedTreeSize();
    return jsonReply({
      rootHash: hex(log.viewTree(a).root(size)),
      signedTreeHead: log.checkpoint(a, size),
      treeID: a.treeID,
      treeSize: size,
      inactiveShards: log.shards.slice(0, -1).map((s) => shardInfo(log, s)),
    });
  }
  if (req.method === 'GET' && p === '/api/v1/log/publicKey') {
    return { status: 200, body: log.logKey.publicKey.export({ format: 'pem', type: 'spki' }).toString(), type: 'application/x-pem-file' };
  }
  if (req.method === 'GET' && p === '/api/v1/log/proof') {
    const first = Number(url.searchParams.get('firstSize') ?? '1');
    const last = Number(url.searchParams.get('lastSize'));
    const treeID = url.searchParams.get('treeID') ?? log.active.treeID;
    const shard = log.shards.find((s) => s.treeID === treeID);
    if (!shard) return errorReply(400, 'unknown treeID');
    const size = shard.final ?? log.publishedTreeSize();
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 1 || first > last) return errorReply(400, 'firstSize must be >= 1 and <= lastSize');
    if (last > size) return errorReply(400, 'lastSizeGreaterThanKnown');
    const tree = log.viewTree(shard);
    return jsonReply({ hashes: tree.consistency(first, last).map(hex), rootHash: hex(tree.root(last)) });
  }
  if (req.method === 'GET' && p === '/api/v1/log/entries') {
    const raw = url.searchParams.get('logIndex') ?? '';
    if (!/^\d+$/.test(raw)) return errorReply(400, 'logIndex must be a non-negative integer');
    const e = logEntry(log, Number(raw));
    return e ? jsonReply(e) : errorReply(404, 'entry not found');
  }
  const byUuid = /^\/api\/v1\/log\/entries\/([0-9a-f]{64}|[0-9a-f]{80})$/.exec(p);
  if (req.method === 'GET' && byUuid) {
    const i = findByUuid(log, byUuid[1]!);
    const e = i === undefined ? undefined : logEntry(log, i);
    return e ? jsonReply(e) : errorReply(404, 'entry not found');
  }
  if (req.method === 'POST' && p === '/api/v1/log/entries/retrieve') {
    let q: { entryUUIDs?: string[]; logIndexes?: number[]; entries?: unknown[] };
    try {
      q = JSON.parse(await readBody(req)) as typeof q;
    } catch {
      return errorReply(400, 'invalid JSON');
    }
    const n = (q.entryUUIDs?.length ?? 0) + (q.logIndexes?.length ?? 0) + (q.entries?.length ?? 0);
    if (n > 10) return errorReply(422, 'more than max allowed 10 entries in request');
    const out: unknown[] = [];
    for (const i of q.logIndexes ?? []) {
      const e = typeof i === 'number' ? logEntry(log, i) : undefined;
      if (e) out.push(e);
    }
    for (const u of q.entryUUIDs ?? []) {
      const i = findByUuid(log, String(u));
      const e = i === undefined ? undefined : logEntry(log, i);
      if (e) out.push(e);
    }
    return jsonReply(out);
  }
  if (req.method === 'POST' && p === '/api/v1/index/retrieve') {
    let q: { hash?: string; email?: string; subject?: string; operator?: string };
    try {
      q = JSON.parse(await readBody(req)) as typeof q;
    } catch {
      return errorReply(400, 'invalid JSON');
    }
    const sets: number[][] = [];
    if (q.hash) sets.push(log.byDigest.get(/^[0-9a-f]{64}$/.test(q.hash) ? `sha256:${q.hash}` : q.hash.toLowerCase()) ?? []);
    if (q.email) sets.push(log.bySan.get(q.email.toLowerCase()) ?? []);
    if (q.subject) sets.push(log.bySan.get(q.subject.toLowerCase()) ?? []);
    if (sets.length === 0) return errorReply(400, 'no search criteria');
    const ids = q.operator === 'and' ? sets.reduce((a, b) => a.filter((x) => b.includes(x))) : [...new Set(sets.flat())];
    return jsonReply(
      ids
        .filter((i) => i < log.published)
        .map((i) => {
          const s = log.shardOf(i)!;
          return `${BigInt(s.treeID).toString(16).padStart(16, '0')}${hex(log.viewTree(s).leaf(i - s.offset))}`;
        }),
    );
  }
  return errorReply(404, `no route for ${req.method} ${p}`);
}

// ---------------------------------------------------------------- tiles

function tiles(log: SimLog, req: IncomingMessage, path: string): Reply {
  if (req.method !== 'GET') return errorReply(405, 'read-only');
  if (path === 'checkpoint') return { status: 200, body: log.checkpoint(log.active, log.publishedTreeSize()), type: 'text/plain; charset=utf-8', headers: { 'cache-control': 'no-cache' } };
  const t = parseTilePath(path);
  if (!t) return errorReply(404, 'not found');
  const size = log.published; // tiles are served for the real published size; shrink only lies in the checkpoint
  const tree = log.viewTree(log.active);
  const start = Number(t.n) * TILE_WIDTH;
  if (t.level === 'entries') {
    if (start + t.width > size) return errorReply(404, 'not found');
    const parts: Buffer[] = [];
    // One read for the whole bundle unless a fault may change or drop bodies in it.
    const faulty = ['drop', 'rewrite', 'tile-mismatch', 'fork'].some((f) => log.faults.has(f as never));
    const bodies = faulty ? Array.from({ length: t.width }, (_, i) => log.servedBody(start + i)) : log.bodies.range(start, start + t.width);
    for (const b of bodies) {
      if (!b) continue;
      const len = Buffer.alloc(2);
      len.writeUInt16BE(b.length);
      parts.push(len, b);
    }
    return { status: 200, body: Buffer.concat(parts), headers: { 'cache-control': t.width === TILE_WIDTH ? 'max-age=31536000, immutable' : 'no-cache' } };
  }
  const rowSize = Math.floor(size / 256 ** t.level);
  if (start + t.width > rowSize) return errorReply(404, 'not found');
  if (t.level === 0) {
    const out = Buffer.allocUnsafe(32 * t.width);
    for (let i = 0; i < t.width; i++) out.set(log.servedLeafHash(start + i, tree), 32 * i);
    return { status: 200, body: out };
  }
  return { status: 200, body: Buffer.from(tree.row(8 * t.level, start, t.width)) };
}

export function createSimServer(log: SimLog, prefix: string): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const route = async (): Promise<Reply> => {
      if (log.api === 'v1') return v1(log, req, url);
      if (!url.pathname.startsWith(`${prefix}/`)) return errorReply(404, 'not found');
      return tiles(log, req, url.pathname.slice(prefix.length + 1));
    };
    route()
      .then((reply) => send(log, req, res, reply))
      .catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 500, message: String(e) }));
      });
  });
}
