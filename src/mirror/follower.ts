/**
 * One log's mirror loop (DESIGN.md principles 1 and 2; c2sp.md §2.4):
 *
 *   poll checkpoint ─verify signature, origin, size─▶ decide (unchanged | grow | misbehaviour)
 *        grow: catch up (catch-up.ts): fetch leaves [frontier, size) in batches ─▶ ingestInto (hash,
 *              tile check, decode) ─▶ commit entries + indexes + tree hashes + frontier + state in one
 *              batch; the batch that reaches the checkpoint's size commits only if the recomputed root
 *              equals the signed root, and then records the checkpoint as verified.
 *        root mismatch: roll back the entries committed beyond the verified checkpoint (store/rollback.ts);
 *              a tiles log only from the first entry bundle its tiles do not prove (localise-rollback.ts).
 *        misbehaviour: halt at the last verified state, store a finding with the evidence, keep polling;
 *              on bytes the log did not sign, only once 3 rounds in a row meet it (confirm-halt.ts).
 *
 * Transient errors (timeouts, 5xx, garbage) end the round without changing state; the next poll retries.
 */
import { TlogwatchError, describeError, isTlogwatchError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { CompactRange } from '../merkle/compact.ts';
import { frontierFromTiles, type TileReader } from '../merkle/tiles.ts';
import { setLogState, type Metrics } from '../metrics.ts';
import type { Checkpoint } from '../note/checkpoint.ts';
import type { NoteVerifier } from '../note/note.ts';
import { shardOrigin } from '../note/rekor-v1-origin.ts';
import type { SetKey } from '../entries/set.ts';
import { abortableSleep } from '../sources/http.ts';
import { BATCH_MAX_BYTES, type RekorV1Source, type ShardHead } from '../sources/rekor-v1.ts';
import type { TilesSource } from '../sources/tiles.ts';
import { fetchedSize, frontierSize, logPhase, mirrorSizes, type LogState, type ShardPosition } from '../store/codec.ts';
import { rollBackTree, storedFrontier, unverifiedFrom } from '../store/rollback.ts';
import type { Store } from '../store/store.ts';
import { writeFailedError } from '../store/write-fault.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';
import { catchUp, type CatchUpContext } from './catch-up.ts';
import { priorObservation, type PriorObservation } from './observed-live.ts';
import { newestCosignatures } from './witness-history.ts';
import { decideCheckpoint, evidence, rootMismatch } from './checkpoint-decision.ts';
import { describeCosignatures, type Cosignatures, type WitnessPolicy } from '../note/witness-policy.ts';
import type { GcPacer } from './gc-pacer.ts';
import { CONFIRM_ROUNDS, implicatesCommitted, restsOnUnsignedBytes } from './confirm-halt.ts';
import { recordHalt } from './halt.ts';
import { LOCALISE_BUDGET_MS, localiseRollback } from './localise-rollback.ts';
import { proofMisbehaviour, proveConsistent, v1FrontierFromProof, verifiedTilesFrontier } from './start-frontier.ts';
import type { FollowConfig, MirrorHooks, TransientFault } from './types.ts';
import { createUpstream } from './upstream.ts';

export interface FollowerDeps {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  verifiers: readonly NoteVerifier[];
  /** Rekor v1: the log's key, to check every entry's signed entry timestamp (trusted-root.ts setKeyForTlog). */
  setKey?: SetKey | undefined;
  hooks?: MirrorHooks;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
  /** Paces full collections between catch-up batches; the process's (gc-pacer.ts) by default. */
  gcPacer?: GcPacer;
}

export type RoundOutcome = 'unchanged' | 'advanced' | 'halted' | 'transient-error';

/** What a rollback dropped: `entries` from virtual index `from`, and `kept` entries beyond the verified checkpoint it did not. */
interface RolledBack {
  entries: bigint;
  from: bigint;
  kept: bigint;
}

export class LogFollower {
  readonly cfg: FollowConfig;
  private readonly deps: FollowerDeps;
  #fault: TransientFault | undefined;
  /** Rounds in a row that met misbehaviour resting on unsigned bytes, not yet enough to halt (confirm-halt.ts). */
  #unconfirmed = 0;
  #storedAt: number | undefined;
  /** The last checkpoint whose cosignatures were counted (metrics count each checkpoint once, not each poll). */
  #lastWitnessed: string | undefined;
  /** The state the latest round worked on while the store held none for the log (it never bootstrapped). */
  #unstored: LogState | undefined;
  /** Whether the latest round found the log's state in the store; undefined before the first round. */
  #storeHeld: boolean | undefined;
  /** Whether the gauges show the stored state yet (restoreMetrics, or the first round). */
  #restored = false;
  /**
   * The signal of the round in progress, which the sources' requests carry. Stopping the daemon must not
   * wait out a stalled log's timeouts and retries (7 attempts of up to 20 s each, with backoff): that
   * outlasts a supervisor's grace period before SIGKILL. A batch already fetched still commits (catch-up.ts).
   */
  #roundSignal: AbortSignal | undefined;
  /** The log's size as the round in progress found it recorded (before it polls), for observed-live.ts. */
  #prior: PriorObservation | undefined;
  /** The checkpoint a tiles round catches up to, and its note: what a rollback's probes authenticate against. */
  #roundCheckpoint: { checkpoint: Checkpoint; note: string } | undefined;
  private readonly tiles?: TilesSource;
  private readonly v1?: RekorV1Source;
  private readonly now: () => number;
  private readonly catchUpContext: CatchUpContext;

  constructor(cfg: FollowConfig, deps: FollowerDeps) {
    this.cfg = cfg;
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.catchUpContext = { cfg, store: deps.store, metrics: deps.metrics, hooks: deps.hooks, now: this.now, onVerified: (state) => this.afterVerified(state), onCommitted: () => (this.#storedAt = Math.floor(this.now() / 1000)), setKey: deps.setKey, prior: () => this.#prior, ...(deps.gcPacer ? { gcPacer: deps.gcPacer } : {}) };
    // A log with a witness policy has the series from the start at 0, so a first unwitnessed checkpoint is an increase.
    if (cfg.witnesses) deps.metrics.checkpointsUnwitnessed.inc({ log: cfg.name }, 0);
    deps.metrics.entriesRolledBack.inc({ log: cfg.name }, 0);
    const upstream = createUpstream(cfg, deps.metrics, () => this.#roundSignal);
    if (upstream.tiles) this.tiles = upstream.tiles;
    if (upstream.v1) this.v1 = upstream.v1;
  }

  private get log(): Logger {
    return this.deps.logger;
  }

  /** Unix seconds of the last batch of entries this follower committed (progress between verified checkpoints). */
  get lastStoredAt(): number | undefined {
    return this.#storedAt;
  }

  /** Set while rounds end in transient errors (state kept, retried); cleared by the next round that succeeds. */
  get transientFault(): Readonly<TransientFault> | undefined {
    return this.#fault;
  }

  /**
   * What the latest round saw of a log the store holds no state of (it has not bootstrapped: a witness policy
   * no checkpoint meets, a start beyond the log's size, an upstream that never answered): its configured
   * name, type, url and origin, the upstream size once a round has seen one, and where it is to start, so
   * the daemon judges a stall on it as on any other log (daemon.ts stallOf) and /v1/logs lists it. Before
   * the first round has read the store, the log as configured (readers ask the store first: logStateOf).
   * Undefined once the store holds the log's state.
   */
  get unstoredState(): Readonly<LogState> | undefined {
    const s = this.#storeHeld === undefined ? this.initialState() : this.#unstored;
    if (!s) return undefined;
    // Where it starts once it bootstraps: `latest` is the size it would start at now. Before any size is
    // seen that is unknown, and nothing reads it (mirrorSizes' lag, /v1/logs' mirroredFrom need the size).
    const startIndex = this.cfg.start === 'latest' ? s.upstream?.size : this.cfg.start;
    return startIndex === undefined ? s : { ...s, startIndex };
  }

  private noteFault(e: unknown): void {
    const code = isTlogwatchError(e) ? e.code : 'INTERNAL';
    // Bounded for /v1/logs, with room for a root mismatch's two hashes, the confirm count and a rollback.
    const message = (e instanceof Error ? e.message : String(e)).slice(0, 500);
    this.#fault = { code, message, at: Math.floor(this.now() / 1000), rounds: (this.#fault?.rounds ?? 0) + 1 };
  }

  /** Polls until `signal` aborts; the current batch always finishes and commits first. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const began = performance.now();
      const outcome = await this.round(signal).catch((e: unknown) => {
        this.log.error({ log: this.cfg.name, err: describeError(e) }, 'round failed unexpectedly');
        this.noteFault(e);
        return 'transient-error' as const;
      });
      if (signal.aborted) break;
      // After a round that advanced, poll again once a poll interval has passed since it began: at once after
      // a catch-up that took that long (the log has moved on meanwhile). Not at once after every advance: a
      // log with a new checkpoint at every poll (a busy one) was then polled round after round, each round
      // verifying one more checkpoint and adding it to the history, dozens a second over a fast link.
      const wait = outcome === 'advanced' ? this.cfg.pollIntervalMs - (performance.now() - began) : this.cfg.pollIntervalMs;
      if (wait > 0) await abortableSleep(wait, signal).catch(() => undefined);
    }
  }

  async round(signal?: AbortSignal): Promise<RoundOutcome> {
    const { store } = this.deps;
    // A write failed with an I/O error (a full disk): LevelDB refuses writes until the store is reopened.
    const fault = store.writeFault;
    if (fault) {
      if (!(await store.recover())) {
        const f = store.writeFault ?? fault;
        const e = writeFailedError(f);
        // Every round says so in /v1/logs, /readyz and the metrics; the log gets the first and then every 100th.
        const level = f.attempts <= 1 || f.attempts % 100 === 0 ? 'warn' : 'debug';
        this.log[level]({ log: this.cfg.name, err: describeError(e), attempts: f.attempts }, 'the store cannot be written yet; state kept, will retry');
        this.noteFault(e);
        return 'transient-error';
      }
      this.log.info({ log: this.cfg.name, since: new Date(fault.at * 1000).toISOString() }, 'store reopened after a write fault; mirroring resumes');
    }
    this.#roundSignal = signal;
    this.#roundCheckpoint = undefined;
    const stored = await store.getLogState(this.cfg.name);
    // What the store holds shows from the first round, whatever that round meets.
    if (!this.#restored) {
      if (stored) this.afterVerified(stored);
      await this.restoreWitnesses(stored).catch((e: unknown) => this.log.warn({ log: this.cfg.name, err: describeError(e) }, "the witnesses' cosignatures could not be read from the checkpoint history; rounds set them as they poll"));
    }
    this.#restored = true;
    const state = stored ?? this.initialState();
    // Not bootstrapped, the size seen last stays the log's latest seen (as a stored state's does) when this
    // round sees none: a stall is judged on it, and a round that cannot reach the log does not end it.
    if (!stored && this.#unstored?.upstream) state.upstream = this.#unstored.upstream;
    this.#unstored = stored ? undefined : state;
    this.#storeHeld = stored !== undefined;
    // A halt is sticky across restarts: every round says so.
    if (state.status === 'halted') setLogState(this.deps.metrics, this.cfg.name, 'halted');
    try {
      // Taken before this round's poll overwrites it (observeUpstream): entries beyond it are new since then.
      this.#prior = priorObservation(state.upstream, fetchedSize(state));
      const outcome = this.cfg.type === 'tiles' ? await this.roundTiles(state, signal) : await this.roundV1(state, signal);
      this.#fault = undefined;
      this.#unconfirmed = 0;
      return outcome;
    } catch (e) {
      if (isTlogwatchError(e) && e.kind === 'misbehaviour') {
        // One halt, one finding: a halted log that still misbehaves keeps its first evidence.
        if (state.status === 'halted') {
          await this.deps.store.putLogState(state);
          this.log.debug({ log: this.cfg.name, code: e.code }, 'halted log still misbehaving');
          return 'halted';
        }
        // Either way, entries the failure may rest on are not kept past the verified checkpoint: the next
        // round fetches them again, and a halt holds the log at its last verified state. A round that does
        // not halt keeps those a tiles log's tiles prove to be the log's (localise-rollback.ts).
        const confirming = restsOnUnsignedBytes(e) && this.#unconfirmed + 1 < CONFIRM_ROUNDS;
        const rolledBack = await this.rollBackUnverified(state, e, confirming);
        if (confirming) return this.unconfirmed(e, rolledBack);
        try {
          await this.halt(state, e);
        } catch (w) {
          // The halt could not be written (a full disk): the log is not halted yet, and the round ends as any
          // round the store refuses, the store reopened by the next. That round halts at once if it meets the
          // failure again, confirmed or signed as it is now, rather than count its confirmation from 0.
          if (!isTlogwatchError(w, 'STORE_WRITE_FAILED')) throw w;
          this.#unconfirmed = CONFIRM_ROUNDS - 1;
          this.log.error({ log: this.cfg.name, code: e.code, err: describeError(w) }, `the log misbehaved (${e.code}) but its halt could not be written; the next round halts it if it meets the same`);
          this.noteFault(w);
          return 'transient-error';
        }
        this.#unconfirmed = 0;
        return 'halted';
      }
      // Stopped: the requests in flight were aborted on purpose, and the next run starts where this one committed.
      if (signal?.aborted) return 'transient-error';
      this.log.warn({ log: this.cfg.name, err: describeError(e) }, 'round ended by a transient error; state kept, will retry');
      this.noteFault(e);
      return 'transient-error';
    }
  }

  /**
   * Sets the log's gauges from its stored state, for a daemon to await before it serves /metrics. Rounds
   * set them only when something moves (a new checkpoint seen or verified, a halt), so without this a
   * restarted daemon whose log is unchanged upstream, or unreachable, would report it `bootstrapping`
   * with no verified size and no last-verified time (the staleness alert's input) until the log grows.
   */
  async restoreMetrics(): Promise<void> {
    const stored = await this.deps.store.getLogState(this.cfg.name);
    if (stored) this.afterVerified(stored);
    await this.restoreWitnesses(stored);
    this.#restored = true;
  }

  /**
   * Every configured witness's series from the start, so that one that stopped cosigning before a restart is
   * compared with the others (TlogwatchWitnessCosignatureStale) rather than missing: its newest cosignature
   * the store holds (witness-history.ts), or 0 when it holds none, older than any real one, which fires the
   * alert while another witness cosigns the log. Rounds set them from each new checkpoint they poll.
   */
  private async restoreWitnesses(stored: Readonly<LogState> | undefined): Promise<void> {
    const policy = this.cfg.witnesses;
    if (!policy) return;
    const { newest, scanned } = stored ? await newestCosignatures(this.deps.store, stored, policy) : { newest: new Map<string, bigint>(), scanned: 0 };
    for (const w of policy.witnesses) this.deps.metrics.witnessCosignatureTimestamp.set({ log: this.cfg.name, witness: w.name }, Number(newest.get(w.name) ?? 0n));
    const none = policy.witnesses.filter((w) => !newest.has(w.name)).map((w) => w.name);
    if (none.length && newest.size) this.log.warn({ log: this.cfg.name, witnesses: none, scanned }, 'no valid cosignature of these witnesses among the checkpoints kept (the newest, up to a day before it): they show as cosigning at 0');
  }

  private initialState(): LogState {
    return {
      name: this.cfg.name,
      type: this.cfg.type,
      url: this.cfg.url,
      origin: this.cfg.origin,
      status: 'bootstrapping',
      frontier: CompactRange.empty().serialize(),
      startIndex: 0n,
    };
  }

  /** Records the log's signed size, `virtualSize` (a Rekor v1 tree's offset included), and shows it. */
  private observeUpstream(state: LogState, virtualSize: bigint): void {
    state.upstream = { size: virtualSize, at: Math.floor(this.now() / 1000) };
    this.publishSizes(state);
  }

  /** The upstream size and lag gauges, as /v1/logs gives them (codec.ts mirrorSizes). */
  private publishSizes(state: Readonly<LogState>): void {
    const m = this.deps.metrics;
    const { upstream, lag } = mirrorSizes(state);
    if (upstream !== undefined) m.upstreamTreeSize.set({ log: this.cfg.name }, Number(upstream));
    if (lag !== undefined) m.mirrorLagEntries.set({ log: this.cfg.name }, Number(lag));
  }

  /**
   * A round that met misbehaviour resting on bytes nobody signed, fewer rounds in a row than halt on it
   * (confirm-halt.ts): the state stays as committed, as after a transient error (less the entries
   * `rollBackUnverified` dropped), and the next round fetches everything again.
   */
  private unconfirmed(e: TlogwatchError, rolledBack: RolledBack): RoundOutcome {
    this.#unconfirmed++;
    this.deps.metrics.verificationUnconfirmed.inc({ log: this.cfg.name, reason: e.code });
    const left = CONFIRM_ROUNDS - this.#unconfirmed;
    this.log.warn({ log: this.cfg.name, code: e.code, err: e.message, round: this.#unconfirmed }, `verification failed on bytes the log did not sign; the log halts if the next ${left} round(s) fail too`);
    const kept = rolledBack.kept > 0n ? ` (from entry ${rolledBack.from}: the ${rolledBack.kept} before it, which the log's tiles prove, are kept)` : '';
    const dropped = rolledBack.entries > 0n ? `; ${rolledBack.entries} entries fetched beyond the verified checkpoint were rolled back${kept}, to be fetched again` : '';
    this.noteFault(new TlogwatchError(e.code, `${e.message} (not yet confirmed: ${this.#unconfirmed} round(s) in a row; the log halts if the next ${left} fail too${dropped})`, { kind: 'transient' }));
    return 'transient-error';
  }

  /**
   * After a failure that may rest on entries already committed beyond the verified checkpoint (confirm-halt.ts
   * implicatesCommitted), rolls the current tree back to where it was last verified (store/rollback.ts
   * unverifiedFrom), so that no round resumes from a frontier holding an entry that is not the log's, and no
   * such entry stays indexed; with `localise`, a tiles log only to the last entry bundle boundary its tiles
   * prove (`localised`). Reads the state as committed (`state` may hold a batch that never was) and moves
   * `state`'s frontier with it. Returns how many entries were dropped, from which virtual index, and how
   * many beyond the verified checkpoint were kept. A rollback that fails (a write fault, a damaged store) is
   * said and left for the next round, which meets the same root and tries again.
   */
  private async rollBackUnverified(state: LogState, e: TlogwatchError, localise: boolean): Promise<RolledBack> {
    const none: RolledBack = { entries: 0n, from: 0n, kept: 0n };
    if (!implicatesCommitted(e) || state.status === 'halted') return none;
    const { store, metrics } = this.deps;
    try {
      const stored = await store.getLogState(this.cfg.name);
      if (!stored || stored.status === 'halted') return none;
      const verified = unverifiedFrom(stored);
      const to = localise ? await this.localised(stored, verified) : verified;
      const { state: rolled, entries } = await rollBackTree(store, stored, to, { mark: { at: Math.floor(this.now() / 1000), reason: e.code } });
      if (entries === 0n) return none;
      state.frontier = rolled.frontier;
      metrics.entriesRolledBack.inc({ log: this.cfg.name }, Number(entries));
      const offset = stored.shard?.offset ?? 0n;
      const kept = to.size - verified.size;
      this.log.warn(
        { log: this.cfg.name, code: e.code, entries: entries.toString(), from: (offset + to.size).toString(), to: fetchedSize(stored).toString(), kept: kept.toString() },
        `rolled back ${entries} entries fetched beyond the verified checkpoint: the root recomputed over them is not the signed one, so they are dropped (with their index keys) and fetched again` +
          (kept > 0n ? `; the ${kept} before them, which the log's tiles prove, are kept` : ''),
      );
      return { entries, from: offset + to.size, kept };
    } catch (err) {
      this.log.warn({ log: this.cfg.name, err: describeError(err) }, 'could not roll back the entries fetched beyond the verified checkpoint; the next round tries again');
      // Cut short between two of its steps, the rollback moved the frontier part of the way: a halt must not
      // write the one from before back over entries already dropped.
      const now = await store.getLogState(this.cfg.name).catch(() => undefined);
      if (now) state.frontier = now.frontier;
      return none;
    }
  }

  /**
   * Where a tiles log's rollback goes instead of `to` (the verified size): the last entry bundle boundary up
   * to the committed frontier at which the store's frontier is the one the log's tiles prove against the
   * checkpoint the round failed on, or against the log's latest one when every probe against that one was bad
   * (localise-rollback.ts), with that frontier. `to` for a Rekor v1 log (no
   * tiles; its entries' SETs are checked at ingest), and when no boundary is proven. The probes' requests
   * carry the round's signal and a time budget, so a log that stalls cannot hold the round for long.
   */
  private async localised(stored: LogState, to: { size: bigint; frontier?: CompactRange }): Promise<{ size: bigint; frontier?: CompactRange }> {
    const signed = this.#roundCheckpoint;
    if (this.cfg.type !== 'tiles' || !signed) return to;
    const src = this.tiles!;
    const outer = this.#roundSignal;
    const budget = AbortSignal.timeout(LOCALISE_BUDGET_MS);
    this.#roundSignal = outer ? AbortSignal.any([outer, budget]) : budget;
    try {
      const out = await localiseRollback({
        from: to.size,
        fetched: frontierSize(stored.frontier),
        ...signed,
        stored: (size) => storedFrontier(this.deps.store, stored, size),
        read: (l, n, w) => src.fetchTile(l, n, w),
        later: async () => {
          // The log's signature is what a probe needs (a signed root); the witnesses' are for verifying up to it,
          // which a probe never does. A checkpoint that contradicts the verified one is the next round's to halt on.
          const verified = stored.verified && { size: stored.verified.size, rootHash: stored.verified.rootHash, note: stored.verified.note };
          const d = decideCheckpoint(await src.fetchCheckpoint(), this.cfg.origin, this.deps.verifiers, verified);
          return d.action === 'grow' ? { checkpoint: d.checkpoint, note: d.note } : undefined;
        },
        now: () => performance.now(),
        onStop: (size, err) => this.log.warn({ log: this.cfg.name, size: size.toString(), err: describeError(err) }, 'a probe for where the bad entries start failed; the rollback goes to the last size proven'),
      });
      this.log.info(
        { log: this.cfg.name, to: out.size.toString(), verified: to.size.toString(), probes: out.probes, ...(out.cut ? { cut: out.cut } : {}), ...(out.against ? { against: out.against.toString() } : {}) },
        'searched the log\'s tiles for the first entry bundle that is not the log\'s',
      );
      return out.frontier ? { size: out.size, frontier: out.frontier } : to;
    } finally {
      this.#roundSignal = outer;
    }
  }

  private async halt(state: LogState, e: TlogwatchError): Promise<void> {
    await recordHalt(this.deps, state, e, Math.floor(this.now() / 1000));
  }

  // ------------------------------------------------------------------ tiles

  private async roundTiles(state: LogState, signal?: AbortSignal): Promise<RoundOutcome> {
    const src = this.tiles!;
    const received = await src.fetchCheckpoint();
    const verifiedHead = state.verified && { size: state.verified.size, rootHash: state.verified.rootHash, note: state.verified.note };
    const decision = decideCheckpoint(received, this.cfg.origin, this.deps.verifiers, verifiedHead, this.cfg.witnesses);
    // From here on the note is the one kept (its verified lines only), in the history, the state and any evidence.
    const note = decision.note;
    this.#roundCheckpoint = { checkpoint: decision.checkpoint, note };
    this.observeUpstream(state, decision.checkpoint.size);
    if (state.status === 'halted') {
      await this.deps.store.putLogState(state);
      return 'halted';
    }
    if (decision.action === 'grow' && this.cfg.witnesses) await this.requireWitnessed(state, received, decision.checkpoint.size, this.cfg.witnesses, decision.cosignatures!);
    let frontier = CompactRange.deserialize(state.frontier);
    if (state.status === 'bootstrapping') {
      frontier = await this.bootstrapTiles(state, decision.checkpoint, note);
      if (state.verified?.size === decision.checkpoint.size) return 'advanced';
    }
    if (frontier.size === decision.checkpoint.size && state.verified?.size !== decision.checkpoint.size) {
      await this.verifyFrontierAt(state, frontier, decision.checkpoint, note);
      return 'advanced';
    }
    // Past this checkpoint already: batches fetched under a larger one whose root a transient error kept the
    // round from reaching, and now an older checkpoint is served (a cache, a replica behind; the verified one
    // again, even). That is no shrink: decideCheckpoint found nothing verified contradicted. Wait for one that
    // covers them, as the Rekor v1 round does; its root check covers every entry fetched.
    if (frontier.size >= decision.checkpoint.size) {
      await this.deps.store.putLogState(state);
      setLogState(this.deps.metrics, this.cfg.name, logPhase(state));
      return 'unchanged';
    }
    await catchUp(this.catchUpContext, state, frontier, decision.checkpoint, note, (start, end, size) => src.fetchLeaves(start, end, size), signal);
    return 'advanced';
  }

  /**
   * A log with a witness policy is verified only up to checkpoints a quorum of its witnesses cosigned
   * (note/witness-policy.ts). One short of it is not misbehaviour (witnesses lag, or are down): the round
   * ends as a transient fault that says who did not cosign, the log's size is recorded (so lag, and after
   * `stalledAfter` a mirror-stalled finding, show the wait), and the next poll tries again.
   */
  private async requireWitnessed(state: LogState, note: string, size: bigint, policy: WitnessPolicy, c: Cosignatures): Promise<void> {
    const first = note !== this.#lastWitnessed;
    this.#lastWitnessed = note;
    if (first) for (const v of c.valid) this.deps.metrics.witnessCosignatureTimestamp.set({ log: this.cfg.name, witness: v.witness }, Number(v.timestamp));
    if (c.witnessed) return;
    if (first) this.deps.metrics.checkpointsUnwitnessed.inc({ log: this.cfg.name });
    if (state.status !== 'bootstrapping') await this.deps.store.putLogState(state);
    throw new TlogwatchError('VERIFY_UNWITNESSED', `checkpoint ${size} is ${describeCosignatures(c, policy)}: not verified up to, waiting for a cosigned one`, {
      kind: 'transient',
      data: { size: size.toString(), valid: c.valid.map((v) => v.witness), missing: c.missing, invalid: c.invalid, quorum: policy.quorum },
    });
  }

  /** Frontier at the start position, from tiles; at `latest` it is verified against the checkpoint at once. */
  private async bootstrapTiles(state: LogState, cp: Checkpoint, note: string): Promise<CompactRange> {
    const src = this.tiles!;
    const want = this.cfg.start === 'latest' ? cp.size : this.cfg.start;
    if (want > cp.size) throw new TlogwatchError('CONFIG_INVALID', `start ${want} is beyond the log's size ${cp.size}`, { kind: 'transient' });
    const read: TileReader = (l, n, w) => src.fetchTile(l, n, w);
    // At `latest` the root comparison below authenticates the frontier; below the checkpoint, a
    // consistency proof from the same tiles must take the frontier's root to the checkpoint's, so a
    // mirror started at N never trusts a tile it has not checked (c2sp.md tiles; RFC 9162 §2.1.4.2).
    const frontier = want === 0n ? CompactRange.empty() : want === cp.size ? await frontierFromTiles(want, cp.size, read) : await verifiedTilesFrontier(want, cp, note, read);
    state.status = 'following';
    state.startIndex = want;
    state.frontier = frontier.serialize();
    // What `backfill` extends backwards from (at `latest` it commits only after the root check below).
    state.startFrontier = state.frontier;
    let checkpoint;
    if (want === cp.size) {
      if (!bytesEqual(frontier.root(), cp.rootHash)) {
        throw rootMismatch(frontier.root(), cp, note, undefined, {}, "the log's tiles give root");
      }
      checkpoint = state.verified = { size: cp.size, rootHash: cp.rootHash, note, at: Math.floor(this.now() / 1000) };
    }
    await this.deps.store.commitBatch({ entries: [], nodes: [], state, ...(checkpoint ? { checkpoint } : {}) });
    this.afterVerified(state);
    this.log.info({ log: this.cfg.name, start: want.toString(), size: cp.size.toString() }, 'bootstrapped frontier from tiles');
    return frontier;
  }

  /** The frontier already covers the checkpoint (e.g. right after bootstrapping): verify its root and record it. */
  private async verifyFrontierAt(state: LogState, frontier: CompactRange, cp: Checkpoint, note: string): Promise<void> {
    if (!bytesEqual(frontier.root(), cp.rootHash)) {
      throw rootMismatch(frontier.root(), cp, note, state.verified);
    }
    const checkpoint = { size: cp.size, rootHash: cp.rootHash, note, at: Math.floor(this.now() / 1000) };
    state.verified = checkpoint;
    await this.deps.store.commitBatch({ entries: [], nodes: [], state, checkpoint });
    this.afterVerified(state);
  }

  private afterVerified(state: Readonly<LogState>): void {
    const m = this.deps.metrics;
    const offset = state.shard?.offset ?? 0n;
    if (state.verified) {
      m.verifiedTreeSize.set({ log: this.cfg.name }, Number(state.verified.size + offset));
      m.lastVerifiedCheckpointTimestamp.set({ log: this.cfg.name }, state.verified.at);
    }
    this.publishSizes(state);
    setLogState(m, this.cfg.name, logPhase(state));
  }

  // ------------------------------------------------------------------ Rekor v1

  private originOf(treeID: string): string {
    return shardOrigin(this.cfg.origin, treeID);
  }

  /** Trees oldest first with their virtual offsets; the last is the active one. */
  private static trees(info: { inactiveShards: ShardHead[] } & ShardHead): Array<ShardHead & { offset: bigint; active: boolean }> {
    let offset = 0n;
    const out: Array<ShardHead & { offset: bigint; active: boolean }> = [];
    for (const s of info.inactiveShards) {
      out.push({ ...s, offset, active: false });
      offset += s.treeSize;
    }
    out.push({ ...info, offset, active: true });
    return out;
  }

  private async roundV1(state: LogState, signal?: AbortSignal): Promise<RoundOutcome> {
    const src = this.v1!;
    const info = await src.fetchLogInfo();
    const trees = LogFollower.trees(info);
    // A tree is listed once (Rekor's sharding config names each once). Listed twice, retired and active, the
    // round below finished the retired copy and moved on to the active one as a next tree, writing that
    // move (its frontier emptied, its verified head dropped) before the halt it then came to.
    const listed = new Set<string>();
    for (const t of trees) {
      if (listed.has(t.treeID)) {
        throw new TlogwatchError('VERIFY_BAD_CHECKPOINT', `LogInfo lists tree ${t.treeID} more than once`, {
          kind: 'misbehaviour',
          data: evidence('shard-listed-twice', state.verified, info.signedTreeHead, { treeID: t.treeID }),
        });
      }
      listed.add(t.treeID);
    }
    // The log's size shows from the first round, also while the mirror bootstraps or catches up a tree before
    // the active one (from --start 0, hours): the loop below observes the active tree only once it gets there.
    if (state.status !== 'halted' && state.shard?.treeID !== trees[trees.length - 1]!.treeID) this.observeActiveTree(state, trees[trees.length - 1]!);
    if (state.status === 'bootstrapping') await this.bootstrapV1(state, trees);
    // Halted before bootstrapping placed it in a tree (the proof its start frontier comes from did not
    // verify): there is no tree to follow, but the halt stands and polling still tracks the log's size, as
    // for any halted log, from the active tree's head checked as every head is.
    if (state.status === 'halted' && !state.shard) {
      const active = trees[trees.length - 1]!;
      const { checkpoint } = decideCheckpoint(active.signedTreeHead, this.originOf(active.treeID), this.deps.verifiers, undefined, undefined, active.offset);
      this.observeUpstream(state, active.offset + checkpoint.size);
      await this.deps.store.putLogState(state);
      return 'halted';
    }
    // Kept with the state's next write, which every round makes (stores bootstrapped before it get it too).
    // Trees the mirror does not follow are not its to halt on: one whose head does not check (another key,
    // a Rekor deployment may sign retired shards with their own) is left out, said, and asked again.
    if (!state.priorTrees) {
      try {
        state.priorTrees = this.priorTrees(state, trees);
      } catch (e) {
        this.log.warn({ log: this.cfg.name, err: describeError(e) }, 'the trees before the one this mirror started in could not be verified; /api/v1/log answers 503 until they are');
      }
    }
    let advanced = false;
    for (;;) {
      const pos = state.shard!;
      const tree = trees.find((t) => t.treeID === pos.treeID);
      if (!tree) {
        throw new TlogwatchError('VERIFY_MISSING_ENTRY', `tree ${pos.treeID} that this mirror follows is no longer listed by the log`, {
          kind: 'misbehaviour',
          data: { treeID: pos.treeID, ...evidence('tree-vanished', state.verified, info.signedTreeHead) },
        });
      }
      const received = tree.signedTreeHead;
      // A tree's first virtual index is the sum of the sizes LogInfo lists for the trees before it, figures
      // no signature covers. Where the mirror entered this tree they added up to pos.offset, which the trees'
      // final signed heads fixed; listed otherwise now, the log moves entries it already placed. Followed, the
      // next tree would start at the wrong index: entries skipped or misplaced, and the halt blamed on them.
      if (tree.offset !== pos.offset) {
        throw new TlogwatchError('VERIFY_BAD_CHECKPOINT', `LogInfo places tree ${tree.treeID} at virtual index ${tree.offset}, but the trees before it end at ${pos.offset}: the sizes it lists for them changed`, {
          kind: 'misbehaviour',
          data: evidence('shard-offset-moved', state.verified, received, { treeID: tree.treeID, listedOffset: tree.offset.toString(), offset: pos.offset.toString(), listedSizes: trees.map((t) => `${t.treeID}:${t.treeSize}`).slice(0, 100) }),
        });
      }
      const verifiedHead = state.verified && { size: state.verified.size, rootHash: state.verified.rootHash, note: state.verified.note };
      const decision = decideCheckpoint(received, this.originOf(tree.treeID), this.deps.verifiers, verifiedHead, undefined, pos.offset);
      // The note kept (tiles round): a real Rekor v1 signed tree head carries the log's line only, and is kept as it came.
      const { checkpoint: cp, note } = decision;
      if (cp.size !== tree.treeSize || toHex(cp.rootHash) !== tree.rootHash) {
        throw new TlogwatchError('VERIFY_BAD_CHECKPOINT', `LogInfo says size ${tree.treeSize} root ${tree.rootHash}, its signed tree head says ${cp.size} ${toHex(cp.rootHash)}`, {
          kind: 'misbehaviour',
          data: evidence('loginfo-mismatch', state.verified, note),
        });
      }
      if (tree.active) this.observeUpstream(state, tree.offset + cp.size);
      if (state.status === 'halted') {
        await this.deps.store.putLogState(state);
        return 'halted';
      }
      // Behind the log: prove consistency now rather than only after a (rate-limited) catch-up. Every tree
      // extends the empty one, and no proof from size 0 exists (rekor.md §1.9; a shard can be empty just
      // after a rotation), so a verified size of 0 needs none.
      if (state.verified && state.verified.size > 0n && cp.size > state.verified.size) {
        await proveConsistent(src, tree.treeID, state.verified, cp, `checkpoint ${cp.size} is not consistent with the verified checkpoint ${state.verified.size}`, state.verified, note);
      }
      const frontier = CompactRange.deserialize(state.frontier);
      if (frontier.size < cp.size) {
        await catchUp(this.catchUpContext, state, frontier, cp, note, async (start, end) => ({ leaves: await src.fetchLeaves(start + pos.offset, end + pos.offset, pos.offset, this.cfg.batchMaxBytes ?? BATCH_MAX_BYTES) }), signal);
        advanced = true;
      } else if (frontier.size === cp.size && state.verified?.size !== cp.size) {
        await this.verifyFrontierAt(state, frontier, cp, note);
        advanced = true;
      } else if (decision.action === 'unchanged') {
        await this.deps.store.putLogState(state);
        setLogState(this.deps.metrics, this.cfg.name, 'following');
      }
      if (signal?.aborted || tree.active) return advanced ? 'advanced' : 'unchanged';
      // This tree is retired and complete: move to the next one (rekor.md §1.5, "consistency proofs are per tree").
      const next = trees[trees.findIndex((t) => t.treeID === pos.treeID) + 1]!;
      this.log.info({ log: this.cfg.name, from: pos.treeID, to: next.treeID, size: cp.size.toString() }, 'shard finished and verified; following the next tree');
      state.shard = { treeID: next.treeID, offset: next.offset, seq: pos.seq + 1 };
      state.frontier = CompactRange.empty().serialize();
      delete state.verified;
      await this.deps.store.putLogState(state);
    }
  }

  /**
   * Records the active tree's size when its signed tree head verifies and agrees with LogInfo. One that does
   * not is left to the round that reaches that tree, which halts on it: a mirror catching up a retired tree
   * does not halt on the active one earlier than it did.
   */
  private observeActiveTree(state: LogState, active: ReturnType<typeof LogFollower.trees>[number]): void {
    try {
      const { checkpoint: cp } = decideCheckpoint(active.signedTreeHead, this.originOf(active.treeID), this.deps.verifiers, undefined);
      if (cp.size === active.treeSize && toHex(cp.rootHash) === active.rootHash) this.observeUpstream(state, active.offset + cp.size);
    } catch {
      // Judged when the round reaches the active tree.
    }
  }

  /**
   * The final tree heads of the trees before the one this mirror started in (state.shard.seq trees back from
   * the one it follows), each checked as a followed tree's head is: signed by the log for that tree's
   * origin, and the size and root LogInfo lists beside it.
   */
  private priorTrees(state: LogState, trees: ReturnType<typeof LogFollower.trees>): NonNullable<LogState['priorTrees']> {
    const following = trees.findIndex((t) => t.treeID === state.shard?.treeID);
    const at = Math.floor(this.now() / 1000);
    return trees.slice(0, Math.max(0, following - (state.shard?.seq ?? 0))).map((t) => {
      const { checkpoint: cp, note } = decideCheckpoint(t.signedTreeHead, this.originOf(t.treeID), this.deps.verifiers, undefined, undefined, t.offset);
      if (cp.size !== t.treeSize || toHex(cp.rootHash) !== t.rootHash) {
        throw new TlogwatchError('VERIFY_BAD_CHECKPOINT', `LogInfo says tree ${t.treeID} has size ${t.treeSize} root ${t.rootHash}, its signed tree head says ${cp.size} ${toHex(cp.rootHash)}`);
      }
      return { treeID: t.treeID, head: { size: cp.size, rootHash: cp.rootHash, note, at } };
    });
  }

  /** Frontier at the start (virtual) index: empty at a tree's first leaf, else from one verified inclusion proof. */
  private async bootstrapV1(state: LogState, trees: ReturnType<typeof LogFollower.trees>): Promise<void> {
    const active = trees[trees.length - 1]!;
    const total = active.offset + active.treeSize;
    const want = this.cfg.start === 'latest' ? total : this.cfg.start;
    if (want > total) throw new TlogwatchError('CONFIG_INVALID', `start ${want} is beyond the log's size ${total}`, { kind: 'transient' });
    const tree = [...trees].reverse().find((t) => t.offset <= want && (want < t.offset + t.treeSize || t.active)) ?? active;
    const local = want - tree.offset;
    let frontier = CompactRange.empty();
    if (local > 0n) {
      try {
        frontier = (await v1FrontierFromProof(this.v1!, this.deps.verifiers, this.originOf(tree.treeID), tree, local)).frontier;
      } catch (e) {
        // A proof or checkpoint that does not verify is the log serving leaf N-1 as other than the tree it
        // signed: misbehaviour, as backfill takes it, not a transient error that keeps the log bootstrapping.
        throw proofMisbehaviour(e, 'VERIFY_BAD_CHECKPOINT', `entry ${want - 1n}'s inclusion proof does not verify against the checkpoint it comes with`, evidence('bad-inclusion-proof', undefined, tree.signedTreeHead, { index: (want - 1n).toString() }));
      }
    }
    const shard: ShardPosition = { treeID: tree.treeID, offset: tree.offset, seq: 0 };
    state.shard = shard;
    state.status = 'following';
    state.startIndex = want;
    state.frontier = frontier.serialize();
    state.startFrontier = state.frontier; // tree-local, what `backfill` extends backwards from
    await this.deps.store.commitBatch({ entries: [], nodes: [], state });
    this.publishSizes(state); // the lag now counts from the start
    this.log.info({ log: this.cfg.name, start: want.toString(), treeID: tree.treeID }, 'bootstrapped frontier from an inclusion proof');
  }
}

/**
 * A followed log's state for what judges or shows it (/readyz, /v1/logs, the stall check): the stored one,
 * else what its follower saw of it (`unstored`, LogFollower.unstoredState), with which it is. Rejects when
 * the store cannot be read (it is being reopened after a write fault).
 */
export async function logStateOf(store: Pick<Store, 'readLogState'>, name: string, unstored?: (log: string) => Readonly<LogState> | undefined): Promise<{ state: Readonly<LogState> | undefined; stored: boolean }> {
  const s = await store.readLogState(name);
  return s ? { state: s, stored: true } : { state: unstored?.(name), stored: false };
}
