/**
 * Builds runs of entries, in worker threads when there are many: an entry costs ~30-40 µs of CPU here
 * (signing, hashing, encoding), so a million entries need every core. Chunks come back in index order
 * whatever order the workers finish in, with a bounded number in flight so memory stays flat.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CA } from './certs.ts';
import { generateChunk, timeAt, type Chunk, type Timeline } from './chunk.ts';
import type { EntryGenerator } from './generate.ts';
import type { InjectSpec } from './inject.ts';

export interface WorkerInit {
  seed: string;
  api: 'v1' | 'tiles';
  caDer: Uint8Array;
  caKey: Uint8Array;
  caCn: string;
  timeline: Timeline;
  injects: Array<[number, InjectSpec]>;
}

export interface BuildPlan {
  seed: string;
  api: 'v1' | 'tiles';
  ca: CA;
  timeline: Timeline;
  injectAt: ReadonlyMap<number, InjectSpec>;
  /** Worker threads; default: one per core when the run is large, else none. */
  workers?: number | undefined;
}

const CHUNK = 2048;
const IN_THREAD_BELOW = 20_000;

/** Entries [from, from+count) in chunks, in order. */
export async function* buildChunks(plan: BuildPlan, gen: EntryGenerator, from: number, count: number): AsyncGenerator<Chunk> {
  const workers = plan.workers ?? (count >= IN_THREAD_BELOW ? availableParallelism() : 0);
  if (workers <= 0) {
    for (let at = from; at < from + count; at += CHUNK) yield generateChunk(gen, at, Math.min(CHUNK, from + count - at), (i) => timeAt(plan.timeline, i), (i) => plan.injectAt.get(i));
    return;
  }
  const init: WorkerInit = {
    seed: plan.seed,
    api: plan.api,
    caDer: plan.ca.der,
    caKey: new Uint8Array(plan.ca.privateKey.export({ format: 'der', type: 'pkcs8' })),
    caCn: plan.ca.cn,
    timeline: plan.timeline,
    injects: [...plan.injectAt],
  };
  const pool = Array.from({ length: workers }, () => new BuildWorker(init));
  const pending = new Map<number, Promise<Chunk>>();
  let next = from;
  let turn = 0;
  const dispatch = () => {
    if (next >= from + count) return;
    const n = Math.min(CHUNK, from + count - next);
    const chunk = pool[turn++ % pool.length]!.generate(next, n);
    chunk.catch(() => undefined); // awaited in order below; a failure must not also surface as unhandled
    pending.set(next, chunk);
    next += n;
  };
  try {
    for (let i = 0; i < workers * 3; i++) dispatch();
    for (let at = from; at < from + count; ) {
      const chunk = await pending.get(at)!;
      pending.delete(at);
      dispatch();
      at += chunk.count;
      yield chunk;
    }
  } finally {
    await Promise.all(pool.map((p) => p.close()));
  }
}

/** One worker thread; it answers requests in the order they were sent. */
class BuildWorker {
  private readonly worker: Worker;
  private readonly waiting: Array<{ resolve: (c: Chunk) => void; reject: (e: unknown) => void }> = [];
  constructor(init: WorkerInit) {
    // A small old generation: a worker's garbage is collected early instead of growing the process for
    // good. A young generation big enough that scavenges are rare: every entry makes several KB of
    // short-lived strings, and at 8 MB scavenges (~570 per worker for 300,000 v1 entries) and the
    // mark-compacts they led to paused each worker for 1.7 s (0.4 s at 48 MB).
    this.worker = new Worker(new URL('./build-worker.ts', import.meta.url), { workerData: init, resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 48 } });
    this.worker.on('message', (c: Chunk) => this.waiting.shift()?.resolve(c));
    this.worker.on('error', (e) => this.waiting.splice(0).forEach((w) => w.reject(e)));
  }
  generate(from: number, count: number): Promise<Chunk> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage({ from, count });
    });
  }
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
