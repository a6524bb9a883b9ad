/**
 * Findings repository: FINDING id(16) → JSON Finding; FINDING_BY_TIME firstSeen(8) id(16) → empty
 * (keys.ts). Writes are BatchOps so findings join the atomic batch of what raised them.
 */
import { isTlogwatchError, TlogwatchError } from '../errors.ts';
import { SEVERITIES, type Finding, type FindingStatus, type Severity } from '../monitor/finding.ts';
import { Bucket, key, MARKER, prefixEnd, u64 } from './keys.ts';
import type { BatchOp } from './level.ts';
import type { Store } from './store.ts';

const idBytes = (id: string) => {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new TlogwatchError('API_BAD_REQUEST', 'a finding id is 32 hex digits');
  return new Uint8Array(Buffer.from(id, 'hex'));
};

/** The finding's key in the findings' time index (one per finding: its firstSeen). */
export function findingTimeKey(f: Pick<Finding, 'id' | 'firstSeen'>): Uint8Array {
  return key(Bucket.FINDING_BY_TIME, u64(f.firstSeen), idBytes(f.id));
}

export function findingOps(f: Finding): BatchOp[] {
  return [
    { type: 'put', key: key(Bucket.FINDING, idBytes(f.id)), value: Buffer.from(JSON.stringify(f)) },
    { type: 'put', key: findingTimeKey(f), value: MARKER },
  ];
}

export interface FindingFilter {
  rule?: string;
  severity?: Severity;
  status?: FindingStatus;
  since?: number;
  limit: number;
  cursor?: string;
}

/**
 * A stored finding, narrowed to what every reader relies on. A record that is not one (a bit flipped on
 * disk: LevelDB does not check block checksums on reads) is STORE_CORRUPT naming it, never a half-read object.
 */
export function decodeFinding(id: string, v: Uint8Array): Finding {
  let f: unknown;
  try {
    f = JSON.parse(Buffer.from(v).toString('utf8'));
  } catch (e) {
    throw damaged(id, 'not JSON', e);
  }
  if (typeof f !== 'object' || f === null) throw damaged(id, 'not an object');
  const r = f as Record<string, unknown>;
  if (r['id'] !== id) throw damaged(id, 'another id');
  if (typeof r['rule'] !== 'string' || typeof r['log'] !== 'string' || typeof r['message'] !== 'string') throw damaged(id, 'no rule, log or message');
  if (!SEVERITIES.includes(r['severity'] as Severity) || !STATUSES.includes(r['status'] as FindingStatus)) throw damaged(id, 'an unknown severity or status');
  if (!Number.isSafeInteger(r['firstSeen'])) throw damaged(id, 'no firstSeen');
  return f as Finding;
}

const STATUSES: readonly FindingStatus[] = ['open', 'acked', 'suppressed'];

function damaged(id: string, why: string, cause?: unknown): TlogwatchError {
  return new TlogwatchError('STORE_CORRUPT', `the stored finding ${id} is damaged (${why}): tlogwatch check lists every damaged record; restore a backup`, { kind: 'fatal', data: { finding: id }, cause });
}

export class FindingsRepo {
  readonly #store: Store;
  /** What openBySeverity counted, and at which Store.findingsGeneration. */
  #open: { generation: number; counts: ReadonlyMap<string, number> } | undefined;
  readonly #onDamaged: ((id: string, e: TlogwatchError) => void) | undefined;

  /**
   * `onDamaged` hears of each damaged finding a listing or the open count passes over: one damaged record
   * must not take /v1/findings, the daily digest and the whole /metrics scrape down with it.
   */
  constructor(store: Store, onDamaged?: (id: string, e: TlogwatchError) => void) {
    this.#store = store;
    this.#onDamaged = onDamaged;
  }

  /** Throws STORE_CORRUPT for a damaged record (decodeFinding). */
  async get(id: string): Promise<Finding | undefined> {
    const v = await this.#store.db.get(key(Bucket.FINDING, idBytes(id)));
    return v === undefined ? undefined : decodeFinding(id, v);
  }

  /** `get`, with a damaged record passed to onDamaged and read as absent. */
  async #getReadable(id: string): Promise<Finding | undefined> {
    const v = await this.#store.db.get(key(Bucket.FINDING, idBytes(id)));
    return v === undefined ? undefined : this.#readable(id, v);
  }

  /** decodeFinding, with a damaged record passed to onDamaged and read as absent. */
  #readable(id: string, v: Uint8Array): Finding | undefined {
    try {
      return decodeFinding(id, v);
    } catch (e) {
      if (!isTlogwatchError(e, 'STORE_CORRUPT')) throw e;
      this.#onDamaged?.(id, e);
      return undefined;
    }
  }

  async has(id: string): Promise<boolean> {
    return (await this.#store.db.get(key(Bucket.FINDING, idBytes(id)))) !== undefined;
  }

  /** Newest first; the cursor is the last time-index key seen. */
  async list(f: FindingFilter): Promise<{ findings: Finding[]; next: string | null }> {
    const base = key(Bucket.FINDING_BY_TIME);
    let lt = prefixEnd(base);
    if (f.cursor) {
      const c = new Uint8Array(Buffer.from(f.cursor, 'base64url'));
      if (c.length !== 25 || c[0] !== Bucket.FINDING_BY_TIME) throw new TlogwatchError('API_BAD_REQUEST', 'cursor does not belong to this query');
      lt = c;
    }
    const gte = f.since !== undefined ? key(base, u64(Math.max(0, f.since))) : base;
    const out: Finding[] = [];
    let last: Uint8Array | undefined;
    let more = false;
    for await (const k of this.#store.db.keys({ gte, lt, reverse: true })) {
      const finding = await this.#getReadable(Buffer.from(k.subarray(9)).toString('hex'));
      if (!finding) continue;
      if ((f.rule && finding.rule !== f.rule) || (f.severity && finding.severity !== f.severity) || (f.status && finding.status !== f.status)) continue;
      if (out.length === f.limit) {
        more = true;
        break;
      }
      out.push(finding);
      last = k;
    }
    return { findings: out, next: more && last ? Buffer.from(last).toString('base64url') : null };
  }

  async setStatus(id: string, status: FindingStatus, reason: string, at: number): Promise<Finding> {
    const f = await this.get(id);
    if (!f) throw new TlogwatchError('API_NOT_FOUND', `no finding ${id}`);
    const updated: Finding = { ...f, status, statusReason: reason, statusAt: at };
    // Synced: the mirror can fetch and raise again whatever a power loss rolls back, but not a person's
    // acknowledgement, which the API has already confirmed.
    await this.#store.writeOps([{ type: 'put', key: key(Bucket.FINDING, idBytes(id)), value: Buffer.from(JSON.stringify(updated)) }], { sync: true });
    return updated;
  }

  /**
   * Open findings by severity (for the tlogwatch_findings_open gauge, before every scrape). Counting reads
   * every finding stored (2.3 s for 200k), so the count is kept until a write touches a finding
   * (Store.findingsGeneration): a scrape between two findings costs nothing.
   */
  async openBySeverity(): Promise<Map<string, number>> {
    const generation = this.#store.findingsGeneration;
    if (this.#open?.generation === generation) return new Map(this.#open.counts);
    const counts = new Map<string, number>();
    for await (const [k, v] of this.#store.db.iterator({ gte: key(Bucket.FINDING), lt: prefixEnd(key(Bucket.FINDING)) })) {
      const f = this.#readable(Buffer.from(k.subarray(1)).toString('hex'), v);
      if (f?.status === 'open') counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
    }
    // Not kept if a write touched a finding meanwhile (or was under way when the count began).
    if (generation % 2 === 0 && generation === this.#store.findingsGeneration) this.#open = { generation, counts: new Map(counts) };
    return counts;
  }
}

/**
 * `tlogwatch check`'s look at the findings, which belong to no one log: every record decodes
 * (decodeFinding), and the time index (FINDING_BY_TIME, which listings walk) holds exactly one key per
 * finding, at its firstSeen. Reads only.
 */
export async function checkFindingRecords(store: Store, problem: (p: string) => void): Promise<number> {
  const firstSeen = new Map<string, number | undefined>();
  for await (const [k, v] of store.db.iterator({ gte: key(Bucket.FINDING), lt: prefixEnd(key(Bucket.FINDING)) })) {
    const id = Buffer.from(k.subarray(1)).toString('hex');
    try {
      firstSeen.set(id, decodeFinding(id, v).firstSeen);
    } catch (e) {
      if (!isTlogwatchError(e, 'STORE_CORRUPT')) throw e;
      problem(e.message.replace(/: tlogwatch check lists .*$/, ''));
      firstSeen.set(id, undefined);
    }
  }
  const indexed = new Set<string>();
  for await (const k of store.db.keys({ gte: key(Bucket.FINDING_BY_TIME), lt: prefixEnd(key(Bucket.FINDING_BY_TIME)) })) {
    const id = Buffer.from(k.subarray(9)).toString('hex');
    const at = Number(new DataView(k.buffer, k.byteOffset + 1, 8).getBigUint64(0));
    if (!firstSeen.has(id)) problem(`a time index key for finding ${id}, which is not stored`);
    else if (firstSeen.get(id) !== undefined && firstSeen.get(id) !== at) problem(`finding ${id} has a time index key at ${at}, not at its firstSeen ${firstSeen.get(id)}`);
    else indexed.add(id);
  }
  for (const [id, at] of firstSeen) if (at !== undefined && !indexed.has(id)) problem(`finding ${id} has no time index key: listings leave it out`);
  return firstSeen.size;
}
