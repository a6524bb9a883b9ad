/** Which entries count as observed live (src/mirror/observed-live.ts): after a recent observation of the log's size only. */
import { describe, expect, it } from 'vitest';
import { LIVE_SLACK_SECONDS, liveFrom, priorObservation } from '../../../src/mirror/observed-live.ts';

describe('liveFrom', () => {
  const at = 1_800_000_000;
  const prior = { size: 1000n, at };
  it('is the size seen before, when that was at most a poll interval plus the slack ago', () => {
    expect(liveFrom(prior, at, 5000)).toBe(1000n);
    expect(liveFrom(prior, at + 5 + LIVE_SLACK_SECONDS, 5000)).toBe(1000n);
    // A poll interval under a second counts as one.
    expect(liveFrom(prior, at + 1 + LIVE_SLACK_SECONDS, 50)).toBe(1000n);
  });
  it('is none after a longer gap (a restart, a long catch-up, a log unreachable for a while)', () => {
    expect(liveFrom(prior, at + 6 + LIVE_SLACK_SECONDS, 5000)).toBeUndefined();
    expect(liveFrom(prior, at + 3600, 5000)).toBeUndefined();
  });
  it('is none without an observation before (a first round, a bootstrap), or one from the future (a clock set back)', () => {
    expect(liveFrom(undefined, at, 5000)).toBeUndefined();
    expect(liveFrom(prior, at - 1, 5000)).toBeUndefined();
  });
});

describe('priorObservation', () => {
  const upstream = { size: 1000n, at: 1_800_000_000 };
  it('is the size the round before saw, when the mirror had fetched no further', () => {
    expect(priorObservation(upstream, 1000n)).toEqual(upstream);
    expect(priorObservation(upstream, 400n)).toEqual(upstream);
  });
  it('is none when that checkpoint was older than what the mirror already held (a cache or replica behind), or there was none', () => {
    expect(priorObservation(upstream, 1001n)).toBeUndefined();
    expect(priorObservation(undefined, 0n)).toBeUndefined();
  });
});
