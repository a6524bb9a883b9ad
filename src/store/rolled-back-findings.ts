/**
 * Findings raised on entries a rollback dropped (rollback.ts), kept until those entries are ingested again.
 *
 * The rules raise a finding when its entry is ingested, before the batch's root check, and the finding's ID
 * is its rule's, log's and index's. Rolled back and fetched again, the same entry would raise it again: a
 * second notification, an acknowledged finding open again, a second key in the findings' time index. So a
 * rollback files each finding it marks under (log, index) here, in the same batch, and the catch-up reads
 * the batch's range before the rules run (monitor/hooks.ts `prior`): the same entry back restores the
 * stored finding as it was, unmarked, quietly; another entry there raises its own, which replaces it. The
 * catch-up deletes the range's keys with the batch's commit, whatever the rules found.
 *
 *   META 'rolled-back:' logId(2) index(8) findingId(16) → MARKER
 */
import type { Finding } from '../monitor/finding.ts';
import { FindingsRepo } from './findings.ts';
import { Bucket, key, MARKER, u16, u64 } from './keys.ts';
import type { BatchOp } from './level.ts';
import type { Store } from './store.ts';

const PREFIX = 'rolled-back:';

function rolledBackKey(logId: number, index: number | bigint, findingId: string): Uint8Array {
  return key(Bucket.META, PREFIX, u16(logId), u64(index), new Uint8Array(Buffer.from(findingId, 'hex')));
}

/** The op that files `f` (marked by a rollback of log `logId`) under its entry. */
export function fileRolledBack(logId: number, f: Finding & { index: number }): BatchOp {
  return { type: 'put', key: rolledBackKey(logId, f.index, f.id), value: MARKER };
}

/**
 * The findings filed under entries [from, to) (virtual indexes) of `log`, by ID, and the deletions of their
 * keys. Usually none: one short range read per batch.
 */
export async function rolledBackIn(store: Store, log: string, from: bigint, to: bigint): Promise<{ findings: Map<string, Finding>; clear: BatchOp[] }> {
  const findings = new Map<string, Finding>();
  const clear: BatchOp[] = [];
  if (to <= from) return { findings, clear };
  const id = await store.logId(log);
  const repo = new FindingsRepo(store);
  for await (const k of store.db.keys({ gte: key(Bucket.META, PREFIX, u16(id), u64(from)), lt: key(Bucket.META, PREFIX, u16(id), u64(to)) })) {
    clear.push({ type: 'del', key: k });
    const fid = Buffer.from(k.subarray(k.length - 16)).toString('hex');
    const f = await repo.get(fid).catch(() => undefined);
    if (f?.entryRolledBack) findings.set(fid, f);
  }
  return { findings, clear };
}
