/**
 * The Rekor v1 read API (reference/rekor.md §1; sigstore/rekor openapi.yaml, pkg/api/{tlog,entries,index}.go):
 * LogInfo with inactive shards, consistency proofs, entries by virtual index, by 64-hex UUID or 80-hex
 * EntryID, batch retrieve (≤ 10 queries, 422 above, missing items omitted) and the deprecated search.
 */
import { createHash, hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { json } from '@sigstore/core';
import { leafHash } from '../../src/merkle/rfc6962.ts';
import { pem } from './bodies.ts';
import { spkiOf } from './keys.ts';
import { rekorLower, searchKeyHash } from './chunk.ts';
import { p256 } from './ecdsa.ts';
import type { Shard, SimLog } from './log.ts';
import { errorReply, isRecord, jsonReply, readJson, RequestError, type Reply } from './reply.ts';
import { v1LogId } from './trust.ts';
import type { LogView } from './view.ts';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'); // no copy
const logIds = new WeakMap<SimLog, string>();
/** The log's v1 logID as hex (the log key never changes, and every served entry carries it). */
function logIdHex(log: SimLog): string {
  let id = logIds.get(log);
  if (id === undefined) logIds.set(log, (id = hex(v1LogId(log))));
  return id;
}

/**
 * The RFC 8785 canonical JSON of a SET payload (rekor.md §1.7): its keys in order, the body base64 and
 * the logID hex (neither needs escaping), the numbers integers. What json.canonicalize returns for it, in
 * one template: every served entry has one, and canonicalize re-scans the ~4 KB body.
 */
export function canonicalSetPayload(p: { body: string; integratedTime: number; logID: string; logIndex: number }): string {
  if (!Number.isSafeInteger(p.integratedTime) || !Number.isSafeInteger(p.logIndex) || !/^[0-9a-f]*$/.test(p.logID) || !/^[A-Za-z0-9+/]*={0,2}$/.test(p.body)) return json.canonicalize(p);
  return `{"body":"${p.body}","integratedTime":${p.integratedTime},"logID":"${p.logID}","logIndex":${p.logIndex}}`;
}
const MAX_SEARCH_QUERIES = 10; // pkg/api/entries.go maxSearchQueries
const ID = /^([0-9a-fA-F]{64}|[0-9a-fA-F]{80})$/;

/** The 16-hex TreeID prefix of an EntryID (rekor.md §1.4). */
export const treePrefix = (s: Shard) => BigInt(s.treeID).toString(16).padStart(16, '0');

/** A LogEntry (`{EntryID: {...}}`, rekor.md §1.3) for a virtual index, or undefined when readers cannot see it. */
export function logEntry(log: SimLog, view: LogView, index: number): Record<string, unknown> | undefined {
  const shard = log.shardOf(index);
  if (!shard) return undefined;
  const treeIndex = index - shard.offset;
  const treeSize = view.shardSize(shard);
  if (treeIndex >= treeSize) return undefined;
  const body = view.body(index);
  if (!body) return undefined;
  const payload = { body: body.toString('base64'), integratedTime: log.integratedTime(index), logID: logIdHex(log), logIndex: index };
  // The SET is computed when served, over the canonical JSON of exactly these four fields (rekor.md §1.7).
  // (p256: node:crypto.sign would cost 60 µs of the 200 µs an entry may take at 5,000 entries/s; ecdsa.ts.)
  const key = (log.faults.has('wrong-key') ? log.wrongKey : log.logKey).privateKey;
  const set = p256.signHex(key, hash('sha256', canonicalSetPayload(payload))).toString('base64');
  const attestation = log.attestation(index);
  const tree = view.tree(shard);
  return {
    [`${treePrefix(shard)}${hex(view.leaf(shard, treeIndex))}`]: {
      ...(attestation ? { attestation: { data: attestation.toString('base64') } } : {}),
      ...payload,
      verification: {
        inclusionProof: {
          hashes: tree.inclusion(treeIndex, treeSize).map(hex),
          logIndex: treeIndex,
          rootHash: hex(view.root(shard, treeSize)),
          treeSize,
          checkpoint: view.checkpoint(shard, treeSize),
        },
        signedEntryTimestamp: set,
      },
    },
  };
}

/** The virtual index of a 64-hex UUID (every shard, active first) or 80-hex EntryID (its shard only). */
function findEntry(log: SimLog, view: LogView, id: string): number | undefined {
  const lower = id.toLowerCase();
  const uuid = lower.slice(-64);
  const shard = lower.length === 80 ? log.shards.find((s) => treePrefix(s) === lower.slice(0, 16)) : undefined;
  if (lower.length === 80 && !shard) return undefined;
  const candidates = [...log.indexesOfLeaf(Buffer.from(uuid, 'hex'))];
  for (const f of ['fork', 'rewrite'] as const) {
    const at = log.faults.at(f);
    if (at !== undefined && at < log.size) candidates.push(at);
  }
  const seen = (i: number) => {
    const s = log.shardOf(i);
    return s !== undefined && (!shard || s === shard) && i - s.offset < view.shardSize(s) && hex(view.leaf(s, i - s.offset)) === uuid;
  };
  return candidates.filter(seen).sort((a, b) => log.shardOf(b)!.offset - log.shardOf(a)!.offset)[0];
}

function decimal(v: string | null, name: string): number | undefined {
  if (v === null) return undefined;
  if (!/^(0|[1-9]\d{0,15})$/.test(v)) throw new RequestError(400, `${name} must be a non-negative decimal integer`);
  return Number(v);
}

function shardByTreeId(log: SimLog, treeID: string | null): Shard {
  if (treeID === null) return log.active;
  const s = log.shards.find((x) => x.treeID === treeID);
  if (!s) throw new RequestError(400, `unknown treeID ${treeID}`);
  return s;
}

function logInfo(log: SimLog, view: LogView): Record<string, unknown> {
  const info = (s: Shard) => {
    const size = view.shardSize(s);
    return { rootHash: hex(view.root(s, size)), signedTreeHead: view.checkpoint(s, size), treeID: s.treeID, treeSize: size };
  };
  const inactive = log.shards.slice(0, -1).map(info); // oldest to newest (pkg/sharding/ranges.go)
  return { ...(inactive.length ? { inactiveShards: inactive } : {}), ...info(log.active) };
}

/** `GET /api/v1/log/proof`: the proof between two sizes of one tree; rootHash is that tree's current root, as Rekor returns. */
function consistency(log: SimLog, view: LogView, url: URL): Reply {
  const first = decimal(url.searchParams.get('firstSize'), 'firstSize') ?? 1;
  const last = decimal(url.searchParams.get('lastSize'), 'lastSize');
  if (last === undefined) return errorReply(400, 'lastSize is required');
  const shard = shardByTreeId(log, url.searchParams.get('treeID'));
  const size = view.shardSize(shard);
  if (first < 1 || first > last) return errorReply(400, 'firstSize must be >= 1 and <= lastSize');
  if (last > size) return errorReply(400, `lastSizeGreaterThanKnown: ${last} > ${size}`);
  return jsonReply({ hashes: view.tree(shard).consistency(first, last).map(hex), rootHash: hex(view.root(shard, size)) });
}

function arrayField(q: Record<string, unknown>, name: string): unknown[] {
  const v = q[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RequestError(422, `${name} must be an array`);
  return v;
}

/** `POST /api/v1/log/entries/retrieve`: UUID matches first, then proposed entries, then indexes, as Rekor orders them. */
async function retrieve(log: SimLog, view: LogView, req: IncomingMessage): Promise<Reply> {
  const q = await readJson(req);
  if (!isRecord(q)) return errorReply(422, 'expected a SearchLogQuery object');
  const uuids = arrayField(q, 'entryUUIDs');
  const entries = arrayField(q, 'entries');
  const indexes = arrayField(q, 'logIndexes');
  if (uuids.length + entries.length + indexes.length > MAX_SEARCH_QUERIES) return errorReply(422, `more than max allowed ${MAX_SEARCH_QUERIES} entries in request`);
  const found: Array<number | undefined> = [];
  for (const u of uuids) {
    if (typeof u !== 'string' || !ID.test(u)) return errorReply(422, 'entryUUIDs must be 64- or 80-hex strings');
    found.push(findEntry(log, view, u));
  }
  for (const e of entries) {
    if (!isRecord(e)) return errorReply(422, 'entries must be proposed entry objects');
    found.push(findEntry(log, view, hex(leafHash(Buffer.from(json.canonicalize(e), 'utf8')))));
  }
  for (const i of indexes) {
    if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0) return errorReply(422, 'logIndexes must be non-negative integers');
    found.push(i);
  }
  return jsonReply(found.flatMap((i) => (i === undefined ? [] : [logEntry(log, view, i)].filter((x) => x !== undefined))));
}

/** `POST /api/v1/index/retrieve` (deprecated, rekor.md §1.10): EntryIDs by hash, email, subject or public key. */
async function searchIndex(log: SimLog, view: LogView, req: IncomingMessage): Promise<Reply> {
  const q = await readJson(req);
  if (!isRecord(q)) return errorReply(422, 'expected a SearchIndex object');
  const str = (name: string) => {
    const v = q[name];
    if (v !== undefined && typeof v !== 'string') throw new RequestError(422, `${name} must be a string`);
    return v;
  };
  const keys: string[] = [];
  const hash = str('hash')?.toLowerCase();
  if (hash !== undefined) keys.push(`hash:${/^[0-9a-f]{64}$/.test(hash) ? `sha256:${hash}` : hash}`);
  const email = str('email');
  if (email !== undefined) keys.push(`email:${rekorLower(email)}`);
  const subject = str('subject');
  if (subject !== undefined) keys.push(`subject:${rekorLower(subject)}`);
  if (q['publicKey'] !== undefined) keys.push(`key:${publicKeyHash(q['publicKey'])}`);
  const operator = str('operator') ?? 'or';
  if (operator !== 'or' && operator !== 'and') return errorReply(422, 'operator must be "and" or "or"');
  if (keys.length === 0) return errorReply(400, 'SearchIndex needs hash, email, subject or publicKey');
  const sets = keys.map((k) => new Set(log.searchIndex(searchKeyHash(k))));
  const hits = operator === 'and' ? [...sets[0]!].filter((i) => sets.every((s) => s.has(i))) : [...new Set(sets.flatMap((s) => [...s]))];
  return jsonReply(
    hits
      .filter((i) => i < log.published)
      .sort((a, b) => a - b)
      .map((i) => {
        const s = log.shardOf(i)!;
        return `${treePrefix(s)}${hex(view.leaf(s, i - s.offset))}`;
      }),
  );
}

/** SHA-256 hex of the key's canonical PEM, the form bodies embed (Rekor files entries under the canonical key's hash). */
function publicKeyHash(v: unknown): string {
  if (!isRecord(v) || typeof v['content'] !== 'string' || v['format'] !== 'x509') throw new RequestError(422, 'publicKey must be {"format": "x509", "content": base64 of a PEM}');
  const text = Buffer.from(v['content'], 'base64').toString('utf8');
  const m = /-----BEGIN (CERTIFICATE|PUBLIC KEY)-----([A-Za-z0-9+/=\s]+)-----END \1-----/.exec(text);
  if (!m) throw new RequestError(400, 'publicKey content is not a PEM certificate or public key');
  return createHash('sha256').update(pem(m[1]!, Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'))).digest('hex');
}

/** Routes `/api/v1/...`. */
export async function v1Route(log: SimLog, view: LogView, req: IncomingMessage, url: URL): Promise<Reply> {
  const p = url.pathname;
  const get = req.method === 'GET';
  if (get && p === '/api/v1/log') return jsonReply(logInfo(log, view));
  if (get && p === '/api/v1/log/publicKey') {
    shardByTreeId(log, url.searchParams.get('treeID')); // every shard shares the key, as in production
    return { status: 200, body: pem('PUBLIC KEY', spkiOf(log.logKey.publicKey)), type: 'application/x-pem-file' };
  }
  if (get && p === '/api/v1/log/proof') return consistency(log, view, url);
  if (get && p === '/api/v1/log/entries') {
    const index = decimal(url.searchParams.get('logIndex'), 'logIndex');
    if (index === undefined) return errorReply(400, 'logIndex is required');
    const e = logEntry(log, view, index);
    return e ? jsonReply(e) : errorReply(404, `no entry at logIndex ${index}`);
  }
  const byId = /^\/api\/v1\/log\/entries\/([^/]+)$/.exec(p);
  if (get && byId && byId[1] !== 'retrieve') {
    if (!ID.test(byId[1]!)) return errorReply(400, 'entryUUID must be 64 or 80 hex characters');
    const i = findEntry(log, view, byId[1]!);
    const e = i === undefined ? undefined : logEntry(log, view, i);
    return e ? jsonReply(e) : errorReply(404, 'entry not found');
  }
  if (req.method === 'POST' && p === '/api/v1/log/entries/retrieve') return retrieve(log, view, req);
  if (req.method === 'POST' && p === '/api/v1/index/retrieve') return searchIndex(log, view, req);
  if (p === '/api/v1/log/entries' && req.method === 'POST') return errorReply(405, 'the simulator is read-only');
  return errorReply(404, `no route for ${req.method} ${p}`);
}
