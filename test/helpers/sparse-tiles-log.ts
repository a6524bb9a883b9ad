/**
 * A tlog-tiles log on 127.0.0.1 whose tree is larger than any log could be: its first `offset` leaves
 * (a multiple of 2^48) exist only as level-48 hashes of the log's choosing, and the chosen bodies follow
 * them, at indexes from `offset` on. The checkpoint is signed with the key given, so for a mirror that
 * starts at `offset` (or at `latest`) the log is as well-formed as any: the tiles it reads on the right
 * edge prove the frontier, and the bundles hash to the signed root. For sizes near 2^53 and 2^63, which a
 * hostile log can sign at no cost.
 *
 * Serves `checkpoint`, `tile/<L>/<N>[.p/<W>]` (for nodes on the right of `offset`, or at level 48 and up)
 * and `tile/entries/<N>[.p/<W>]` under any path prefix.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { leafHash, nodeHash } from '../../src/merkle/rfc6962.ts';
import { parseTilePath } from '../../src/merkle/tiles.ts';
import { formatCheckpoint } from '../../src/note/checkpoint.ts';
import { signNote, type NoteSigner } from '../../src/note/note.ts';

const VIRTUAL_LEVEL = 48;

export interface SparseTilesLog {
  url: string;
  size: bigint;
  close(): Promise<void>;
}

export async function startSparseTilesLog(opts: { offset: bigint; bodies: readonly Uint8Array[]; origin: string; signer: NoteSigner; prefix?: string }): Promise<SparseTilesLog> {
  const { offset, bodies } = opts;
  if (offset % (1n << BigInt(VIRTUAL_LEVEL)) !== 0n) throw new RangeError('offset must be a multiple of 2^48');
  const size = offset + BigInt(bodies.length);
  const leaves = bodies.map((b) => leafHash(b));
  const memo = new Map<string, Uint8Array>();
  /** The hash of the perfect subtree (level, index), all of it below `size`. */
  const node = (level: number, index: bigint): Uint8Array => {
    const first = index << BigInt(level);
    if (first + (1n << BigInt(level)) > size) throw new RangeError(`node (${level}, ${index}) is not complete in a tree of ${size}`);
    const k = `${level}/${index}`;
    let h = memo.get(k);
    if (h) return h;
    if (first >= offset && level === 0) h = leaves[Number(first - offset)]!;
    else if (first < offset && level === VIRTUAL_LEVEL) h = createHash('sha256').update(`virtual ${index}`).digest();
    else if (first < offset && level < VIRTUAL_LEVEL) throw new RangeError(`node (${level}, ${index}) lies in the virtual leaves`);
    else h = nodeHash(node(level - 1, 2n * index), node(level - 1, 2n * index + 1n));
    memo.set(k, h);
    return h;
  };
  /** RFC 6962 §2.1 MTH of leaves [from, from + n), n > 0, split at the largest power of two below n. */
  const mth = (from: bigint, n: bigint): Uint8Array => {
    if ((n & (n - 1n)) === 0n) return node(n.toString(2).length - 1, from / n);
    let k = 1n;
    while (k << 1n < n) k <<= 1n;
    return nodeHash(mth(from, k), mth(from + k, n - k));
  };
  const note = signNote(formatCheckpoint({ origin: opts.origin, size, rootHash: mth(0n, size), extensions: [] }), [opts.signer]);

  const serve = (path: string): Buffer | undefined => {
    if (path === 'checkpoint') return Buffer.from(note);
    const t = parseTilePath(path);
    if (!t) return undefined;
    const start = t.n * 256n;
    if (t.level === 'entries') {
      const out: Buffer[] = [];
      for (let i = 0; i < t.width; i++) {
        const b = bodies[Number(start + BigInt(i) - offset)];
        if (start + BigInt(i) < offset || !b) return undefined;
        out.push(Buffer.from([b.length >> 8, b.length & 0xff]), Buffer.from(b));
      }
      return Buffer.concat(out);
    }
    try {
      return Buffer.concat(Array.from({ length: t.width }, (_, i) => node(t.level as number * 8, start + BigInt(i))));
    } catch {
      return undefined;
    }
  };
  const prefix = (opts.prefix ?? '').replace(/\/+$/, '');
  const server = createServer((req, res) => {
    const body = req.url?.startsWith(`${prefix}/`) ? serve(req.url.slice(prefix.length + 1)) : undefined;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`,
    size,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
