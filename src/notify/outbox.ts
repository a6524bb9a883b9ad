/**
 * The durable notification outbox (LevelDB bucket OUTBOX, store/keys.ts):
 *   OUTBOX channel(1) findingId(16) → JSON {attempts, nextAt, lastError?}
 * Rows are written in the same atomic batch as the finding they announce, so nothing is notified before
 * it is stored and nothing stored is forgotten across restarts; a row is deleted only after delivery.
 */
import { Bucket, key, prefixEnd } from '../store/keys.ts';
import type { BatchOp } from '../store/level.ts';
import type { Store } from '../store/store.ts';

export interface OutboxRow {
  channel: number;
  findingId: string;
  attempts: number;
  /** Unix milliseconds of the next attempt. */
  nextAt: number;
  lastError?: string;
}

const rowKey = (channel: number, findingId: string) => key(Bucket.OUTBOX, channel, Buffer.from(findingId, 'hex'));

export function outboxOps(findingId: string, channels: number, now: number): BatchOp[] {
  const ops: BatchOp[] = [];
  for (let c = 0; c < channels; c++) ops.push({ type: 'put', key: rowKey(c, findingId), value: Buffer.from(JSON.stringify({ attempts: 0, nextAt: now })) });
  return ops;
}

export class Outbox {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async due(now: number, limit = 100): Promise<OutboxRow[]> {
    const out: OutboxRow[] = [];
    for await (const [k, v] of this.#store.db.iterator({ gte: key(Bucket.OUTBOX), lt: prefixEnd(key(Bucket.OUTBOX)) })) {
      const row = JSON.parse(Buffer.from(v).toString('utf8')) as { attempts: number; nextAt: number; lastError?: string };
      if (row.nextAt > now) continue;
      out.push({ channel: k[1]!, findingId: Buffer.from(k.subarray(2)).toString('hex'), ...row });
      if (out.length >= limit) break;
    }
    return out;
  }

  async pending(): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for await (const k of this.#store.db.keys({ gte: key(Bucket.OUTBOX), lt: prefixEnd(key(Bucket.OUTBOX)) })) counts.set(k[1]!, (counts.get(k[1]!) ?? 0) + 1);
    return counts;
  }

  async delivered(row: OutboxRow): Promise<void> {
    await this.#store.writeOps([{ type: 'del', key: rowKey(row.channel, row.findingId) }]);
  }

  async failed(row: OutboxRow, error: string, nextAt: number): Promise<void> {
    await this.#store.writeOps([{ type: 'put', key: rowKey(row.channel, row.findingId), value: Buffer.from(JSON.stringify({ attempts: row.attempts + 1, nextAt, lastError: error.slice(0, 500) })) }]);
  }
}
