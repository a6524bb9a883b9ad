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
 *
 * One tile can make every probe bad: a checkpoint of size N off a bundle boundary B = 256·⌊N/256⌋ has
 * leaves [B, N) in no full tile, so every consistency proof from X < N to it needs hashes over them, and
 * only the partial level-0 tile (or the bundle) holds those. A path that rewrote an entry there serves
 * that tile rewritten to agree (else the catch-up would have refused the bundle), so no probe against N
 * verifies, even though the rewritten entry was in the batch that failed the root and nothing committed is
 * wrong. Nothing else signed commits to [B, N), so against N that case cannot be told apart from a bad
 * first bundle (test/unit/mirror/localise-rollback.test.ts proves both give the same answers). A later
 * checkpoint can: once the log has grown past B + 256, bundle B/256 is a full tile whose hash sits in the
 * level-1 tile, and proofs to it no longer read the rewritten one. So a search in which every probe was
 * bad runs once more against the log's latest checkpoint (`later`, its signature verified) when that is
 * larger; its probes follow the same rule, so it too can only keep entries a signed root proves.
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

/** A checkpoint whose signature verified, and its note (the evidence a probe's misbehaviour would carry). */
export interface SignedTree {
  checkpoint: Pick<Checkpoint, 'size' | 'rootHash'>;
  note: string;
}

export interface LocaliseInput extends SignedTree {
  /** Known good: the verified size (or the start frontier's), where the rollback went before. */
  from: bigint;
  /** The committed frontier's size. */
  fetched: bigint;
  /** `checkpoint`: the one the round failed on. */
  /** The store's frontier at a size, from its tree hashes (store/rollback.ts storedFrontier). */
  stored: (size: bigint) => Promise<CompactRange>;
  /** The log's tiles at the checkpoint's size. */
  read: TileReader;
  /** Milliseconds. */
  now: () => number;
  maxProbes?: number;
  budgetMs?: number;
  /**
   * The log's latest checkpoint, its signature verified, for a second search when every probe against
   * `checkpoint` was bad (see the top of this file); undefined when there is none.
   */
  later?: () => Promise<SignedTree | undefined>;
  /**
   * Told once for what ended the search early: a probe at `size` (a transient error, a store that cannot
   * rebuild), or the request for a later checkpoint (`size` the failed checkpoint's).
   */
  onStop?: (size: bigint, e: unknown) => void;
}

export interface Localised extends SearchOutcome {
  /** The frontier at `size` the tiles authenticated; absent when `size` is `from`. */
  frontier?: CompactRange;
  /** The size of the checkpoint that proved it, when that was a later one than the round failed on. */
  against?: bigint;
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
 * the checkpoint's size is left out: its root is the one that did not match. When every probe was bad, the
 * same against `later`'s checkpoint if it is larger, within what is left of the probes and the time.
 */
export async function localiseRollback(input: LocaliseInput): Promise<Localised> {
  const read = memoTiles(input.read);
  const began = input.now();
  const budget = input.budgetMs ?? LOCALISE_BUDGET_MS;
  const maxProbes = input.maxProbes ?? LOCALISE_MAX_PROBES;
  const expired = () => input.now() - began >= budget;
  const first = await searchAgainst(input, input, read, { maxProbes, expired });
  // Proven somewhere, cut short, or nothing to probe: a later checkpoint would not tell more.
  if (first.size > input.from || first.cut || first.probes === 0 || !input.later || expired()) return first;
  let later: SignedTree | undefined;
  try {
    later = await input.later();
  } catch (e) {
    input.onStop?.(input.checkpoint.size, e);
    return first;
  }
  if (!later || later.checkpoint.size <= input.checkpoint.size) return first;
  const second = await searchAgainst(input, later, read, { maxProbes: maxProbes - first.probes, expired });
  const out = { ...second, probes: first.probes + second.probes };
  return out.frontier ? { ...out, against: later.checkpoint.size } : out;
}

/** One search against `tree` (see localiseRollback): the stored frontier at each boundary against its tiles. */
async function searchAgainst(input: LocaliseInput, tree: SignedTree, read: TileReader, limits: { maxProbes: number; expired: () => boolean }): Promise<Localised> {
  const { checkpoint, note } = tree;
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
      held = await input.stored(size);
    } catch (e) {
      input.onStop?.(size, e);
      return 'stop';
    }
    if (!sameFrontier(held, proven)) return 'bad';
    best = proven;
    return 'good';
  };
  const through = input.fetched < checkpoint.size ? input.fetched : checkpoint.size - 1n;
  const out = await lastGoodBoundary(input.from, through, probe, limits);
  // Only good probes move the answer up, each to a larger size: the last one proven is the answer's.
  return out.size > input.from && best?.size === out.size ? { ...out, frontier: best } : { ...out, size: input.from };
}
