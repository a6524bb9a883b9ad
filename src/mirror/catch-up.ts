/**
 * The catch-up pipeline: fetches, verifies and commits the leaves [frontier.size, checkpoint.size) of one
 * tree (DESIGN.md principle 1; c2sp.md §2.4 steps 2–4). The follower (follower.ts) decides what to catch up
 * to (a verified checkpoint) and from where (its frontier); this is the part that moves entries.
 *
 *   fetch batch k+1 ─┐
 *   batch k: ingestInto (leaf hashes, tile check, decode, monitor) ─▶ values write ─▶ commit point
 *                                                         batch k−1's commit ─┘ (awaited before k's)
 *
 * Every batch commits atomically and in order; the one that reaches the checkpoint's size commits only if
 * the recomputed root equals the signed root, and that commit records the checkpoint as verified. When it
 * does not, the batches before it stay committed here; the follower rolls them back (store/rollback.ts).
 */
import { TlogwatchError, isTlogwatchError } from '../errors.ts';
import type { CompactRange } from '../merkle/compact.ts';
import { TILE_WIDTH } from '../merkle/tiles.ts';
import type { Metrics } from '../metrics.ts';
import type { Checkpoint } from '../note/checkpoint.ts';
import type { SetKey } from '../entries/set.ts';
import { leafCount, releaseLeaves, type LeafBatch } from '../sources/types.ts';
import type { LogState, VerifiedHead } from '../store/codec.ts';
import { PackedPuts } from '../store/packed-puts.ts';
import { rolledBackIn } from '../store/rolled-back-findings.ts';
import type { Store } from '../store/store.ts';
import { bytesEqual } from '../util/bytes.ts';
import { evidence, rootMismatch } from './checkpoint-decision.ts';
import { processGcPacer, type GcPacer } from './gc-pacer.ts';
import { afterIngestCommitted, ingestInto } from './ingest.ts';
import { liveFrom, type PriorObservation } from './observed-live.ts';
import type { FollowConfig, MirrorHooks } from './types.ts';

/** Leaves [start, end) of a tree of `treeSize`, with the log's level-0 tile hashes where it has tiles. */
export type LeafFetcher = (start: bigint, end: bigint, treeSize: bigint) => Promise<LeafBatch>;

export interface CatchUpContext {
  cfg: Pick<FollowConfig, 'name' | 'type' | 'batchSize' | 'pollIntervalMs'>;
  store: Store;
  metrics: Metrics;
  hooks?: MirrorHooks | undefined;
  /** Unix milliseconds. */
  now: () => number;
  /** After the commit that moved the verified checkpoint to `state.verified` (metrics, log state). */
  onVerified: (state: LogState) => void;
  /** After each batch's commit that did not reach the checkpoint (progress before it verifies). */
  onCommitted?: () => void;
  /** Paces full collections between batches (gc-pacer.ts); the process's by default. */
  gcPacer?: GcPacer;
  /** Rekor v1: the log's key, to check every entry's SET (ingest.ts checkEntrySET). */
  setKey?: SetKey | undefined;
  /** The log's size the round before this one saw, and when: which entries are observed live (observed-live.ts). */
  prior?: () => PriorObservation | undefined;
}

const BUNDLE = BigInt(TILE_WIDTH);

/** Leaves per batch: `batchSize`, for tiles logs rounded down to whole entry bundles (at least one). Backfill batches the same way. */
export function batchStep(type: FollowConfig['type'], batchSize: number): bigint {
  return BigInt(type === 'tiles' ? Math.max(TILE_WIDTH, Math.floor(batchSize / TILE_WIDTH) * TILE_WIDTH) : Math.max(1, batchSize));
}

/**
 * The end of the batch that starts at `from`: `batchSize` leaves on, and for tiles logs on a bundle
 * boundary so that each bundle is fetched once (a first batch from a mid-bundle start is shorter).
 */
export function batchEnd(type: FollowConfig['type'], batchSize: number, from: bigint, treeSize: bigint): bigint {
  const step = batchStep(type, batchSize);
  let end = from + step;
  if (type === 'tiles') end -= end % BUNDLE;
  if (end <= from) end = from + step;
  return end > treeSize ? treeSize : end;
}

/**
 * Misbehaviour found in the leaves served for checkpoint `note` (an entry the log will not serve, a body
 * that differs from its level-0 tile, a SET that does not verify) with the signed checkpoints added to its
 * evidence: the one that implies the entry and whose root commits to the tile, and the last verified one.
 * Without them the finding names an index and two hashes that nothing signed ties to the log. As
 * backfill.ts `ingest` does for the batches it fills.
 */
function withCheckpoint(e: unknown, verified: VerifiedHead | undefined, note: string): unknown {
  if (!isTlogwatchError(e) || e.kind !== 'misbehaviour' || 'receivedNote' in e.data) return e;
  return new TlogwatchError(e.code, e.message, { kind: 'misbehaviour', cause: e, data: evidence('catch-up-leaf', verified, note, { ...e.data }) });
}

/**
 * Fetches, verifies and commits [start.size, cp.size) of the current tree, updating `state` (its frontier,
 * status and, at the end, its verified head). Throws misbehaviour (shrink, root mismatch, and whatever
 * ingestInto finds) and transient errors; either way, whatever committed before stays committed.
 */
export async function catchUp(
  ctx: CatchUpContext,
  state: LogState,
  start: CompactRange,
  cp: Checkpoint,
  note: string,
  fetch: LeafFetcher,
  signal?: AbortSignal,
): Promise<void> {
  const { cfg, store, metrics, hooks } = ctx;
  let frontier = start;
  if (frontier.size > cp.size) {
    throw new TlogwatchError('VERIFY_SIZE_SHRANK', `checkpoint size ${cp.size} is below the ${frontier.size} entries already mirrored`, {
      kind: 'misbehaviour',
      data: evidence('shrink', undefined, note, { mirroredSize: frontier.size.toString() }),
    });
  }
  // A pipeline of three stages, so the network, this thread and LevelDB's thread work at once: batch k+1
  // is fetched while batch k is verified and decoded here, and batch k's write runs while batch k+1 is
  // verified (and batch k+1's entry values are written while batch k's commit point is). Order and
  // atomicity are unchanged: each batch still commits in one LevelDB batch, in order,
  // and a batch is committed only after the previous commit succeeded. Verification never waits for a
  // commit (it only needs the frontier, which ingestInto returns), and a failure anywhere first lets
  // the commit in flight finish, so whatever is written after it (a halt) is written last.
  const fetchFrom = (from: bigint) => {
    const end = batchEnd(cfg.type, cfg.batchSize, from, cp.size);
    const p = fetch(from, end, cp.size);
    p.catch(() => undefined); // awaited below; not an unhandled rejection while a commit finishes
    return { from, end, batch: p };
  };
  let inFlight: Promise<void> | undefined;
  let valuesInFlight: Promise<void> | undefined;
  let next = frontier.size < cp.size ? fetchFrom(frontier.size) : undefined;
  // Two pairs of write arenas, alternating: one is being written while the next batch fills the other
  // (a batch is built only after the commit before the previous one has finished).
  const arenas = [
    { values: new PackedPuts(), ops: new PackedPuts() },
    { values: new PackedPuts(), ops: new PackedPuts() },
  ];
  try {
    for (let k = 0; next; k++) {
      if (signal?.aborted) return;
      // The last batch's bodies were copied into LevelDB's write batches and nothing holds them now.
      if (k > 0) (ctx.gcPacer ?? processGcPacer).tick();
      const began = performance.now();
      const batch = await next.batch.catch((e: unknown) => {
        throw withCheckpoint(e, state.verified, note);
      });
      // A fetcher may return fewer leaves than asked (a Rekor v1 batch bounded by bytes: rekor-v1.ts
      // fetchLeaves), never none: the next batch starts where this one ended.
      const fetched = next.from + BigInt(leafCount(batch));
      if (fetched <= next.from || fetched > next.end) {
        releaseLeaves(batch);
        throw new TlogwatchError('SOURCE_MALFORMED', `asked for leaves [${next.from}, ${next.end}), got ${leafCount(batch)}`, { kind: 'transient' });
      }
      next = fetched < cp.size && !signal?.aborted ? fetchFrom(fetched) : undefined;
      const now = Math.floor(ctx.now() / 1000);
      const builder = await store.builder(state, { ...arenas[k % 2]!, ...(hooks?.isWatched ? { isWatched: hooks.isWatched } : {}) });
      // Findings a rollback marked on these entries: the rules see them, and their keys go with this commit.
      const offset = state.shard?.offset ?? 0n;
      const prior = hooks?.onEntries ? await rolledBackIn(store, cfg.name, offset + frontier.size, offset + fetched) : undefined;
      let result;
      try {
        // Judged per batch, at its own ingest time: a long round's later batches may no longer be live.
        const live = liveFrom(ctx.prior?.(), now, cfg.pollIntervalMs);
        result = ingestInto(cfg.name, cfg.type, frontier, batch, now, builder, { treeID: state.shard?.treeID, onEntries: hooks?.onEntries, setKey: ctx.setKey, prior: prior?.findings, liveFrom: live });
      } catch (e) {
        throw withCheckpoint(e, state.verified, note);
      }
      // Its bodies are in the builder's arena now: free the fetched bundles rather than leave them to a full collection.
      releaseLeaves(batch);
      let checkpoint: VerifiedHead | undefined;
      if (result.frontier.size === cp.size) {
        const root = result.frontier.root();
        if (!bytesEqual(root, cp.rootHash)) {
          throw rootMismatch(root, cp, note, state.verified, { fromSize: start.size.toString() });
        }
        checkpoint = { size: cp.size, rootHash: cp.rootHash, note, at: now };
        state.verified = checkpoint;
      }
      state.frontier = result.frontier.serialize();
      state.status = 'following';
      // The commit reads its state later than now: give it this batch's, not the next one's.
      const committed: LogState = { ...state };
      // This batch's values go to the entries database now, alongside the previous batch's commit;
      // commitPrepared waits for them before its commit point (store.ts writeValues).
      valuesInFlight = store.writeValues(builder);
      await inFlight;
      inFlight = store
        .commitPrepared(builder, {
          nodes: [],
          state: committed,
          ...(checkpoint ? { checkpoint } : {}),
          extraOps: [...result.outcomes.flatMap((o) => o.ops), ...(prior?.clear ?? [])],
        })
        .then(() => {
          // The batch that verifies is progress as its checkpoint's time says; noting it again, a second
          // later, would make a mirror waiting on its next checkpoint look as if it had stored entries since.
          if (checkpoint) ctx.onVerified(committed);
          else ctx.onCommitted?.();
          afterIngestCommitted(cfg.name, result, began, metrics, hooks);
        });
      inFlight.catch(() => undefined); // awaited before the next commit and in `finally`
      frontier = result.frontier;
    }
  } finally {
    // Success or not, nothing returns (or goes on to record a halt) while a write is in flight. A
    // failed commit's error wins over a later stage's: it happened first. Values written for a batch
    // that then did not commit are beyond the state: invisible, dropped at the next open.
    await valuesInFlight?.catch(() => undefined);
    if (inFlight) await inFlight;
  }
}
