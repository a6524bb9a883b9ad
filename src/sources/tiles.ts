/**
 * C2SP tlog-tiles client (https://c2sp.org/tlog-tiles), as Rekor v2 serves it.
 *
 * - `checkpoint`: mutable; fetched each poll.
 * - `tile/entries/<N>[.p/<W>]`: uint16 big-endian length-prefixed entries. Partial bundles and tiles are
 *   fetched only as implied by a verified checkpoint (spec: "Clients MUST NOT fetch arbitrary partial
 *   tiles"), falling back to the full resource when the partial one is gone (logs MAY delete it).
 * - `tile/0/<N>[.p/<W>]`: the log's level-0 hashes, fetched alongside each bundle so the mirror can check
 *   that the entries it hashes are the entries the tiles (which other clients read) commit to.
 */
import { TlogwatchError } from '../errors.ts';
import { entriesPath, tilePath, TILE_WIDTH } from '../merkle/tiles.ts';
import { HASH_SIZE } from '../merkle/rfc6962.ts';
import { freeBytes, utf8 } from '../util/bytes.ts';
import { isExclusiveBody } from './transport.ts';
import { MAX_SIGNATURES } from '../note/note.ts';
import type { HttpClient } from './http.ts';
import { signalOption, type BundledLeaves, type EntryBundle, type SourceSignal } from './types.ts';

/**
 * signed-note: verifiers "MUST accept at least up to 16 signatures", and post-quantum ones are nearly
 * 5 kB each; the note parser takes up to MAX_SIGNATURES (100) lines, so room for that many at 5 kB.
 */
export const MAX_CHECKPOINT_BYTES = 64 * 1024 + MAX_SIGNATURES * 5 * 1024;
/** 256 entries of at most 65535 bytes each, plus prefixes. */
const MAX_BUNDLE_BYTES = 256 * (65_535 + 2);
const TILE_BYTES = TILE_WIDTH * HASH_SIZE;
const W = BigInt(TILE_WIDTH);

/**
 * Where each entry of an entry bundle starts and ends (two offsets per entry), without splitting it.
 * Throws on framing errors (a truncated or garbled response: transient). An empty body is one of them: a
 * bundle holds at least one entry, and zero bytes is what a response cut right after its headers reads as
 * (close-delimited), not a bundle of no entries that would halt the log as withholding them all. A hash
 * tile of zero bytes is refused the same way (checkHashTile).
 */
export function entryBundleBounds(data: Uint8Array): Uint32Array {
  if (data.length === 0) throw new Error('entry bundle: empty response');
  const bounds: number[] = [];
  let off = 0;
  while (off < data.length) {
    if (off + 2 > data.length) throw new Error(`entry bundle: truncated length prefix at byte ${off}`);
    const len = (data[off]! << 8) | data[off + 1]!;
    off += 2;
    if (off + len > data.length) throw new Error(`entry bundle: entry ${bounds.length / 2} needs ${len} bytes, ${data.length - off} left`);
    bounds.push(off, off + len);
    off += len;
    if (bounds.length > 2 * TILE_WIDTH) throw new Error('entry bundle: more than 256 entries');
  }
  return Uint32Array.from(bounds);
}

/** Splits an entry bundle into its entries (views). Throws on framing errors, as entryBundleBounds. */
export function parseEntryBundle(data: Uint8Array): Uint8Array[] {
  const bounds = entryBundleBounds(data);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bounds.length; i += 2) out.push(data.subarray(bounds[i], bounds[i + 1]));
  return out;
}

/** A hash tile's bytes, checked to be a whole number (1..256) of 32-byte hashes. */
function checkHashTile(data: Uint8Array): Uint8Array {
  if (data.length === 0 || data.length % HASH_SIZE !== 0 || data.length > TILE_BYTES) {
    throw new Error(`tile: ${data.length} bytes is not a whole number (1..256) of 32-byte hashes`);
  }
  return data;
}

/** Splits a hash tile into its hashes. */
export function parseHashTile(data: Uint8Array): Uint8Array[] {
  checkHashTile(data);
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += HASH_SIZE) out.push(data.subarray(off, off + HASH_SIZE));
  return out;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight, preserving order. Once a call fails the whole
 * map has failed, so no further item starts: each is a request against the log (and its rate budget, which
 * the next round shares) for a batch no one will use. A Rekor v1 batch is ~200 retrieve calls.
 *
 * `proceed`, asked before each item after the first, stops the map early when it says no: the result is
 * then the results of the items started, a prefix of `items` (they start in order, and each started one
 * is awaited), so a caller can bound what the map holds by what it has received.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>, proceed: () => boolean = () => true): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed && next < items.length && (next === 0 || proceed())) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  });
  await Promise.all(workers);
  return next === items.length ? results : results.slice(0, next);
}

/**
 * A bundle or tile with another number of items than the verified checkpoint implies, thrown from `parse`
 * so that the HttpClient retries it: a response cut at an item boundary (a close-delimited one, whose end
 * Node cannot check) reads exactly like a log withholding entries. Only a log that serves it that way on
 * every attempt is misbehaving.
 */
class ItemCount extends Error {
  readonly got: number;
  constructor(got: number) {
    super(`holds ${got} items`);
    this.got = got;
  }
}

/** The ItemCount a request's error comes from, through the HttpClient's wrapping causes. */
function itemCountOf(e: unknown): ItemCount | undefined {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 4; c = c.cause, depth++) if (c instanceof ItemCount) return c;
  return undefined;
}

export interface TilesSourceOptions {
  /** The log's URL prefix, e.g. `https://log2025-1.rekor.sigstore.dev` or `http://127.0.0.1:3000/api/v2`. */
  url: string;
  http: HttpClient;
  /** Bundles (and their level-0 tiles) in flight at once. */
  concurrency?: number;
  signal?: SourceSignal;
}

export class TilesSource {
  readonly type = 'tiles' as const;
  private readonly base: string;
  private readonly http: HttpClient;
  private readonly concurrency: number;
  private readonly signal: SourceSignal | undefined;

  constructor(opts: TilesSourceOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.http = opts.http;
    this.concurrency = opts.concurrency ?? 8;
    this.signal = opts.signal;
  }

  /** The latest checkpoint as a signed note (unverified). */
  async fetchCheckpoint(): Promise<string> {
    const text = await this.http.request(`${this.base}/checkpoint`, {
      endpoint: 'checkpoint',
      maxBytes: MAX_CHECKPOINT_BYTES,
      headers: { 'cache-control': 'no-cache' },
      ...signalOption(this.signal),
      parse: (b) => utf8.decode(b),
    });
    if (text === undefined) throw new TlogwatchError('SOURCE_HTTP_STATUS', `${this.base}/checkpoint: 404 (is the URL prefix right?)`, { kind: 'fatal' });
    return text;
  }

  /**
   * Fetches a resource that may be partial: `.p/<W>` first, then the full one (of which the first W items
   * count), as tlog-tiles allows logs to delete partials once full. Returns it parsed, and how many of
   * its items count: W, or fewer when the log served fewer (the caller's to judge). With `wrongCount`, a
   * response holding fewer than W items is retried as a cut one, and when every attempt holds it,
   * `wrongCount` makes the error. More than W, partial or full, is not a cut response and withholds
   * nothing: only the first W count (each is hashed and checked against the checkpoint's root like any
   * other), as when the full resource is read for a partial one. Halting on a partial served as the full
   * one, as a store that ignores `.p/` might, took a log for good as withholding entries it had served.
   */
  private async fetchPartialOrFull<T>(
    pathFor: (width?: number) => string,
    width: number,
    endpoint: string,
    maxBytes: number,
    parse: (b: Uint8Array) => T,
    items: (t: T) => number,
    wrongCount?: (got: number) => TlogwatchError,
  ): Promise<{ value: T; count: number }> {
    // A partial resource may be gone (a 404 is an answer: read the full one); the full one a verified
    // checkpoint implies is withheld only when every attempt is a 404 (http.ts `notFound`).
    const get = (path: string, partial: boolean) => {
      const counted = (b: Uint8Array): T => {
        const value = parse(b);
        const got = items(value);
        if (got < width) throw new ItemCount(got);
        return value;
      };
      return this.http.request(`${this.base}/${path}`, { endpoint, maxBytes, notFound: partial ? 'absent' : 'retry', ...signalOption(this.signal), parse: wrongCount ? counted : parse }).catch((e: unknown) => {
        const count = wrongCount && itemCountOf(e);
        throw count ? wrongCount(count.got) : e;
      });
    };
    if (width < TILE_WIDTH) {
      const partial = await get(pathFor(width), true);
      if (partial !== undefined) return { value: partial, count: Math.min(items(partial), width) };
    }
    const full = await get(pathFor(), false);
    if (full === undefined) {
      throw new TlogwatchError('VERIFY_MISSING_ENTRY', `${endpoint} ${pathFor(width < TILE_WIDTH ? width : undefined)} is not served although a verified checkpoint implies it`, {
        kind: 'misbehaviour',
        data: { path: pathFor(width < TILE_WIDTH ? width : undefined) },
      });
    }
    return { value: full, count: Math.min(items(full), width) };
  }

  /**
   * Leaves [start, end) of a tree of `treeSize` (end <= treeSize, from a verified checkpoint), with the
   * log's level-0 tile hashes for the same range. Throws `VERIFY_MISSING_ENTRY` (misbehaviour) when a
   * well-formed bundle or tile holds another number of items than the checkpoint implies on every attempt.
   */
  async fetchLeaves(start: bigint, end: bigint, treeSize: bigint): Promise<BundledLeaves> {
    if (start < 0n || end <= start || end > treeSize) throw new RangeError(`bad leaf range [${start}, ${end}) for size ${treeSize}`);
    const first = start / W;
    const last = (end - 1n) / W;
    const tiles: bigint[] = [];
    for (let n = first; n <= last; n++) tiles.push(n);
    const bundles = await mapBounded(tiles, this.concurrency, async (n): Promise<EntryBundle> => {
      const width = Number(treeSize - n * W < W ? treeSize - n * W : W);
      const wrongCount = (what: string) => (got: number) =>
        new TlogwatchError('VERIFY_MISSING_ENTRY', `${what} ${n} holds ${got} items on every attempt, but the verified checkpoint of size ${treeSize} implies ${width}`, {
          kind: 'misbehaviour',
          data: { tile: n.toString(), expected: width, got },
        });
      const [entries, tile] = await Promise.all([
        this.fetchPartialOrFull((w) => entriesPath(n, w), width, 'entries', MAX_BUNDLE_BYTES, (data) => ({ data, bounds: entryBundleBounds(data) }), (b) => b.bounds.length / 2, wrongCount('entry bundle')),
        this.fetchPartialOrFull((w) => tilePath(0, n, w), width, 'tile', TILE_BYTES, checkHashTile, (t) => t.length / HASH_SIZE, wrongCount('level-0 tile')),
      ]);
      return { n, ...entries.value, hashes: tile.value, count: width };
    });
    // An inflated bundle's memory is the batch's alone (transport.ts isExclusiveBody): freed on release().
    const freeable = bundles.flatMap(({ data }) => (isExclusiveBody(data) ? [data.buffer as ArrayBuffer] : []));
    return { start, count: Number(end - start), bundles, release: () => freeable.forEach(freeBytes) };
  }

  /**
   * Hashes of level-`level` tile `n` (width from a verified checkpoint), for bootstrapping a frontier. One with
   * fewer hashes is retried as a cut response, as bundles and level-0 tiles are: read once, it failed the
   * frontier's check, and a mirror started at N halted on it. Short on every attempt, it is the tile the
   * log serves, and fails here as merkle/tiles.ts would fail it (MERKLE_BAD_HASHES).
   */
  async fetchTile(level: number, n: bigint, width: number): Promise<Uint8Array[]> {
    const short = (got: number) => new TlogwatchError('MERKLE_BAD_HASHES', `${tilePath(level, n, width < TILE_WIDTH ? width : undefined)} holds ${got} hashes on every attempt, the tree implies ${width}`, { data: { level, tile: n.toString(), expected: width, got } });
    const { value, count } = await this.fetchPartialOrFull((w) => tilePath(level, n, w), width, 'tile', TILE_BYTES, parseHashTile, (t) => t.length, short);
    return value.slice(0, count);
  }
}
