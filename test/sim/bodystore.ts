/** Entry bodies on disk (append-only file + an offsets array), so memory stays flat as the log grows. */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export class BodyStore {
  private readonly fd: number;
  private offsets = new Float64Array(1024);
  private n = 0;
  private end = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w+');
  }

  get count(): number {
    return this.n;
  }

  append(body: Buffer): number {
    if (this.n + 2 > this.offsets.length) {
      const bigger = new Float64Array(this.offsets.length * 2);
      bigger.set(this.offsets);
      this.offsets = bigger;
    }
    this.offsets[this.n] = this.end;
    this.end += body.length;
    this.offsets[this.n + 1] = this.end;
    this.pending.push(body);
    this.pendingBytes += body.length;
    if (this.pendingBytes > 4 << 20) this.flush();
    return this.n++;
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.concat(this.pending);
    writeSync(this.fd, buf, 0, buf.length, this.end - buf.length);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Bodies [start, end) in one read. */
  range(start: number, end: number): Buffer[] {
    this.flush();
    const from = this.offsets[start]!;
    const to = this.offsets[end]!;
    const buf = Buffer.allocUnsafe(to - from);
    readSync(this.fd, buf, 0, buf.length, from);
    const out: Buffer[] = [];
    for (let i = start; i < end; i++) out.push(buf.subarray(this.offsets[i]! - from, this.offsets[i + 1]! - from));
    return out;
  }

  get(i: number): Buffer {
    return this.range(i, i + 1)[0]!;
  }

  close(): void {
    closeSync(this.fd);
  }
}
