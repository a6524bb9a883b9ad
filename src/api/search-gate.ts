/**
 * A bound on the search work in flight (`api.searchEntriesInFlight`): the API and the mirror share one event
 * loop, and a page of search results costs CPU in proportion to its entries (each decoded from its stored
 * body, viewed, serialised). Measured by the review on this machine during a 200,000-entry catch-up: ten
 * connections asking for 1,000-entry issuer pages cut the catch-up from 5.8k–7.7k to 1.8k–2.4k entries/s,
 * and the rate limit counts requests, not their size (docs/operations.md "Exposing the API").
 *
 * A weighted semaphore: a page reserves the entries it may return (its `limit`), and pages run while their
 * reservations fit under the bound. The rest wait in arrival order, briefly: one that cannot start within
 * `maxWaitMs`, or that finds `maxQueued` already waiting, is refused with a 429 and Retry-After, and counted
 * (tlogwatch_api_search_rejected_total). Rekor's POST /api/v1/index/retrieve, which may read up to 10,000
 * entries (index-retrieve.ts MAX_SCANNED), reserves that many, so it runs alone. The bound limits how many pages interleave with the mirror's work,
 * not how fast one runs; pages also yield between slices of entries (search.ts), so the mirror's callbacks
 * run between them rather than after a whole page.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Metrics } from '../metrics.ts';
import { apiError } from './errors.ts';

export interface SearchGateOptions {
  /** Entries of search pages in flight at most; 0 = no bound. */
  entriesInFlight: number;
  /** How long a page may wait for room before it is refused. */
  maxWaitMs: number;
  /** Pages waiting at most; one more is refused at once. */
  maxQueued: number;
  /** Called for each page refused. */
  onReject: () => void;
}

export const SEARCH_GATE_DEFAULTS = { maxWaitMs: 2000, maxQueued: 64 } as const;

interface Waiter {
  cost: number;
  admit: () => void;
  timer: NodeJS.Timeout;
}

/** The semaphore alone: `run(cost, fn)` runs `fn` once `cost` fits, or throws API_BUSY. */
export class SearchGate {
  #inFlight = 0;
  readonly #queue: Waiter[] = [];
  readonly #o: Readonly<SearchGateOptions>;
  constructor(o: Readonly<SearchGateOptions>) {
    this.#o = o;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queue.length;
  }

  async run<T>(requested: number, fn: () => Promise<T>): Promise<T> {
    if (this.#o.entriesInFlight <= 0) return fn();
    // A page larger than the bound runs alone rather than never.
    const cost = Math.min(requested, this.#o.entriesInFlight);
    if (this.#queue.length > 0 || this.#inFlight + cost > this.#o.entriesInFlight) await this.#wait(cost);
    else this.#inFlight += cost;
    try {
      return await fn();
    } finally {
      this.#release(cost);
    }
  }

  #release(cost: number): void {
    this.#inFlight -= cost;
    this.#admit();
  }

  #wait(cost: number): Promise<void> {
    if (this.#queue.length >= this.#o.maxQueued) return Promise.reject(this.#busy('too many searches are waiting'));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        cost,
        admit: () => {
          clearTimeout(w.timer);
          resolve();
        },
        timer: setTimeout(() => {
          // Admitted waiters have their timer cleared, so `w` is still queued here.
          const at = this.#queue.indexOf(w);
          if (at >= 0) this.#queue.splice(at, 1);
          reject(this.#busy(`no room for the search within ${this.#o.maxWaitMs} ms`));
          // A large page that timed out at the head may have held back smaller ones that fit.
          this.#admit();
        }, this.#o.maxWaitMs),
      };
      this.#queue.push(w);
    });
  }

  /** Starts waiting pages in order while the next one fits (first come, first served: no overtaking). */
  #admit(): void {
    while (this.#queue.length > 0 && this.#inFlight + this.#queue[0]!.cost <= this.#o.entriesInFlight) {
      const w = this.#queue.shift()!;
      this.#inFlight += w.cost;
      w.admit();
    }
  }

  #busy(why: string) {
    this.#o.onReject();
    return apiError('API_BUSY', `the mirror is busy with other searches (${why}); retry after the time Retry-After gives, or ask for smaller pages`);
  }
}

/** The API's gate: the configured bound, the default wait and queue (or `timing`'s), refusals counted in `metrics`. */
export function createSearchGate(entriesInFlight: number, metrics: Pick<Metrics, 'apiSearchRejected'>, timing: Partial<Pick<SearchGateOptions, 'maxWaitMs' | 'maxQueued'>> = {}): SearchGate {
  return new SearchGate({ entriesInFlight, ...SEARCH_GATE_DEFAULTS, ...timing, onReject: () => metrics.apiSearchRejected.inc() });
}

/** What a request reserves: a page's `limit` query parameter, or `defaultLimit` when it has none. */
export function pageCost(defaultLimit: number): (c: Context) => number {
  return (c) => {
    const limit = Number(c.req.query('limit') ?? defaultLimit);
    // A limit that is no number is refused by the route's own validation; it reserves the default here.
    return Number.isInteger(limit) && limit > 0 ? limit : defaultLimit;
  };
}

/** Middleware: the request, reserving `costOf` its entries, through `gate`. */
export function searchGate(gate: SearchGate, costOf: (c: Context) => number): MiddlewareHandler {
  return async (c, next) => {
    const cost = costOf(c);
    try {
      await gate.run(cost, next);
    } catch (e) {
      // A page waits at most maxWaitMs; by then one has usually finished.
      if (e instanceof Error && 'code' in e && e.code === 'API_BUSY') c.header('retry-after', '1');
      throw e;
    }
  };
}
