/**
 * How the offline commands (check, backfill, rules test, backup, restore) report a store they cannot
 * open: a store a running `tlogwatch serve` holds (LevelDB's LOCK, level.ts STORE_LOCKED) is named as
 * such, with what to do about it, in every one of them.
 */
import { describeError, isTlogwatchError } from '../errors.ts';

/** The one line an offline command prints for an error from opening or copying a store. */
export function storeErrorText(e: unknown): string {
  if (isTlogwatchError(e, 'STORE_LOCKED')) return `${e.message}: stop tlogwatch serve first (it holds the store while it runs)`;
  return describeError(e);
}
