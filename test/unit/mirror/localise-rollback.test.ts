/**
 * Where a tiles log's rollback stops (mirror/localise-rollback.ts). The search on a pure model: "good"
 * holds below the first bad entry, so the search returns the start of the bad entry's bundle (or the last
 * boundary committed, or the verified size), in ~log2 probes; answers that are wrong only one way (a
 * corrupted probe says bad, a transient one says stop) never move it past the truth. Then the probe on an
 * in-memory log whose stored frontier has one leaf rewritten, against tiles computed from the honest leaves
 * (a naive reference: each row hashed from the one below), with and without tiles that lie.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { leafHash, nodeHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import type { TileReader } from '../../../src/merkle/tiles.ts';
import { lastGoodBoundary, localiseRollback, type ProbeResult } from '../../../src/mirror/localise-rollback.ts';
import { verifiedTilesFrontier } from '../../../src/mirror/start-frontier.ts';
import { TlogwatchError } from '../../../src/errors.ts';

const W = 256n;
const unlimited = { maxProbes: 64, expired: () => false };

/** The largest bundle boundary in (from, min(bad, through)], else `from`: the search's answer when entry `bad` is the first bad one. */
function expected(from: bigint, through: bigint, bad: bigint): bigint {
  const top = ((bad < through ? bad : through) / W) * W;
  return top > from ? top : from;
}

/** ceil(log2(x)) for x >= 1. */
function log2ceil(x: bigint): number {
  let n = 0;
  while (1n << BigInt(n) < x) n++;
  return n;
}

/** Sizes (from, through, bad): a verified size, a committed frontier at or past it, the first bad entry anywhere from the verified size on. */
const sizes = fc
  .tuple(fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 0n, max: 1n << 20n }), fc.bigInt({ min: 0n, max: (1n << 20n) + 300n }))
  .map(([from, span, off]) => ({ from, through: from + span, bad: from + off }));

describe('lastGoodBoundary', () => {
  it('returns the bad entry bundle start, the last boundary, or the verified size, in at most ceil(log2(boundaries + 1)) probes', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, async ({ from, through, bad }) => {
        const asked: bigint[] = [];
        const out = await lastGoodBoundary(from, through, (size) => (asked.push(size), Promise.resolve(size <= bad ? 'good' : 'bad')), unlimited);
        expect(out.size).toBe(expected(from, through, bad));
        expect(out.cut).toBeUndefined();
        const boundaries = through / W - from / W;
        expect(out.probes).toBeLessThanOrEqual(log2ceil(boundaries + 1n));
        for (const s of asked) {
          expect(s % W).toBe(0n);
          expect(s > from && s <= through).toBe(true);
        }
      }),
    );
  });

  it('answers wrong only towards bad or stop (lying tiles, a transient error) never move it past the truth', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, fc.array(fc.constantFrom<ProbeResult | 'truth'>('truth', 'truth', 'bad', 'stop'), { minLength: 1, maxLength: 40 }), async ({ from, through, bad }, script) => {
        const good: bigint[] = [];
        let i = 0;
        const out = await lastGoodBoundary(
          from,
          through,
          (size) => {
            const said = script[i++ % script.length]!;
            const r: ProbeResult = said === 'truth' || size > bad ? (size <= bad ? 'good' : 'bad') : said;
            if (r === 'good') good.push(size);
            return Promise.resolve(r);
          },
          unlimited,
        );
        expect(out.size <= expected(from, through, bad)).toBe(true);
        expect(out.size === from || good.includes(out.size)).toBe(true);
      }),
    );
  });

  it('stops at the probe cap or the time budget with the largest size proven so far', async () => {
    const probe = (size: bigint) => Promise.resolve<ProbeResult>(size <= 1_000_000n ? 'good' : 'bad');
    const capped = await lastGoodBoundary(300n, 5_000_000n, probe, { maxProbes: 3, expired: () => false });
    expect(capped).toMatchObject({ probes: 3, cut: 'limit' });
    expect(capped.size <= 1_000_000n && (capped.size === 300n || capped.size % W === 0n)).toBe(true);
    expect(await lastGoodBoundary(300n, 5_000_000n, probe, { maxProbes: 64, expired: () => true })).toEqual({ size: 300n, probes: 0, cut: 'limit' });
    const full = await lastGoodBoundary(300n, 5_000_000n, probe, unlimited);
    expect(full.size).toBe(999_936n);
    expect(full.probes).toBeLessThanOrEqual(15);
  });

  it('probes nothing when no boundary lies above the verified size', async () => {
    const never = () => Promise.reject(new Error('probed'));
    expect(await lastGoodBoundary(300n, 511n, never, unlimited)).toEqual({ size: 300n, probes: 0 });
    expect(await lastGoodBoundary(512n, 512n, never, unlimited)).toEqual({ size: 512n, probes: 0 });
    expect(await lastGoodBoundary(700n, 300n, never, unlimited)).toEqual({ size: 700n, probes: 0 });
  });
});

/** Tile rows 0, 8, 16, … of a tree over `leaves`, each row hashed from the one below (naive). */
function tileRows(leaves: readonly Uint8Array[]): Uint8Array[][] {
  const rows = [leaves.slice()];
  let level = leaves.slice();
  for (let l = 1; level.length > 1; l++) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    level = next;
    if (l % 8 === 0) rows.push(next);
  }
  return rows;
}

function frontierOf(leaves: readonly Uint8Array[], size: bigint): CompactRange {
  const r = CompactRange.empty();
  for (let i = 0; i < Number(size); i++) r.append(leaves[i]!);
  return r;
}

/**
 * An in-memory log of `n` leaves, its tiles, and the store's leaves with entry `bad` rewritten (none when past
 * the end). With `pathRewrites`, the level-0 tiles are served as a path that rewrote entry `bad` serves them
 * (the simulator's `rewrite`): hashed from the rewritten leaves, the tiles above as the log has them.
 */
function model(n: number, bad: number, pathRewrites = false) {
  const leaves = Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
  const held = leaves.map((l, i) => (i === bad ? leafHash(new TextEncoder().encode(`rewritten ${i}`)) : l));
  const rows = tileRows(leaves);
  if (pathRewrites) rows[0] = held.slice();
  const read: TileReader = (level, k, width) => rows[level]!.slice(Number(k) * 256, Number(k) * 256 + width);
  return { checkpoint: { size: BigInt(n), rootHash: rootFromLeafHashes(leaves) }, leaves, held, read };
}

/** Whether the proofs to a checkpoint of size `n` read entry `bad` from a tile that holds it rewritten: its partial level-0 tile does. */
function partialTileRewritten(n: number, bad: number): boolean {
  return n % 256 !== 0 && bad >= n - (n % 256) && bad < n;
}

describe('localiseRollback', () => {
  it('keeps every bundle before the rewritten one, with the frontier the tiles prove there', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 3000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1.2, noNaN: true }), async (n, a, b, c) => {
        const from = BigInt(Math.floor(a * (n - 1)));
        const fetched = from + BigInt(Math.floor(b * (n - Number(from))));
        const bad = Number(from) + Math.floor(c * (Number(fetched) - Number(from)));
        const m = model(n, bad);
        const out = await localiseRollback({ from, fetched, checkpoint: m.checkpoint, note: '', stored: (s) => Promise.resolve(frontierOf(m.held, s)), read: m.read, now: () => 0 });
        const want = expected(from, fetched < BigInt(n) ? fetched : BigInt(n) - 1n, BigInt(bad));
        expect(out.size).toBe(want);
        if (want > from) expect(out.frontier?.root()).toEqual(frontierOf(m.leaves, want).root());
        else expect(out.frontier).toBeUndefined();
      }),
      { numRuns: 60 },
    );
  });

  it('tiles that lie (changed, or forged to agree with the store) make a probe bad, and a tile not served ends the search: either way no further than what was proven', async () => {
    const m = model(5300, 2600);
    const stored = (s: bigint) => Promise.resolve(frontierOf(m.held, s));
    const base = { from: 300n, fetched: 5120n, checkpoint: m.checkpoint, note: '', stored, now: () => 0 };
    expect((await localiseRollback({ ...base, read: m.read })).size).toBe(2560n);
    // Every tile above level 0 with one hash changed: no probe proves anything.
    const lying: TileReader = (level, k, width) => (level === 0 ? m.read(level, k, width) : (m.read(level, k, width) as Uint8Array[]).map((h) => nodeHash(h, h)));
    const lied = await localiseRollback({ ...base, read: lying });
    expect(lied).toEqual({ size: 300n, probes: 4 });
    // Tiles forged to agree with the store (computed from the rewritten leaves, as a path that rewrote the
    // entry would serve them): the store's frontier matches them everywhere, no consistency proof verifies.
    const forgedRows = tileRows(m.held);
    const forged: TileReader = (level, k, width) => forgedRows[level]!.slice(Number(k) * 256, Number(k) * 256 + width);
    expect(await localiseRollback({ ...base, read: forged })).toEqual({ size: 300n, probes: 4 });
    // A tile not served (a transient error): the first probe ends the search at the verified size.
    const stops: bigint[] = [];
    const refused: TileReader = (level, k, width) => {
      if (level > 0) throw new TlogwatchError('SOURCE_HTTP_STATUS', 'tile not served', { kind: 'transient' });
      return m.read(level, k, width);
    };
    expect(await localiseRollback({ ...base, read: refused, onStop: (s) => stops.push(s) })).toEqual({ size: 300n, probes: 1, cut: 'stopped' });
    expect(stops).toEqual([2816n]);
    // A store that cannot rebuild its frontier at the third probe (2048): the search ends at the second (1536, good).
    let calls = 0;
    const failingStore = (s: bigint) => (++calls > 2 ? Promise.reject(new Error('lost a hash')) : stored(s));
    const cut = await localiseRollback({ ...base, stored: failingStore, read: m.read });
    expect(cut).toMatchObject({ size: 1536n, probes: 3, cut: 'stopped' });
    expect(cut.frontier?.root()).toEqual(frontierOf(m.leaves, 1536n).root());
  });

  it('a rewritten entry in the last, partial bundle: no probe against that checkpoint can verify, whatever the store holds', async () => {
    // The catch-up to 3300 committed [300, 2816) and failed the root on its last batch, which held the
    // rewritten 3200: nothing committed is wrong. But every consistency proof to 3300 needs hashes over
    // [3072, 3300), which only the partial level-0 tile holds, and the path serves it rewritten.
    const m = model(3300, 3200, true);
    const honest = model(3300, 3200);
    for (let x = 256n; x < 3300n; x += 256n) {
      await expect(verifiedTilesFrontier(x, m.checkpoint, '', m.read)).rejects.toMatchObject({ code: 'VERIFY_TILE_MISMATCH' });
      expect((await verifiedTilesFrontier(x, honest.checkpoint, '', honest.read)).root()).toEqual(frontierOf(m.leaves, x).root());
    }
    // So against 3300 the search answers as for a rewritten entry in the first bundle, committed: the verified size.
    const stored = (held: readonly Uint8Array[]) => (s: bigint) => Promise.resolve(frontierOf(held, s));
    const base = { from: 300n, fetched: 2816n, checkpoint: m.checkpoint, note: '', now: () => 0 };
    const last = await localiseRollback({ ...base, stored: stored(m.held), read: m.read });
    const firstBundle = model(3300, 300, true);
    const first = await localiseRollback({ ...base, stored: stored(firstBundle.held), read: firstBundle.read });
    expect(last).toEqual({ size: 300n, probes: 3 });
    expect(first).toEqual(last);
  });

  it('when every probe was bad, a later checkpoint past that bundle proves what the failed one could not', async () => {
    const m = model(3300, 3200, true);
    const grown = model(3400, 3200, true);
    const base = { from: 300n, fetched: 2816n, checkpoint: m.checkpoint, note: '', stored: (s: bigint) => Promise.resolve(frontierOf(m.held, s)), read: grown.read, now: () => 0 };
    const out = await localiseRollback({ ...base, later: () => Promise.resolve({ checkpoint: grown.checkpoint, note: '' }) });
    expect(out).toMatchObject({ size: 2816n, probes: 3 + 4, against: 3400n });
    expect(out.frontier?.root()).toEqual(frontierOf(m.leaves, 2816n).root());
    // Not past the bundle yet (3320: the partial tile still holds the rewritten 3200), no larger one, or none
    // given: the verified size, as before. A later checkpoint that cannot be had ends it there too.
    const notPast = model(3320, 3200, true);
    expect(await localiseRollback({ ...base, read: notPast.read, later: () => Promise.resolve({ checkpoint: notPast.checkpoint, note: '' }) })).toEqual({ size: 300n, probes: 6 });
    let asked = 0;
    const same = () => (asked++, Promise.resolve({ checkpoint: m.checkpoint, note: '' }));
    expect(await localiseRollback({ ...base, read: m.read, later: same })).toEqual({ size: 300n, probes: 3 });
    expect(asked).toBe(1);
    const stops: bigint[] = [];
    const refused = () => Promise.reject(new TlogwatchError('SOURCE_HTTP_STATUS', 'checkpoint not served', { kind: 'transient' }));
    expect(await localiseRollback({ ...base, read: m.read, later: refused, onStop: (s) => stops.push(s) })).toEqual({ size: 300n, probes: 3 });
    expect(stops).toEqual([3300n]);
    // A committed rewritten entry stays bad against any checkpoint: the later one proves only the bundles before it.
    const committed = model(3400, 1600, true);
    const again = await localiseRollback({ ...base, checkpoint: model(3300, 1600, true).checkpoint, stored: (s) => Promise.resolve(frontierOf(committed.held, s)), read: committed.read, later: () => Promise.reject(new Error('not asked: a probe proved 1536')) });
    expect(again.size).toBe(1536n);
  });

  it('asks for a later checkpoint only when every probe was bad, and keeps to the probe cap across both searches', async () => {
    const m = model(3300, 3200, true);
    const grown = model(3400, 3200, true);
    let asked = 0;
    const later = () => (asked++, Promise.resolve({ checkpoint: grown.checkpoint, note: '' }));
    const base = { from: 300n, fetched: 2816n, checkpoint: m.checkpoint, note: '', stored: (s: bigint) => Promise.resolve(frontierOf(m.held, s)), read: grown.read, now: () => 0, later };
    // 3 probes all bad against 3300, then 3 good ones against 3400 of the 4 it needs: the largest proven.
    const capped = await localiseRollback({ ...base, maxProbes: 6 });
    expect(capped).toMatchObject({ size: 2560n, probes: 6, cut: 'limit', against: 3400n });
    expect(capped.frontier?.root()).toEqual(frontierOf(m.leaves, 2560n).root());
    // The first search used them all: the second stops before it starts.
    expect(await localiseRollback({ ...base, maxProbes: 3 })).toEqual({ size: 300n, probes: 3, cut: 'limit' });
    expect(asked).toBe(2);
    // A search cut short (a probe stopped) proved nothing, but is not "every probe bad": no second search.
    const stopping: TileReader = (level, k, width) => {
      if (level > 0) throw new TlogwatchError('SOURCE_HTTP_STATUS', 'tile not served', { kind: 'transient' });
      return grown.read(level, k, width);
    };
    expect(await localiseRollback({ ...base, read: stopping })).toMatchObject({ size: 300n, cut: 'stopped' });
    expect(asked).toBe(2);
  });

  it('with a path that rewrites level-0 tiles and a log that grew: the bundles before the first bad committed entry, proven against whichever checkpoint can', async () => {
    // The rewritten entry anywhere from the verified size on, or (half the runs) in the checkpoint's last bundle.
    const where = fc.oneof(fc.record({ c: fc.double({ min: 0, max: 1.3, noNaN: true }) }), fc.record({ last: fc.double({ min: 0, max: 1, noNaN: true }) }));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 3000 }), fc.integer({ min: 0, max: 600 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), where, async (n, growth, a, b, w) => {
        const from = BigInt(Math.floor(a * (n - 1)));
        const fetched = from + BigInt(Math.floor(b * (n - Number(from))));
        const lastBundle = n - (n % 256 || 256);
        const bad = 'c' in w ? Number(from) + Math.floor(w.c * (n - Number(from))) : lastBundle + Math.floor(w.last * (n - lastBundle - 1));
        const m = model(n, bad, true);
        const grown = model(n + growth, bad, true);
        const held = (s: bigint) => Promise.resolve(frontierOf(m.held, s));
        const out = await localiseRollback({ from, fetched, checkpoint: m.checkpoint, note: '', stored: held, read: grown.read, now: () => 0, later: () => Promise.resolve({ checkpoint: grown.checkpoint, note: '' }) });
        const through = fetched < BigInt(n) ? fetched : BigInt(n) - 1n;
        // Against a checkpoint of size `size`: the honest answer, unless its partial tile holds the rewritten entry.
        const against = (size: number) => (partialTileRewritten(size, bad) ? from : expected(from, through, BigInt(bad)));
        let want = against(n);
        const probed = through / W > from / W;
        if (want === from && probed && growth > 0) want = against(n + growth);
        expect(out.size).toBe(want);
        if (want > from) expect(out.frontier?.root()).toEqual(frontierOf(m.leaves, want).root());
        else expect(out.frontier).toBeUndefined();
      }),
      { numRuns: 80 },
    );
  });
});
