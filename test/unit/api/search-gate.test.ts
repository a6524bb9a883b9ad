/**
 * The search gate's semaphore (api/search-gate.ts) on its own: pages run while their entries fit under the
 * bound, the rest wait in arrival order and start as room frees, and one that waits too long, or finds the
 * queue full, is refused (API_BUSY) and counted; a hold resized as its work becomes known, checked against a
 * naive model in every interleaving fast-check schedules. Real timers, short waits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { SearchGate } from '../../../src/api/search-gate.ts';

/**
 * The gate as a list: what each running request holds, and who waits for how much, in order. A request
 * asking for more than it holds gets it when it fits and nobody waits, else gives back what it holds and
 * joins the queue; whenever room frees, the queue's head starts while it fits.
 */
class NaiveGate {
  readonly held = new Map<number, number>();
  readonly queue: Array<{ id: number; want: number }> = [];
  readonly bound: number;
  constructor(bound: number) {
    this.bound = bound;
  }
  get inFlight(): number {
    return [...this.held.values()].reduce((a, b) => a + b, 0);
  }
  /** Start or resize: whether it runs at once. */
  ask(id: number, entries: number): boolean {
    const want = Math.min(Math.max(0, entries), this.bound);
    const has = this.held.get(id) ?? 0;
    if (want <= has || (this.queue.length === 0 && this.inFlight - has + want <= this.bound)) {
      this.held.set(id, want);
      this.admit();
      return true;
    }
    this.held.delete(id);
    this.admit();
    this.queue.push({ id, want });
    return false;
  }
  private admit(): void {
    while (this.queue.length > 0 && this.inFlight + this.queue[0]!.want <= this.bound) {
      const w = this.queue.shift()!;
      this.held.set(w.id, w.want);
    }
  }
}

/** A promise the test settles: stands for a page being served. */
function held() {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { done, release };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('search gate', () => {
  it('runs pages while their entries fit, queues the rest in order, and starts them as room frees', async () => {
    let rejected = 0;
    const gate = new SearchGate({ entriesInFlight: 1000, maxWaitMs: 5000, maxQueued: 10, onReject: () => rejected++ });
    const started: string[] = [];
    const pages = new Map<string, ReturnType<typeof held>>();
    const page = (name: string, cost: number) => {
      const h = held();
      pages.set(name, h);
      return gate.run(cost, async () => {
        started.push(name);
        await h.done;
        return name;
      });
    };
    const a = page('a', 600);
    const b = page('b', 400);
    // c does not fit (600 + 400 + 50 > 1000); d would, but does not overtake c.
    const c = page('c', 1000);
    const d = page('d', 50);
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect([gate.inFlight, gate.queued]).toEqual([1000, 2]);
    pages.get('a')!.release();
    await tick();
    expect(started).toEqual(['a', 'b']);
    pages.get('b')!.release();
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    pages.get('c')!.release();
    await tick();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    pages.get('d')!.release();
    expect(await Promise.all([a, b, c, d])).toEqual(['a', 'b', 'c', 'd']);
    expect([gate.inFlight, gate.queued, rejected]).toEqual([0, 0, 0]);
  });

  it('refuses a page that finds no room within maxWaitMs, and one that finds the queue full, counting each', async () => {
    let rejected = 0;
    const gate = new SearchGate({ entriesInFlight: 100, maxWaitMs: 100, maxQueued: 1, onReject: () => rejected++ });
    const h = held();
    const running = gate.run(100, () => h.done);
    const t = performance.now();
    const waiting = gate.run(10, () => Promise.resolve('ran')).catch((e: unknown) => e);
    const full = await gate.run(10, () => Promise.resolve('ran')).catch((e: unknown) => e);
    expect(isTlogwatchError(full, 'API_BUSY')).toBe(true);
    expect((full as Error).message).toMatch(/too many searches are waiting/);
    const timedOut = await waiting;
    expect(isTlogwatchError(timedOut, 'API_BUSY')).toBe(true);
    expect((timedOut as Error).message).toMatch(/no room for the search within 100 ms/);
    expect(performance.now() - t).toBeGreaterThanOrEqual(95);
    expect(rejected).toBe(2);
    h.release();
    await running;
    // Room again: a page runs at once.
    expect(await gate.run(100, () => Promise.resolve('ran'))).toBe('ran');
    expect([gate.inFlight, gate.queued]).toEqual([0, 0]);
  });

  it('releases a page that throws, and lets a page larger than the bound run alone', async () => {
    const gate = new SearchGate({ entriesInFlight: 100, maxWaitMs: 1000, maxQueued: 10, onReject: () => undefined });
    await expect(gate.run(50, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(gate.inFlight).toBe(0);
    expect(await gate.run(5000, () => Promise.resolve(gate.inFlight))).toBe(100);
  });

  it('bounds nothing with entriesInFlight 0', async () => {
    const gate = new SearchGate({ entriesInFlight: 0, maxWaitMs: 1, maxQueued: 0, onReject: () => undefined });
    const hs = [held(), held(), held()];
    const runs = hs.map((h) => gate.run(1000, () => h.done));
    for (const h of hs) h.release();
    await Promise.all(runs);
    expect(gate.inFlight).toBe(0);
  });

  it('matches the naive gate in every interleaving of starts, resizes and ends: the bound holds, waiters start in order, and every request ends (a hold never waits while holding)', async () => {
    const request = fc.record({ initial: fc.integer({ min: 0, max: 60 }), resizes: fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 3 }) });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 50 }), fc.array(request, { minLength: 1, maxLength: 8 }), async (s, bound, requests) => {
        const gate = new SearchGate({ entriesInFlight: bound, maxWaitMs: 60_000, maxQueued: 100, onReject: () => undefined });
        const model = new NaiveGate(bound);
        const same = () => {
          expect(gate.inFlight).toBeLessThanOrEqual(bound);
          expect([gate.inFlight, gate.queued]).toEqual([model.inFlight, model.queue.length]);
        };
        /** Called right after the gate was asked synchronously: the model is asked the same, then both compared. */
        const asked = (id: number, entries: number) => {
          model.ask(id, entries);
          same();
        };
        /** On resuming after an ask: the model must have it running with what it asked for. */
        const resumed = (id: number, entries: number) => {
          expect(model.held.get(id)).toBe(Math.min(entries, bound));
          expect(model.queue.some((w) => w.id === id)).toBe(false);
        };
        let ended = 0;
        const runs = requests.map(async ({ initial, resizes }, id) => {
          await s.schedule(Promise.resolve(), `start ${id}`);
          const run = gate.run(initial, async (hold) => {
            resumed(id, initial);
            for (const n of resizes) {
              await s.schedule(Promise.resolve(), `resize ${id} to ${n}`);
              const p = hold.resize(n);
              asked(id, n);
              await p;
              resumed(id, n);
            }
            await s.schedule(Promise.resolve(), `end ${id}`);
            // Ends by giving all back here, where the model can follow it: the gate's own release at the end
            // of `run` comes a few microtasks later, which other requests' steps may run between.
            const p = hold.resize(0);
            asked(id, 0);
            await p;
          });
          asked(id, initial);
          await run;
          ended++;
        });
        await s.waitIdle();
        await Promise.all(runs);
        expect(ended).toBe(requests.length);
        expect([gate.inFlight, gate.queued]).toEqual([0, 0]);
      }),
      { numRuns: 300 },
    );
  });
});
