/**
 * Full tlog-tiles entry bundles, gzipped once when their entries were generated (chunk.ts gzipBundles),
 * kept in one file with a start and a length per bundle in memory. The server answers a full bundle from
 * here when the client accepts gzip and no body fault applies; anything else is compressed as it is sent.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { Chunk } from './chunk.ts';

export class GzBundles {
  private readonly fd: number;
  private start = new Float64Array(0);
  private len = new Uint32Array(0);
  private end = 0;

  /** `expected` bundles fit without growing the tables. */
  constructor(path: string, expected = 0) {
    this.fd = openSync(path, 'w+');
    this.grow(Math.max(64, expected));
  }

  private grow(n: number): void {
    if (n <= this.len.length) return;
    const size = Math.max(n, 2 * this.len.length);
    const start = new Float64Array(size);
    const len = new Uint32Array(size);
    start.set(this.start);
    len.set(this.len);
    this.start = start;
    this.len = len;
  }

  add(gz: NonNullable<Chunk['gz']>): void {
    this.grow(gz.first + gz.lens.length);
    writeSync(this.fd, gz.bytes, 0, gz.bytes.length, this.end);
    let at = this.end;
    for (let i = 0; i < gz.lens.length; i++) {
      this.start[gz.first + i] = at;
      this.len[gz.first + i] = gz.lens[i]!;
      at += gz.lens[i]!;
    }
    this.end = at;
  }

  /** Bundle `b` gzipped, or undefined when it was not compressed ahead (not yet full, or appended in part). */
  get(b: number): Buffer | undefined {
    const n = b < this.len.length ? this.len[b]! : 0;
    if (n === 0) return undefined;
    const out = Buffer.allocUnsafe(n);
    if (readSync(this.fd, out, 0, n, this.start[b]!) !== n) throw new Error(`short read of gzipped bundle ${b}`);
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
