/**
 * Delivers the outbox: every channel independently, with exponential backoff per row, so a failing
 * channel neither blocks ingestion (it runs apart from the mirror) nor the other channels. Notifications
 * are marked done only after they succeed (at-least-once). A channel whose sends keep failing is held as
 * a whole (./breaker.ts): one probe at the channel's backoff, and its backlog drained at a bounded rate
 * once a probe gets through.
 *
 * Each channel has its own passes over its own rows, one at a time: a pass waits for all of its sends,
 * and a slow channel (a command running to its timeout, a webhook that hangs until its own) must not
 * hold back the next pass of the others.
 */
import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { FindingsRepo } from '../store/findings.ts';
import { afterPass, allowance, isUp, UP, type BreakerOptions, type ChannelState } from './breaker.ts';
import { PartlyDelivered, type Channel } from './channels.ts';
import type { Outbox, OutboxRow } from './outbox.ts';

export interface NotifierOptions {
  /** First retry delay (of a row, and of a channel's probe); doubles per attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  intervalMs?: number;
  now?: () => number;
  /** In [0, 1): spreads retries and probes over [0.5, 1) of their delay. */
  random?: () => number;
}

/** What one row's delivery tells of the receiver: `other` (the finding unreadable, or not sent) tells nothing. */
type Attempt = 'delivered' | 'failed' | 'other';

/** The pass that drops the rows of channels no longer configured (their index is past the last). */
const REMOVED = -1;
/**
 * Counting a channel's rows for tlogwatch_notification_outbox_pending reads all their keys (~0.5 s per
 * 100,000): each pass counts while the last count was small, a backlog at most this often.
 */
const RECOUNT_BACKLOG_MS = 15_000;
const SMALL_BACKLOG = 1000;

export class Notifier {
  readonly #channels: Channel[];
  readonly #outbox: Outbox;
  readonly #findings: FindingsRepo;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #o: Required<NotifierOptions>;
  #timer: NodeJS.Timeout | undefined;
  /** The pass in progress of each channel (by index, or REMOVED). */
  readonly #passes = new Map<number, Promise<void>>();
  #stopped = false;
  /** Aborted by stop(): a send still running (a command) ends now and its row waits for the next start. */
  readonly #abort = new AbortController();
  /** The outbox's due index put in place (Outbox.reindex), once, before the first pass. */
  #indexed: Promise<void> | undefined;
  /** Per channel: when its rows were last counted, and how many there were. */
  readonly #counted = new Map<number, { at: number; rows: number }>();
  /** Per channel: its breaker (./breaker.ts); up until its sends fail. Not stored: see breaker.ts. */
  readonly #breakers = new Map<number, ChannelState>();
  /**
   * The breaker's delays are the rows'; its drain runs a pass a tick, and a tick may come a little less
   * than `intervalMs` after the last pass read the clock (the timer is set before the pass starts, and
   * Node's timers and Date.now() are different clocks): a tenth of it is left for that.
   */
  readonly #breaker: BreakerOptions;

  constructor(channels: Channel[], outbox: Outbox, findings: FindingsRepo, metrics: Metrics, logger: Logger, o: NotifierOptions = {}) {
    this.#channels = channels;
    this.#outbox = outbox;
    this.#findings = findings;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#o = { baseDelayMs: o.baseDelayMs ?? 2000, maxDelayMs: o.maxDelayMs ?? 600_000, intervalMs: o.intervalMs ?? 1000, now: o.now ?? Date.now, random: o.random ?? Math.random };
    this.#breaker = { baseDelayMs: this.#o.baseDelayMs, maxDelayMs: this.#o.maxDelayMs, intervalMs: this.#o.intervalMs * 0.9 };
    for (const ch of channels) metrics.notificationChannelUp.set({ channel: ch.name }, 1);
  }

  /**
   * Starts a pass over due rows for each channel that has none in progress, and resolves when every
   * channel's current pass has ended; safe to call any time, never rejects (a failed pass is logged).
   * After stop() it does nothing: a batch committed during shutdown still calls it, and a pass then would
   * race the store's close. What it would have sent stays in the durable outbox for the next start.
   */
  async runOnce(): Promise<void> {
    if (this.#stopped) return;
    // Rows queued by a tlogwatch that kept no due index have no key in it until this has run. A failure is
    // logged and the next call tries again; meanwhile the rows that have one are delivered.
    const indexed = (this.#indexed ??= this.#outbox.reindex().then(
      () => undefined,
      (e: unknown) => {
        this.#indexed = undefined;
        this.#logger.error({ err: describeError(e) }, 'could not index the notification outbox; will retry');
      },
    ));
    await indexed;
    if (this.#stopped) return;
    await Promise.all([...this.#channels.keys(), REMOVED].map((c) => this.#passOf(c)));
  }

  #passOf(c: number): Promise<void> {
    let pass = this.#passes.get(c);
    if (!pass) {
      pass = this.#pass(c)
        .catch((e: unknown) => this.#logger.error({ channel: this.#channels[c]?.name ?? 'removed', err: describeError(e) }, 'notifier pass failed'))
        .finally(() => this.#passes.delete(c));
      this.#passes.set(c, pass);
    }
    return pass;
  }

  async #pass(c: number): Promise<void> {
    const now = this.#o.now();
    const channel = this.#channels[c];
    if (!channel) {
      // A channel removed from the config: nothing to send its rows to.
      for (const row of await this.#outbox.due(now, 100, { from: this.#channels.length })) await this.#outbox.delivered(row);
      return;
    }
    const before = this.#breakers.get(c) ?? UP;
    const limit = allowance(before, now);
    if (limit > 0) {
      const rows = await this.#outbox.due(now, limit, { from: c, to: c + 1 });
      const attempts = await Promise.all(rows.map((row) => this.#deliver(channel, row)));
      const outcome = { startedAt: now, attempted: attempts.filter((a) => a !== 'other').length, failed: attempts.filter((a) => a === 'failed').length, drained: rows.length < limit };
      this.#judge(c, channel, before, afterPass(before, outcome, this.#o.now(), this.#o.random(), this.#breaker));
    }
    const last = this.#counted.get(c);
    if (!last || last.rows < SMALL_BACKLOG || now - last.at >= RECOUNT_BACKLOG_MS) {
      const count = (await this.#outbox.pending({ from: c, to: c + 1 })).get(c) ?? 0;
      this.#counted.set(c, { at: now, rows: count });
      this.#metrics.outboxPending.set({ channel: channel.name }, count);
    }
  }

  /** Keeps the channel's new state; says when it goes down or comes back up, in the log and the gauge. */
  #judge(c: number, channel: Channel, before: ChannelState, after: ChannelState): void {
    this.#breakers.set(c, after);
    if (isUp(before) === isUp(after)) return;
    this.#metrics.notificationChannelUp.set({ channel: channel.name }, isUp(after) ? 1 : 0);
    if (after.state === 'down') {
      this.#logger.warn({ channel: channel.name, retryInMs: Math.round(after.retryAt - this.#o.now()) }, 'notification channel down: its backlog is held, one probe at its backoff');
    } else if (before.state === 'down') {
      this.#logger.info({ channel: channel.name, downForMs: Math.round(this.#o.now() - before.since), failedProbes: before.probes }, 'notification channel up again: its backlog drains at a bounded rate');
    }
  }

  async #deliver(channel: Channel, row: OutboxRow): Promise<Attempt> {
    // What the receiver showed: nothing until it is sent to; `failed` while its send is under way.
    let receiver: Attempt = 'other';
    try {
      // A damaged finding (STORE_CORRUPT) fails like a delivery, with the row's backoff: thrown out of the
      // pass, it failed the pass every tick and the row stayed due for ever.
      const finding = await this.#findings.get(row.findingId);
      if (!finding) {
        await this.#outbox.delivered(row); // finding gone: nothing to send
        return 'other';
      }
      if (finding.status !== 'suppressed') {
        receiver = 'failed';
        await channel.send(finding, this.#abort.signal, row.done);
        receiver = 'delivered';
      }
      await this.#outbox.delivered(row);
      this.#metrics.notifications.inc({ channel: channel.name, result: receiver === 'delivered' ? 'delivered' : 'skipped' });
      return receiver;
    } catch (e) {
      // The backoff counts from the failure, not from the pass's start: a send that hung to its deadline
      // (an email's 2 minutes) would otherwise leave its first retries due at once, and a receiver that
      // hangs would be asked again and again, back to back, by up to 100 sends at a time.
      const delay = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** row.attempts) * (0.5 + this.#o.random() / 2);
      await this.#outbox.failed(row, describeError(e), this.#o.now() + delay, e instanceof PartlyDelivered ? e.done : row.done);
      this.#metrics.notifications.inc({ channel: channel.name, result: 'failed' });
      this.#logger.warn({ channel: channel.name, finding: row.findingId, attempts: row.attempts + 1, err: describeError(e) }, 'notification failed; will retry');
      // A receiver that took part of it (PartlyDelivered) is there; a send cut off by stop() says nothing of it.
      if (e instanceof PartlyDelivered) return 'delivered';
      return this.#abort.signal.aborted ? 'other' : receiver;
    }
  }

  /** Every `intervalMs`, a pass for each channel not still busy with its last one. */
  start(): void {
    const tick = () => {
      void this.runOnce();
      this.#timer = setTimeout(tick, this.#o.intervalMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort(new Error('tlogwatch is shutting down'));
    clearTimeout(this.#timer);
    await this.#indexed;
    await Promise.all(this.#passes.values());
  }
}
