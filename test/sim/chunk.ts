/**
 * A run of consecutive generated entries packed into a few flat buffers, so a worker thread can hand a
 * few thousand entries to the log in one message (their ArrayBuffers are transferred, not copied; no
 * per-entry objects cross threads) and the log can append them with one write per file.
 *
 * Each body is encoded once, straight into the chunk's buffer after its uint16 length (the tlog-tiles
 * entry bundle encoding, which is how the body file keeps them), and hashed there: the leaf hash's 0x00
 * prefix (RFC 6962 §2.1) is written where the length's low byte goes, then replaced by it.
 */
import { hash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { TILE_WIDTH as BUNDLE } from '../../src/merkle/tiles.ts';
import type { EntryGenerator, Generated, ManifestLine } from './generate.ts';
import { injectTime, type InjectSpec } from './inject.ts';

export interface Chunk {
  from: number;
  count: number;
  /** Bodies back to back, each after its big-endian uint16 length (0xffff for a longer Rekor v1 body); `bodyLens` has each body's length. */
  bodies: Uint8Array;
  bodyLens: Uint32Array;
  /** 32-byte leaf hashes back to back. */
  leaves: Uint8Array;
  /** In-toto statements (Rekor v1 `attestation`), length 0 for none. */
  attestations: Uint8Array;
  attestationLens: Uint32Array;
  times: Float64Array;
  /** manifest.jsonl lines for these entries, UTF-8. */
  manifest: Uint8Array;
  /** 8-byte search-key hashes back to back, and how many belong to each entry. */
  searchKeys: Uint8Array;
  searchKeyCounts: Uint32Array;
  /** Tiles logs: the full entry bundles inside this chunk gzipped (gzipBundles), from bundle `first` on. */
  gz?: { first: number; bytes: Uint8Array; lens: Uint32Array };
}

/** What the server's on-the-fly gzip uses too (server.ts), so a client gets the same bytes either way. */
export const GZIP_LEVEL = 1;

/**
 * Each full bundle [256·b, 256·b + 256) wholly inside the chunk, gzipped once, as a static tile store
 * keeps them: the server then answers a full bundle without compressing it again (at 1M entries that
 * compression was most of the simulator's CPU, taken from the two cores the mirror under test shares).
 */
export function gzipBundles(from: number, count: number, bodies: Uint8Array, bodyLens: Uint32Array): Chunk['gz'] {
  const first = Math.ceil(from / BUNDLE);
  const last = Math.floor((from + count) / BUNDLE); // exclusive
  if (last <= first) return undefined;
  let off = 0;
  for (let k = 0; k < first * BUNDLE - from; k++) off += 2 + bodyLens[k]!;
  const parts: Buffer[] = [];
  const lens = new Uint32Array(last - first);
  for (let b = first; b < last; b++) {
    const start = off;
    for (let k = b * BUNDLE - from; k < (b + 1) * BUNDLE - from; k++) off += 2 + bodyLens[k]!;
    const gz = gzipSync(bodies.subarray(start, off), { level: GZIP_LEVEL });
    lens[b - first] = gz.length;
    parts.push(gz);
  }
  const bytes = new Uint8Array(lens.reduce((a, n) => a + n, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { first, bytes, lens };
}

/** When each entry was integrated: the initial log spreads over [start, start+span), later ones are live. */
export interface Timeline {
  start: number;
  span: number;
  total: number;
}
export const timeAt = (tl: Timeline, index: number) => tl.start + Math.floor((index * tl.span) / Math.max(1, tl.total));

/**
 * How Rekor lower-cases a search key, when it files one and when it is asked for one: Go's strings.ToLower,
 * which maps each code point on its own (unicode.ToLower). JavaScript's toLowerCase differs only where
 * Unicode's full mapping does: U+0130 İ (Go: i) and a word-final Σ (Go: σ, never ς).
 */
export const rekorLower = (s: string): string => Array.from(s, (c) => (c === '\u0130' ? 'i' : c.toLowerCase())).join('');

const ARTIFACT_HASH = /^hash:sha256:[0-9a-f]{64}$/;
const signerKeys = new Map<string, string>();

/**
 * Writes at `at` the 8 bytes the Rekor v1 search index files `key` under: for an artifact's SHA-256
 * (`hash:sha256:<hex>`) its own first 8 bytes, already uniform; for any other key, the first 8 bytes of
 * its SHA-256. Those (`key:`, `subject:`, `email:`) repeat for every entry of a signer, so their hashes
 * are remembered, a bounded number at a time (as latin1: crypto.hash returns a string faster than a
 * Buffer, and 'binary' is Node's name for latin1).
 */
export function writeSearchKey(key: string, out: Buffer, at: number): void {
  if (ARTIFACT_HASH.test(key)) {
    out.write(key.slice(12, 28), at, 'hex');
    return;
  }
  let h = signerKeys.get(key);
  if (h === undefined) {
    h = hash('sha256', key, 'binary').slice(0, 8);
    if (signerKeys.size > 4096) signerKeys.clear();
    signerKeys.set(key, h);
  }
  out.write(h, at, 'latin1');
}

/** The 8 bytes the search index files `key` under (writeSearchKey). */
export function searchKeyHash(key: string): Buffer {
  const out = Buffer.alloc(8);
  writeSearchKey(key, out, 0);
  return out;
}

/** A growable byte buffer of its own ArrayBuffer (never Node's shared pool), so it can be transferred. */
class Bytes {
  buf: Buffer;
  length = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(64, capacity));
  }
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * Generates entries [from, from+count). `time(i)` gives an ordinary entry's integrated time; `injected(i)`
 * the inject spec placed at i (then its integratedTime, if any, wins over `time`).
 */
export function generateChunk(gen: EntryGenerator, from: number, count: number, time: (i: number) => number, injected: (i: number) => InjectSpec | undefined): Chunk {
  const bodies = new Bytes(count * 3072);
  const bodyLens = new Uint32Array(count);
  const leaves = Buffer.allocUnsafeSlow(32 * count);
  const attestations = new Bytes(count * 256);
  const attestationLens = new Uint32Array(count);
  const times = new Float64Array(count);
  const keys = new Bytes(count * 8 * 6);
  // Not bytes: a self-made certificate may name hundreds of identities, each a subject and an email key.
  const searchKeyCounts = new Uint32Array(count);
  const manifest = new Bytes(count * 600);
  for (let k = 0; k < count; k++) {
    const index = from + k;
    const spec = injected(index);
    const t = spec ? injectTime(spec, time(index)) : time(index);
    const g: Generated = spec ? gen.inject(spec, index, t) : gen.generate(index, t);
    bodies.reserve(2 + 3 * g.body.length); // UTF-8 needs at most 3 bytes per UTF-16 unit
    const at = bodies.length;
    const b = bodies.buf;
    const len = b.write(g.body, at + 2, 'utf8');
    if (len > 0xffff && gen.api === 'tiles') throw new RangeError(`entry ${index}: a ${len}-byte body does not fit a uint16 length prefix (tlog-tiles entry bundles)`);
    b[at + 1] = 0x00;
    leaves.write(hash('sha256', b.subarray(at + 1, at + 2 + len), 'binary'), 32 * k, 'latin1');
    // A Rekor v1 body may be larger (Rekor sets no request size limit); no entry bundle is made of it, and
    // its prefix saturates (bodystore.ts).
    const prefix = Math.min(len, 0xffff);
    b[at] = prefix >> 8;
    b[at + 1] = prefix & 0xff;
    bodies.length += 2 + len;
    bodyLens[k] = len;
    if (g.attestation) {
      attestations.reserve(g.attestation.length);
      attestations.buf.set(g.attestation, attestations.length);
      attestations.length += g.attestation.length;
    }
    attestationLens[k] = g.attestation?.length ?? 0;
    times[k] = t;
    keys.reserve(8 * g.searchKeys.length);
    for (const s of g.searchKeys) {
      writeSearchKey(s, keys.buf, keys.length);
      keys.length += 8;
    }
    searchKeyCounts[k] = g.searchKeys.length;
    // Written out at once: a string growing over the chunk would outlive young-generation GCs (V8 then
    // copies and promotes it), where each line's string dies young.
    const line: ManifestLine = { index, uuid: leaves.toString('hex', 32 * k, 32 * k + 32), ...g.manifest };
    const text = `${JSON.stringify(line)}\n`;
    manifest.reserve(3 * text.length);
    manifest.length += manifest.buf.write(text, manifest.length, 'utf8');
  }
  const gz = gen.api === 'tiles' ? gzipBundles(from, count, bodies.bytes(), bodyLens) : undefined;
  return {
    ...(gz ? { gz } : {}),
    from,
    count,
    bodies: bodies.bytes(),
    bodyLens,
    leaves,
    attestations: attestations.bytes(),
    attestationLens,
    times,
    manifest: manifest.bytes(),
    searchKeys: keys.bytes(),
    searchKeyCounts,
  };
}

/** The ArrayBuffers a chunk's arrays live in, to transfer with postMessage (every one is the chunk's own). */
export function chunkBuffers(c: Chunk): ArrayBuffer[] {
  const all = [c.bodies, c.bodyLens, c.leaves, c.attestations, c.attestationLens, c.times, c.manifest, c.searchKeys, c.searchKeyCounts, ...(c.gz ? [c.gz.bytes, c.gz.lens] : [])].map((a) => a.buffer);
  return [...new Set(all)].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}
