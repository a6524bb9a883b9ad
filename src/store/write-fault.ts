/**
 * A store that can no longer be written, and when to try opening it again.
 *
 * LevelDB makes a failed write sticky: once a write, a memtable flush or a compaction meets an I/O error
 * (a full disk, most often), the database keeps its first background error and fails every later write
 * with it, for as long as it stays open (leveldb db_impl.cc, `bg_error_`; RocksDB has `DB::Resume()`,
 * LevelDB has nothing like it). Reads keep working. So a mirror whose disk filled up once would stop
 * for good, however much space the operator frees, until someone restarted it. The store instead
 * notes the fault and reopens its databases (Store.recover), which LevelDB recovers from its log exactly
 * as after a crash. Reopening needs room to write (the recovered memtable becomes a table, and a new
 * manifest is written), and while it fails both databases stay closed and reads fail too; so it is tried
 * only once the filesystem has REOPEN_MIN_FREE_BYTES available.
 */
import { statfs } from 'node:fs/promises';
import { TlogwatchError } from '../errors.ts';

/**
 * Room to ask for before reopening: both databases' logs recovered into tables (LevelDB's 4 MiB write
 * buffer each, twice over while the next one fills), their new manifests, and a follower's next batch
 * (a few MB) with headroom for the compaction it triggers.
 */
export const REOPEN_MIN_FREE_BYTES = 64 * 2 ** 20;

export interface WriteFault {
  /** LevelDB's message, e.g. `IO error: …/000005.ldb: No space left on device`. */
  message: string;
  /** Unix seconds of the first failed write. */
  at: number;
  /** Reopen attempts since, and what the last one found. */
  attempts: number;
  lastAttempt?: string;
}

/** The error a write raises while the store cannot be written; transient: the round is retried once the store is back. */
export function writeFailedError(fault: Readonly<WriteFault>, cause?: unknown): TlogwatchError {
  const why = fault.lastAttempt ? `; ${fault.lastAttempt}` : '';
  return new TlogwatchError(
    'STORE_WRITE_FAILED',
    `the store cannot be written (${fault.message}); nothing committed is lost, and a running daemon reopens the store once its volume has room${why}`,
    { kind: 'transient', data: { since: fault.at, attempts: fault.attempts }, ...(cause === undefined ? {} : { cause }) },
  );
}

/** The filesystem holding `dir`: its size and the bytes available to this process, or undefined when the platform cannot say. */
export async function volumeOf(dir: string): Promise<{ size: number; available: number } | undefined> {
  try {
    const s = await statfs(dir);
    return { size: s.blocks * s.bsize, available: s.bavail * s.bsize };
  } catch {
    return undefined;
  }
}
