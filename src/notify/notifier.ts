/**
 * Delivers the outbox: every channel independently, with exponential backoff per row, so a failing
 * channel neither blocks ingestion (it runs apart from the mirror) nor the other channels. Notifications
 * are marked done only after they succeed (at-least-once).
 *
 * Each channel has its own passes over its own rows, one at a time: a pass waits for all of its sends,
 * and a slow channel (a command running to its timeout, a webhook that hangs until its own) must not
 * hold back the next pass of the others.
 */
import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { FindingsRepo } from '../store/findings.ts';
import { PartlyDelivered, type Channel } from './channels.ts';
import type { Outbox, OutboxRow } from './outbox.ts';

export interface NotifierOptions {
  /** First retry delay; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  intervalMs?: number;
  now?: () => number;
}

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

  constructor(channels: Channel[], outbox: Outbox, findings: FindingsRepo, metrics: Metrics, logger: Logger, o: NotifierOptions = {}) {
    this.#channels = channels;
    this.#outbox = outbox;
    this.#findings = findings;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#o = { baseDelayMs: o.baseDelayMs ?? 2000, maxDelayMs: o.maxDelayMs ?? 600_000, intervalMs: o.intervalMs ?? 1000, now: o.now ?? Date.now };
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
    const rows = await this.#outbox.due(now, 100, { from: c, to: c + 1 });
    await Promise.all(rows.map((row) => this.#deliver(channel, row)));
    const last = this.#counted.get(c);
    if (!last || last.rows < SMALL_BACKLOG || now - last.at >= RECOUNT_BACKLOG_MS) {
      const count = (await this.#outbox.pending({ from: c, to: c + 1 })).get(c) ?? 0;
      this.#counted.set(c, { at: now, rows: count });
      this.#metrics.outboxPending.set({ channel: channel.name }, count);
    }
  }

  async #deliver(channel: Channel, row: OutboxRow): Promise<void> {
    try {
      // A damaged finding (STORE_CORRUPT) fails like a delivery, with the row's backoff: thrown out of the
      // pass, it failed the pass every tick and the row stayed due for ever.
      const finding = await this.#findings.get(row.findingId);
      if (!finding) {
        await this.#outbox.delivered(row); // finding gone: nothing to send
        return;
      }
      if (finding.status !== 'suppressed') await channel.send(finding, this.#abort.signal, row.done);
      await this.#outbox.delivered(row);
      this.#metrics.notifications.inc({ channel: channel.name, result: finding.status === 'suppressed' ? 'skipped' : 'delivered' });
    } catch (e) {
      // The backoff counts from the failure, not from the pass's start: a send that hung to its deadline
      // (an email's 2 minutes) would otherwise leave its first retries due at once, and a receiver that
      // hangs would be asked again and again, back to back, by up to 100 sends at a time.
      const delay = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** row.attempts) * (0.5 + Math.random() / 2);
      await this.#outbox.failed(row, describeError(e), this.#o.now() + delay, e instanceof PartlyDelivered ? e.done : row.done);
      this.#metrics.notifications.inc({ channel: channel.name, result: 'failed' });
      this.#logger.warn({ channel: channel.name, finding: row.findingId, attempts: row.attempts + 1, err: describeError(e) }, 'notification failed; will retry');
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
