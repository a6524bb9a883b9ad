/**
 * Append-only byte records in one file: the simulator keeps a million entry bodies (~2.8 KB each) on
 * disk, not as a million JS strings, and 4 bytes of offset per record in memory (offsets pass 2^32, so
 * each block of 256 records has a float64 start and each record a uint32 offset within its block). ECDSA
 * signatures are randomised, so bodies are stored rather than regenerated, and what is served is exactly
 * what the manifest describes.
 *
 * With `prefixed`, each record is stored after its big-endian uint16 length, which is exactly the
 * tlog-tiles entry bundle encoding: a bundle is then one read of the file, served as it is. A record over
 * 0xffff bytes (a Rekor v1 log's: chunk.ts refuses one for a tiles log) has 0xffff there; offsets, not
 * prefixes, say where records end.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

const BLOCK = 256;
const MAX_RECORD = 0xffffff; // 256 records of 16 MiB stay within a uint32 offset

export class BodyStore {
  private readonly fd: number;
  private blockStart: Float64Array;
  private within: Uint32Array;
  private n = 0;
  private end = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private readonly prefix: number;

  /** `expected` records fit without growing the offsets. */
  constructor(path: string, opts: { prefixed?: boolean; expected?: number } = {}) {
    this.fd = openSync(path, 'w+');
    this.prefix = opts.prefixed ? 2 : 0;
    this.within = new Uint32Array(Math.max(1024, opts.expected ?? 0));
    this.blockStart = new Float64Array(Math.ceil(this.within.length / BLOCK));
  }

  get count(): number {
    return this.n;
  }

  /** Where record i starts in the file (i = count: where the next one will). */
  private offset(i: number): number {
    return i === this.n ? this.end : this.blockStart[Math.floor(i / BLOCK)]! + this.within[i]!;
  }

  /** Room for `records` records in all. */
  private grow(records: number): void {
    if (records > this.within.length) {
      let size = this.within.length;
      while (size < records) size *= 2;
      const bigger = new Uint32Array(size);
      bigger.set(this.within.subarray(0, this.n));
      this.within = bigger;
    }
    const blocks = Math.ceil(records / BLOCK);
    if (blocks > this.blockStart.length) {
      const bigger = new Float64Array(Math.max(blocks, 2 * this.blockStart.length));
      bigger.set(this.blockStart);
      this.blockStart = bigger;
    }
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
      if (this.prefix > 0 && data[at]! * 256 + data[at + 1]! !== Math.min(len, 0xffff)) throw new RangeError(`record ${at}: its length prefix says ${data[at]! * 256 + data[at + 1]!}, not ${len}`);
      if (len > MAX_RECORD) throw new RangeError(`a ${len}-byte record is over 16 MiB`);
      at += len + this.prefix;
    }
    if (at !== data.length) throw new RangeError(`${data.length} bytes for records of ${at}`);
    this.grow(this.n + lens.length);
    for (const len of lens) {
      if (this.n % BLOCK === 0) this.blockStart[this.n / BLOCK] = this.end;
      this.within[this.n] = this.end - this.blockStart[Math.floor(this.n / BLOCK)]!;
      this.end += len + this.prefix;
      this.n++;
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
    const from = this.offset(start);
    const buf = Buffer.allocUnsafe(this.offset(end) - from);
    if (buf.length > 0) readSync(this.fd, buf, 0, buf.length, from);
    return buf;
  }

  /** Records [start, end) with one read. */
  range(start: number, end: number): Buffer[] {
    const buf = this.raw(start, end);
    const from = this.offset(start);
    const out: Buffer[] = [];
    for (let i = start; i < end; i++) out.push(buf.subarray(this.offset(i) - from + this.prefix, this.offset(i + 1) - from));
    return out;
  }

  get(i: number): Buffer {
    return this.range(i, i + 1)[0]!;
  }

  close(): void {
    closeSync(this.fd);
  }
}
