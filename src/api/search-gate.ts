/**
 * A bound on the search work in flight (`api.searchEntriesInFlight`): the API and the mirror share one event
 * loop, and a page of search results costs CPU in proportion to its entries (each decoded from its stored
 * body, viewed, serialised). Measured by the review on this machine during a 200,000-entry catch-up: ten
 * connections asking for 1,000-entry issuer pages cut the catch-up from 5.8k–7.7k to 1.8k–2.4k entries/s,
 * and the rate limit counts requests, not their size (docs/operations.md "Exposing the API").
 *
 * A weighted semaphore whose reservations follow the work (a `Hold`): a request reserves what it reads first
 * (a page's index scan, `scanCost`), and once it knows how many entries it decodes, holds that many instead
 * (`resize`): a digest lookup, which asks for a page of 50 and usually finds one entry, holds 7 and then 1,
 * not 50. Requests run while their holds fit under the bound, so everything in flight holds what it is
 * doing and the sum never exceeds the bound. The rest wait in arrival order, briefly: one that cannot start
 * within `maxWaitMs`, or that finds `maxQueued` already waiting, is refused with a 429 and Retry-After, and
 * counted (tlogwatch_api_search_rejected_total). A hold that must grow and finds no room gives up what it
 * holds and waits in line for the whole amount: a request never waits while holding, so holds that wait
 * for each other cannot deadlock. The bound limits how much decoding interleaves with the mirror's work, not
 * how fast one request runs; requests also yield between slices of entries (search.ts), so the mirror's
 * callbacks run between them rather than after a whole page.
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

/** A request's reservation: what it holds now, changed as its work becomes known. */
export interface Hold {
  /**
   * Holds `entries` from now on: less at once (the room goes to those waiting), more at once when it fits
   * and nobody waits; else it gives up what it holds and waits in line for all of it (or throws API_BUSY).
   */
  resize(entries: number): Promise<void>;
}

/** The hold of an unbounded gate: nothing to wait for. */
const FREE: Hold = { resize: () => Promise.resolve() };

/** The semaphore alone: `run(cost, fn)` runs `fn` once `cost` fits, or throws API_BUSY; `fn` may resize its hold. */
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

  async run<T>(requested: number, fn: (hold: Hold) => Promise<T>): Promise<T> {
    if (this.#o.entriesInFlight <= 0) return fn(FREE);
    let held = 0;
    const hold: Hold = {
      resize: async (entries) => {
        // A request larger than the bound runs alone rather than never.
        const want = Math.min(Math.max(0, entries), this.#o.entriesInFlight);
        if (want <= held || (this.#queue.length === 0 && this.#inFlight - held + want <= this.#o.entriesInFlight)) {
          this.#inFlight += want - held;
          held = want;
          // Room freed goes to those waiting, in order.
          this.#admit();
          return;
        }
        // Never wait while holding: give it all back, then wait for the whole amount.
        this.#inFlight -= held;
        held = 0;
        this.#admit();
        await this.#wait(want);
        held = want;
      },
    };
    await hold.resize(requested);
    try {
      return await fn(hold);
    } finally {
      this.#inFlight -= held;
      held = 0;
      this.#admit();
    }
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

  /** Starts waiting requests in order while the next one fits (first come, first served: no overtaking). */
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

/** What a page reserves: its `limit` query parameter, or `defaultLimit` when it has none. */
export function pageCost(defaultLimit: number): (c: Context) => number {
  return (c) => {
    const limit = Number(c.req.query('limit') ?? defaultLimit);
    // A limit that is no number is refused by the route's own validation; it reserves the default here.
    return Number.isInteger(limit) && limit > 0 ? limit : defaultLimit;
  };
}

/**
 * Index keys a scan reads for the CPU of decoding, viewing and serialising one entry of a page (the unit the
 * bound counts). Measured in-process on a 30,000-entry mirror (2026-11-30, a loaded machine): store.search
 * read 2.2–4.6 µs a key of the time and issuer indexes, a whole 1,000-entry page cost 21–36 µs an entry, a
 * ratio of 8–11; the lower end, so a scan is never charged less than it costs.
 */
const KEYS_PER_ENTRY = 8;

/** What reading `keys` index keys costs, in entries (at least 1: every request in flight holds some). */
export function scanKeysCost(keys: number): number {
  return Math.max(1, Math.ceil(keys / KEYS_PER_ENTRY));
}

/**
 * What a page's index scan reserves before the page knows what it found (its handler then resizes its hold
 * to the entries found): the keys it may read, its limit and one more (store.ts search), in entries.
 */
export function scanCost(defaultLimit: number): (c: Context) => number {
  const page = pageCost(defaultLimit);
  return (c) => scanKeysCost(page(c) + 1);
}

const holds = new WeakMap<Context, Hold>();

/** The hold of the request `c` (searchGate), for its handler to resize; one that holds nothing outside a gate. */
export function holdOf(c: Context): Hold {
  return holds.get(c) ?? FREE;
}

/** Middleware: the request, reserving `costOf` its entries first, through `gate` (its handler resizes the hold: holdOf). */
export function searchGate(gate: SearchGate, costOf: (c: Context) => number): MiddlewareHandler {
  return async (c, next) => {
    const cost = costOf(c);
    try {
      await gate.run(cost, (hold) => {
        holds.set(c, hold);
        return next();
      });
    } catch (e) {
      // A page waits at most maxWaitMs; by then one has usually finished.
      if (e instanceof Error && 'code' in e && e.code === 'API_BUSY') c.header('retry-after', '1');
      throw e;
    }
  };
}
