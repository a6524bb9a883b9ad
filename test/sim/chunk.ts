/**
 * A run of consecutive generated entries packed into a few flat buffers, so a worker thread can hand a
 * few thousand entries to the log in one message (typed arrays clone as one memcpy each, no per-entry
 * objects cross threads) and the log can append them with one write per file.
 */
import { hash } from 'node:crypto';
import { leafHash } from '../../src/merkle/rfc6962.ts';
import type { EntryGenerator, Generated, ManifestLine } from './generate.ts';
import { injectTime, type InjectSpec } from './inject.ts';

export interface Chunk {
  from: number;
  count: number;
  /** Bodies back to back, and each one's length. */
  bodies: Uint8Array;
  bodyLens: Uint32Array;
  /** 32-byte leaf hashes back to back. */
  leaves: Uint8Array;
  /** In-toto statements (Rekor v1 `attestation`), length 0 for none. */
  attestations: Uint8Array;
  attestationLens: Uint32Array;
  times: Float64Array;
  /** manifest.jsonl lines for these entries. */
  manifest: string;
  /** 8-byte search-key hashes back to back, and how many belong to each entry. */
  searchKeys: Uint8Array;
  searchKeyCounts: Uint8Array;
}

/** When each entry was integrated: the initial log spreads over [start, start+span), later ones are live. */
export interface Timeline {
  start: number;
  span: number;
  total: number;
}
export const timeAt = (tl: Timeline, index: number) => tl.start + Math.floor((index * tl.span) / Math.max(1, tl.total));

export const searchKeyHash = (key: string): Buffer => hash('sha256', key, 'buffer').subarray(0, 8);

/**
 * Generates entries [from, from+count). `time(i)` gives an ordinary entry's integrated time; `injected(i)`
 * the inject spec placed at i (then its integratedTime, if any, wins over `time`).
 */
export function generateChunk(gen: EntryGenerator, from: number, count: number, time: (i: number) => number, injected: (i: number) => InjectSpec | undefined): Chunk {
  const bodies: Buffer[] = [];
  const bodyLens = new Uint32Array(count);
  const leaves = new Uint8Array(32 * count);
  const attestations: Buffer[] = [];
  const attestationLens = new Uint32Array(count);
  const times = new Float64Array(count);
  const keys: Buffer[] = [];
  const searchKeyCounts = new Uint8Array(count);
  let manifest = '';
  for (let k = 0; k < count; k++) {
    const index = from + k;
    const spec = injected(index);
    const t = spec ? injectTime(spec, time(index)) : time(index);
    const g: Generated = spec ? gen.inject(spec, index, t) : gen.generate(index, t);
    const body = Buffer.from(g.body, 'utf8');
    const lh = leafHash(body);
    bodies.push(body);
    bodyLens[k] = body.length;
    leaves.set(lh, 32 * k);
    if (g.attestation) attestations.push(g.attestation);
    attestationLens[k] = g.attestation?.length ?? 0;
    times[k] = t;
    for (const s of g.searchKeys) keys.push(searchKeyHash(s));
    searchKeyCounts[k] = g.searchKeys.length;
    const line: ManifestLine = { index, uuid: Buffer.from(lh).toString('hex'), ...g.manifest };
    manifest += `${JSON.stringify(line)}\n`;
  }
  return {
    from,
    count,
    bodies: Buffer.concat(bodies),
    bodyLens,
    leaves,
    attestations: Buffer.concat(attestations),
    attestationLens,
    times,
    manifest,
    searchKeys: Buffer.concat(keys),
    searchKeyCounts,
  };
}
