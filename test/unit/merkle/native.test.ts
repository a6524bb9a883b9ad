/**
 * The native addon (native/merkle.c, loaded by src/merkle/native.ts) against the node:crypto path, which
 * is the definition: the same roots for random trees and proofs, the same verdict (result, or error code
 * and message) for mutated and hostile ones, and no crash for any JS value passed to the raw functions.
 *
 * The default vitest project runs this with the addon active (a built addon that does not load is a
 * failure here); the merkle-node-crypto project (TLOGWATCH_NATIVE=0) checks the switch and runs every
 * other test in test/unit/merkle on the node:crypto path.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { merkleBackend, NATIVE_ADDON_PATH, nativeAddon, selfTest, type NativeAddon } from '../../../src/merkle/native.ts';
import * as fast from '../../../src/merkle/proof.ts';
import { proveConsistency, proveInclusion, type NodeId } from '../../../src/merkle/prove.ts';
import { leafHash, nodeHash } from '../../../src/merkle/rfc6962.ts';
import { sha256Hex } from '../../../src/util/sha256.ts';
import type * as rfc6962 from '../../../src/merkle/rfc6962.ts';

type ProofModule = typeof fast;
type HashModule = typeof rfc6962;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const MAX = (1n << 64n) - 1n;
const disabled = process.env['TLOGWATCH_NATIVE'] === '0';

function hasCompiler(): boolean {
  try {
    execFileSync(process.env['CC'] || 'cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('which hashing path src/merkle uses', () => {
  it.runIf(disabled)('TLOGWATCH_NATIVE=0 selects node:crypto', () => {
    expect(nativeAddon).toBeUndefined();
    expect(merkleBackend).toEqual({ name: 'node:crypto', reason: 'disabled by TLOGWATCH_NATIVE=0' });
  });

  it.runIf(!disabled)('the addon is active whenever it was built, and it is built wherever there is a compiler', () => {
    if (existsSync(NATIVE_ADDON_PATH)) expect(merkleBackend).toEqual({ name: 'native', path: NATIVE_ADDON_PATH });
    else expect(hasCompiler(), `${NATIVE_ADDON_PATH} is missing although a C compiler exists: run npm run build:native`).toBe(false);
  });

  // A copy of native.ts in a temp tree resolves build/native/merkle.node relative to itself, so the loader's
  // refusals can be staged without touching the real build.
  describe.runIf(!disabled && nativeAddon)('the loader on a staged tree', () => {
    let loader = '';
    let addon = '';
    let tmp = '';
    beforeAll(() => {
      tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-native-'));
      loader = join(tmp, 'src', 'merkle', 'native.ts');
      addon = join(tmp, 'build', 'native', 'merkle.node');
      mkdirSync(dirname(loader), { recursive: true });
      mkdirSync(dirname(addon), { recursive: true });
      copyFileSync(join(import.meta.dirname, '../../../src/merkle/native.ts'), loader);
    });
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    const backend = (env: Record<string, string> = {}) =>
      JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(loader).href)}); console.log(JSON.stringify(m.merkleBackend))`], {
          encoding: 'utf8',
          env: { ...process.env, ...env },
        }),
      ) as unknown;

    it('falls back when the addon is missing, unloadable or disabled; uses it when it is there', () => {
      expect(backend()).toEqual({ name: 'node:crypto', reason: `not built (${addon})` });
      writeFileSync(addon, 'not an ELF file');
      expect(backend()).toMatchObject({ name: 'node:crypto', reason: expect.stringMatching(/^failed to load: /) });
      copyFileSync(NATIVE_ADDON_PATH, addon);
      expect(backend()).toEqual({ name: 'native', path: addon });
      expect(backend({ TLOGWATCH_NATIVE: '0' })).toEqual({ name: 'node:crypto', reason: 'disabled by TLOGWATCH_NATIVE=0' });
    });
  });

  it.runIf(nativeAddon)('the self-test rejects an addon that is wrong in any one branch', () => {
    const good = nativeAddon!;
    expect(selfTest(good)).toBeUndefined();
    const mutant = (m: Partial<NativeAddon>): NativeAddon => ({
      nodeHash: (o, l, r) => good.nodeHash(o, l, r),
      leafHash: (o, d) => good.leafHash(o, d),
      sha256: (o, d) => good.sha256(o, d),
      inclusionRoot: (o, i, s, leaf, proof) => good.inclusionRoot(o, i, s, leaf, proof),
      consistencyRoots: (o, s1, s2, proof, r1) => good.consistencyRoots(o, s1, s2, proof, r1),
      ...m,
    });
    expect(selfTest(mutant({ nodeHash: (o, l, r) => good.nodeHash(o, r, l) }))).toBe('nodeHash');
    expect(selfTest(mutant({ leafHash: (o, d) => good.sha256(o, d) }))).toBe('leafHash of 0 bytes');
    expect(selfTest(mutant({ leafHash: (o, d) => good.leafHash(o, d.subarray(0, 500)) }))).toBe('leafHash of 997 bytes');
    expect(selfTest(mutant({ sha256: (o, d) => d.length > 0 && good.sha256(o, d) }))).toBe('sha256 of 0 bytes');
    expect(selfTest(mutant({ inclusionRoot: (o, i, s, leaf, proof) => proof.length === 32 && good.inclusionRoot(o, i, s, leaf, proof) }))).toBe('inclusion of leaf 1 in 3');
    expect(selfTest(mutant({ inclusionRoot: (o, i, s, leaf, proof) => (i === 2n ? (o.fill(0), true) : good.inclusionRoot(o, i, s, leaf, proof)) }))).toBe('inclusion of leaf 2 in 3');
    expect(selfTest(mutant({ inclusionRoot: (o, i, s, leaf, proof) => good.inclusionRoot(o, i, s, leaf, proof) || (o.fill(0), true) }))).toBe('a short inclusion proof was accepted');
    expect(selfTest(mutant({ consistencyRoots: () => false }))).toBe('consistency 3 → 4');
    expect(selfTest(mutant({ consistencyRoots: (o, s1, s2, proof, r1) => s1 === 3n && good.consistencyRoots(o, s1, s2, proof, r1) }))).toBe('consistency 2 → 4');
  });
});

/** What a call did: its result as hex, or the error's class, code and message. Equal strings mean equal behaviour. */
function verdict(f: () => Uint8Array | void): string {
  try {
    const r = f();
    return r ? `ok ${hex(r)}` : 'ok';
  } catch (e) {
    const err = e as { name?: unknown; code?: unknown; message?: unknown };
    return `${String(err.name)} ${String(err.code)}: ${String(err.message)}`;
  }
}

/** Every complete subtree node of a tree of `leaves`, hashed with `h`: levels[level][index]. */
function levelsOf(leaves: Uint8Array[], h: (l: Uint8Array, r: Uint8Array) => Uint8Array): Uint8Array[][] {
  const levels = [leaves];
  for (let row = leaves; row.length > 1; ) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < row.length; i += 2) next.push(h(row[i]!, row[i + 1]!));
    levels.push(next);
    row = next;
  }
  return levels;
}

describe.runIf(!disabled && nativeAddon)('native == node:crypto', () => {
  let pure: ProofModule;
  let pureHash: HashModule;

  beforeAll(async () => {
    // A second instance of src/merkle with the addon switched off: the reference for every comparison.
    vi.resetModules();
    vi.stubEnv('TLOGWATCH_NATIVE', '0');
    try {
      pure = await import('../../../src/merkle/proof.ts');
      pureHash = await import('../../../src/merkle/rfc6962.ts');
      const { merkleBackend: b } = await import('../../../src/merkle/native.ts');
      expect(b.name).toBe('node:crypto');
    } finally {
      vi.unstubAllEnvs();
    }
    expect(pure.verifyInclusion).not.toBe(fast.verifyInclusion);
  });

  const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const tree = fc.integer({ min: 1, max: 300 }).chain((n) => fc.tuple(fc.array(hash32, { minLength: n, maxLength: n }), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: n })));

  /** A random tree, an inclusion proof of one leaf and a consistency proof from a smaller size, by the pure path. */
  function proofsOf(leaves: Uint8Array[], i: number, m: number) {
    const levels = levelsOf(leaves, pureHash.nodeHash);
    const read = (ids: readonly NodeId[]) => ids.map((id) => levels[id.level]![Number(id.index)]!);
    const n = BigInt(leaves.length);
    return {
      n,
      root: pureHash.rootFromLeafHashes(leaves),
      root1: pureHash.rootFromLeafHashes(leaves.slice(0, m)),
      inclusion: proveInclusion(BigInt(i), n, read),
      consistency: proveConsistency(BigInt(m), n, read),
    };
  }

  it('the same leaf hashes and plain SHA-256 of any bytes, at any offset into their buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat({ max: 64 }), (bytes, skip) => {
        const view = bytes.subarray(Math.min(skip, bytes.length));
        expect(hex(leafHash(view))).toBe(hex(pureHash.leafHash(view)));
        expect(sha256Hex(view)).toBe(createHash('sha256').update(view).digest('hex'));
      }),
      { numRuns: 500 },
    );
    // Non-Uint8Array input the types forbid: node:crypto takes some views, and the fast path must not answer differently.
    for (const odd of [Buffer.from('abc'), new Uint16Array([1, 2]) as unknown as Uint8Array, new DataView(new ArrayBuffer(4)) as unknown as Uint8Array]) {
      expect(verdict(() => leafHash(odd))).toBe(verdict(() => pureHash.leafHash(odd)));
    }
  });

  it('the same node hashes and the same compact-range roots', () => {
    fc.assert(
      fc.property(hash32, hash32, (l, r) => {
        expect(hex(nodeHash(l, r))).toBe(hex(pureHash.nodeHash(l, r)));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(tree, ([leaves]) => {
        const range = CompactRange.empty();
        for (const l of leaves) range.append(l);
        expect(hex(range.root())).toBe(hex(pureHash.rootFromLeafHashes(leaves)));
      }),
      { numRuns: 40 },
    );
  });

  it('the same roots from valid proofs of random trees, and both verify', () => {
    fc.assert(
      fc.property(tree, ([leaves, i, m]) => {
        const p = proofsOf(leaves, i, m);
        const index = BigInt(i);
        expect(hex(fast.rootFromInclusionProof(index, p.n, leaves[i]!, p.inclusion))).toBe(hex(p.root));
        expect(hex(pure.rootFromInclusionProof(index, p.n, leaves[i]!, p.inclusion))).toBe(hex(p.root));
        fast.verifyInclusion(index, p.n, leaves[i]!, p.inclusion, p.root);
        fast.verifyConsistency(BigInt(m), p.n, p.consistency, p.root1, p.root);
      }),
      { numRuns: 200 },
    );
  });

  /** One change to an inclusion or consistency case: bytes, lengths, order, sizes, types. */
  type Case = { index: bigint; size: bigint; leaf: Uint8Array; proof: Uint8Array[]; root: Uint8Array };
  const odd = (b: Uint8Array): Uint8Array[] => [b.subarray(1), new Uint8Array([...b, 0]), new Uint8Array(0)];
  const mutations: Array<(c: Case, r: number) => Case> = [
    (c) => c,
    (c, r) => ({ ...c, proof: c.proof.map((h, j) => (j === r % Math.max(1, c.proof.length) ? flip(h, r) : h)) }),
    (c, r) => ({ ...c, leaf: flip(c.leaf, r) }),
    (c, r) => ({ ...c, root: flip(c.root, r) }),
    (c, r) => ({ ...c, proof: c.proof.filter((_, j) => j !== r % Math.max(1, c.proof.length)) }),
    (c, r) => ({ ...c, proof: [...c.proof.slice(0, r % (c.proof.length + 1)), c.leaf, ...c.proof.slice(r % (c.proof.length + 1))] }),
    (c) => ({ ...c, proof: c.proof.slice().reverse() }),
    (c, r) => ({ ...c, index: c.index + BigInt((r % 5) - 2) }),
    (c, r) => ({ ...c, size: c.size + BigInt((r % 5) - 2) }),
    (c) => ({ ...c, index: c.size }),
    (c) => ({ ...c, size: 0n, index: 0n }),
    (c) => ({ ...c, size: c.size + (1n << 64n), index: c.index + (1n << 64n) }),
    (c) => ({ ...c, index: -1n }),
    (c, r) => ({ ...c, proof: c.proof.map((h, j) => (j === r % Math.max(1, c.proof.length) ? odd(h)[r % 3]! : h)) }),
    (c, r) => ({ ...c, leaf: odd(c.leaf)[r % 3]! }),
    (c, r) => ({ ...c, root: odd(c.root)[r % 3]! }),
    (c) => ({ ...c, proof: [...c.proof, ...c.proof, ...c.proof] }),
    // Not Uint8Arrays at all, yet 32 long: the node:crypto path takes some of these, so must the native one.
    (c, r) => ({ ...c, proof: c.proof.map((h, j) => (j === r % Math.max(1, c.proof.length) ? ([...h] as unknown as Uint8Array) : h)) }),
    (c, r) => ({ ...c, proof: c.proof.map((h, j) => (j === r % Math.max(1, c.proof.length) ? (Uint16Array.from(h) as unknown as Uint8Array) : h)) }),
    (c) => ({ ...c, leaf: Buffer.from(c.leaf) }),
    (c) => ({ ...c, proof: c.proof.map((h) => new Uint8Array([0, 0, 0, ...h]).subarray(3)) }),
  ];
  function flip(b: Uint8Array, r: number): Uint8Array {
    const out = new Uint8Array(b);
    if (out.length > 0) out[r % out.length]! ^= 1 << (r % 8);
    return out;
  }

  it('the same verdict, error code and message for mutated inclusion proofs', () => {
    fc.assert(
      fc.property(tree, fc.nat(), fc.nat({ max: mutations.length - 1 }), ([leaves, i, m], r, k) => {
        const p = proofsOf(leaves, i, m);
        const c = mutations[k]!({ index: BigInt(i), size: p.n, leaf: leaves[i]!, proof: p.inclusion, root: p.root }, r);
        const a = verdict(() => fast.verifyInclusion(c.index, c.size, c.leaf, c.proof, c.root));
        expect(a).toBe(verdict(() => pure.verifyInclusion(c.index, c.size, c.leaf, c.proof, c.root)));
        expect(verdict(() => fast.rootFromInclusionProof(c.index, c.size, c.leaf, c.proof))).toBe(verdict(() => pure.rootFromInclusionProof(c.index, c.size, c.leaf, c.proof)));
      }),
      { numRuns: 500 },
    );
  });

  it('the same verdict, error code and message for mutated consistency proofs', () => {
    fc.assert(
      fc.property(tree, fc.nat(), fc.nat({ max: mutations.length - 1 }), ([leaves, i, m], r, k) => {
        const p = proofsOf(leaves, i, m);
        // index plays size1, size stays size2, leaf plays root1.
        const c = mutations[k]!({ index: BigInt(m), size: p.n, leaf: p.root1, proof: p.consistency, root: p.root }, r);
        expect(verdict(() => fast.verifyConsistency(c.index, c.size, c.proof, c.leaf, c.root))).toBe(verdict(() => pure.verifyConsistency(c.index, c.size, c.proof, c.leaf, c.root)));
      }),
      { numRuns: 500 },
    );
  });

  it('the same roots for random proofs in trees up to 2^64 - 1 (every proof length up to 64)', () => {
    const bigSize = fc.oneof(fc.bigInt({ min: 1n, max: MAX }), fc.bigInt({ min: MAX - 300n, max: MAX + 300n }), fc.integer({ min: 1, max: 64 }).map((k) => 1n << BigInt(k)));
    fc.assert(
      fc.property(bigSize.chain((s) => fc.tuple(fc.constant(s), fc.bigInt({ min: 0n, max: s - 1n }))), fc.array(hash32, { minLength: 130, maxLength: 130 }), ([size, index], hashes) => {
        const { inner, border } = pure.decompInclProof(index, size);
        const proof = hashes.slice(0, inner + border);
        expect(verdict(() => fast.rootFromInclusionProof(index, size, hashes[129]!, proof))).toBe(verdict(() => pure.rootFromInclusionProof(index, size, hashes[129]!, proof)));
        const size1 = index + 1n;
        if (size1 < size) {
          // Random hashes: both paths must agree on too long / too short / which root mismatches.
          for (const len of [1, 2, inner, inner + border, 64, 65, 66]) {
            const pr = hashes.slice(0, len);
            expect(verdict(() => fast.verifyConsistency(size1, size, pr, hashes[128]!, hashes[129]!))).toBe(verdict(() => pure.verifyConsistency(size1, size, pr, hashes[128]!, hashes[129]!)));
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('the same verdict for inputs the types forbid (numbers for bigints, missing arguments)', () => {
    const h = leafHash(Uint8Array.of(1));
    const calls: Array<(m: ProofModule) => Uint8Array | void> = [
      (m) => m.rootFromInclusionProof(1 as unknown as bigint, 2n, h, [h]),
      (m) => m.rootFromInclusionProof(0n, 2 as unknown as bigint, h, [h]),
      (m) => m.rootFromInclusionProof(0n, 2n, h, undefined as unknown as Uint8Array[]),
      (m) => m.rootFromInclusionProof(0n, 2n, undefined as unknown as Uint8Array, [h]),
      (m) => m.verifyConsistency(1n, 2n, [h], h, 'x' as unknown as Uint8Array),
      (m) => m.verifyConsistency(1n, 2n, [undefined as unknown as Uint8Array], h, h),
      (m) => m.verifyConsistency(3n, 4n, [h, h], h, h),
    ];
    for (const call of calls) expect(verdict(() => call(fast))).toBe(verdict(() => call(pure)));
  });
});

describe.runIf(!disabled && nativeAddon)('the raw addon on hostile input: false, never a crash', () => {
  const n = nativeAddon!;
  const h = leafHash(Uint8Array.of(1));
  const cat = (...hs: Uint8Array[]) => new Uint8Array(Buffer.concat(hs));
  const many = (k: number) => cat(...Array.from({ length: k }, () => h));

  it('any JS values in any argument', () => {
    const arg = fc.oneof(fc.anything(), fc.bigInt(), fc.uint8Array({ maxLength: 70 }), fc.uint8Array({ maxLength: 2200 }), fc.constant(h), fc.constant(many(64)));
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (args) => {
        for (const f of [n.nodeHash, n.leafHash, n.sha256, n.inclusionRoot, n.consistencyRoots] as Array<(...a: unknown[]) => unknown>) expect(typeof f(...args)).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses wrong output buffers, sizes past uint64, partial hashes and overlong proofs; writes nothing when it refuses', () => {
    const o = new Uint8Array(32).fill(7);
    expect(n.nodeHash(new Uint8Array(31), h, h)).toBe(false);
    for (const f of [n.leafHash, n.sha256]) {
      expect(f(new Uint8Array(33), h)).toBe(false);
      expect(f(o, 'abc' as unknown as Uint8Array)).toBe(false);
      expect(f(o, new Uint16Array(4) as unknown as Uint8Array)).toBe(false);
      expect(f(o, new DataView(new ArrayBuffer(4)) as unknown as Uint8Array)).toBe(false);
    }
    expect(n.nodeHash(new Uint16Array(32) as unknown as Uint8Array, h, h)).toBe(false);
    expect(n.nodeHash(o, new Uint8ClampedArray(32) as unknown as Uint8Array, h)).toBe(false);
    expect(n.inclusionRoot(o, 0n, 1n << 64n, h, new Uint8Array(0))).toBe(false);
    expect(n.inclusionRoot(o, -1n, 2n, h, h)).toBe(false);
    expect(n.inclusionRoot(o, 1n, 1n, h, new Uint8Array(0))).toBe(false);
    expect(n.inclusionRoot(o, 0n, 0n, h, new Uint8Array(0))).toBe(false);
    expect(n.inclusionRoot(o, 0n, 2n, h, many(2))).toBe(false);
    expect(n.inclusionRoot(o, 0n, 2n, h, h.subarray(1))).toBe(false);
    expect(n.inclusionRoot(o, 0n, 2n, h, new Uint8Array(33))).toBe(false);
    expect(n.inclusionRoot(o, 0n, 2n, h, new Uint8Array(1 << 20))).toBe(false);
    expect(n.inclusionRoot(o, 0n, 2n, h, [h] as unknown as Uint8Array)).toBe(false);
    expect(n.inclusionRoot(o, 0n, 2n, new Uint8Array(33), h)).toBe(false);
    expect(n.consistencyRoots(new Uint8Array(64), 0n, 2n, h, h)).toBe(false);
    expect(n.consistencyRoots(new Uint8Array(64), 2n, 2n, h, h)).toBe(false);
    expect(n.consistencyRoots(new Uint8Array(64), 3n, 2n, h, h)).toBe(false);
    expect(n.consistencyRoots(new Uint8Array(32), 1n, 2n, h, h)).toBe(false);
    expect(n.consistencyRoots(new Uint8Array(64), 1n, 2n, new Uint8Array(0), h)).toBe(false);
    expect(n.consistencyRoots(new Uint8Array(64), 1n, 2n, many(2), h)).toBe(false); // too long
    expect(n.consistencyRoots(new Uint8Array(64), 1n, 4n, h, h)).toBe(false); // too short
    expect(n.consistencyRoots(new Uint8Array(64), 1n, 2n, many(66), h)).toBe(false);
    expect(o.every((b) => b === 7)).toBe(true);
    // Accepted: the boundary cases.
    expect(n.inclusionRoot(o, 0n, 1n, h, new Uint8Array(0))).toBe(true);
    expect(hex(o)).toBe(hex(h));
    expect(n.inclusionRoot(o, 0n, MAX, h, many(64))).toBe(true); // inner 64
    expect(n.inclusionRoot(o, MAX - 1n, MAX, h, many(63))).toBe(true); // border 63
    expect(n.inclusionRoot(o, MAX - 1n, MAX, h, many(64))).toBe(false);
    expect(n.consistencyRoots(new Uint8Array(64), 1n, 2n, h, h)).toBe(true);
  });

  it('views at odd offsets, and outputs aliasing inputs', () => {
    const big = new Uint8Array(200);
    big.set(h, 7);
    big.set(h, 100);
    const a = big.subarray(7, 39);
    const b = big.subarray(100, 132);
    const o = new Uint8Array(32);
    expect(n.nodeHash(o, a, b)).toBe(true);
    expect(hex(o)).toBe(hex(nodeHash(h, h)));
    const l = new Uint8Array(h);
    expect(n.nodeHash(l, l, h)).toBe(true);
    expect(hex(l)).toBe(hex(nodeHash(h, h)));
    const sib = leafHash(Uint8Array.of(2));
    const both = cat(h, sib); // leaf, proof and output in one buffer
    expect(n.inclusionRoot(both.subarray(32), 0n, 2n, both.subarray(0, 32), both.subarray(32))).toBe(true);
    expect(hex(both.subarray(32))).toBe(hex(nodeHash(h, sib)));
    const body = new Uint8Array(Buffer.from('\u0000'.repeat(5) + 'an entry body, longer than its hash'));
    const expected = hex(leafHash(body.subarray(5)));
    expect(n.leafHash(body.subarray(0, 32), body.subarray(5))).toBe(true); // out overlaps data
    expect(hex(body.subarray(0, 32))).toBe(expected);
  });
});

describe.runIf(!disabled && nativeAddon)('the wrappers on arrays that run code', () => {
  const h = leafHash(Uint8Array.of(1));
  const sib = leafHash(Uint8Array.of(2));
  const want = nodeHash(nodeHash(h, sib), sib);

  it('a Proxy array is read like an array', () => {
    expect(hex(fast.rootFromInclusionProof(0n, 3n, h, new Proxy([sib, sib], {})))).toBe(hex(want));
  });

  it('a getter that calls into src/merkle, or detaches the leaf, cannot change the result', () => {
    const reentrant: Uint8Array[] = [sib];
    Object.defineProperty(reentrant, 1, {
      get() {
        // Uses the addon's scratch memory while the outer call is filling it: must take node:crypto.
        expect(hex(fast.rootFromInclusionProof(1n, 2n, sib, [h]))).toBe(hex(nodeHash(h, sib)));
        expect(hex(nodeHash(sib, sib))).toBe(hex(nodeHash(sib, sib)));
        return sib;
      },
    });
    reentrant.length = 2;
    expect(hex(fast.rootFromInclusionProof(0n, 3n, h, reentrant))).toBe(hex(want));
    fast.verifyInclusion(0n, 3n, h, reentrant, want);

    const leaf = new Uint8Array(h);
    const detaching: Uint8Array[] = [sib];
    Object.defineProperty(detaching, 1, {
      get() {
        structuredClone(leaf.buffer, { transfer: [leaf.buffer] });
        return sib;
      },
    });
    detaching.length = 2;
    // Whatever the order, the answer is an error about the leaf, never a crash or a root of other bytes.
    expect(() => fast.rootFromInclusionProof(0n, 3n, leaf, detaching)).toThrow(/leaf hash has 0 bytes|32-byte/);
  });

  it('a getter that throws propagates', () => {
    const p: Uint8Array[] = [h];
    Object.defineProperty(p, 1, {
      get() {
        throw new Error('getter');
      },
    });
    p.length = 2;
    expect(() => fast.rootFromInclusionProof(0n, 3n, h, p)).toThrow('getter');
    expect(() => fast.verifyConsistency(3n, 4n, p, h, h)).toThrow('getter');
  });
});
