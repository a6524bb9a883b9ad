/**
 * A tlog-tiles log on 127.0.0.1 made from bodies a test chooses, byte for byte: each is in the tree, in
 * its entry bundle and in the level-0 tile, and the checkpoint is signed with the key given, so a mirror
 * must take every one of them as the log's. For what the simulator will not log: bodies that are not
 * JSON, certificates that are not DER, entries of zero or 65,535 bytes (the log signs garbage).
 *
 * Serves `checkpoint`, `tile/entries/<N>[.p/<W>]` and `tile/0/<N>[.p/<W>]` under any path prefix (the
 * levels above are not needed to follow from 0).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactRange } from '../../src/merkle/compact.ts';
import { leafHash } from '../../src/merkle/rfc6962.ts';
import { entriesPath, tilePath } from '../../src/merkle/tiles.ts';
import { formatCheckpoint } from '../../src/note/checkpoint.ts';
import { signNote, type NoteSigner } from '../../src/note/note.ts';

export interface StaticTilesLog {
  /** The log's base URL (with `prefix`). */
  url: string;
  close(): Promise<void>;
}

export async function startStaticTilesLog(opts: { bodies: readonly Uint8Array[]; origin: string; signer: NoteSigner; prefix?: string }): Promise<StaticTilesLog> {
  const { bodies } = opts;
  for (const b of bodies) if (b.length > 0xffff) throw new RangeError(`an entry bundle holds entries of at most 65535 bytes, not ${b.length}`);
  const tree = CompactRange.empty();
  const hashes = bodies.map((b) => leafHash(b));
  for (const h of hashes) tree.append(h);
  const note = signNote(formatCheckpoint({ origin: opts.origin, size: BigInt(bodies.length), rootHash: tree.root(), extensions: [] }), [opts.signer]);
  const files = new Map<string, Buffer>([['checkpoint', Buffer.from(note)]]);
  for (let n = 0; n * 256 < bodies.length; n++) {
    const count = Math.min(256, bodies.length - n * 256);
    const width = count < 256 ? count : undefined;
    const slice = bodies.slice(n * 256, n * 256 + count);
    files.set(entriesPath(BigInt(n), width), Buffer.concat(slice.flatMap((b) => [Buffer.from([b.length >> 8, b.length & 0xff]), Buffer.from(b)])));
    files.set(tilePath(0, BigInt(n), width), Buffer.concat(hashes.slice(n * 256, n * 256 + count)));
  }
  const prefix = (opts.prefix ?? '').replace(/\/+$/, '');
  const server = createServer((req, res) => {
    const path = (req.url ?? '').slice(prefix.length + 1);
    const body = req.url?.startsWith(`${prefix}/`) ? files.get(path) : undefined;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
