/**
 * Entry bodies → Entry records (DESIGN.md "The Entry record"). Pure and total: a body that cannot be
 * understood still yields a record (kind, leaf hash, whatever digests were found) with a `problem`
 * saying why, so the mirror stores and indexes it and nothing is skipped.
 *
 * Rekor v1 kinds follow sigstore/rekor pkg/types/<kind>/<version>/*_schema.json (reference/rekor.md §2);
 * Rekor v2 entries follow rekor-tiles api/proto/rekor/v2 (rekor.md §3.2), in both JSON spellings.
 */
import { leafHash } from '../merkle/rfc6962.ts';
import { isRecord } from '../util/json.ts';
import { toHex } from '../util/bytes.ts';
import { decodeV1Spec } from './kinds/v1.ts';
import { decodeV2Spec } from './kinds/v2.ts';
import type { DecodeProblem, Digest, Entry, Signer } from './types.ts';

export interface EntryMeta {
  log: string;
  index: number;
  integratedTime?: number;
  /** The RFC 6962 leaf hash when the caller already computed it (the mirror does). */
  leafHash?: Uint8Array;
}

/** What a kind decoder extracts from `spec`. */
export interface SpecFacts {
  digests: Digest[];
  signers: Signer[];
  problem?: DecodeProblem;
}

/** Bodies are at most a few hundred KB in practice; bound the JSON parse against hostile input. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function base(body: Uint8Array, meta: EntryMeta): Entry {
  const lh = toHex(meta.leafHash ?? leafHash(body));
  return {
    log: meta.log,
    index: meta.index,
    leafHash: lh,
    uuid: lh,
    ...(meta.integratedTime !== undefined ? { integratedTime: meta.integratedTime } : {}),
    kind: 'unknown',
    apiVersion: '',
    digests: [],
  };
}

function parseBody(body: Uint8Array): { ok: true; value: Record<string, unknown> } | { ok: false; problem: DecodeProblem } {
  if (body.length > MAX_BODY_BYTES) return { ok: false, problem: { code: 'ENTRY_MALFORMED', message: `body of ${body.length} bytes exceeds ${MAX_BODY_BYTES}` } };
  let value: unknown;
  try {
    value = JSON.parse(textDecoder.decode(body)) as unknown;
  } catch (e) {
    return { ok: false, problem: { code: 'ENTRY_MALFORMED', message: `body is not JSON: ${(e as Error).message.slice(0, 120)}` } };
  }
  if (!isRecord(value)) return { ok: false, problem: { code: 'ENTRY_MALFORMED', message: 'body is not a JSON object' } };
  return { ok: true, value };
}

function finish(entry: Entry, facts: SpecFacts): Entry {
  entry.digests = [...new Set(facts.digests)].sort();
  if (facts.signers.length > 0) {
    entry.signer = facts.signers[0]!;
    if (facts.signers.length > 1) entry.signers = facts.signers;
  }
  if (facts.problem) entry.problem = facts.problem;
  return entry;
}

function decodeWith(body: Uint8Array, meta: EntryMeta, spec: (kind: string, version: string, spec: unknown) => SpecFacts): Entry {
  const entry = base(body, meta);
  const parsed = parseBody(body);
  if (!parsed.ok) {
    entry.problem = parsed.problem;
    return entry;
  }
  const { kind, apiVersion } = parsed.value;
  if (typeof kind !== 'string' || typeof apiVersion !== 'string' || kind.length > 64 || apiVersion.length > 32) {
    entry.problem = { code: 'ENTRY_MALFORMED', message: 'body lacks string kind and apiVersion' };
    return entry;
  }
  entry.kind = kind;
  entry.apiVersion = apiVersion;
  try {
    return finish(entry, spec(kind, apiVersion, parsed.value['spec']));
  } catch (e) {
    // Kind decoders validate as they go; anything unexpected still must not escape (the daemon never crashes on a bad entry).
    entry.problem = { code: 'ENTRY_MALFORMED', message: `${kind} ${apiVersion}: ${(e as Error).message.slice(0, 200)}` };
    return entry;
  }
}

export function decodeRekorV1Body(body: Uint8Array, meta: EntryMeta): Entry {
  return decodeWith(body, meta, decodeV1Spec);
}

export function decodeRekorV2Entry(body: Uint8Array, meta: EntryMeta): Entry {
  return decodeWith(body, meta, decodeV2Spec);
}

/** Rekor v2 writes hashedrekord and dsse at 0.0.2; every other kind/version is a Rekor v1 body. */
export function isRekorV2KindVersion(kind: string | undefined, version: string | undefined): boolean {
  return version === '0.0.2' && (kind === 'hashedrekord' || kind === 'dsse');
}

/** Decodes a body whose log type is known only from its kind and version (bundles). */
export function decodeAnyBody(body: Uint8Array, meta: EntryMeta, kind?: string, version?: string): Entry {
  return isRekorV2KindVersion(kind, version) ? decodeRekorV2Entry(body, meta) : decodeRekorV1Body(body, meta);
}
