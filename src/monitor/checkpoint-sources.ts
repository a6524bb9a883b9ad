/**
 * Comparing the mirror's view of each log with checkpoints from elsewhere (config `checkpointSources`:
 * peers, distributors, witnesses, another network path). A log can show one history to this mirror and
 * another to everyone else; only a checkpoint obtained some other way reveals that (c2sp.md §5, "Monitor
 * recipe" steps 2–3). Each round, per source and log:
 *
 * - a note the log did not sign is `invalid` and proves nothing (anyone can serve anything);
 * - a tree head the log signed is judged against the stored history (mirror/signed-tree.ts): the same
 *   root at its size is `consistent`; another root is a `split_view`, a critical `log-integrity` finding
 *   whose evidence is both signed checkpoints; one past what the mirror has verified is `pending`, kept
 *   (one per source and log) and judged again each round until the mirror has verified that far.
 *
 * The source's size is exported too: a source that stays ahead of what the log shows this mirror points
 * at a frozen view (tlogwatch_checkpoint_source_tree_size against tlogwatch_upstream_tree_size).
 */
import type { CheckpointSourceConfigT } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { judgeSignedTree } from '../mirror/signed-tree.ts';
import { checkpointUrl, fetchSourceCheckpoint, type SourceLog, type SourceNotes } from '../sources/checkpoint-source.ts';
import { abortableSleep, HttpClient } from '../sources/http.ts';
import type { LogState } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import { verifyLogCheckpoint, type SignedTree } from '../trust/log-checkpoint.ts';
import type { TlogTrust } from '../trust/trusted-root.ts';
import { toHex } from '../util/bytes.ts';
import type { StallState } from './eval/builtin.ts';
import { forkedTreeSubject, splitViewFinding, type Finding } from './finding.ts';
import type { FindingRaiser } from './raise.ts';
import { shardOrigin } from '../note/rekor-v1-origin.ts';

/** How soon a source is asked again while a log it covers has no verified checkpoint yet. */
const BOOTSTRAP_RETRY_MS = 5000;

export const SOURCE_RESULTS = ['consistent', 'pending', 'split_view', 'not_comparable', 'invalid', 'absent', 'unavailable'] as const;
export type SourceResult = (typeof SOURCE_RESULTS)[number];

/** A followed log as the comparison needs it: its key and origin (Rekor v1: the signer name). */
export interface WatchedLog {
  name: string;
  origin: string;
  tlog: TlogTrust;
}

/** One comparison of a source's checkpoint of a log with the mirror. */
export interface SourceCheck {
  source: string;
  log: string;
  result: SourceResult;
  /** Unix seconds. */
  at: number;
  /** The signed tree head's size (its tree's own size for a Rekor v1 shard). */
  size?: bigint;
  /** Rekor v1: the tree (shard) the signed tree head is of. */
  treeID?: string;
  /** Why, for every result but consistent. */
  reason?: string;
  /** The split view's finding (raised now or before). */
  finding?: Finding;
}

/** A source's latest comparison with a log, and when one last found the log consistent (for /v1/logs). */
export type SourceStatus = SourceCheck & { consistentAt?: number };

/** Per-source, per-log state is keyed by both names. */
const keyOf = (source: string, log: string) => `${source}\u0000${log}`;

export interface CheckpointSourcesOptions {
  sources: readonly CheckpointSourceConfigT[];
  /** The followed logs, read each round (the daemon follows logs the trusted root lists later). */
  logs: () => readonly WatchedLog[];
  store: Store;
  metrics: Metrics;
  logger: Logger;
  /** Split views found are raised through it: once per ID, counted and notified. */
  raiser: FindingRaiser;
  client?: HttpClient;
  now?: () => number;
}

/** The origin line of the log's current tree: Rekor v1 names its tree (rekor.md §1.8), so it needs the mirror's state. */
function currentOrigin(log: WatchedLog, state: LogState): string | undefined {
  if (log.tlog.type === 'tiles') return log.origin;
  return state.shard ? shardOrigin(log.origin, state.shard.treeID) : undefined;
}

export class CheckpointSources {
  readonly #x: CheckpointSourcesOptions;
  readonly #client: HttpClient;
  /**
   * Per `source\0log`: a signed tree head past what the mirror had verified, to judge once it has (null:
   * none). Read from the store at first use and written through to it, so a restart does not lose one.
   */
  readonly #kept = new Map<string, SignedTree | null>();
  readonly #latest = new Map<string, SourceStatus>();
  /** Per `source\0log`: the source's signed tree is larger than the log's latest shown to this mirror, since when. */
  readonly #ahead = new Map<string, { source: string; log: string; size: bigint; since: number }>();
  readonly #runs: Array<Promise<void>> = [];

  constructor(x: CheckpointSourcesOptions) {
    this.#x = x;
    // Few retries: the next round asks again, and a source that is down must not hold up the others.
    this.#client = x.client ?? new HttpClient({ timeoutMs: 10_000, retries: 2, requestsPerMinute: 60 });
  }

  /** The latest comparison of each source with `log`, and when one last found it consistent (for /v1/logs). */
  latest(log: string): SourceStatus[] {
    return [...this.#latest.values()].filter((c) => c.log === log);
  }

  /**
   * The source that has seen the log larger than it shows this mirror for the longest, if any (`since`: when
   * first seen so; the stall check compares `size` with the mirror's upstream size at that time).
   */
  aheadOf(log: string): StallState['seenElsewhere'] {
    let oldest: StallState['seenElsewhere'];
    for (const a of this.#ahead.values()) if (a.log === log && (!oldest || a.since < oldest.since)) oldest = { source: a.source, size: a.size, since: a.since };
    return oldest;
  }

  /** Each source on its own cadence, from now until `signal` aborts; `stopped()` settles when all rounds have ended. */
  start(signal: AbortSignal): void {
    // Each source's series for the logs it covers exist from the start at 0, so a first failure is an increase.
    for (const m of this.#x.sources) {
      for (const log of this.#x.logs()) {
        if (m.logs && !m.logs.includes(log.name)) continue;
        for (const result of SOURCE_RESULTS) this.#x.metrics.checkpointSourceChecks.inc({ source: m.name, log: log.name, result }, 0);
      }
    }
    for (const source of this.#x.sources) {
      this.#runs.push(
        (async () => {
          while (!signal.aborted) {
            const round = await this.checkSource(source, signal).catch((e: unknown) => {
              if (!signal.aborted) this.#x.logger.error({ source: source.name, err: describeError(e) }, 'checkpoint source round failed');
              return [];
            });
            // Right after start-up the logs have not bootstrapped yet: ask again soon rather than in `interval`.
            const early = round.some((c) => c.result === 'pending' && c.size === undefined);
            await abortableSleep(early ? Math.min(source.interval, BOOTSTRAP_RETRY_MS) : source.interval, signal).catch(() => undefined);
          }
        })(),
      );
    }
  }

  async stopped(): Promise<void> {
    await Promise.all(this.#runs);
  }

  /** One round of a source: each of its logs in turn. */
  async checkSource(source: CheckpointSourceConfigT, signal?: AbortSignal): Promise<SourceCheck[]> {
    const out: SourceCheck[] = [];
    for (const log of this.#x.logs()) {
      if (source.logs && !source.logs.includes(log.name)) continue;
      if (signal?.aborted) break;
      for (const c of await this.checkLog(source, log, signal)) {
        const key = keyOf(source.name, log.name);
        const consistentAt = c.result === 'consistent' ? c.at : this.#latest.get(key)?.consistentAt;
        this.#latest.set(key, { ...c, ...(consistentAt !== undefined ? { consistentAt } : {}) });
        this.#x.metrics.checkpointSourceChecks.inc({ source: source.name, log: log.name, result: c.result });
        if (c.result === 'consistent') this.#x.metrics.checkpointSourceConsistent.set({ source: source.name, log: log.name }, c.at);
        out.push(c);
      }
    }
    return out;
  }

  /**
   * One source's checkpoint of one log against the mirror: first the tree head kept from an earlier round,
   * if the mirror has verified that far since (a source always a little ahead of the mirror is judged this
   * way, one round late), then the one the source serves now.
   */
  async checkLog(source: CheckpointSourceConfigT, log: WatchedLog, signal?: AbortSignal): Promise<SourceCheck[]> {
    const { store, logger } = this.#x;
    const at = Math.floor((this.#x.now ?? Date.now)() / 1000);
    const done = (result: SourceResult, more: Partial<SourceCheck> = {}): SourceCheck => ({ source: source.name, log: log.name, result, at, ...more });
    const state = await store.getLogState(log.name);
    const origin = state && currentOrigin(log, state);
    if (!state?.verified || origin === undefined) return [done('pending', { reason: 'the mirror has not verified a checkpoint of this log yet' })];
    // Results in order, the current tree head's last (what /v1/logs shows as the source's latest).
    const out: SourceCheck[] = [];
    const kept = await this.#keptOf(source.name, log);
    const earlier = kept && (await this.#judge(source, log, state, kept, at));
    if (earlier && earlier.result !== 'pending') {
      await this.#keep(source.name, log.name, null);
      out.push(earlier);
    }
    const where: SourceLog = { name: log.name, origin };
    let served: SourceNotes | undefined;
    try {
      served = await fetchSourceCheckpoint(this.#client, source, where, signal);
    } catch (e) {
      const reason = describeError(e);
      logger.warn({ source: source.name, log: log.name, err: reason }, 'checkpoint source unavailable');
      return [...out, done('unavailable', { reason })];
    }
    const note = served?.note;
    if (note === undefined) return [...out, done('absent', { reason: `${checkpointUrl(source, where)} has no checkpoint of this log` })];
    const retired = await this.#retired(source, log, state, served?.retired ?? [], at);
    let signed: SignedTree;
    try {
      signed = verifyLogCheckpoint(note, log.tlog, log.origin);
    } catch (e) {
      const reason = `not a checkpoint the log signed: ${describeError(e)}`;
      logger.warn({ source: source.name, log: log.name, reason }, 'checkpoint source served an invalid checkpoint');
      return [...out, done('invalid', { reason })];
    }
    const current = log.tlog.type === 'tiles' || signed.treeID === state.shard?.treeID;
    if (current) {
      const size = signed.size + (state.shard?.offset ?? 0n);
      this.#x.metrics.checkpointSourceTreeSize.set({ source: source.name, log: log.name }, Number(size));
      // A larger tree than the log shows this mirror, and since when: the size first seen ahead is kept
      // until the log shows the mirror that much, so a source that is always a little fresher than the
      // mirror's last poll (any source, against a busy log) starts a new episode each time it is caught up
      // with, and only a view that stays behind one signed size for stalledAfter is a frozen one.
      const key = keyOf(source.name, log.name);
      const upstream = state.upstream?.size;
      const before = this.#ahead.get(key);
      const stillBehind = before !== undefined && upstream !== undefined && upstream < before.size;
      if (!stillBehind) {
        if (upstream !== undefined && size > upstream) this.#ahead.set(key, { source: source.name, log: log.name, size, since: at });
        else this.#ahead.delete(key);
      }
    }
    // The kept tree head itself, served again: judged above already.
    if (earlier && kept.note === note) return [...retired, earlier];
    const now = await this.#judge(source, log, state, signed, at);
    if (now.result === 'pending' && !(earlier?.result === 'pending')) await this.#keep(source.name, log.name, signed);
    return [...out, ...retired, now];
  }

  /**
   * A Rekor v1 source's retired shards, each judged against the mirror's final root of that tree. Only
   * those this log's key signed: a shard of an older key is another log of the trusted root.
   */
  async #retired(source: CheckpointSourceConfigT, log: WatchedLog, state: LogState, notes: readonly string[], at: number): Promise<SourceCheck[]> {
    const out: SourceCheck[] = [];
    for (const note of notes) {
      let signed: SignedTree;
      try {
        signed = verifyLogCheckpoint(note, log.tlog, log.origin);
      } catch {
        continue;
      }
      if (signed.treeID !== state.shard?.treeID) out.push(await this.#judge(source, log, state, signed, at));
    }
    return out;
  }

  async #keptOf(source: string, log: WatchedLog): Promise<SignedTree | null> {
    const key = keyOf(source, log.name);
    let kept = this.#kept.get(key);
    if (kept === undefined) {
      const note = await this.#x.store.getKeptCheckpoint(source, log.name);
      kept = null;
      // Verified again: what the store holds is only as good as the key that still verifies it.
      if (note !== undefined) {
        try {
          kept = verifyLogCheckpoint(note, log.tlog, log.origin);
        } catch (e) {
          this.#x.logger.warn({ source, log: log.name, err: describeError(e) }, 'dropping a kept checkpoint that no longer verifies');
          await this.#x.store.putKeptCheckpoint(source, log.name, undefined);
        }
      }
      this.#kept.set(key, kept);
    }
    return kept;
  }

  async #keep(source: string, log: string, tree: SignedTree | null): Promise<void> {
    await this.#x.store.putKeptCheckpoint(source, log, tree?.note);
    this.#kept.set(keyOf(source, log), tree);
  }

  #judge(source: CheckpointSourceConfigT, log: WatchedLog, state: LogState, signed: SignedTree, at: number): Promise<SourceCheck> {
    return judgeCheckpoint(this.#x, { source: source.name, shownBy: `checkpoint source ${source.name}`, url: checkpointUrl(source, { name: log.name, origin: currentOrigin(log, state) ?? log.origin }) }, log.name, state, signed, at);
  }
}

/** Where a checkpoint came from, as a split view's evidence names it. */
export interface CheckpointOrigin {
  source: string;
  /** Who showed it, as the finding's message says: `checkpoint source NAME`, `a checkpoint posted to /v1/checkpoints`. */
  shownBy: string;
  url?: string;
}

/**
 * A tree head the log signed, from `from`, against the mirror's history (mirror/signed-tree.ts); another
 * root at its size is a split view, whose critical finding is written once: its ID names the tree, size
 * and root, so every source, and every round, that shows the same forked head finds the same finding.
 */
export async function judgeCheckpoint(
  x: Pick<CheckpointSourcesOptions, 'store' | 'logger' | 'raiser'>,
  from: CheckpointOrigin,
  log: string,
  state: LogState,
  signed: SignedTree,
  at: number,
): Promise<SourceCheck> {
  const base = { source: from.source, log, at, size: signed.size, ...(signed.treeID !== undefined ? { treeID: signed.treeID } : {}) };
  const j = await judgeSignedTree(x.store, state, signed);
  switch (j.kind) {
    case 'consistent':
      return { ...base, result: 'consistent' };
    case 'ahead':
      return { ...base, result: 'pending', reason: `its tree head of size ${signed.size} is past the ${j.verified} entries of its tree the mirror has verified; judged when the mirror gets there` };
    case 'not-comparable':
      return { ...base, result: 'not_comparable', reason: j.reason };
    case 'forked': {
      const sourceRoot = toHex(signed.rootHash);
      const f = splitViewFinding(
        log,
        forkedTreeSubject(j.seq, signed.size, sourceRoot),
        `${from.shownBy} shows a tree head of size ${signed.size}, signed by the log, whose root is not in the history the log published to this mirror: the log shows different histories (a split view)`,
        {
          source: from.source,
          ...(from.url !== undefined ? { sourceUrl: from.url } : {}),
          size: signed.size.toString(),
          sourceRoot,
          mirrorRoot: toHex(j.mirrorRoot),
          sourceCheckpoint: signed.note,
          mirrorCheckpoint: j.mirrorNote,
        },
        at,
      );
      const r = await x.raiser.raiseOne(f);
      if (r.raised) x.logger.error({ source: from.source, log, finding: f.id, size: signed.size.toString() }, f.message);
      return { ...base, result: 'split_view', reason: f.message, finding: r.finding };
    }
  }
}
