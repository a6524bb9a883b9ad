/**
 * The optional native hashing loops (native/merkle.c, a Node-API addon): one call hashes a whole
 * inclusion or consistency proof (RFC 9162 §2.1.3.2, §2.1.4.2) with the OpenSSL inside the node binary,
 * where node:crypto costs ~1.5 µs of binding overhead per 65-byte node hash.
 *
 * `npm ci` builds build/native/merkle.node when a C compiler is there (native/build.ts). This module
 * loads it once, at import, and checks it against node:crypto on a small tree covering every branch of
 * the C loops. If it is missing, fails to load, fails that check, or TLOGWATCH_NATIVE=0 is set,
 * `nativeAddon` is undefined, the *Native functions return undefined and src/merkle hashes with
 * node:crypto alone; `merkleBackend` says which path is active and why. Loading a file at import is the
 * one contact with the environment src/merkle has: it decides how hashes are computed, never what they are.
 *
 * The *Native functions return undefined for any input they do not fully accept (not 32-byte Uint8Arrays,
 * sizes past uint64, a proof of the wrong length). Callers then run the node:crypto path, which gives the
 * exact error, so the TypeScript stays the one definition of what is valid.
 */
import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The addon's functions. Each returns true after writing its result into `out`, or false, writing
 * nothing, when an argument is not exactly what it documents. Proofs are the hashes concatenated.
 */
export interface NativeAddon {
  /** out (32 bytes) = SHA-256(0x01 || left || right). */
  nodeHash: (out: Uint8Array, left: Uint8Array, right: Uint8Array) => boolean;
  /** out (32 bytes) = SHA-256(0x00 || data), an RFC 9162 leaf hash. */
  leafHash: (out: Uint8Array, data: Uint8Array) => boolean;
  /** out (32 bytes) = SHA-256(data). */
  sha256: (out: Uint8Array, data: Uint8Array) => boolean;
  /** out (32 bytes) = the root implied by an inclusion proof of leaf `index` in a tree of `size`. */
  inclusionRoot: (out: Uint8Array, index: bigint, size: bigint, leaf: Uint8Array, proof: Uint8Array) => boolean;
  /** out (64 bytes) = the roots of size1 and size2 a consistency proof implies; only for 0 < size1 < size2. */
  consistencyRoots: (out: Uint8Array, size1: bigint, size2: bigint, proof: Uint8Array, root1: Uint8Array) => boolean;
}

export type MerkleBackend = { name: 'native'; path: string } | { name: 'node:crypto'; reason: string };

/** build/ at the repository (or image) root: two levels up from src/merkle/ and from dist/merkle/. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../build/native/merkle.node', import.meta.url));

const HASH = 32;
/** The longest proof the addon takes: 64 levels, plus a consistency proof's seed. */
const MAX_HASHES = 65;

const sha256 = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(hash('sha256', Buffer.concat(parts), 'buffer'));
const node = (l: Uint8Array, r: Uint8Array) => sha256(Uint8Array.of(1), l, r);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const cat = (...hs: Uint8Array[]) => new Uint8Array(Buffer.concat(hs));

/**
 * Checks an addon against node:crypto on the tree of 4 leaves: inclusion of leaf 1 in the tree of 3 (an
 * inner sibling on each side), of leaf 2 (a border sibling), consistency 3 → 4 (unseeded) and 2 → 4
 * (seeded with root1), and that a short proof is refused. Returns what failed, or undefined.
 */
export function selfTest(n: NativeAddon): string | undefined {
  const [l0, l1, l2, l3] = [0, 1, 2, 3].map((i) => sha256(Uint8Array.of(0, i))) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const h01 = node(l0, l1);
  const root3 = node(h01, l2);
  const root4 = node(h01, node(l2, l3));
  const out = new Uint8Array(32);
  const out2 = new Uint8Array(64);
  if (!n.nodeHash(out, l0, l1) || !same(out, h01)) return 'nodeHash';
  // Leaf and plain hashes: empty input, and one long enough to take several SHA-256 blocks unaligned.
  const long = new Uint8Array(Buffer.alloc(1000, 'tlogwatch').subarray(3));
  for (const data of [new Uint8Array(0), Uint8Array.of(0), long]) {
    if (!n.leafHash(out, data) || !same(out, sha256(Uint8Array.of(0), data))) return `leafHash of ${data.length} bytes`;
    if (!n.sha256(out, data) || !same(out, sha256(data))) return `sha256 of ${data.length} bytes`;
  }
  if (!n.inclusionRoot(out, 1n, 3n, l1, cat(l0, l2)) || !same(out, root3)) return 'inclusion of leaf 1 in 3';
  if (!n.inclusionRoot(out, 2n, 3n, l2, h01) || !same(out, root3)) return 'inclusion of leaf 2 in 3';
  if (n.inclusionRoot(out, 1n, 3n, l1, l0)) return 'a short inclusion proof was accepted';
  if (!n.consistencyRoots(out2, 3n, 4n, cat(l2, l3, h01), root3) || !same(out2, cat(root3, root4))) return 'consistency 3 → 4';
  if (!n.consistencyRoots(out2, 2n, 4n, node(l2, l3), h01) || !same(out2, cat(h01, root4))) return 'consistency 2 → 4';
  return undefined;
}

function isNativeAddon(m: unknown): m is NativeAddon {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  return ['nodeHash', 'leafHash', 'sha256', 'inclusionRoot', 'consistencyRoots'].every((f) => typeof o[f] === 'function');
}

function load(): { addon: NativeAddon | undefined; backend: MerkleBackend } {
  const off = (reason: string) => ({ addon: undefined, backend: { name: 'node:crypto', reason } as const });
  if (process.env['TLOGWATCH_NATIVE'] === '0') return off('disabled by TLOGWATCH_NATIVE=0');
  let m: unknown;
  try {
    m = createRequire(import.meta.url)(NATIVE_ADDON_PATH);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return off(code === 'MODULE_NOT_FOUND' ? `not built (${NATIVE_ADDON_PATH})` : `failed to load: ${String(e).split('\n')[0]}`);
  }
  if (!isNativeAddon(m)) return off('the addon has an unexpected shape');
  const failed = selfTest(m);
  if (failed !== undefined) return off(`self-test failed: ${failed}`);
  return { addon: m, backend: { name: 'native', path: NATIVE_ADDON_PATH } };
}

const loaded = load();

/** The raw addon when it loaded and passed its self-test; undefined means node:crypto only. */
export const nativeAddon: NativeAddon | undefined = loaded.addon;
/** Which hashing path src/merkle uses, and why (for logs, metrics and benchmarks). */
export const merkleBackend: MerkleBackend = loaded.backend;

// Scratch memory the addon reads and writes, in one ArrayBuffer allocated up front: Node-API then hands C
// a stable pointer at no cost, where a small `new Uint8Array(32)` lives on the V8 heap and is moved off it
// at its first Node-API call (an allocation and a copy, about the price of the hash). Used synchronously;
// `busy` makes a call from inside another (a getter on a proof array) take the node:crypto path instead.
const mem = new ArrayBuffer(4 * HASH + MAX_HASHES * HASH);
const out64 = new Uint8Array(mem, 0, 2 * HASH);
const out32 = out64.subarray(0, HASH);
const out32Buffer = Buffer.from(mem, 0, HASH);
const inA = new Uint8Array(mem, 2 * HASH, HASH);
const inB = new Uint8Array(mem, 3 * HASH, HASH);
const proofViews = Array.from({ length: MAX_HASHES + 1 }, (_, n) => new Uint8Array(mem, 4 * HASH, n * HASH));
let busy = false;

function put(dst: Uint8Array, h: unknown): boolean {
  if (!(h instanceof Uint8Array) || h.length !== HASH) return false;
  dst.set(h);
  return true;
}

/** The proof's hashes concatenated in scratch memory, or undefined unless it is an Array of 32-byte Uint8Arrays. */
function flatten(proof: readonly Uint8Array[]): Uint8Array | undefined {
  if (!Array.isArray(proof) || proof.length > MAX_HASHES) return undefined;
  const flat = proofViews[proof.length]!;
  for (let i = 0; i < proof.length; i++) {
    const h: unknown = proof[i];
    if (!(h instanceof Uint8Array) || h.length !== HASH) return undefined;
    flat.set(h, i * HASH);
  }
  return flat;
}

/**
 * `f` with the addon and the scratch memory to itself, or undefined when there is no addon or the memory
 * is in use (a call from inside another, through a getter): the caller then takes the node:crypto path.
 */
function withScratch<T>(f: (addon: NativeAddon) => T | undefined): T | undefined {
  if (!nativeAddon || busy) return undefined;
  busy = true;
  try {
    return f(nativeAddon);
  } finally {
    busy = false;
  }
}

/** SHA-256(0x01 || left || right) as a fresh array, or undefined (no addon, or inputs not 32-byte Uint8Arrays). */
export function nodeHashNative(left: Uint8Array, right: Uint8Array): Uint8Array | undefined {
  return withScratch((n) => (put(inA, left) && put(inB, right) && n.nodeHash(out32, inA, inB) ? out32.slice() : undefined));
}

/** SHA-256(0x00 || data) as a fresh array, or undefined (no addon, or data not a Uint8Array). */
export function leafHashNative(data: Uint8Array): Uint8Array | undefined {
  return withScratch((n) => (n.leafHash(out32, data) ? out32.slice() : undefined));
}

/** SHA-256(data) into scratch memory the next call overwrites, or undefined (no addon, or data not a Uint8Array). */
export function sha256NativeScratch(data: Uint8Array): Buffer | undefined {
  return withScratch((n) => (n.sha256(out32, data) ? out32Buffer : undefined));
}

/**
 * The root an inclusion proof implies, or undefined when the addon declines. Returns scratch memory that
 * the next call overwrites: copy it to keep it.
 */
export function inclusionRootNativeScratch(index: bigint, size: bigint, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array | undefined {
  return withScratch((n) => {
    const flat = flatten(proof); // first: getters on the proof array run here, before the leaf is read
    return flat && put(inA, leaf) && n.inclusionRoot(out32, index, size, inA, flat) ? out32 : undefined;
  });
}

/** The roots of size1 and size2 a consistency proof implies (fresh arrays), or undefined when the addon declines. */
export function consistencyRootsNative(size1: bigint, size2: bigint, proof: readonly Uint8Array[], root1: Uint8Array): [Uint8Array, Uint8Array] | undefined {
  return withScratch((n) => {
    const flat = flatten(proof);
    if (!flat || !put(inA, root1) || !n.consistencyRoots(out64, size1, size2, flat, inA)) return undefined;
    return [out64.slice(0, HASH), out64.slice(HASH)];
  });
}
