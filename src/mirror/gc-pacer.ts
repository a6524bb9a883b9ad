/**
 * Full garbage collections paced by a catch-up's memory, when Node runs with `--expose-gc` (the container
 * image does; docs/operations.md "Memory").
 *
 * Why: V8 frees what outlived its young generation (a catch-up's batch does: it is fetched one batch
 * ahead) only at a full collection, which it starts late for a process this size: for external memory
 * (ArrayBuffers) once that has grown ~64 MB since the last (its `kExternalAllocationSoftLimit`, not a
 * flag), for its own heap once the old generation has about doubled. A catch-up therefore carried 60–120 MB
 * of buffers and objects already done with (BENCHMARKS.md "Ingest", memory). Collecting after every
 * `stepBytes` of growth of the two together bounds that. Each collection stops the main thread for
 * 20–30 ms, marking what is live (~30 MB), so the fewer a catch-up needs, the faster it runs.
 *
 * What grows: the catch-up frees its inflated entry bundles itself (BundledLeaves.release), writes node hashes
 * and entry values without holding them as objects (CommitBuilder.addNode, reused native batches), so
 * what is left is the promoted part of decoding (~1 KB per entry). The step (2026-11-28, 1M entries, the
 * image's runtime, `watched`): counting external memory alone at 12 MB, the old generation grew to 50–68 MB
 * between V8's own collections and the peak to 285–299 MB; counting the heap too, 24 MB gave 63–65
 * collections and 255–271 MB, 32 MB 42–49 collections and 262–274 MB at the same speed or better. Before
 * the bundles were freed, external memory alone at 12 MB meant ~130 collections per million entries.
 *
 * Without `--expose-gc` this does nothing: V8's own heuristics apply.
 */
import { getHeapStatistics } from 'node:v8';

type Gc = (options: { type: 'major'; execution: 'sync' }) => void;

/** V8's heap in use plus external memory (ArrayBuffers and other off-heap memory V8 is told of): bytes, cheap to read. */
const paceableBytes = (): number => {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
};

export const GC_PACER_STEP_BYTES = 32 << 20;

export class GcPacer {
  readonly #gc: Gc | undefined;
  readonly #read: () => number;
  readonly #step: number;
  /** The lowest reading since the last collection: what is live, roughly. */
  #floor = Number.POSITIVE_INFINITY;
  /** Collections this pacer asked for. */
  collections = 0;

  constructor(opts: { gc?: Gc | undefined; read?: () => number; stepBytes?: number } = {}) {
    this.#gc = 'gc' in opts ? opts.gc : (globalThis as { gc?: Gc }).gc;
    this.#read = opts.read ?? paceableBytes;
    this.#step = opts.stepBytes ?? GC_PACER_STEP_BYTES;
  }

  get enabled(): boolean {
    return typeof this.#gc === 'function';
  }

  /** Between batches: collects if memory grew by a step since its floor. Returns whether it did. */
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
