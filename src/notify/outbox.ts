/**
 * The durable notification outbox (LevelDB buckets OUTBOX and OUTBOX_DUE, store/keys.ts):
 *   OUTBOX channel(1) findingId(16) → JSON {attempts, nextAt, lastError?}
 *   OUTBOX_DUE channel(1) nextAt(8) findingId(16) → marker
 * Rows are written in the same atomic batch as the finding they announce, so nothing is notified before
 * it is stored and nothing stored is forgotten across restarts; a row is deleted only after delivery.
 *
 * OUTBOX_DUE orders the rows by when they are due, so that finding the due ones reads those alone. Read in
 * OUTBOX order, every pass parsed every row of its channel to find the due ones: with a receiver down
 * and 100,000 findings waiting (a broad rule, a log that signs garbage), 0.6–1.4 s of CPU per pass, and
 * counting them for the gauge 0.4–0.9 s more, back to back, one pass after another.
 *
 * The index is kept with the rows, in the same batches, and mended as it is read: a key whose row is
 * gone or is due at another time (a row written or moved by a tlogwatch before the index, which ignores
 * it) is dropped or moved. A row no key points at is found by `reindex`, which the notifier runs once
 * when it starts.
 */
import { Bucket, key, MARKER, prefixEnd, u64 } from '../store/keys.ts';
import type { BatchOp } from '../store/level.ts';
import type { Store } from '../store/store.ts';

export interface OutboxRow {
  channel: number;
  findingId: string;
  attempts: number;
  /** Unix milliseconds of the next attempt (as the due index has it). */
  nextAt: number;
  lastError?: string;
  /** Parts of the notification delivered by earlier attempts (Channel `done`: an email's recipients that took it). */
  done?: string[];
}

const idBytes = (findingId: string) => Buffer.from(findingId, 'hex');
const rowKey = (channel: number, findingId: string) => key(Bucket.OUTBOX, channel, idBytes(findingId));
/** Whole milliseconds in the index, never before 0 or past what a u64 of a safe integer holds. */
const dueMs = (nextAt: number) => Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.ceil(nextAt)));
const dueKey = (channel: number, nextAt: number, findingId: string) => key(Bucket.OUTBOX_DUE, channel, u64(dueMs(nextAt)), idBytes(findingId));
type RowValue = Omit<OutboxRow, 'channel' | 'findingId'>;
const rowPut = (channel: number, findingId: string, row: RowValue): BatchOp[] => [
  { type: 'put', key: rowKey(channel, findingId), value: Buffer.from(JSON.stringify(row)) },
  { type: 'put', key: dueKey(channel, row.nextAt, findingId), value: MARKER },
];

/** Channels `from` (inclusive) to `to` (exclusive, default all), 0–256, as a key range of `bucket`. */
export interface ChannelRange {
  from: number;
  to?: number;
}
const channelStart = (bucket: number, c: number) => (c > 0xff ? prefixEnd(key(bucket)) : key(bucket, c));
const keyRange = (bucket: number, r: ChannelRange = { from: 0 }) => ({ gte: channelStart(bucket, r.from), lt: channelStart(bucket, r.to ?? 0x100) });

/** Rows for the finding on each of `channels` (a count: channels 0 to n-1; or their indexes). */
export function outboxOps(findingId: string, channels: number | readonly number[], now: number): BatchOp[] {
  const indexes = typeof channels === 'number' ? Array.from({ length: channels }, (_, c) => c) : channels;
  return indexes.flatMap((c) => rowPut(c, findingId, { attempts: 0, nextAt: dueMs(now) }));
}

/**
 * A row's bookkeeping. One that does not parse (a bit flipped on disk) is due now, as a first attempt:
 * its key still names the channel and the finding, which is all a delivery needs, where a parse error
 * failed every pass of the channel and held up every row after it.
 */
function parseRow(v: Uint8Array): RowValue {
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
  const done = r['done'];
  return {
    attempts: attempts as number,
    nextAt: dueMs(nextAt),
    ...(typeof r['lastError'] === 'string' ? { lastError: r['lastError'] } : {}),
    ...(Array.isArray(done) && done.every((d) => typeof d === 'string') ? { done } : {}),
  };
}

/** An OUTBOX_DUE key's channel, time and finding. */
function parseDueKey(k: Uint8Array): { channel: number; at: number; findingId: string } {
  return { channel: k[1]!, at: Number(Buffer.from(k.buffer, k.byteOffset, k.byteLength).readBigUInt64BE(2)), findingId: Buffer.from(k.subarray(10)).toString('hex') };
}

export class Outbox {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  /** Up to `limit` rows due at `now`, of the channels in `channels` (default all), earliest due first within a channel. */
  async due(now: number, limit = 100, channels?: ChannelRange): Promise<OutboxRow[]> {
    const out: OutboxRow[] = [];
    const mend: BatchOp[] = [];
    const seen = new Set<string>();
    const until = Math.min(Number.MAX_SAFE_INTEGER - 1, Math.floor(now));
    const it = this.#store.db.keys(keyRange(Bucket.OUTBOX_DUE, channels));
    try {
      for (let k = await it.next(); k !== undefined && out.length < limit; k = await it.next()) {
        const d = parseDueKey(k);
        // Not due yet: neither is anything after it in this channel; on to the next one.
        if (d.at > until) {
          if (d.channel === 0xff) break;
          it.seek(key(Bucket.OUTBOX_DUE, d.channel + 1));
          continue;
        }
        const v = await this.#store.db.get(rowKey(d.channel, d.findingId));
        const row = v && parseRow(v);
        // Delivered, or listed twice (moved by a tlogwatch that kept no index): the stale key goes.
        if (!row || seen.has(`${d.channel}/${d.findingId}`)) {
          mend.push({ type: 'del', key: k });
          continue;
        }
        // Its row says later: moved by a tlogwatch that kept no index. The key goes where the row says.
        if (row.nextAt > until) {
          mend.push({ type: 'del', key: k }, { type: 'put', key: dueKey(d.channel, row.nextAt, d.findingId), value: MARKER });
          continue;
        }
        seen.add(`${d.channel}/${d.findingId}`);
        out.push({ channel: d.channel, findingId: d.findingId, ...row, nextAt: d.at });
      }
    } finally {
      await it.close();
    }
    if (mend.length > 0) await this.#store.writeOps(mend);
    return out;
  }

  /** Rows waiting, by channel, of the channels in `channels` (default all). Reads every key: call it now and then, not per pass. */
  async pending(channels?: ChannelRange): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for await (const k of this.#store.db.keys(keyRange(Bucket.OUTBOX, channels))) counts.set(k[1]!, (counts.get(k[1]!) ?? 0) + 1);
    return counts;
  }

  /**
   * Puts every row's due key in place (idempotent): rows written by a tlogwatch that kept no index have none.
   * Reads the whole outbox once; returns how many rows it holds.
   */
  async reindex(): Promise<number> {
    let ops: BatchOp[] = [];
    let rows = 0;
    for await (const [k, v] of this.#store.db.iterator(keyRange(Bucket.OUTBOX))) {
      rows++;
      ops.push({ type: 'put', key: dueKey(k[1]!, parseRow(v).nextAt, Buffer.from(k.subarray(2)).toString('hex')), value: MARKER });
      if (ops.length >= 1000) {
        await this.#store.writeOps(ops);
        ops = [];
      }
    }
    if (ops.length > 0) await this.#store.writeOps(ops);
    return rows;
  }

  async delivered(row: OutboxRow): Promise<void> {
    await this.#store.writeOps([
      { type: 'del', key: rowKey(row.channel, row.findingId) },
      { type: 'del', key: dueKey(row.channel, row.nextAt, row.findingId) },
    ]);
  }

  /** `done`: what the row's attempts have delivered so far (Channel `done`), kept for the next. */
  async failed(row: OutboxRow, error: string, nextAt: number, done: readonly string[] | undefined = row.done): Promise<void> {
    await this.#store.writeOps([
      { type: 'del', key: dueKey(row.channel, row.nextAt, row.findingId) },
      ...rowPut(row.channel, row.findingId, { attempts: row.attempts + 1, nextAt: dueMs(nextAt), lastError: error.slice(0, 500), ...(done?.length ? { done: [...done] } : {}) }),
    ]);
  }
}
