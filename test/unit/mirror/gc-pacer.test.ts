/**
 * The catch-up's GC pacer (gc-pacer.ts): collects once memory (V8's heap and external memory) has grown a
 * step above the lowest level seen since its last collection, and does nothing without a `gc` (Node
 * without --expose-gc).
 */
import { describe, expect, it } from 'vitest';
import { GcPacer } from '../../../src/mirror/gc-pacer.ts';

const MB = 1 << 20;

describe('GcPacer', () => {
  it('collects after a step of growth above the floor, and measures the floor again after collecting', () => {
    let external = 100 * MB;
    const calls: unknown[] = [];
    const pacer = new GcPacer({
      gc: (o) => {
        calls.push(o);
        external = 90 * MB; // what the collection freed
      },
      read: () => external,
      stepBytes: 10 * MB,
    });
    expect(pacer.enabled).toBe(true);
    expect(pacer.tick()).toBe(false); // floor 100
    external = 95 * MB;
    expect(pacer.tick()).toBe(false); // floor 95
    external = 104.9 * MB;
    expect(pacer.tick()).toBe(false); // 9.9 above the floor
    external = 105 * MB;
    expect(pacer.tick()).toBe(true);
    expect(calls).toEqual([{ type: 'major', execution: 'sync' }]);
    // Floor now 90, what the collection left.
    external = 99 * MB;
    expect(pacer.tick()).toBe(false);
    external = 100 * MB;
    expect(pacer.tick()).toBe(true);
    expect(pacer.collections).toBe(2);
  });

  it('does nothing without gc', () => {
    let reads = 0;
    const pacer = new GcPacer({ gc: undefined, read: () => (reads++, 1e12), stepBytes: 1 });
    expect(pacer.enabled).toBe(false);
    expect(pacer.tick()).toBe(false);
    expect(reads).toBe(0);
  });

  it("counts the growth of V8's heap by default, not only external memory", () => {
    let collections = 0;
    const pacer = new GcPacer({ gc: () => void collections++, stepBytes: 8 * MB });
    expect(pacer.tick()).toBe(false); // the floor
    // ~16 MB of live JavaScript objects and no ArrayBuffer: only the heap grows.
    const held = Array.from({ length: 16 }, (_, i) => Array.from({ length: 128 * 1024 }, (_, j) => ({ i, j })));
    expect(pacer.tick()).toBe(true);
    expect([collections, held.length]).toEqual([1, 16]);
  });

  it('uses the gc that --expose-gc gives, where there is one', () => {
    const pacer = new GcPacer();
    expect(pacer.enabled).toBe(typeof (globalThis as { gc?: unknown }).gc === 'function');
  });
});
