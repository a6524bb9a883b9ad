/**
 * The channel breaker (src/notify/breaker.ts) against a naive model of what its comment says, over
 * fast-check sequences of passes (when, how many rows due, which attempts fail), and the bounds the
 * notifier relies on: a dead receiver gets one pass of sends and then probes at a doubling delay; a
 * receiver that comes back gets its backlog at a rate that at most doubles per interval; a live receiver
 * brings the channel up within a few passes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterPass, allowance, FAILURES_TO_OPEN, PASS_MAX, probeDelay, UP, type BreakerOptions, type ChannelState } from '../../../src/notify/breaker.ts';

const o: BreakerOptions = { baseDelayMs: 2000, maxDelayMs: 600_000, intervalMs: 1000 };

/** The breaker as its comment tells it, written plainly with mutable fields. */
class Model {
  mode: 'up' | 'down' | 'recovering' = 'up';
  failures = 0;
  probes = 0;
  since = 0;
  retryAt = 0;
  window = 0;
  notBefore = 0;
  allowed(now: number): number {
    if (this.mode === 'up') return 100;
    if (this.mode === 'down') return now < this.retryAt ? 0 : 1;
    return now < this.notBefore ? 0 : this.window;
  }
  goDown(now: number, jitter: number) {
    this.mode = 'down';
    this.retryAt = now + Math.min(600_000, 2000 * 2 ** this.probes) * (0.5 + jitter / 2);
  }
  pass(start: number, attempted: number, failed: number, drained: boolean, now: number, jitter: number) {
    const everyOneFailed = attempted > 0 && failed === attempted;
    const someDelivered = attempted > failed;
    if (this.mode === 'up') {
      if (someDelivered) this.failures = 0;
      if (everyOneFailed) this.failures += failed;
      if (this.failures >= 3) {
        this.failures = 0;
        this.probes = 0;
        this.since = now;
        this.goDown(now, jitter);
      }
    } else if (this.mode === 'down') {
      if (everyOneFailed) {
        this.probes++;
        this.goDown(now, jitter);
      } else if (someDelivered) {
        if (drained) this.mode = 'up';
        else {
          this.mode = 'recovering';
          this.window = 2;
          this.notBefore = start + 1000;
        }
      }
    } else {
      if (everyOneFailed) {
        this.probes++;
        this.since = now;
        this.goDown(now, jitter);
        return;
      }
      if (attempted > 0) {
        if (failed === 0) this.window *= 2;
        this.notBefore = start + 1000;
      }
      if (drained || this.window >= 100) this.mode = 'up';
    }
  }
  matches(s: ChannelState): void {
    expect(s.state).toBe(this.mode);
    if (s.state === 'up') expect(s.failures).toBe(this.failures);
    if (s.state === 'down') expect([s.since, s.probes, s.retryAt]).toEqual([this.since, this.probes, this.retryAt]);
    if (s.state === 'recovering') expect([s.window, s.notBefore, s.probes]).toEqual([this.window, this.notBefore, this.probes]);
  }
}

/** A pass: how long after the last one it starts, how many rows are due, which of its attempts fail, how long its sends take. */
const pass = fc.record({
  gapMs: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 900_000 })),
  due: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 400 })),
  fails: fc.oneof(fc.constant('all' as const), fc.constant('none' as const), fc.constant('some' as const)),
  tookMs: fc.integer({ min: 0, max: 120_000 }),
  jitter: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
});
type Pass = typeof pass extends fc.Arbitrary<infer T> ? T : never;

/** Runs `passes` through the breaker; calls `see` with each pass's start, state before, attempts, failures and state after. */
function run(passes: Pass[], see: (at: number, before: ChannelState, attempted: number, failed: number, after: ChannelState, end: number) => void): void {
  let s: ChannelState = UP;
  let now = 1_000_000;
  for (const p of passes) {
    now += p.gapMs;
    const limit = allowance(s, now);
    const attempted = Math.min(limit, p.due);
    const failed = p.fails === 'all' ? attempted : p.fails === 'none' ? 0 : Math.floor(attempted / 2);
    const end = now + (limit > 0 ? p.tookMs : 0);
    const after = limit > 0 ? afterPass(s, { startedAt: now, attempted, failed, drained: p.due < limit }, end, p.jitter, o) : s;
    see(now, s, attempted, failed, after, end);
    s = after;
    now = end;
  }
}

describe('channel breaker', () => {
  it('matches the naive model over any sequence of passes', () => {
    fc.assert(
      fc.property(fc.array(pass, { maxLength: 80 }), (passes) => {
        const m = new Model();
        let s: ChannelState = UP;
        let now = 1_000_000;
        for (const p of passes) {
          now += p.gapMs;
          const limit = allowance(s, now);
          expect(limit).toBe(m.allowed(now));
          if (limit === 0) continue;
          const attempted = Math.min(limit, p.due);
          const failed = p.fails === 'all' ? attempted : p.fails === 'none' ? 0 : Math.floor(attempted / 2);
          const start = now;
          now += p.tookMs;
          s = afterPass(s, { startedAt: start, attempted, failed, drained: p.due < limit }, now, p.jitter, o);
          m.pass(start, attempted, failed, p.due < limit, now, p.jitter);
          m.matches(s);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a dead receiver: one pass of sends, then one probe at a time, at a delay that doubles to the cap', () => {
    fc.assert(
      fc.property(fc.array(pass.map((p) => ({ ...p, fails: 'all' as const })), { maxLength: 200 }), (passes) => {
        let attempts = 0;
        let probes = 0;
        let first: number | undefined;
        let last = 0;
        let lastProbe: { at: number; probes: number } | undefined;
        run(passes, (at, before, attempted, _failed, _after, end) => {
          attempts += attempted;
          if (attempted > 0) first ??= at;
          last = end;
          expect(allowance(before, at)).toBeLessThanOrEqual(PASS_MAX);
          if (before.state !== 'down') return;
          expect(attempted).toBeLessThanOrEqual(1);
          if (attempted === 0) return;
          probes++;
          // Each probe waits at least half the delay its failed probes have reached since the last.
          if (lastProbe) expect(at - lastProbe.at).toBeGreaterThanOrEqual(probeDelay(lastProbe.probes + 1, 0, o) - 1e-6);
          lastProbe = { at, probes: before.probes };
        });
        // Never recovering without a delivery: all but FAILURES_TO_OPEN - 1 + one pass are probes.
        expect(attempts).toBeLessThanOrEqual(FAILURES_TO_OPEN - 1 + PASS_MAX + probes);
        const span = first === undefined ? 0 : last - first;
        const doublings = Math.ceil(Math.log2(o.maxDelayMs / o.baseDelayMs));
        expect(probes).toBeLessThanOrEqual(1 + doublings + span / (o.maxDelayMs / 2));
      }),
      { numRuns: 1000 },
    );
  });

  it('a receiver back: the backlog drains at most doubling per pass, one pass per interval, until it is up', () => {
    fc.assert(
      fc.property(fc.array(pass, { maxLength: 120 }), (passes) => {
        let prev: { attempted: number; at: number } | undefined;
        run(passes, (at, before, attempted, failed, after) => {
          if (before.state === 'recovering' && attempted > 0) {
            expect(prev).toBeDefined();
            expect(attempted).toBeLessThanOrEqual(2 * prev!.attempted);
            expect(at - prev!.at).toBeGreaterThanOrEqual(o.intervalMs);
            expect(attempted).toBeLessThanOrEqual(before.window);
          }
          // Coming up from down takes a probe that delivered.
          if (before.state === 'down' && after.state !== 'down') expect(attempted - failed).toBe(1);
          if (attempted > 0) prev = { attempted, at };
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('a live receiver brings a held channel up within log2(PASS_MAX) + 1 allowed passes, whatever its backlog', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 100_000 }), (probes, backlog) => {
        let s: ChannelState = { state: 'down', since: 0, probes, retryAt: 5 };
        let now = 5;
        let passes = 0;
        let left = backlog;
        while (s.state !== 'up') {
          const limit = allowance(s, now);
          expect(limit).toBeGreaterThan(0);
          const attempted = Math.min(limit, left);
          left -= attempted;
          s = afterPass(s, { startedAt: now, attempted, failed: 0, drained: attempted < limit }, now, 0.5, o);
          passes++;
          now += o.intervalMs;
        }
        expect(passes).toBeLessThanOrEqual(Math.ceil(Math.log2(PASS_MAX)) + 1);
      }),
    );
  });

  it('a refused finding among delivered ones does not take the channel down', () => {
    let s: ChannelState = UP;
    for (let i = 0; i < 50; i++) s = afterPass(s, { startedAt: i * 1000, attempted: 10, failed: 1, drained: true }, i * 1000, 0, o);
    expect(s).toEqual(UP);
    s = afterPass(s, { startedAt: 0, attempted: 2, failed: 2, drained: true }, 0, 0, o);
    expect(s).toEqual({ state: 'up', failures: 2 });
    s = afterPass(s, { startedAt: 100, attempted: 1, failed: 1, drained: true }, 100, 0, o);
    expect(s).toEqual({ state: 'down', since: 100, probes: 0, retryAt: 100 + o.baseDelayMs / 2 });
  });
});
