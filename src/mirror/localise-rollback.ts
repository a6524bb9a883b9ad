/**
 * How far back a tiles log's rollback must go (https://c2sp.org/tlog-tiles; mirror/follower.ts
 * rollBackUnverified). A catch-up commits batch by batch and compares the recomputed root with the signed
 * one only at the end; when they differ, some entry committed beyond the verified size is not the log's,
 * and rolling everything back to the verified size throws away minutes of work for one bad bundle.
 *
 * For each entry bundle boundary X (a multiple of 256) above the verified size, the frontier the store
 * holds at X (rebuilt from its tree hashes, store/rollback.ts storedFrontier) is compared with the frontier
 * at X that the log's tiles give and authenticate against the checkpoint the round failed on
 * (start-frontier.ts verifiedTilesFrontier: a consistency proof from the same tiles to its signed root,
 * RFC 9162 §2.1.4.2). Equal, every entry below X is the log's ("good at X"). Good at X implies good at every
 * Y < X (a stored leaf that differs would change the stored frontier at X, barring a SHA-256 collision),
 * so a binary search over the boundaries finds the last good one in ~log2(n/256) probes, each a few tile
 * fetches (a tile two probes need is fetched once).
 *
 * Only a probe that agrees moves the answer up, so whatever stops the search leaves a sound one: the
 * largest size proven so far, the verified size when none was. The tiles a probe reads are unsigned too:
 * tiles that do not prove the frontier (misbehaviour from verifiedTilesFrontier) make the probe "bad", and
 * the rollback goes further back, never past the verified size. A transient error (a tile not served, a
 * timeout), the round stopping, a probe cap or a time budget end the search where it is.
 */
import { isTlogwatchError } from '../errors.ts';
import type { CompactRange } from '../merkle/compact.ts';
import { memoTiles, TILE_WIDTH, type TileReader } from '../merkle/tiles.ts';
import type { Checkpoint } from '../note/checkpoint.ts';
import { bytesEqual } from '../util/bytes.ts';
import { verifiedTilesFrontier } from './start-frontier.ts';

const W = BigInt(TILE_WIDTH);

/** Probes at most: 2^32 bundles (10^12 entries) is more than a catch-up ever spans. */
export const LOCALISE_MAX_PROBES = 32;
/** Milliseconds the search may take, tile fetches and their retries included (a few seconds normally). */
export const LOCALISE_BUDGET_MS = 30_000;

/** What a probe of size X found: every entry below X is the log's, one is not, or the search must end. */
export type ProbeResult = 'good' | 'bad' | 'stop';

export interface SearchOutcome {
  /** The largest size proven good, or `from` when none was. */
  size: bigint;
  probes: number;
  /** Why the search ended before it narrowed down to one boundary: a probe said stop, or a limit was met. */
  cut?: 'stopped' | 'limit';
}

/**
 * The largest bundle boundary k·256 in (from, through] at which `probe` answers good, assuming "good" holds
 * below some boundary and not from it on; `from` (known good: the verified size) when none does. Probes
 * run one at a time, at most `maxProbes`, none once `expired()`. Pure: all I/O is the probe's.
 */
export async function lastGoodBoundary(from: bigint, through: bigint, probe: (size: bigint) => Promise<ProbeResult>, limits: { maxProbes: number; expired: () => boolean }): Promise<SearchOutcome> {
  // Boundaries by their bundle number k: lo is known good (first - 1 stands for `from`), hi is known bad or
  // past the last boundary. The answer stays in [lo, hi) and only a good probe moves lo.
  let lo = from / W;
  let hi = (through >= from ? through / W : lo) + 1n;
  const sizeOf = (k: bigint) => (k === from / W ? from : k * W);
  let probes = 0;
  while (hi - lo > 1n) {
    if (probes >= limits.maxProbes || limits.expired()) return { size: sizeOf(lo), probes, cut: 'limit' };
    const mid = lo + (hi - lo) / 2n;
    probes++;
    const r = await probe(mid * W);
    if (r === 'stop') return { size: sizeOf(lo), probes, cut: 'stopped' };
    if (r === 'good') lo = mid;
    else hi = mid;
  }
  return { size: sizeOf(lo), probes };
}

export interface LocaliseInput {
  /** Known good: the verified size (or the start frontier's), where the rollback went before. */
  from: bigint;
  /** The committed frontier's size. */
  fetched: bigint;
  /** The checkpoint the round failed on (its signature verified) and its note. */
  checkpoint: Pick<Checkpoint, 'size' | 'rootHash'>;
  note: string;
  /** The store's frontier at a size, from its tree hashes (store/rollback.ts storedFrontier). */
  stored: (size: bigint) => Promise<CompactRange>;
  /** The log's tiles at the checkpoint's size. */
  read: TileReader;
  /** Milliseconds. */
  now: () => number;
  maxProbes?: number;
  budgetMs?: number;
  /** Told once for a probe that ended the search (a transient error, a store that cannot rebuild). */
  onStop?: (size: bigint, e: unknown) => void;
}

export interface Localised extends SearchOutcome {
  /** The frontier at `size` the tiles authenticated; absent when `size` is `from`. */
  frontier?: CompactRange;
}

/** Whether two frontiers are the same: sizes and every node (compact.ts nodes(), largest first). */
function sameFrontier(a: CompactRange, b: CompactRange): boolean {
  if (a.size !== b.size) return false;
  const bn = b.nodes();
  return a.nodes().every((n, i) => bytesEqual(n, bn[i]!));
}

/**
 * The largest bundle boundary in (from, min(fetched, checkpoint.size − 1)] whose stored frontier the log's
 * tiles prove (see the top of this file), with the frontier there; `from` when none is proven. A probe at
 * the checkpoint's size is left out: its root is the one that did not match.
 */
export async function localiseRollback(input: LocaliseInput): Promise<Localised> {
  const { checkpoint, note, stored, now } = input;
  const read = memoTiles(input.read);
  const began = now();
  const budget = input.budgetMs ?? LOCALISE_BUDGET_MS;
  let best: CompactRange | undefined;
  const probe = async (size: bigint): Promise<ProbeResult> => {
    let proven: CompactRange;
    let held: CompactRange;
    try {
      proven = await verifiedTilesFrontier(size, checkpoint, note, read);
    } catch (e) {
      if (isTlogwatchError(e) && e.kind === 'misbehaviour') return 'bad';
      input.onStop?.(size, e);
      return 'stop';
    }
    try {
      held = await stored(size);
    } catch (e) {
      input.onStop?.(size, e);
      return 'stop';
    }
    if (!sameFrontier(held, proven)) return 'bad';
    best = proven;
    return 'good';
  };
  const through = input.fetched < checkpoint.size ? input.fetched : checkpoint.size - 1n;
  const out = await lastGoodBoundary(input.from, through, probe, { maxProbes: input.maxProbes ?? LOCALISE_MAX_PROBES, expired: () => now() - began >= budget });
  // Only good probes move the answer up, each to a larger size: the last one proven is the answer's.
  return out.size > input.from && best?.size === out.size ? { ...out, frontier: best } : { ...out, size: input.from };
}
