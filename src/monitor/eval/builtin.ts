/**
 * Built-in rules about the logs themselves, raised by the mirror (not by entries):
 * - `log-integrity`: the log broke its promises (bad signature, fork, shrinking tree, rewritten or
 *   missing entry; DESIGN.md principle 2). Severity from `builtins.log-integrity` (default critical).
 * - `mirror-stalled`: no newly verified checkpoint for `after` seconds while upstream is ahead (default
 *   10 minutes, high). One finding per stall episode: `episode` is the time of the last progress, so a
 *   caller that dedupes on (log, episode) raises it once until the mirror moves again.
 * Pure: the mirror passes its state and the time in.
 */
import { DEFAULT_BUILTINS, type LogIntegrityConfig, type MirrorStalledConfig } from '../rules/compiled.ts';
import type { Severity } from '../rules/schema.ts';

export interface BuiltinFinding {
  ruleId: 'log-integrity' | 'mirror-stalled';
  ruleName: string;
  kind: 'violation';
  expectation: 'log-integrity' | 'mirror-stalled';
  severity: Severity;
  labels: Readonly<Record<string, string>>;
  owner?: string;
  log: string;
  message: string;
  /** Identifies the episode: the stall's last progress time, or the integrity error's code and time. */
  episode: string;
  details: Record<string, unknown>;
}

export interface StallState {
  log: string;
  upstreamSize?: bigint;
  verifiedSize?: bigint;
  /** Unix seconds of the last newly verified checkpoint. */
  lastVerifiedAt?: number;
  /** Unix seconds at which following this log started (the progress baseline before any verification). */
  since: number;
  /**
   * Unix seconds of the last batch of entries committed. A catch-up verifies only when it reaches the
   * checkpoint it set out for, hours later for a first catch-up of a large log; until then each committed
   * batch is progress (its entries checked against the log's tiles or proofs), so the mirror is not stalled.
   */
  lastStoredAt?: number;
  /** Why the latest rounds did not advance, when they ended in a transient fault (an unwitnessed checkpoint, 503s…). */
  lastError?: { code: string; message: string };
  /**
   * A larger tree the log signed, seen by a checkpoint source (monitor/checkpoint-sources.ts) since `since`
   * while the log kept showing this mirror a smaller one.
   */
  seenElsewhere?: { source: string; size: bigint; since: number };
}

/** Seconds for a person: whole minutes from two minutes on, else seconds (a test's 1 s limit is not "0 min"). */
const span = (seconds: number) => (seconds >= 120 ? `${Math.floor(seconds / 60)} min` : `${Math.floor(seconds)} s`);

const owner = (c: LogIntegrityConfig) => (c.owner !== undefined ? { owner: c.owner } : {});

export function evaluateStall(state: StallState, now: number, config: MirrorStalledConfig & { after: number } = { ...DEFAULT_BUILTINS.mirrorStalled, after: 600 }): BuiltinFinding | undefined {
  if (config.logs && !config.logs.has(state.log)) return undefined;
  const upstream = state.upstreamSize ?? 0n;
  const verified = state.verifiedSize ?? 0n;
  if (upstream <= verified) return frozenView(state, upstream, now, config);
  const lastVerified = state.lastVerifiedAt ?? state.since;
  const last = Math.max(lastVerified, state.lastStoredAt ?? lastVerified);
  const idle = now - last;
  if (!(idle >= config.after)) return undefined;
  const what =
    last > lastVerified
      ? `no entries stored for ${span(idle)} and no checkpoint verified for ${span(now - lastVerified)}`
      : state.lastVerifiedAt === undefined
        ? neverVerified(state, idle)
        : `no checkpoint verified for ${span(idle)}`;
  const mirror = state.verifiedSize === undefined && state.lastVerifiedAt === undefined ? 'the mirror has verified none of it' : `the mirror at ${verified}`;
  return stalled(
    state.log,
    config,
    `log ${state.log}: ${what} (limit ${span(config.after)}) while upstream is at ${upstream} and ${mirror}${state.lastError ? `; its latest rounds end with ${state.lastError.code}: ${state.lastError.message}` : ''}`,
    String(last),
    { upstreamSize: String(upstream), verifiedSize: String(verified), behind: String(upstream - verified), lastProgressAt: last, idleSeconds: idle, after: config.after, ...(state.lastError ? { lastError: { ...state.lastError } } : {}) },
  );
}

/**
 * A log that has verified no checkpoint since following began (`since`) and stored nothing: one that never
 * bootstrapped (no stored state at all) or a first catch-up that has not begun. Named after why, when its
 * rounds say: a witness policy no checkpoint met keeps a log from bootstrapping however long it waits.
 */
function neverVerified(state: StallState, idle: number): string {
  const why = state.lastError?.code === 'VERIFY_UNWITNESSED' ? 'met the witness policy' : 'verified';
  return `no checkpoint ${why} since ${new Date(state.since * 1000).toISOString()}, ${span(idle)} ago`;
}

/** A `mirror-stalled` finding of either kind (behind its upstream, or a frozen view). */
function stalled(log: string, config: MirrorStalledConfig, message: string, episode: string, details: Record<string, unknown>): BuiltinFinding {
  return { ruleId: 'mirror-stalled', ruleName: 'mirror stalled', kind: 'violation', expectation: 'mirror-stalled', severity: config.severity, labels: config.labels, ...owner(config), log, message, episode, details };
}

/**
 * The stall a mirror cannot see by itself: the log shows it the same tree while it signs a larger one for
 * others (a frozen view, or a stale cache in front of the log), for `after` seconds. Nothing is behind its
 * own upstream, so only a checkpoint source's larger signed tree shows it.
 */
function frozenView(state: StallState, upstream: bigint, now: number, config: MirrorStalledConfig & { after: number }): BuiltinFinding | undefined {
  const other = state.seenElsewhere;
  if (!other || other.size <= upstream) return undefined;
  const idle = now - other.since;
  if (!(idle >= config.after)) return undefined;
  return stalled(
    state.log,
    config,
    `log ${state.log}: the log has shown this mirror a tree of ${upstream} entries for ${span(idle)} (limit ${span(config.after)}) while checkpoint source ${other.source} has a checkpoint of ${other.size} entries signed by the log: a frozen view, or a stale cache in front of the log`,
    `frozen:${upstream}`,
    { upstreamSize: String(upstream), seenElsewhere: { source: other.source, size: String(other.size), since: other.since }, idleSeconds: idle, after: config.after },
  );
}

export interface IntegrityEvent {
  log: string;
  /** The error code that halted the log, e.g. VERIFY_FORK. */
  code: string;
  message: string;
  /** Signed notes, proofs, recomputed roots: whatever lets anyone re-check it offline. */
  evidence: Record<string, unknown>;
}

export function evaluateIntegrity(event: IntegrityEvent, now: number, config: LogIntegrityConfig = DEFAULT_BUILTINS.logIntegrity): BuiltinFinding {
  return {
    ruleId: 'log-integrity',
    ruleName: 'log integrity',
    kind: 'violation',
    expectation: 'log-integrity',
    severity: config.severity,
    labels: config.labels,
    ...owner(config),
    log: event.log,
    message: `log ${event.log} misbehaved and was halted at its last verified checkpoint: ${event.message}`,
    episode: `${event.code}:${now}`,
    details: { code: event.code, ...event.evidence },
  };
}
