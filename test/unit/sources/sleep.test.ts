/**
 * abortableSleep: the waits between polls of a log and of a checkpoint source. A configured interval can
 * exceed setTimeout's 2^31 - 1 ms (`pollInterval: 30d`), which Node would otherwise fire after 1 ms.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { abortableSleep } from '../../../src/sources/http.ts';

const settledWithin = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => 'resolved', () => 'rejected'), new Promise((r) => setTimeout(() => r('pending'), ms))]);

afterEach(() => {
  vi.useRealTimers();
});

describe('abortableSleep', () => {
  it('sleeps for a short delay', async () => {
    const t0 = performance.now();
    await abortableSleep(30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('does not wake early for a delay past 2^31 - 1 ms (30 days), and an abort still ends it', async () => {
    const ac = new AbortController();
    const sleeping = abortableSleep(30 * 86_400_000, ac.signal);
    expect(await settledWithin(sleeping, 200)).toBe('pending');
    ac.abort(new Error('shutdown'));
    await expect(sleeping).rejects.toThrow('shutdown');
  });

  it('wakes once the whole of a long delay has passed, not at the first 2^31 - 1 ms', async () => {
    vi.useFakeTimers();
    const ms = 2 ** 31 + 86_400_000;
    let woke = false;
    const sleeping = abortableSleep(ms).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(ms - (2 ** 31 - 1));
    await sleeping;
    expect(woke).toBe(true);
  });
});
