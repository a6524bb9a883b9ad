/**
 * Backfill: the entries before where a mirror started (`start: latest` or `N`), fetched backwards and
 * verified as strictly as the forward mirror (DESIGN.md principles 1 and 2). The store stays contiguous:
 * it holds [startIndex, fetched), and each batch lowers startIndex.
 *
 *   F(b) = the verified frontier over [0, b), b = startIndex  (LogState.startFrontier, or obtained verified)
 *   while b > target:
 *     a = max(target, b - batch)
 *     C(a) = candidate frontier over [0, a) from the log    (tiles: frontierFromTiles; v1: inclusion proof of a-1)
 *     leaves [a, b) ──ingestInto from C(a)──▶ frontier'    (leaf hashes, level-0 tile check, decoding, tree nodes)
 *     frontier' ≠ F(b) ──▶ misbehaviour: nothing of the batch is committed; the log halts with the evidence
 *     commit entries + indexes + tree nodes + findings + state {startIndex: a, startFrontier: C(a)}, one batch
 *     b = a, F(b) = C(a)
 *
 * Why it is sound. F(b) is authenticated: the forward mirror's verified roots were recomputed from it, or it
 * was verified against a signed checkpoint at bootstrap, or by the batch before. Each node of F(b) is the
 * MTH of a perfect subtree of [0, b) (RFC 9162 §2.1.1), and appending [a, b) to C(a) computes exactly those
 * MTHs from C(a)'s nodes and the new leaf hashes, every one of which is an input of some F(b) node. So when
 * the result equals F(b), a collision-resistant hash pins each leaf hash of [a, b) (hence each body) and
 * each node of C(a): nothing the log served is trusted, and C(a) is the verified frontier of the next
 * batch. Tiles: https://c2sp.org/tlog-tiles (entry bundles, level-0 tiles, the tiles a frontier is read from).
 *
 * Rekor v1: Merkle math is per tree (rekor.md §1.5). Backfill fills the tree the mirror started in (shard
 * seq 0 of this mirror) down to its first leaf, then each tree before it, newest first (backfill-trees.ts):
 * a finished tree has no verified frontier yet, so F(size) is its final signed tree head instead, and the
 * first batch of it must recompute that head's root (which pins every leaf and candidate node as F(b)
 * does), then commits the head as that tree's verified checkpoint.
 */
import { TlogwatchError, isTlogwatchError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { CompactRange } from '../merkle/compact.ts';
import { frontierFromTiles, TILE_WIDTH, type TileReader } from '../merkle/tiles.ts';
import type { Metrics } from '../metrics.ts';
import type { SetKey } from '../entries/set.ts';
import type { NoteVerifier } from '../note/note.ts';
import type { RekorV1Source } from '../sources/rekor-v1.ts';
import { abortableSleep } from '../sources/http.ts';
import type { TilesSource } from '../sources/tiles.ts';
import { releaseLeaves, type FetchedLeaf, type LeafBatch } from '../sources/types.ts';
import { frontierSize, type LogState } from '../store/codec.ts';
import { PackedPuts } from '../store/packed-puts.ts';
import type { CommitBuilder } from '../store/commit-builder.ts';
import { earlierTreesOps, type Store } from '../store/store.ts';
import { frontierNodes } from '../store/tree-hashes.ts';
import { bytesEqual, toBase64, toHex } from '../util/bytes.ts';
import { firstTree, floorOf, refused, treeToFill, validAtTime, type FillTree, type TreeKey } from './backfill-trees.ts';
import { batchStep } from './catch-up.ts';
import { evidence } from './checkpoint-decision.ts';
import { CONFIRM_ROUNDS, restsOnUnsignedBytes } from './confirm-halt.ts';
import { recordHalt } from './halt.ts';
import { processGcPacer } from './gc-pacer.ts';
import { afterIngestCommitted, ingestInto } from './ingest.ts';
import { proofMisbehaviour, proveConsistent, v1FrontierFromProof, verifiedTilesFrontier } from './start-frontier.ts';
import type { FollowConfig, MirrorHooks } from './types.ts';
import { createUpstream } from './upstream.ts';

export interface BackfillDeps {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  verifiers: readonly NoteVerifier[];
  /** Rekor v1: the log's key, to check every entry's signed entry timestamp (trusted-root.ts setKeyForTlog). */
  setKey?: SetKey | undefined;
  /**
   * Rekor v1: every key the trusted root lists for the log (trusted-root.ts rekorV1KeysOf), for the trees
   * before the one the mirror started in (backfill-trees.ts keyForTree); by default `verifiers` and
   * `setKey`, valid at any time.
   */
  keys?: readonly TreeKey[];
  /** The daemon's hooks: rules see backfilled entries; misbehaviour raises `log-integrity`. */
  hooks?: MirrorHooks;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

export interface BackfillOptions {
  /** Virtual index to fill down to: default 0, the log's first entry (BackfillResult.floor at the lowest). */
  to?: bigint;
  /** Leaves per committed batch; default the log's batchSize (tiles: whole 256-entry bundles). */
  batchSize?: number;
  /**
   * Stop: a batch whose leaves are all fetched still commits; the requests in flight are aborted, and the
   * batch they were for is not committed (the run returns `interrupted`, and a rerun fetches it again).
   */
  signal?: AbortSignal;
  /** After each commit: the range just committed, virtual indexes. */
  onBatch?: (p: { log: string; from: bigint; to: bigint; target: bigint }) => void;
}

export interface BackfillResult {
  log: string;
  status: 'complete' | 'nothing-to-do' | 'interrupted';
  /** startIndex before and after this run (virtual). */
  before: bigint;
  after: bigint;
  /** Where this run was to stop (virtual). */
  target: bigint;
  /**
   * The lowest index backfill can reach (backfill-trees.ts floorOf): 0, or for a Rekor v1 log whose trees
   * before the one the mirror started in are not known yet (LogState.priorTrees), that tree's first leaf.
   */
  floor: bigint;
  entries: bigint;
}

/**
 * The batch [a, b) appended to the candidate C(a) gave `frontier`: it must be F(b), the verified frontier
 * there, or for the first batch of a tree entered fresh (no F(b) yet) have the size and root of the tree's
 * final signed head. Otherwise the log serves a history it did not sign: misbehaviour, with the evidence.
 */
function reproduces(tree: FillTree, a: bigint, b: bigint, frontier: CompactRange, verified: CompactRange | undefined, note: string | undefined): void {
  const ok = verified ? bytesEqual(frontier.serialize(), verified.serialize()) : frontier.size === tree.head.size && bytesEqual(frontier.root(), tree.head.rootHash);
  if (ok) return;
  const expected = verified ? verified.root() : tree.head.rootHash;
  const what = verified ? 'the verified frontier there has root' : "the tree's final signed tree head says";
  throw new TlogwatchError(
    'VERIFY_ROOT_MISMATCH',
    `entries [${tree.offset + a}, ${tree.offset + b}) with the log's frontier before them recompute root ${toHex(frontier.root())} for size ${b}, but ${what} ${toHex(expected)}: the log serves a history it did not sign`,
    {
      kind: 'misbehaviour',
      data: evidence('backfill-mismatch', tree.head, note ?? tree.head.note, {
        from: (tree.offset + a).toString(),
        to: (tree.offset + b).toString(),
        ...(tree.treeID ? { treeID: tree.treeID } : {}),
        recomputedRoot: toBase64(frontier.root()),
        ...(verified ? { verifiedStartRoot: toBase64(verified.root()) } : {}),
      }),
    },
  );
}

/** The first Rekor v1 leaf of the batch integrated at a time the tree's key was not valid (backfill-trees.ts validAtTime). */
function integratedOutside(batch: LeafBatch, validity: NonNullable<FillTree['validity']>): FetchedLeaf | undefined {
  if ('bundles' in batch) return undefined;
  return batch.leaves.find((l) => l.integratedTime !== undefined && !validAtTime(validity, l.integratedTime));
}

export class Backfiller {
  readonly cfg: FollowConfig;
  private readonly deps: BackfillDeps;
  private readonly tiles?: TilesSource;
  private readonly v1?: RekorV1Source;
  private readonly now: () => number;
  /**
   * The signal of the run in progress (BackfillOptions.signal), which the sources' requests carry, as the
   * follower's carry its round's: stopping must not wait out a stalled log's timeouts and retries (7
   * attempts of up to 20 s each, with backoff). A batch already fetched still commits (`fill`).
   */
  #runSignal: AbortSignal | undefined;

  constructor(cfg: FollowConfig, deps: BackfillDeps) {
    this.cfg = cfg;
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    const upstream = createUpstream(cfg, deps.metrics, () => this.#runSignal);
    if (upstream.tiles) this.tiles = upstream.tiles;
    if (upstream.v1) this.v1 = upstream.v1;
  }

  /**
   * Fills the log down to `opts.to`. Throws BACKFILL_REFUSED (fatal) when the state does not allow it, a
   * transient error when the log cannot be read (state as committed so far; re-run to resume), and
   * misbehaviour after halting the log.
   */
  async run(opts: BackfillOptions = {}): Promise<BackfillResult> {
    const { store } = this.deps;
    const state = await store.getLogState(this.cfg.name);
    if (!state || state.status === 'bootstrapping') throw refused('not-mirrored', `log ${this.cfg.name} has not been mirrored yet: run tlogwatch serve until it follows the log`);
    if (state.status === 'halted') {
      throw refused('halted', `log ${this.cfg.name} is halted (${state.halt?.code ?? '?'}: ${state.halt?.message ?? ''}); its mirror is not extended until the cause is understood`);
    }
    const floor = floorOf(state, await firstTree(this.cfg, state, this.deps));
    const target = opts.to === undefined || opts.to < floor ? floor : opts.to;
    const result = { log: this.cfg.name, before: state.startIndex, after: state.startIndex, target, floor, entries: 0n };
    if (target >= state.startIndex) return { ...result, status: 'nothing-to-do' };
    this.#runSignal = opts.signal;
    try {
      // One tree at a time, down from the start: each fill ends at the tree's first leaf or at the target.
      let filled = state;
      // Misbehaviour on bytes nobody signed is tried again from the last committed batch, and halts the log
      // only when met CONFIRM_ROUNDS times in a row, as the follower does (confirm-halt.ts).
      let unconfirmed = 0;
      while (filled.startIndex > target && !opts.signal?.aborted) {
        const tree = await treeToFill(this.cfg, filled, this.deps);
        if (!tree) break;
        const before = filled.startIndex;
        try {
          filled = await this.fill(filled, tree, target > tree.offset ? target - tree.offset : 0n, target, opts);
        } catch (e) {
          if (!isTlogwatchError(e) || e.kind !== 'misbehaviour' || !restsOnUnsignedBytes(e) || ++unconfirmed >= CONFIRM_ROUNDS) throw e;
          this.deps.metrics.verificationUnconfirmed.inc({ log: this.cfg.name, reason: e.code });
          this.deps.logger.warn({ log: this.cfg.name, code: e.code, err: e.message, attempt: unconfirmed }, `backfill verification failed on bytes the log did not sign; trying again, the log halts if the next ${CONFIRM_ROUNDS - unconfirmed} attempt(s) fail too`);
          filled = (await store.getLogState(this.cfg.name)) ?? filled;
          await abortableSleep(1000 * unconfirmed, opts.signal).catch(() => undefined);
          continue;
        }
        unconfirmed = 0;
        if (filled.startIndex === before) break;
      }
      return { ...result, after: filled.startIndex, entries: state.startIndex - filled.startIndex, status: filled.startIndex <= target ? 'complete' : 'interrupted' };
    } catch (e) {
      if (isTlogwatchError(e) && e.kind === 'misbehaviour') {
        const latest = (await store.getLogState(this.cfg.name)) ?? state;
        await recordHalt(this.deps, latest, e, Math.floor(this.now() / 1000));
        throw e;
      }
      // Stopped: the requests in flight were aborted on purpose (their batch is not committed, nothing of it
      // is written), and a later run resumes where the last committed batch left the state. Anything else
      // (a store that cannot be written) is said as it is, stopped or not.
      const aborted = opts.signal?.aborted && (e === opts.signal.reason || (isTlogwatchError(e) && e.code.startsWith('SOURCE_')));
      if (!aborted) throw e;
      const after = ((await store.getLogState(this.cfg.name)) ?? state).startIndex;
      return { ...result, after, entries: state.startIndex - after, status: 'interrupted' };
    } finally {
      this.#runSignal = undefined;
    }
  }

  /**
   * Fills `tree` from its tree-local start down to `target` (tree-local), batch by batch; `runTarget` is the
   * run's (virtual), for progress. Returns the state as the last batch committed it.
   */
  private async fill(state: LogState, tree: FillTree, target: bigint, runTarget: bigint, opts: BackfillOptions): Promise<LogState> {
    const { store, metrics, hooks } = this.deps;
    // F(b): the verified frontier at the start; a tree entered fresh has none yet, its final head stands for it.
    let verified = tree.fresh ? undefined : await this.startFrontier(state, tree);
    if (verified && !state.startFrontier) {
      state = { ...state, startFrontier: verified.serialize() };
      await store.putLogState(state);
      this.deps.logger.info({ log: this.cfg.name, start: state.startIndex.toString() }, 'recorded the verified start frontier');
    }
    if (tree.fresh) this.deps.logger.info({ log: this.cfg.name, treeID: tree.treeID, size: tree.head.size.toString() }, 'backfilling the tree before, against its final signed tree head');
    const step = batchStep(this.cfg.type, opts.batchSize ?? this.cfg.batchSize);
    const bundle = BigInt(TILE_WIDTH);
    // Tiles: start batches on bundle boundaries, so each bundle is fetched once.
    const startOf = (b: bigint) => {
      let a = b - step;
      if (this.cfg.type === 'tiles' && a > 0n && a % bundle !== 0n) a += bundle - (a % bundle);
      return a < target ? target : a;
    };
    const fetchFrom = (b: bigint) => {
      const a = startOf(b);
      const fetched = this.fetchRange(tree, a, b);
      fetched.catch(() => undefined); // awaited below; not an unhandled rejection while this batch commits
      return { a, b, fetched };
    };
    // Two stages: the next batch is fetched while this one is verified and committed.
    const arenas = { values: new PackedPuts(), ops: new PackedPuts() }; // reused: each batch commits before the next is built
    let next: ReturnType<typeof fetchFrom> | undefined = opts.signal?.aborted ? undefined : fetchFrom(tree.local);
    for (let k = 0; next; k++) {
      const { a, b } = next;
      // As in the catch-up: the last batch's bodies are in LevelDB's write batches and nothing holds them now.
      if (k > 0) processGcPacer.tick();
      const began = performance.now();
      const { candidate, leaves, note } = await next.fetched;
      next = a > target && !opts.signal?.aborted ? fetchFrom(a) : undefined;
      const now = Math.floor(this.now() / 1000);
      // Read before the leaves are released; judged once the batch is known to be the log's (below).
      const outside = tree.validity ? integratedOutside(leaves, tree.validity) : undefined;
      // As the follower does: each chunk of entries goes into the batch's writes as soon as it is decoded
      // (ingest.ts ingestInto), and the rules' findings count only once the batch has committed.
      const builder = await store.builder(state, { ...arenas, tree: tree.seq, ...(hooks?.isWatched ? { isWatched: hooks.isWatched } : {}) });
      const result = this.ingest(tree, candidate, leaves, now, builder);
      releaseLeaves(leaves); // as the catch-up does: the bodies are in the builder's arena
      reproduces(tree, a, b, result.frontier, verified, note);
      if (outside) {
        const v = tree.validity!.map((p) => `[${p.validFrom?.toISOString() ?? '…'}, ${p.validUntil?.toISOString() ?? '…'}]`).join(', ');
        throw refused('key-not-valid', `entry ${outside.logIndex} of tree ${tree.treeID ?? '?'} was integrated at ${new Date(outside.integratedTime! * 1000).toISOString()}, outside the validity the trusted root gives the key that signed the tree (${v}): that key was not the log's then, so the tree is not backfilled with it`);
      }
      state = { ...state, startIndex: tree.offset + a, startFrontier: candidate.serialize() };
      await store.commitPrepared(builder, {
        // The candidate's nodes are now verified: stored at their own level, proofs can span the new start.
        nodes: frontierNodes(candidate),
        state,
        // A tree before the one the mirror started in: marked in the store's schema, which a tlogwatch that
        // would misplace its keys (one reading schema 3 only) then refuses to open.
        extraOps: [...result.outcomes.flatMap((o) => o.ops), ...(tree.seq < 0 ? earlierTreesOps() : [])],
        // A tree entered fresh: its final head, whose root the batch reproduced, is its verified checkpoint
        // (the API proves its entries against it, signed-tree.ts retiredTree).
        ...(verified ? {} : { checkpoint: tree.head }),
      });
      afterIngestCommitted(this.cfg.name, result, began, metrics, hooks);
      opts.onBatch?.({ log: this.cfg.name, from: tree.offset + a, to: tree.offset + b, target: runTarget });
      verified = candidate;
      if (opts.signal?.aborted) break; // this batch committed; the one prefetched is dropped
    }
    return state;
  }

  /** ingestInto, with the verified checkpoint added to the evidence of a leaf that differs from the log's tile. */
  private ingest(tree: FillTree, candidate: CompactRange, leaves: LeafBatch, now: number, builder: CommitBuilder) {
    try {
      return ingestInto(this.cfg.name, this.cfg.type, candidate, leaves, now, builder, { treeID: tree.treeID, onEntries: this.deps.hooks?.onEntries, setKey: tree.setKey });
    } catch (e) {
      if (!isTlogwatchError(e) || e.kind !== 'misbehaviour') throw e;
      throw new TlogwatchError(e.code, e.message, { kind: 'misbehaviour', cause: e, data: evidence('backfill-leaf', tree.head, tree.head.note, { ...e.data }) });
    }
  }

  /** F(startIndex): recorded in the state, or (stores from before it was) obtained from the log and verified against the store's checkpoint. */
  private async startFrontier(state: LogState, tree: FillTree): Promise<CompactRange> {
    if (state.startFrontier) {
      if (frontierSize(state.startFrontier) !== tree.local) {
        throw new TlogwatchError('STORE_CORRUPT', `the start frontier of ${this.cfg.name} has size ${frontierSize(state.startFrontier)}, its start is leaf ${tree.local}`, { kind: 'fatal' });
      }
      return CompactRange.deserialize(state.startFrontier);
    }
    if (this.tiles) {
      const read: TileReader = (l, n, w) => this.tiles!.fetchTile(l, n, w);
      return verifiedTilesFrontier(tree.local, tree.head, tree.head.note, read, tree.head);
    }
    // Rekor v1: the inclusion proof of leaf startIndex-1 gives the frontier against a checkpoint the log
    // signed; that checkpoint must be the store's verified one or proven consistent with it (RFC 9162 §2.1.4).
    const { frontier, checkpoint: cp, note } = await this.v1Frontier(tree, tree.local);
    const head = tree.head;
    if (cp.size === head.size) {
      if (!bytesEqual(cp.rootHash, head.rootHash)) {
        throw new TlogwatchError('VERIFY_FORK', `two different roots signed for size ${cp.size}`, { kind: 'misbehaviour', data: evidence('fork', head, note) });
      }
      return frontier;
    }
    const [first, last] = cp.size < head.size ? [cp, head] : [head, cp];
    await proveConsistent(this.v1!, tree.treeID!, first, last, `the checkpoint of size ${cp.size} that proves the start frontier is not consistent with the verified checkpoint ${head.size}`, head, note);
    return frontier;
  }

  private async v1Frontier(tree: FillTree, local: bigint) {
    try {
      return await v1FrontierFromProof(this.v1!, tree.verifiers, tree.origin, tree, local);
    } catch (e) {
      throw proofMisbehaviour(e, 'VERIFY_BAD_CHECKPOINT', `entry ${tree.offset + local - 1n}'s inclusion proof does not verify against the checkpoint it comes with`, evidence('bad-inclusion-proof', tree.head, tree.head.note, { index: (tree.offset + local - 1n).toString() }));
    }
  }

  /** The candidate frontier over [0, a) and the leaves [a, b) of the tree, unverified. */
  private async fetchRange(tree: FillTree, a: bigint, b: bigint): Promise<{ candidate: CompactRange; leaves: LeafBatch; note?: string }> {
    if (this.tiles) {
      const src = this.tiles;
      const read: TileReader = (l, n, w) => src.fetchTile(l, n, w);
      const candidate = (async () => {
        if (a === 0n) return CompactRange.empty();
        try {
          return await frontierFromTiles(a, tree.head.size, read);
        } catch (e) {
          throw proofMisbehaviour(e, 'VERIFY_TILE_MISMATCH', `the log's tiles for the frontier at ${a} are malformed`, evidence('backfill-tiles', tree.head, tree.head.note, { start: a.toString() }));
        }
      })();
      const [c, leaves] = await Promise.all([candidate, src.fetchLeaves(a, b, tree.head.size)]);
      return { candidate: c, leaves };
    }
    const src = this.v1!;
    const [proven, leaves] = await Promise.all([a === 0n ? undefined : this.v1Frontier(tree, a), src.fetchLeaves(tree.offset + a, tree.offset + b, tree.offset)]);
    return { candidate: proven?.frontier ?? CompactRange.empty(), leaves: { leaves }, ...(proven ? { note: proven.note } : {}) };
  }
}
