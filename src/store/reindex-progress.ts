/**
 * Where the re-index of one log stands (store/reindex.ts), as META `reindex:<log>` holds it: JSON
 * `{"epoch":N,"next":"<index>","implied":{"<run>":count,…},"done":bool}`, written with each batch.
 */

/** Entries per run whose implied index keys are counted together (as check.ts tallies them): 2^16. */
export const RUN_ENTRIES = 65_536;

export interface ReindexProgress {
  /** The first entry (virtual index) not yet gone over. */
  next: bigint;
  /**
   * Index keys the entries before `next` imply, per run of RUN_ENTRIES entries (⌊index / RUN_ENTRIES⌋):
   * where the keys stored for a run outnumber these, some are stale.
   */
  implied: Map<number, number>;
  /** Keys no entry before `next` implies have been deleted: the log is done for this epoch. */
  done: boolean;
}

const DECIMAL = /^(0|[1-9]\d{0,19})$/;

export function formatReindexProgress(epoch: number, p: Readonly<ReindexProgress>): Uint8Array {
  const implied = Object.fromEntries([...p.implied].map(([run, n]) => [run.toString(), n]));
  return Buffer.from(JSON.stringify({ epoch, next: p.next.toString(), implied, done: p.done }));
}

/** The epoch a progress record is for, whatever else it holds; 0 when unreadable. */
export function progressEpoch(v: Uint8Array): number {
  try {
    const p = JSON.parse(Buffer.from(v).toString('utf8')) as unknown;
    const e = typeof p === 'object' && p !== null ? (p as Record<string, unknown>)['epoch'] : undefined;
    return typeof e === 'number' && Number.isSafeInteger(e) && e > 0 ? e : 0;
  } catch {
    return 0;
  }
}

/** The progress kept for `epoch`; undefined for another epoch's, or anything unreadable (the re-index then starts over). */
export function parseReindexProgress(v: Uint8Array, epoch: number): ReindexProgress | undefined {
  let p: unknown;
  try {
    p = JSON.parse(Buffer.from(v).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof p !== 'object' || p === null) return undefined;
  const { epoch: e, next, implied, done } = p as Record<string, unknown>;
  if (e !== epoch || typeof next !== 'string' || !DECIMAL.test(next) || typeof done !== 'boolean') return undefined;
  if (typeof implied !== 'object' || implied === null || Array.isArray(implied)) return undefined;
  const runs = new Map<number, number>();
  for (const [run, n] of Object.entries(implied)) {
    if (!DECIMAL.test(run) || !Number.isSafeInteger(Number(run)) || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return undefined;
    runs.set(Number(run), n);
  }
  return { next: BigInt(next), implied: runs, done };
}
