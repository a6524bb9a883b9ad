/**
 * A notification channel's circuit breaker: whether its receiver is taken to be up, and so how many of
 * its due rows a pass may send. Pure: time and jitter are passed in (STYLE.md habit 2).
 *
 * Without it each outbox row retried on its own backoff, so a receiver that was down got one attempt per
 * waiting finding (a backlog of 1,000 findings: 11,779 attempts in 30 minutes, each maybe waiting out a
 * send's deadline), and one that came back was sent the whole backlog at once, 100 rows a pass. So, as
 * Alertmanager retries per receiver and a circuit breaker does:
 *
 *        FAILURES_TO_OPEN failed attempts, none delivered
 *   up ─────────────────────────────────────────────────▶ down ◀──┐ its one probe failed:
 *   ▲  (PASS_MAX rows a pass)                   (1 row, the │      │ the next at twice the delay
 *   │                                     earliest due, at  │──────┘
 *   │                                          `retryAt`)   │ the probe delivered
 *   │  the window reached PASS_MAX,                         ▼
 *   └──────────────────────────────────────────────── recovering ──▶ down: a pass where every attempt failed
 *      or fewer rows were due than it allowed          (`window` rows, doubled after each pass that
 *                                                       delivered them all, one pass per interval)
 *
 * Rows the breaker holds are not attempted: their keys and order stay as they are, nothing is counted
 * for them, and each goes out, in its turn, once the channel is up. A pass is judged by its attempts as a
 * whole, because they run at once: the channel fails when every attempt of a pass failed, and any
 * delivery shows the receiver is there, so a finding the receiver refuses (its own backoff keeps it
 * apart) does not hold up the rest.
 *
 * The state is not stored: the rows' own backoff is, in the outbox, and a restart (the usual way a fixed
 * channel config takes effect) should try the receiver at once rather than wait out a stale backoff of up
 * to `maxDelayMs`. Forgetting costs one pass of at most PASS_MAX attempts against a receiver still down.
 */

/** Rows a pass of a channel that is up sends at once (the outbox's `due` limit). */
export const PASS_MAX = 100;
/** Failed attempts in a row, with no delivery between, that take a channel down. */
export const FAILURES_TO_OPEN = 3;

export type ChannelState =
  /** `failures`: attempts failed since the last delivery (passes where all failed). */
  | { state: 'up'; failures: number }
  /** Held: one probe at `retryAt`. `probes`: failed probes (and relapses) since it went down; sets the delay. */
  | { state: 'down'; since: number; probes: number; retryAt: number }
  /** A probe delivered: the backlog drains `window` rows a pass, one pass at most every interval. */
  | { state: 'recovering'; window: number; notBefore: number; probes: number };

export const UP: ChannelState = { state: 'up', failures: 0 };

export interface BreakerOptions {
  /** The delay before the first probe; doubles per failed probe up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The least time between the starts of two passes while recovering: with `window`, the drain's rate. */
  intervalMs: number;
}

/** What a pass did: when it started, attempts made, how many failed, and whether fewer rows were due than it was allowed. */
export interface PassOutcome {
  startedAt: number;
  attempted: number;
  failed: number;
  drained: boolean;
}

/** How many due rows a pass starting at `now` may send: 0 holds them all. */
export function allowance(s: ChannelState, now: number): number {
  switch (s.state) {
    case 'up':
      return PASS_MAX;
    case 'down':
      return now >= s.retryAt ? 1 : 0;
    case 'recovering':
      return now >= s.notBefore ? s.window : 0;
  }
}

/** The delay after `probes` failed probes: exponential, capped, with jitter in [0.5, 1) of it (`jitter` in [0, 1)). */
export function probeDelay(probes: number, jitter: number, o: BreakerOptions): number {
  return Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** probes) * (0.5 + jitter / 2);
}

const down = (since: number, probes: number, now: number, jitter: number, o: BreakerOptions): ChannelState => ({
  state: 'down',
  since,
  probes,
  retryAt: now + probeDelay(probes, jitter, o),
});

/**
 * The state after a pass that ended at `now` with `outcome`. A probe's delay counts from the failure (a
 * send may have waited out its deadline); the drain's next pass from this one's start, so that a pass
 * that took a while does not also skip the next tick of the notifier's timer.
 */
export function afterPass(s: ChannelState, outcome: PassOutcome, now: number, jitter: number, o: BreakerOptions): ChannelState {
  const { startedAt, attempted, failed, drained } = outcome;
  const allFailed = attempted > 0 && failed === attempted;
  switch (s.state) {
    case 'up': {
      if (attempted === 0) return s;
      if (!allFailed) return s.failures === 0 ? s : UP;
      const failures = s.failures + failed;
      return failures >= FAILURES_TO_OPEN ? down(now, 0, now, jitter, o) : { state: 'up', failures };
    }
    case 'down':
      if (attempted === 0) return s;
      if (allFailed) return down(s.since, s.probes + 1, now, jitter, o);
      return drained ? UP : { state: 'recovering', window: Math.min(PASS_MAX, 2), notBefore: startedAt + o.intervalMs, probes: s.probes };
    case 'recovering': {
      if (attempted === 0) return drained ? UP : s;
      // Down again: from now, and with the delay its failed probes had reached, so a receiver that flaps
      // is not probed ever faster.
      if (allFailed) return down(now, s.probes + 1, now, jitter, o);
      const window = failed === 0 ? Math.min(PASS_MAX, s.window * 2) : s.window;
      return drained || window >= PASS_MAX ? UP : { state: 'recovering', window, notBefore: startedAt + o.intervalMs, probes: s.probes };
    }
  }
}

/** 1 while deliveries are let through (up or recovering), 0 while the channel is held: tlogwatch_notification_channel_up. */
export const isUp = (s: ChannelState): boolean => s.state !== 'down';
