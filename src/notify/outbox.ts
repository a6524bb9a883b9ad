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

/** Channels `from` (inclusive) to `to` (exclusive, default all), 0–256, as a key range. */
export interface ChannelRange {
  from: number;
  to?: number;
}
const channelStart = (c: number) => (c > 0xff ? prefixEnd(key(Bucket.OUTBOX)) : key(Bucket.OUTBOX, c));
const keyRange = (r: ChannelRange = { from: 0 }) => ({ gte: channelStart(r.from), lt: channelStart(r.to ?? 0x100) });

/** Rows for the finding on each of `channels` (a count: channels 0 to n-1; or their indexes). */
export function outboxOps(findingId: string, channels: number | readonly number[], now: number): BatchOp[] {
  const ops: BatchOp[] = [];
  const indexes = typeof channels === 'number' ? Array.from({ length: channels }, (_, c) => c) : channels;
  for (const c of indexes) ops.push({ type: 'put', key: rowKey(c, findingId), value: Buffer.from(JSON.stringify({ attempts: 0, nextAt: now })) });
  return ops;
}

/**
 * A row's bookkeeping. One that does not parse (a bit flipped on disk) is due now, as a first attempt:
 * its key still names the channel and the finding, which is all a delivery needs, where a parse error
 * failed every pass of the channel and held up every row after it.
 */
function parseRow(v: Uint8Array): { attempts: number; nextAt: number; lastError?: string } {
  let row: unknown;
  try {
    row = JSON.parse(Buffer.from(v).toString('utf8'));
  } catch {
    row = undefined;
  }
  const r = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
  const attempts = r['attempts'];
  const nextAt = r['nextAt'];
  if (!Number.isSafeInteger(attempts) || (attempts as number) < 0 || typeof nextAt !== 'number' || !Number.isFinite(nextAt)) {
    return { attempts: 0, nextAt: 0, lastError: 'the stored outbox row was damaged; delivered again from its key' };
  }
  return { attempts: attempts as number, nextAt, ...(typeof r['lastError'] === 'string' ? { lastError: r['lastError'] } : {}) };
}

export class Outbox {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  /** Up to `limit` rows due at `now`, of the channels in `channels` (default all). */
  async due(now: number, limit = 100, channels?: ChannelRange): Promise<OutboxRow[]> {
    const out: OutboxRow[] = [];
    for await (const [k, v] of this.#store.db.iterator(keyRange(channels))) {
      const row = parseRow(v);
      if (row.nextAt > now) continue;
      out.push({ channel: k[1]!, findingId: Buffer.from(k.subarray(2)).toString('hex'), ...row });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Rows waiting, by channel, of the channels in `channels` (default all). */
  async pending(channels?: ChannelRange): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for await (const k of this.#store.db.keys(keyRange(channels))) counts.set(k[1]!, (counts.get(k[1]!) ?? 0) + 1);
    return counts;
  }

  async delivered(row: OutboxRow): Promise<void> {
    await this.#store.writeOps([{ type: 'del', key: rowKey(row.channel, row.findingId) }]);
  }

  async failed(row: OutboxRow, error: string, nextAt: number): Promise<void> {
    await this.#store.writeOps([{ type: 'put', key: rowKey(row.channel, row.findingId), value: Buffer.from(JSON.stringify({ attempts: row.attempts + 1, nextAt, lastError: error.slice(0, 500) })) }]);
  }
}
