/**
 * The optional native hashing loops (native/merkle.c, a Node-API addon): one call hashes a whole
 * inclusion or consistency proof (RFC 9162 §2.1.3.2, §2.1.4.2) with the OpenSSL inside the node binary,
 * where node:crypto costs ~2 µs of binding overhead per 65-byte node hash.
 *
 * `npm ci` builds build/native/merkle.node when a C compiler is there (scripts/build-native.ts). This
 * module loads it once, at import, and checks it against node:crypto on a small tree covering every
 * branch of the C loops. If it is missing, fails to load, fails that check, or TLOGWATCH_NATIVE=0 is set,
 * `nativeMerkle` is undefined and src/merkle hashes with node:crypto alone; `merkleBackend` says which and
 * why. Loading a file at import is the one contact with the environment src/merkle has: it decides how
 * hashes are computed, never what they are.
 *
 * Contract of every function: it returns true after writing the result into `out`, or false, writing
 * nothing, for any input it does not fully accept (wrong types or lengths, sizes past uint64, a proof of
 * the wrong length). Callers then run the node:crypto path, which gives the exact error, so the
 * TypeScript stays the one definition of what is valid.
 */
import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeMerkle {
  /** out = SHA-256(0x01 || left || right); all three 32-byte Uint8Arrays. */
  nodeHash: (out: Uint8Array, left: Uint8Array, right: Uint8Array) => boolean;
  /** out (32 bytes) = the root implied by an inclusion proof of leaf `index` in a tree of `size`. */
  inclusionRoot: (out: Uint8Array, index: bigint, size: bigint, leaf: Uint8Array, proof: readonly Uint8Array[]) => boolean;
  /** out (64 bytes) = the roots of size1 and size2 a consistency proof implies; only for 0 < size1 < size2. */
  consistencyRoots: (out: Uint8Array, size1: bigint, size2: bigint, proof: readonly Uint8Array[], root1: Uint8Array) => boolean;
}

export type MerkleBackend = { name: 'native'; path: string } | { name: 'node:crypto'; reason: string };

/** build/ at the repository (or image) root: two levels up from src/merkle/ and from dist/merkle/. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../build/native/merkle.node', import.meta.url));

const sha256 = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(hash('sha256', Buffer.concat(parts), 'buffer'));
const node = (l: Uint8Array, r: Uint8Array) => sha256(Uint8Array.of(1), l, r);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/**
 * Checks the addon against node:crypto on the tree of 4 leaves: inclusion of leaf 1 in the tree of 3
 * (an inner sibling on each side), of leaf 2 (a border sibling), consistency 3 → 4 (unseeded) and 2 → 4
 * (seeded with root1), and that a short proof is refused. Returns what failed, or undefined.
 */
export function selfTest(n: NativeMerkle): string | undefined {
  const leaves = [0, 1, 2, 3].map((i) => sha256(Uint8Array.of(0, i)));
  const [l0, l1, l2, l3] = leaves as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const h01 = node(l0, l1);
  const root3 = node(h01, l2);
  const root4 = node(h01, node(l2, l3));
  const out = new Uint8Array(32);
  const out2 = new Uint8Array(64);
  if (!n.nodeHash(out, l0, l1) || !same(out, h01)) return 'nodeHash';
  if (!n.inclusionRoot(out, 1n, 3n, l1, [l0, l2]) || !same(out, root3)) return 'inclusion of leaf 1 in 3';
  if (!n.inclusionRoot(out, 2n, 3n, l2, [h01]) || !same(out, root3)) return 'inclusion of leaf 2 in 3';
  if (n.inclusionRoot(out, 1n, 3n, l1, [l0])) return 'a short inclusion proof was accepted';
  if (!n.consistencyRoots(out2, 3n, 4n, [l2, l3, h01], root3) || !same(out2, Buffer.concat([root3, root4]))) return 'consistency 3 → 4';
  if (!n.consistencyRoots(out2, 2n, 4n, [node(l2, l3)], h01) || !same(out2, Buffer.concat([h01, root4]))) return 'consistency 2 → 4';
  return undefined;
}

function isNativeMerkle(m: unknown): m is NativeMerkle {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  return typeof o['nodeHash'] === 'function' && typeof o['inclusionRoot'] === 'function' && typeof o['consistencyRoots'] === 'function';
}

function load(): { native: NativeMerkle | undefined; backend: MerkleBackend } {
  const off = (reason: string) => ({ native: undefined, backend: { name: 'node:crypto', reason } as const });
  if (process.env['TLOGWATCH_NATIVE'] === '0') return off('disabled by TLOGWATCH_NATIVE=0');
  let m: unknown;
  try {
    m = createRequire(import.meta.url)(NATIVE_ADDON_PATH);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return off(code === 'MODULE_NOT_FOUND' ? `not built (${NATIVE_ADDON_PATH})` : `failed to load: ${String(e).split('\n')[0]}`);
  }
  if (!isNativeMerkle(m)) return off('the addon has an unexpected shape');
  const failed = selfTest(m);
  if (failed !== undefined) return off(`self-test failed: ${failed}`);
  return { native: m, backend: { name: 'native', path: NATIVE_ADDON_PATH } };
}

const loaded = load();

/** The addon when it loaded and passed its self-test; undefined means node:crypto only. */
export const nativeMerkle: NativeMerkle | undefined = loaded.native;
/** Which hashing path src/merkle uses, and why (for logs, metrics and benchmarks). */
export const merkleBackend: MerkleBackend = loaded.backend;
