/**
 * Delivers the outbox: every channel independently, with exponential backoff per row, so a failing
 * channel neither blocks ingestion (it runs apart from the mirror) nor the other channels. Notifications
 * are marked done only after they succeed (at-least-once).
 */
import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { FindingsRepo } from '../store/findings.ts';
import type { Channel } from './channels.ts';
import type { Outbox } from './outbox.ts';

export interface NotifierOptions {
  /** First retry delay; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  intervalMs?: number;
  now?: () => number;
}

export class Notifier {
  readonly #channels: Channel[];
  readonly #outbox: Outbox;
  readonly #findings: FindingsRepo;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #o: Required<NotifierOptions>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Aborted by stop(): a send still running (a command) ends now and its row waits for the next start. */
  readonly #abort = new AbortController();

  constructor(channels: Channel[], outbox: Outbox, findings: FindingsRepo, metrics: Metrics, logger: Logger, o: NotifierOptions = {}) {
    this.#channels = channels;
    this.#outbox = outbox;
    this.#findings = findings;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#o = { baseDelayMs: o.baseDelayMs ?? 2000, maxDelayMs: o.maxDelayMs ?? 600_000, intervalMs: o.intervalMs ?? 1000, now: o.now ?? Date.now };
  }

  /**
   * One pass over due rows; safe to call any time (passes never overlap). After stop() it does nothing:
   * a batch committed during shutdown still calls it, and a pass then would race the store's close.
   * What it would have sent stays in the durable outbox for the next start.
   */
  async runOnce(): Promise<void> {
    if (this.#running) return this.#running;
    if (this.#stopped) return;
    this.#running = (async () => {
      const now = this.#o.now();
      const rows = await this.#outbox.due(now);
      await Promise.all(
        rows.map(async (row) => {
          const channel = this.#channels[row.channel];
          const finding = await this.#findings.get(row.findingId);
          if (!channel || !finding) {
            await this.#outbox.delivered(row); // channel removed from the config, or finding gone: nothing to send
            return;
          }
          try {
            if (finding.status !== 'suppressed') await channel.send(finding, this.#abort.signal);
            await this.#outbox.delivered(row);
            this.#metrics.notifications.inc({ channel: channel.name, result: finding.status === 'suppressed' ? 'skipped' : 'delivered' });
          } catch (e) {
            const delay = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** row.attempts) * (0.5 + Math.random() / 2);
            await this.#outbox.failed(row, describeError(e), now + delay);
            this.#metrics.notifications.inc({ channel: channel.name, result: 'failed' });
            this.#logger.warn({ channel: channel.name, finding: row.findingId, attempts: row.attempts + 1, err: describeError(e) }, 'notification failed; will retry');
          }
        }),
      );
      const pending = await this.#outbox.pending();
      this.#channels.forEach((c, i) => this.#metrics.outboxPending.set({ channel: c.name }, pending.get(i) ?? 0));
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  start(): void {
    const tick = () => {
      this.runOnce()
        .catch((e: unknown) => this.#logger.error({ err: describeError(e) }, 'notifier pass failed'))
        .finally(() => (this.#timer = setTimeout(tick, this.#o.intervalMs)));
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort(new Error('tlogwatch is shutting down'));
    clearTimeout(this.#timer);
    await this.#running;
  }
}
