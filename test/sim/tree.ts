/**
 * The simulator's Merkle tree: every complete-subtree hash, one growable Buffer per level (32 bytes a
 * node, no object per node), filled by CompactRange's visitor. Memory is 64 bytes per leaf in all.
 */
import { CompactRange } from '../../src/merkle/compact.ts';
import type { HashReader, NodeId } from '../../src/merkle/prove.ts';
import { proveConsistency, proveInclusion, treeRoot } from '../../src/merkle/prove.ts';

class HashColumn {
  buf = Buffer.allocUnsafe(32 * 1024);
  count = 0;
  set(index: number, hash: Uint8Array): void {
    if (index !== this.count) throw new Error(`tree level out of order: ${index} != ${this.count}`);
    if ((index + 1) * 32 > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.count * 32);
      this.buf = bigger;
    }
    this.buf.set(hash, index * 32);
    this.count++;
  }
  get(index: number): Uint8Array {
    if (index >= this.count) throw new Error(`no node ${index} at this level (have ${this.count})`);
    return this.buf.subarray(index * 32, index * 32 + 32);
  }
}

export class SimTree {
  private readonly levels: HashColumn[] = [];
  private readonly range = CompactRange.empty();

  get size(): number {
    return Number(this.range.size);
  }

  append(leafHash: Uint8Array): void {
    this.range.append(leafHash, (level, index, hash) => (this.levels[level] ??= new HashColumn()).set(Number(index), hash));
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

