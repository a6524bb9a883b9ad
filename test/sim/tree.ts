/**
 * The simulator's Merkle tree: every complete-subtree hash, one growable Buffer per level (32 bytes a
 * node, no object per node). Memory is 64 bytes per leaf in all.
 *
 * Appending is RFC 6962's carry (as CompactRange.append, src/merkle/compact.ts): a leaf at an odd index
 * completes a pair, whose parent (SHA-256(0x01 || left || right)) goes one level up, and so on while the
 * parent's index is odd too. The two children sit side by side in their level's buffer, so each parent is
 * one hash of 65 bytes copied from it, written straight into the level above: no BigInt, no array per
 * node, which matters at a million leaves a build on the main thread.
 */
import { hash } from 'node:crypto';
import type { HashReader, NodeId } from '../../src/merkle/prove.ts';
import { proveConsistency, proveInclusion, treeRoot } from '../../src/merkle/prove.ts';

class HashColumn {
  buf: Buffer;
  count = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(32 * Math.max(1024, capacity));
  }
  /** Room for one more hash at the end. */
  private reserve(): void {
    if ((this.count + 1) * 32 <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(this.buf.length * 2);
    this.buf.copy(bigger, 0, 0, this.count * 32);
    this.buf = bigger;
  }
  /** The 32 bytes at `src[at]` (copied byte by byte: a subarray per leaf costs more). */
  push(src: Uint8Array, at: number): void {
    this.reserve();
    const to = this.count++ * 32;
    for (let i = 0; i < 32; i++) this.buf[to + i] = src[at + i]!;
  }
  /** A hash given as the 32 latin1 characters crypto.hash returns (faster than a Buffer). */
  pushLatin1(hash: string): void {
    this.reserve();
    this.buf.write(hash, this.count++ * 32, 'latin1');
  }
  get(index: number): Uint8Array {
    if (index >= this.count) throw new Error(`no node ${index} at this level (have ${this.count})`);
    return this.buf.subarray(index * 32, index * 32 + 32);
  }
}

const pair = Buffer.alloc(65, 0x01); // 0x01 || left || right; append is synchronous, so one scratch will do

export class SimTree {
  private readonly levels: HashColumn[];
  private readonly expected: number;

  /** `expected` leaves fit without growing a level (a build knows its size): no copies, no freed buffers. */
  constructor(expected = 0) {
    this.expected = expected;
    this.levels = [new HashColumn(expected)];
  }

  get size(): number {
    return this.levels[0]!.count;
  }

  /** Appends the leaf hash at `leafHashes[at]` (by default, the 32 bytes it holds). */
  append(leafHashes: Uint8Array, at = 0): void {
    if (at < 0 || at + 32 > leafHashes.length) throw new RangeError(`no 32-byte leaf hash at ${at} of ${leafHashes.length} bytes`);
    let index = this.size;
    this.levels[0]!.push(leafHashes, at);
    for (let level = 0; index % 2 === 1; level++, index = (index - 1) / 2) {
      const col = this.levels[level]!;
      pair.set(col.buf.subarray((index - 1) * 32, (index + 1) * 32), 1);
      (this.levels[level + 1] ??= new HashColumn(Math.floor(this.expected / 2 ** (level + 1)))).pushLatin1(hash('sha256', pair, 'binary'));
    }
  }


  leaf(index: number): Uint8Array {
    return this.levels[0]!.get(index);
  }

  /** Hashes [start, start+count) of a level (a tile row). */
  row(level: number, start: number, count: number): Buffer {
    const col = this.levels[level];
    if (!col || start + count > col.count) throw new Error('row out of range');
    return col.buf.subarray(start * 32, (start + count) * 32);
  }

  rowLength(level: number): number {
    return this.levels[level]?.count ?? 0;
  }

  readonly read: HashReader = (nodes: readonly NodeId[]) => nodes.map((n) => this.levels[n.level]!.get(Number(n.index)));

  root(size = this.size): Uint8Array {
    return treeRoot(BigInt(size), this.read);
  }
  inclusion(index: number, size: number): Uint8Array[] {
    return proveInclusion(BigInt(index), BigInt(size), this.read);
  }
  consistency(size1: number, size2: number): Uint8Array[] {
    return proveConsistency(BigInt(size1), BigInt(size2), this.read);
  }
}

