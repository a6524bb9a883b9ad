/**
 * Findings repository: FINDING id(16) → JSON Finding; FINDING_BY_TIME firstSeen(8) id(16) → empty
 * (keys.ts). Writes are BatchOps so findings join the atomic batch of what raised them.
 */
import { TlogwatchError } from '../errors.ts';
import type { Finding, FindingStatus, Severity } from '../monitor/finding.ts';
import { Bucket, key, MARKER, prefixEnd, u64 } from './keys.ts';
import type { BatchOp } from './level.ts';
import type { Store } from './store.ts';

const idBytes = (id: string) => {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new TlogwatchError('API_BAD_REQUEST', 'a finding id is 32 hex digits');
  return new Uint8Array(Buffer.from(id, 'hex'));
};

export function findingOps(f: Finding): BatchOp[] {
  return [
    { type: 'put', key: key(Bucket.FINDING, idBytes(f.id)), value: Buffer.from(JSON.stringify(f)) },
    { type: 'put', key: key(Bucket.FINDING_BY_TIME, u64(f.firstSeen), idBytes(f.id)), value: MARKER },
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

export class FindingsRepo {
  readonly #store: Store;
  /** What openBySeverity counted, and at which Store.findingsGeneration. */
  #open: { generation: number; counts: ReadonlyMap<string, number> } | undefined;
  constructor(store: Store) {
    this.#store = store;
  }

  async get(id: string): Promise<Finding | undefined> {
    const v = await this.#store.db.get(key(Bucket.FINDING, idBytes(id)));
    return v === undefined ? undefined : (JSON.parse(Buffer.from(v).toString('utf8')) as Finding);
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
      const finding = await this.get(Buffer.from(k.subarray(9)).toString('hex'));
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
    await this.#store.writeOps([{ type: 'put', key: key(Bucket.FINDING, idBytes(id)), value: Buffer.from(JSON.stringify(updated)) }]);
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
    for await (const v of this.#store.db.values({ gte: key(Bucket.FINDING), lt: prefixEnd(key(Bucket.FINDING)) })) {
      const f = JSON.parse(Buffer.from(v).toString('utf8')) as Finding;
      if (f.status === 'open') counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
    }
    // Not kept if a write touched a finding meanwhile (or was under way when the count began).
    if (generation % 2 === 0 && generation === this.#store.findingsGeneration) this.#open = { generation, counts: new Map(counts) };
    return counts;
  }
}
