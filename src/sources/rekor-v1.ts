/**
 * Rekor v1 REST client (reference/rekor.md §1; sigstore/rekor openapi.yaml).
 *
 * Reads `GET /api/v1/log` (LogInfo: the active tree and the inactive shards with their final signed tree
 * heads) and tails the log through `POST /api/v1/log/entries/retrieve` in batches of at most 10 virtual
 * indexes (the server's `maxSearchQueries`; more gives 422), with bounded concurrency under the
 * requests-per-minute budget of the HttpClient. Retrieve silently omits entries it cannot find, so each
 * missing index is asked for again on its own (`GET /api/v1/log/entries?logIndex=`); an entry still
 * missing below a verified tree size is misbehaviour.
 */
import { z } from 'zod';
import { TlogwatchError } from '../errors.ts';
import { parseBase64, utf8 } from '../util/bytes.ts';
import type { HttpClient } from './http.ts';
import { mapBounded } from './tiles.ts';
import { signalOption, type FetchedLeaf, type SourceSignal } from './types.ts';

/** At most 10 queries per retrieve call (rekor.md §1.1, pkg/api/entries.go maxSearchQueries). */
export const RETRIEVE_MAX = 10;
const MAX_LOGINFO_BYTES = 1024 * 1024;
const MAX_RETRIEVE_BYTES = 32 * 1024 * 1024;
/**
 * What the follower lets one batch's entries hold (fetchLeaves `maxBytes`): the catch-up has two batches
 * at a time (one fetched while the one before is verified). 2,048 honest entries are ~10 MB.
 */
export const BATCH_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Rekor v1 takes attestations of at most 100 KB (rekor.md §1.11, README "upload attestation limit"). One is
 * outside the log (no proof or SET covers it), so anything larger is not Rekor's: it is dropped rather than
 * held, ~3 MB of it per entry a retrieve response has room for, across a batch's 2,048 entries.
 */
const MAX_ATTESTATION_BASE64 = Math.ceil((128 * 1024) / 3) * 4;

const decimal = z.union([z.number().int().nonnegative(), z.string().regex(/^(0|[1-9]\d*)$/)]).transform((v) => BigInt(v));
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const ShardInfo = z.object({
  rootHash: hex64,
  treeSize: decimal,
  signedTreeHead: z.string().max(16_384),
  treeID: z.string().regex(/^[1-9]\d*$/),
});
const LogInfoSchema = ShardInfo.extend({ inactiveShards: z.array(ShardInfo).max(1000).optional() });
export type ShardHead = z.infer<typeof ShardInfo>;
export interface LogInfo extends ShardHead {
  /** Oldest first, as Rekor lists them (pkg/sharding/ranges.go). */
  inactiveShards: ShardHead[];
}

const LogEntryValue = z.object({
  body: z.string(),
  integratedTime: z.number().int().nonnegative(),
  logID: hex64,
  logIndex: z.number().int().nonnegative(),
  attestation: z.object({ data: z.string().optional() }).optional(),
  verification: z
    .object({
      signedEntryTimestamp: z.string().optional(),
      inclusionProof: z
        .object({
          logIndex: z.number().int().nonnegative(),
          treeSize: z.number().int().positive(),
          rootHash: hex64,
          hashes: z.array(hex64).max(128),
          checkpoint: z.string().max(16_384).optional(),
        })
        .optional(),
    })
    .passthrough()
    .optional(),
});
const LogEntryMap = z.record(z.string().regex(/^([0-9a-f]{16})?[0-9a-f]{64}$/), LogEntryValue);

function parseJson(b: Uint8Array): unknown {
  return JSON.parse(utf8.decode(b)) as unknown;
}

export interface V1InclusionProof {
  /** Shard-local leaf index (rekor.md §1.3). */
  treeIndex: bigint;
  treeSize: bigint;
  rootHash: Uint8Array;
  hashes: Uint8Array[];
  checkpoint?: string;
}

export interface V1Leaf extends FetchedLeaf {
  entryId: string;
  inclusionProof?: V1InclusionProof;
}

const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

function toLeaf(entryId: string, v: z.infer<typeof LogEntryValue>, shardOffset: bigint): V1Leaf {
  const body = parseBase64(v.body);
  if (!body) throw new Error(`entry ${v.logIndex}: body is not standard base64`);
  const data = v.attestation?.data;
  const attestation = data !== undefined && data.length <= MAX_ATTESTATION_BASE64 ? parseBase64(data) : undefined;
  const logIndex = BigInt(v.logIndex);
  const p = v.verification?.inclusionProof;
  return {
    entryId,
    ...(p
      ? {
          inclusionProof: {
            treeIndex: BigInt(p.logIndex),
            treeSize: BigInt(p.treeSize),
            rootHash: fromHex(p.rootHash),
            hashes: p.hashes.map(fromHex),
            ...(p.checkpoint !== undefined ? { checkpoint: p.checkpoint } : {}),
          },
        }
      : {}),
    logIndex,
    treeIndex: logIndex - shardOffset,
    body,
    integratedTime: v.integratedTime,
    ...(attestation ? { attestation } : {}),
    v1: { logID: v.logID, ...(v.verification?.signedEntryTimestamp ? { signedEntryTimestamp: v.verification.signedEntryTimestamp } : {}) },
  };
}

/** A GET by index answered with another entry (thrown from `parse`, so retried as a malformed response). */
class OtherEntry extends Error {
  readonly served: number;
  constructor(served: number) {
    super(`the log answered entry ${served}`);
    this.served = served;
  }
}

/**
 * A consistency proof that did not pass the caller's check (thrown from `parse`, so asked for again as a
 * malformed response): `proof` is what the log served, `cause` the Merkle error.
 */
export class ProofRefused extends Error {
  readonly proof: readonly Uint8Array[];
  constructor(proof: readonly Uint8Array[], cause: unknown) {
    super((cause as Error).message, { cause });
    this.proof = proof;
  }
}

/** The error of class `C` a request's error comes from, through the HttpClient's wrapping causes. */
export function causeOfClass<C extends Error>(e: unknown, cls: abstract new (...args: never[]) => C): C | undefined {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 4; c = c.cause, depth++) if (c instanceof cls) return c;
  return undefined;
}

export interface RekorV1SourceOptions {
  url: string;
  http: HttpClient;
  concurrency?: number;
  signal?: SourceSignal;
}

export class RekorV1Source {
  readonly type = 'rekor-v1' as const;
  private readonly base: string;
  private readonly http: HttpClient;
  private readonly concurrency: number;
  private readonly signal: SourceSignal | undefined;

  constructor(opts: RekorV1SourceOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.http = opts.http;
    this.concurrency = opts.concurrency ?? 4;
    this.signal = opts.signal;
  }

  private sig() {
    return signalOption(this.signal);
  }

  async fetchLogInfo(): Promise<LogInfo> {
    const info = await this.http.request(`${this.base}/api/v1/log`, {
      endpoint: 'loginfo',
      maxBytes: MAX_LOGINFO_BYTES,
      ...this.sig(),
      parse: (b) => LogInfoSchema.parse(parseJson(b)),
    });
    if (!info) throw new TlogwatchError('SOURCE_HTTP_STATUS', `${this.base}/api/v1/log: 404 (is this a Rekor v1 URL?)`, { kind: 'fatal' });
    return { ...info, inactiveShards: info.inactiveShards ?? [] };
  }

  /** One retrieve call for ≤10 virtual indexes; returns what the log sent, keyed by virtual index. */
  private async retrieve(indexes: readonly bigint[], shardOffset: bigint): Promise<Map<bigint, V1Leaf>> {
    const got = await this.http.request(`${this.base}/api/v1/log/entries/retrieve`, {
      endpoint: 'retrieve',
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ logIndexes: indexes.map(Number) }),
      maxBytes: MAX_RETRIEVE_BYTES,
      ...this.sig(),
      parse: (b) => {
        const arr = z.array(LogEntryMap).max(RETRIEVE_MAX).parse(parseJson(b));
        // Only the entries asked for are decoded and kept, the first for each index. A response has room for
        // 32 MB of others, and a batch holds its ~200 responses until it is assembled: decoded, they were a
        // hostile log's (or proxy's) way to make one batch hold gigabytes.
        const wanted = new Set(indexes.map(Number));
        const out = new Map<bigint, V1Leaf>();
        for (const m of arr) {
          for (const [id, v] of Object.entries(m)) {
            if (wanted.has(v.logIndex) && !out.has(BigInt(v.logIndex))) out.set(BigInt(v.logIndex), toLeaf(id, v, shardOffset));
          }
        }
        return out;
      },
    });
    return got ?? new Map();
  }

  /**
   * `GET /api/v1/log/entries?logIndex=N`: the fallback for entries retrieve omitted. `notFound: 'retry'`
   * where a 404 would be taken as the log withholding the entry (http.ts).
   */
  async fetchEntryByIndex(logIndex: bigint, shardOffset: bigint, notFound: 'absent' | 'retry' = 'absent'): Promise<V1Leaf | undefined> {
    return this.http.request(`${this.base}/api/v1/log/entries?logIndex=${logIndex}`, {
      endpoint: 'entry',
      maxBytes: MAX_RETRIEVE_BYTES,
      notFound,
      ...this.sig(),
      parse: (b) => {
        const entries = Object.entries(LogEntryMap.parse(parseJson(b)));
        if (entries.length === 0) throw new Error('empty LogEntry');
        // The one asked for, wherever it is among them (each is checked against the tree like any other).
        const asked = entries.find(([, v]) => BigInt(v.logIndex) === logIndex);
        // Thrown from parse so that the client asks again: a cache that ignores the query string answers
        // every index with whatever it cached, and one such answer is no reason to halt a log.
        if (!asked) throw new OtherEntry(entries[0]![1].logIndex);
        return toLeaf(asked[0], asked[1], shardOffset);
      },
    });
  }

  /**
   * Virtual indexes [start, end) of the shard whose first virtual index is `shardOffset`, in order.
   * Throws `VERIFY_MISSING_ENTRY` (misbehaviour) when the log will not serve an index below its verified size:
   * omitted from retrieve, and a 404 on every attempt to get it by index.
   *
   * `maxBytes` bounds what one call holds: once the bodies received reach it, no further retrieve group is
   * started, and the leaves returned are those of the groups started, [start, start + n) with n ≥ 1 group,
   * possibly short of `end`. A batch is verified only once all of it is here, and a response may carry
   * 32 MB, so without it a log (or a proxy) that pads the bodies it was asked for could make one batch
   * of 2,048 entries hold gigabytes before its first leaf hash is checked. Honest entries are a few KB:
   * the catch-up (catch-up.ts) goes on from where a short batch ended, so a log of big entries is
   * mirrored in smaller batches, never refused.
   */
  async fetchLeaves(start: bigint, end: bigint, shardOffset: bigint, maxBytes = Infinity): Promise<FetchedLeaf[]> {
    const groups: bigint[][] = [];
    for (let i = start; i < end; i += BigInt(RETRIEVE_MAX)) {
      const g: bigint[] = [];
      for (let j = i; j < end && j < i + BigInt(RETRIEVE_MAX); j++) g.push(j);
      groups.push(g);
    }
    let bytes = 0;
    const maps = await mapBounded(
      groups,
      this.concurrency,
      async (g) => {
        const m = await this.retrieve(g, shardOffset);
        for (const leaf of m.values()) bytes += leaf.body.byteLength + (leaf.attestation?.byteLength ?? 0);
        return m;
      },
      () => bytes < maxBytes,
    );
    const out: FetchedLeaf[] = [];
    for (let gi = 0; gi < maps.length; gi++) {
      for (const idx of groups[gi]!) {
        const missing = (why: string) =>
          new TlogwatchError('VERIFY_MISSING_ENTRY', `entry ${idx} is below the verified tree size but the log does not serve it${why}`, {
            kind: 'misbehaviour',
            data: { index: idx.toString() },
          });
        const leaf =
          maps[gi]!.get(idx) ??
          (await this.fetchEntryByIndex(idx, shardOffset, 'retry').catch((e: unknown) => {
            // Another entry on every attempt withholds this one as a 404 on every attempt does.
            const other = causeOfClass(e, OtherEntry);
            throw other ? missing(`: asked for it by index, it answered entry ${other.served} on every attempt`) : e;
          }));
        if (!leaf) throw missing('');
        out.push(leaf);
      }
    }
    return out;
  }

  /** `GET /api/v1/log/proof`: a consistency proof between two sizes of one tree. */
  /**
   * `GET /api/v1/log/proof`. `check` (the caller's verification against the two signed checkpoints) runs on
   * each answer: one that fails it is asked for again like a malformed response, because the proof is not
   * signed and a cache or proxy that ignores the query string serves one for other sizes. When every
   * attempt fails it, the error thrown holds a ProofRefused (`causeOfClass`) with the last proof.
   */
  async fetchConsistencyProof(firstSize: bigint, lastSize: bigint, treeID: string, check: (proof: readonly Uint8Array[]) => void = () => {}): Promise<Uint8Array[]> {
    const Proof = z.object({ rootHash: hex64, hashes: z.array(hex64).max(128) });
    const proof = await this.http.request(`${this.base}/api/v1/log/proof?firstSize=${firstSize}&lastSize=${lastSize}&treeID=${treeID}`, {
      endpoint: 'proof',
      maxBytes: MAX_LOGINFO_BYTES,
      ...this.sig(),
      parse: (b) => {
        const hashes = Proof.parse(parseJson(b)).hashes.map(fromHex);
        try {
          check(hashes);
        } catch (e) {
          throw new ProofRefused(hashes, e);
        }
        return hashes;
      },
    });
    if (!proof) throw new TlogwatchError('SOURCE_HTTP_STATUS', 'consistency proof: 404', { kind: 'transient' });
    return proof;
  }
}
