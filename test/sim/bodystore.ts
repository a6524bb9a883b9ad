/**
 * Append-only byte records in one file with their offsets in a Float64Array (offsets pass 2^32): the
 * simulator keeps a million entry bodies (~2 KB each) on disk, not as a million JS strings. ECDSA
 * signatures are randomised, so bodies are stored rather than regenerated, and what is served is exactly
 * what the manifest describes.
 *
 * With `prefixed`, each record is stored after its big-endian uint16 length, which is exactly the
 * tlog-tiles entry bundle encoding: a bundle is then one read of the file, served as it is.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export class BodyStore {
  private readonly fd: number;
  private offsets = new Float64Array(1024);
  private n = 0;
  private end = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private readonly prefix: number;

  constructor(path: string, opts: { prefixed?: boolean } = {}) {
    this.fd = openSync(path, 'w+');
    this.prefix = opts.prefixed ? 2 : 0;
  }

  get count(): number {
    return this.n;
  }

  private grow(need: number): void {
    if (need <= this.offsets.length) return;
    let size = this.offsets.length;
    while (size < need) size *= 2;
    const bigger = new Float64Array(size);
    bigger.set(this.offsets.subarray(0, this.n + 1));
    this.offsets = bigger;
  }

  /** One record (its length prefix added when `prefixed`). */
  append(body: Uint8Array): number {
    if (body.length > 0xffff && this.prefix > 0) throw new RangeError(`a ${body.length}-byte record does not fit a uint16 length prefix (tlog-tiles entry bundles)`);
    const stored = Buffer.allocUnsafe(body.length + this.prefix);
    if (this.prefix > 0) stored.writeUInt16BE(body.length);
    stored.set(body, this.prefix);
    this.appendMany(stored, Uint32Array.of(body.length));
    return this.n - 1;
  }

  /**
   * Records laid back to back in `data` as the file stores them (each after its big-endian uint16 length
   * when `prefixed`, as chunk.ts writes bodies), `lens[i]` bytes each without the prefix.
   */
  appendMany(data: Uint8Array, lens: Uint32Array): void {
    let at = 0;
    for (const len of lens) {
      if (this.prefix > 0 && data[at]! * 256 + data[at + 1]! !== len) throw new RangeError(`record ${at}: its length prefix says ${data[at]! * 256 + data[at + 1]!}, not ${len}`);
      at += len + this.prefix;
    }
    if (at !== data.length) throw new RangeError(`${data.length} bytes for records of ${at}`);
    this.grow(this.n + lens.length + 1);
    for (const len of lens) {
      this.offsets[this.n] = this.end;
      this.end += len + this.prefix;
      this.offsets[++this.n] = this.end;
    }
    if (data.length === 0) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes > 4 << 20) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    writeSync(this.fd, buf, 0, buf.length, this.end - buf.length);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The stored bytes of records [start, end): with `prefixed`, a tlog-tiles entry bundle. */
  raw(start: number, end: number): Buffer {
    if (start < 0 || end > this.n || start > end) throw new RangeError(`records [${start}, ${end}) of ${this.n}`);
    this.flush();
    const from = this.offsets[start]!;
    const buf = Buffer.allocUnsafe(this.offsets[end]! - from);
    if (buf.length > 0) readSync(this.fd, buf, 0, buf.length, from);
    return buf;
  }

  /** Records [start, end) with one read. */
  range(start: number, end: number): Buffer[] {
    const buf = this.raw(start, end);
    const from = this.offsets[start]!;
    const out: Buffer[] = [];
    for (let i = start; i < end; i++) out.push(buf.subarray(this.offsets[i]! - from + this.prefix, this.offsets[i + 1]! - from));
    return out;
  }

  get(i: number): Buffer {
    return this.range(i, i + 1)[0]!;
  }

  close(): void {
    closeSync(this.fd);
  }
}
