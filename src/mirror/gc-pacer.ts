/**
 * Full garbage collections paced by a catch-up's buffers, when Node runs with `--expose-gc` (the container
 * image does; docs/operations.md "Memory").
 *
 * Why: a catch-up reads ~5 KB of Node buffers per entry (socket reads, the compressed body, the inflated
 * entry bundle, the encoded values) that live for a batch or less. V8 frees an ArrayBuffer's memory only
 * when it collects the buffer's object, and buffers that outlive a young-generation collection wait for a
 * full one, which V8 starts for external memory only once it has grown ~64 MB since the last (its
 * `kExternalAllocationSoftLimit`, not a flag). A catch-up therefore carried 60–120 MB of buffers already
 * done with at any time (BENCHMARKS.md "Ingest", memory). Collecting after every `stepBytes` of growth
 * keeps that to about one batch's worth. Each collection stops the main thread for 20–50 ms.
 *
 * The step: at 1M entries with 4 MB semi-spaces (the image's runtime, 2026-11-28), 12 MB brought the peak
 * from ~395 to 288–292 MB for `index: all` at 22.2k–23.0k entries/s (24.9k unpaced) and to 286–292 MB for
 * `watched` at 28.2k–30.3k/s (34.8k–36.2k unpaced); 24 MB left 311 MB; 8 MB saved 5 MB more for 8% of
 * the speed. Rechecked after the certificate claims shrank (the live heap 41 → 29 MB, a collection 33 →
 * 24 ms): 16 MB gave `watched` 30.8k–31.6k/s at 281–282 MB but `all` 301–320 MB, against 278–308 MB at
 * 12 MB. The cost of a collection is marking the live heap, so what stays live matters as much as the step.
 *
 * Without `--expose-gc` this does nothing: V8's own heuristics apply.
 */
import { getHeapStatistics } from 'node:v8';

type Gc = (options: { type: 'major'; execution: 'sync' }) => void;

/** External memory (ArrayBuffers and other off-heap memory V8 is told of): bytes, cheap to read. */
const externalBytes = (): number => getHeapStatistics().external_memory;

export const GC_PACER_STEP_BYTES = 12 << 20;

export class GcPacer {
  readonly #gc: Gc | undefined;
  readonly #read: () => number;
  readonly #step: number;
  /** The lowest external memory seen since the last collection: what is live, roughly. */
  #floor = Number.POSITIVE_INFINITY;
  /** Collections this pacer asked for. */
  collections = 0;

  constructor(opts: { gc?: Gc | undefined; read?: () => number; stepBytes?: number } = {}) {
    this.#gc = 'gc' in opts ? opts.gc : (globalThis as { gc?: Gc }).gc;
    this.#read = opts.read ?? externalBytes;
    this.#step = opts.stepBytes ?? GC_PACER_STEP_BYTES;
  }

  get enabled(): boolean {
    return typeof this.#gc === 'function';
  }

  /** Between batches: collects if external memory grew by a step since its floor. Returns whether it did. */
  tick(): boolean {
    if (this.#gc === undefined) return false;
    const now = this.#read();
    if (now < this.#floor) this.#floor = now;
    if (now - this.#floor < this.#step) return false;
    this.#gc({ type: 'major', execution: 'sync' });
    this.collections++;
    this.#floor = this.#read();
    return true;
  }
}

/** The process's pacer: every follower's and backfill's batches count towards the same memory. */
export const processGcPacer = new GcPacer();
