/**
 * What readers are shown: the log as published, with the misbehaviour faults applied (faults.ts), and
 * the signed checkpoints. Roots and notes are cached until the log or its faults change.
 */
import { createHash } from 'node:crypto';
import { leafHash } from '../../src/merkle/rfc6962.ts';
import { TILE_WIDTH } from '../../src/merkle/tiles.ts';
import { formatCheckpoint } from '../../src/note/checkpoint.ts';
import { cosignatureSigner, ecdsaSigner, ed25519Signer, mldsaCosignatureSigner } from '../../src/note/keys.ts';
import { signNote, type NoteSigner } from '../../src/note/note.ts';
import { EntryGenerator } from './generate.ts';
import type { Shard, SimLog } from './log.ts';
import { SimTree } from './tree.ts';

interface Fork {
  /** The fault's index and the tree it was made for: a change of either makes a new fork. */
  requested: number;
  treeID: string;
  /** Tree index (in the active shard) whose leaf differs. */
  at: number;
  tree: SimTree;
  body: Buffer;
}

export class LogView {
  private readonly log: SimLog;
  private cacheVersion = -1;
  private readonly cache = new Map<string, Uint8Array | string>();
  private fork: Fork | undefined;

  constructor(log: SimLog) {
    this.log = log;
  }

  private cached<T extends Uint8Array | string>(key: string, make: () => T): T {
    if (this.cacheVersion !== this.log.version) {
      this.cache.clear();
      this.cacheVersion = this.log.version;
    }
    let v = this.cache.get(key) as T | undefined;
    if (v === undefined) this.cache.set(key, (v = make()));
    return v;
  }

  /** The fork, created the first time it is needed after `fork@I` is switched on, dropped when it is off. */
  private currentFork(): Fork | undefined {
    const at = this.log.faults.at('fork') ?? (this.log.faults.has('fork') ? 0 : undefined);
    if (at === undefined) return (this.fork = undefined);
    const active = this.log.active;
    const honest = active.tree;
    if (!this.fork || this.fork.requested !== at || this.fork.treeID !== active.treeID) {
      if (honest.size === 0) return undefined;
      const i = Math.min(Math.max(0, at - active.offset), honest.size - 1);
      // Another valid entry at the same place: a history the log could have had.
      const other = new EntryGenerator(`${this.log.seed}/fork`, this.log.api, this.log.fulcioIntermediate).generate(active.offset + i, this.log.integratedTime(active.offset + i));
      const body = Buffer.from(other.body, 'utf8');
      const tree = new SimTree();
      this.fork = { requested: at, treeID: active.treeID, at: i, tree, body };
      this.log.faults.fired('fork', `serving a second history from index ${active.offset + i}`);
    }
    const f = this.fork;
    for (let i = f.tree.size; i < honest.size; i++) f.tree.append(i === f.at ? leafHash(f.body) : honest.leaf(i));
    return f;
  }

  /** The tree readers see for `shard` (the fork's, for the active shard under `fork`). */
  tree(shard: Shard): SimTree {
    return shard === this.log.active ? (this.currentFork()?.tree ?? shard.tree) : shard.tree;
  }

  root(shard: Shard, size: number): Uint8Array {
    return this.cached(`root:${shard.treeID}:${size}`, () => this.tree(shard).root(size));
  }

  /** The size of the active tree that checkpoints claim (`shrink` lies about it). */
  publishedTreeSize(): number {
    const size = this.log.published - this.log.active.offset;
    if (!this.log.faults.has('shrink')) return size;
    const smaller = Math.max(1, size - Math.max(1, Math.floor(size / 10)));
    this.log.faults.fired('shrink', `checkpoint claims size ${smaller} after ${size}`);
    return smaller;
  }

  /** A shard's size as readers see it: final for inactive shards, published for the active one. */
  shardSize(shard: Shard): number {
    return shard.final ?? this.publishedTreeSize();
  }

  origin(shard: Shard): string {
    return this.log.api === 'v1' ? `${this.log.name} - ${shard.treeID}` : this.log.name;
  }

  private signers(): NoteSigner[] {
    const log = this.log;
    const wrong = log.faults.has('wrong-key');
    if (wrong) log.faults.fired('wrong-key', 'checkpoint signed by a key the trusted root does not list');
    const key = (wrong ? log.wrongKey : log.logKey).privateKey;
    const own = log.api === 'v1' ? ecdsaSigner(log.name, key) : ed25519Signer(log.name, key);
    const now = () => Math.floor(Date.now() / 1000);
    const bad = log.faults.get('bad-cosig');
    const witnesses = log.witnesses.map((w, i) => {
      const signer = (w.alg === 'ml-dsa-44' ? mldsaCosignatureSigner : cosignatureSigner)(w.name, w.privateKey, now);
      if (!bad || (bad.param !== undefined && bad.param !== i + 1)) return signer;
      // One flipped bit in the signature after the timestamp: a line that is this witness's and does not verify.
      return {
        ...signer,
        sign: (text: Uint8Array) => {
          const sig = signer.sign(text);
          sig[8 + ((sig.length - 8) >> 1)]! ^= 1;
          log.faults.fired('bad-cosig', `corrupted ${w.name}'s cosignature`);
          return sig;
        },
      };
    });
    return [own, ...witnesses];
  }

  /** The signed checkpoint of `shard` at `size` (rekor.md §1.8; c2sp.md §1.2), with signature faults applied. */
  checkpoint(shard: Shard, size: number): string {
    let note = this.cached(`note:${shard.treeID}:${size}:${this.log.faults.has('wrong-key')}`, () =>
      signNote(formatCheckpoint({ origin: this.origin(shard), size: BigInt(size), rootHash: this.root(shard, size), extensions: [] }), this.signers()),
    );
    if (this.log.faults.has('bad-sig')) {
      // Flip one base64 character inside the log's signature (after the 4-byte key hint).
      const i = note.indexOf('\n\u2014 ') + 3 + this.log.name.length + 1 + 8;
      note = note.slice(0, i) + (note[i] === 'A' ? 'B' : 'A') + note.slice(i + 1);
      this.log.faults.fired('bad-sig', `corrupted the signature of checkpoint ${size}`);
    }
    return note;
  }

  /** The body served for virtual index `index`; undefined when it is not published or `drop` omits it. */
  body(index: number): Buffer | undefined {
    const log = this.log;
    if (index < 0 || index >= log.published) return undefined;
    if (log.faults.at('drop') === index) {
      log.faults.fired('drop', `omitted entry ${index}`);
      return undefined;
    }
    for (const name of ['rewrite', 'tile-mismatch'] as const) {
      if (log.faults.at(name) === index) {
        log.faults.fired(name, `entry ${index} served with another digest`);
        return tamper(log.bodies.get(index));
      }
    }
    const f = this.currentFork();
    if (f && index === log.active.offset + f.at) return f.body;
    return log.bodies.get(index);
  }

  private bodyFaults(): boolean {
    const f = this.log.faults;
    return ['drop', 'rewrite', 'tile-mismatch', 'fork'].some((n) => f.has(n as 'drop'));
  }

  /** The full entry bundle starting at `start` as gzipped ahead, unless a body fault applies (then it is built per request). */
  gzippedBundle(start: number): Buffer | undefined {
    return start % TILE_WIDTH === 0 && !this.bodyFaults() ? this.log.gzBundles.get(start / TILE_WIDTH) : undefined;
  }

  /** The tlog-tiles entry bundle of entries [start, end) (c2sp.md §1.3): one read of the body file unless a body fault applies. */
  bundle(start: number, end: number): Buffer {
    if (!this.bodyFaults()) return this.log.bodies.raw(start, end);
    const parts: Buffer[] = [];
    for (let i = start; i < end; i++) {
      const b = this.body(i);
      if (!b) continue; // `drop`: the entry is missing from its bundle
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(b.length);
      parts.push(len, b);
    }
    return Buffer.concat(parts);
  }

  /** The leaf hash readers are told for a tree index: tile 0 and the v1 UUID. `rewrite` makes it match the rewritten body. */
  leaf(shard: Shard, treeIndex: number): Uint8Array {
    if (this.log.faults.at('rewrite') === shard.offset + treeIndex) return leafHash(tamper(this.log.bodies.get(shard.offset + treeIndex)));
    return this.tree(shard).leaf(treeIndex);
  }
}

/**
 * The body with its first digest replaced by another of the same form (hex or base64 SHA-256): still
 * canonical JSON of the same kind, but claiming the signer signed a different artifact.
 */
export function tamper(body: Buffer): Buffer {
  return Buffer.from(
    body.toString('utf8').replace(/"(value|digest)":"([^"]+)"/, (_m, field: string, v: string) => {
      const h = createHash('sha256').update(v).digest();
      return `"${field}":"${/^[0-9a-f]{64}$/.test(v) ? h.toString('hex') : h.toString('base64')}"`;
    }),
    'utf8',
  );
}
