/**
 * C2SP tlog-tiles as Rekor v2 serves it (reference/c2sp.md §1.3, rekor.md §3): `checkpoint`,
 * `tile/<L>/<N>[.p/<W>]` (32-byte hashes; level L holds tree level 8L) and `tile/entries/<N>[.p/<W>]`
 * (uint16 big-endian length-prefixed canonical entries), under the server's path prefix. Only what the
 * published checkpoint implies is served; full tiles are immutable, partial ones and the checkpoint are not.
 */
import type { IncomingMessage } from 'node:http';
import { parseTilePath, TILE_WIDTH } from '../../src/merkle/tiles.ts';
import type { SimLog } from './log.ts';
import { errorReply, type Reply } from './reply.ts';
import type { LogView } from './view.ts';

const IMMUTABLE = { 'cache-control': 'public, max-age=31536000, immutable' };
const MUTABLE = { 'cache-control': 'no-cache' };

export function tilesRoute(log: SimLog, view: LogView, req: IncomingMessage, path: string): Reply {
  if (req.method !== 'GET' && req.method !== 'HEAD') return errorReply(405, 'read-only');
  if (path === 'checkpoint') return { status: 200, body: view.checkpoint(log.active, view.publishedTreeSize()), type: 'text/plain; charset=utf-8', headers: MUTABLE };
  const t = parseTilePath(path);
  if (!t) return errorReply(404, 'not found');
  // Tiles follow the real published size: `shrink` lies only in the checkpoint.
  const size = log.published;
  const start = Number(t.n) * TILE_WIDTH;
  const headers = t.width === TILE_WIDTH ? IMMUTABLE : MUTABLE;
  if (t.level === 'entries') {
    if (start + t.width > size) return errorReply(404, 'not found');
    const gzipped = t.width === TILE_WIDTH ? view.gzippedBundle(start) : undefined;
    return { status: 200, body: () => view.bundle(start, start + t.width), headers, ...(gzipped ? { gzipped } : {}) };
  }
  const rowSize = Math.floor(size / TILE_WIDTH ** t.level);
  if (start + t.width > rowSize) return errorReply(404, 'not found');
  const shard = log.active;
  if (t.level === 0 && (log.faults.has('rewrite') || log.faults.has('fork'))) {
    const out = Buffer.allocUnsafe(32 * t.width);
    for (let i = 0; i < t.width; i++) out.set(view.leaf(shard, start + i), 32 * i);
    return { status: 200, body: out, headers, compressible: false };
  }
  return { status: 200, body: view.tree(shard).row(8 * t.level, start, t.width), headers, compressible: false }; // hash rows never change once written
}
