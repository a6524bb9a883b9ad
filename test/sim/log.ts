/**
 * The simulated log: entries on disk, one Merkle tree per Rekor v1 shard (hashes by level, tree.ts), the
 * manifest (ground truth), lookups by UUID and search key, and the size readers are told about.
 * What readers see once faults apply is view.ts; HTTP is server-*.ts.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TILE_WIDTH } from '../../src/merkle/tiles.ts';
import { BodyStore } from './bodystore.ts';
import { GzBundles } from './gzbundles.ts';
import { buildChunks } from './build.ts';
import { createCA, type CA } from './certs.ts';
import { generateChunk, type Chunk, type Timeline } from './chunk.ts';
import { Faults, type FaultSpec } from './faults.ts';
import { EntryGenerator } from './generate.ts';
import { HashIndex, LeafIndex } from './hashindex.ts';
import type { InjectSpec } from './inject.ts';
import { ecdsaKey, ed25519Key, mldsa44Key, type KeyPair } from './keys.ts';
import { seeded } from './prng.ts';
import { SimTree } from './tree.ts';

/** The initial entries are spread over the week before this instant, so they cover day and night. */
export const BASE_TIME = Date.UTC(2026, 10, 16) / 1000;
export const SPAN = 7 * 86400;

export interface SimLogOptions {
  api: 'v1' | 'tiles';
  entries: number;
  seed: string;
  out: string;
  /** Rekor v1: split the initial entries over this many trees (the last one active). */
  shards?: number;
  /** Tiles: witnesses that cosign every checkpoint (tlog-cosignature); their keys go to DIR/witnesses.txt. */
  witnesses?: number;
  /** Tiles: more witnesses, after those, that cosign with ML-DSA-44 keys (type 0x06) rather than Ed25519 (0x04). */
  mldsaWitnesses?: number;
  inject?: InjectSpec[];
  faults?: FaultSpec[];
  /** Where fault firings and progress go (default stderr). */
  log?: (msg: string) => void;
  /** Worker threads for the initial build (default: one per core for large logs). */
  workers?: number;
  /** Keep `"at": "next"` injections for the first append (a --rate tick) instead of placing them after the build. */
  holdNextInjections?: boolean;
}

/** A witness that cosigns every checkpoint; `alg` says which cosignature type (tlog-cosignature). */
export interface SimWitness extends KeyPair {
  name: string;
  alg: 'ed25519' | 'ml-dsa-44';
}

export interface Shard {
  treeID: string;
  tree: SimTree;
  /** Virtual index of leaf 0 (rekor.md §1.5). */
  offset: number;
  /** Final size once inactive. */
  final?: number;
}

export class SimLog {
  readonly api: 'v1' | 'tiles';
  readonly seed: string;
  readonly out: string;
  readonly faults: Faults;
  readonly bodies: BodyStore;
  readonly attestations: BodyStore;
  /** Tiles: full entry bundles gzipped ahead, as a static tile store serves them. */
  readonly gzBundles: GzBundles;
  readonly shards: Shard[] = [];
  readonly fulcioRoot: CA;
  readonly fulcioIntermediate: CA;
  readonly logKey: KeyPair;
  /** Signs checkpoints under the `wrong-key` fault. */
  readonly wrongKey: KeyPair;
  readonly witnesses: SimWitness[];
  readonly gen: EntryGenerator;
  readonly manifestPath: string;
  /** Set by the server once it knows its URL: the checkpoint signer name (host, plus path for tiles). */
  name = '';
  baseUrl = '';
  /** The size readers are told about; lags the real size under `stale`. */
  published = 0;
  /** Bumped on every append, publish and fault change: views cache against it. */
  version = 0;
  readonly say: (msg: string) => void;
  private times: Float64Array;
  private readonly byUuid: LeafIndex;
  private readonly search: HashIndex;
  private readonly manifestFd: number;
  private readonly injectAt = new Map<number, InjectSpec>();
  private readonly injectNext: InjectSpec[] = [];
  private readonly timeline: Timeline;
  private readonly shardEnds: number[] = [];
  private readonly workers: number | undefined;

  private constructor(o: SimLogOptions) {
    if (!Number.isSafeInteger(o.entries) || o.entries < 0) throw new Error(`entries must be a non-negative integer, got ${o.entries}`);
    this.api = o.api;
    this.seed = o.seed;
    this.out = o.out;
    this.workers = o.workers;
    this.say = o.log ?? ((m) => process.stderr.write(`sim: ${m}\n`));
    this.faults = new Faults(o.faults ?? [], this.say);
    this.faults.onChange = () => this.version++;
    mkdirSync(o.out, { recursive: true });
    // Everything a build fills is sized for it up front: growing by doubling would leave the freed halves
    // behind as heap the process keeps.
    this.bodies = new BodyStore(join(o.out, 'bodies.bin'), { prefixed: true, expected: o.entries }); // bundles are served straight from it
    this.attestations = new BodyStore(join(o.out, 'attestations.bin'), { expected: o.entries });
    this.gzBundles = new GzBundles(join(o.out, 'bundles.gz.bin'), Math.ceil(o.entries / TILE_WIDTH));
    this.times = new Float64Array(Math.max(1024, o.entries));
    // v1 entries have 1 to 3 artifact hashes and a key, subject or email key shared with their signer's.
    this.search = o.api === 'v1' ? new HashIndex(2 * o.entries, 4 * o.entries) : new HashIndex();
    this.manifestPath = join(o.out, 'manifest.jsonl');
    this.manifestFd = openSync(this.manifestPath, 'w');
    const caStart = BASE_TIME - 365 * 86400;
    const caEnd = BASE_TIME + 10 * 365 * 86400;
    this.fulcioRoot = createCA('sigstore', caStart, caEnd, undefined, ecdsaKey(o.seed, 'fulcio-root'));
    this.fulcioIntermediate = createCA('sigstore-intermediate', caStart, caEnd, this.fulcioRoot, ecdsaKey(o.seed, 'fulcio-intermediate'));
    const key = o.api === 'v1' ? ecdsaKey : ed25519Key;
    this.logKey = key(o.seed, 'log');
    this.wrongKey = key(o.seed, 'wrong-key');
    const ed = o.api === 'tiles' ? (o.witnesses ?? 0) : 0;
    const pq = o.api === 'tiles' ? (o.mldsaWitnesses ?? 0) : 0;
    this.witnesses = [
      ...Array.from({ length: ed }, (_, i) => ({ name: `witness${i + 1}.example`, alg: 'ed25519' as const, ...ed25519Key(o.seed, 'witness', i) })),
      ...Array.from({ length: pq }, (_, i) => ({ name: `witness${ed + i + 1}.example`, alg: 'ml-dsa-44' as const, ...mldsa44Key(o.seed, 'witness', ed + i) })),
    ];
    this.gen = new EntryGenerator(o.seed, o.api, this.fulcioIntermediate);
    for (const s of o.inject ?? []) {
      if (s.at === 'next') this.injectNext.push(s);
      else this.injectAt.set(s.at, s);
    }
    this.timeline = { start: BASE_TIME - SPAN, span: SPAN, total: o.entries };
    this.byUuid = new LeafIndex((i) => this.honestLeaf(i), o.api === 'v1' ? o.entries : 0);
    const shards = o.api === 'v1' ? Math.max(1, Math.floor(o.shards ?? 1)) : 1;
    const per = Math.floor(o.entries / shards);
    for (let s = 1; s < shards; s++) this.shardEnds.push(s * per);
    this.shards.push(this.newShard(0));
  }

  /** Builds the initial `entries` (in worker threads when many) and publishes them. */
  static async create(o: SimLogOptions): Promise<SimLog> {
    const log = new SimLog(o);
    const plan = { seed: o.seed, api: o.api, ca: log.fulcioIntermediate, timeline: log.timeline, injectAt: log.injectAt, workers: log.workers };
    try {
      for await (const chunk of buildChunks(plan, log.gen, 0, o.entries)) log.addChunk(chunk);
      if (!o.holdNextInjections && log.injectNext.length > 0) log.append(0);
    } catch (e) {
      await log.close();
      throw e;
    }
    log.bodies.flush();
    log.attestations.flush();
    log.published = log.size;
    return log;
  }

  get active(): Shard {
    return this.shards[this.shards.length - 1]!;
  }
  get size(): number {
    return this.bodies.count;
  }

  private newShard(offset: number): Shard {
    const r = seeded(this.seed, 'tree', this.shards.length);
    // Trillian tree IDs are positive int64s; keep them below 2^63 and non-zero (rekor.md §1.4).
    const treeID = (BigInt(Math.floor(r() * 2 ** 31)) * 2n ** 32n + BigInt(Math.floor(r() * 2 ** 32)) + 1n).toString();
    const end = this.shardEnds[0] ?? this.timeline.total; // the end of the initial entries' shard, when building them
    return { treeID, tree: new SimTree(Math.max(0, end - offset)), offset };
  }

  /** Rekor v1: freezes the active tree at its size and starts a new one (shard rotation). */
  rotate(offset = this.size): Shard {
    if (this.api !== 'v1') throw new Error('only a Rekor v1 log has shards');
    const a = this.active;
    a.final = a.tree.size;
    this.shards.push(this.newShard(offset));
    this.version++;
    return this.active;
  }

  private addChunk(c: Chunk): void {
    this.bodies.appendMany(c.bodies, c.bodyLens);
    this.attestations.appendMany(c.attestations, c.attestationLens);
    if (c.gz) this.gzBundles.add(c.gz);
    if (c.from + c.count > this.times.length) {
      let n = this.times.length;
      while (n < c.from + c.count) n *= 2;
      const t = new Float64Array(n);
      t.set(this.times);
      this.times = t;
    }
    this.times.set(c.times, c.from);
    let key = 0;
    for (let k = 0; k < c.count; k++) {
      const index = c.from + k;
      if (this.shardEnds[0] === index) {
        this.shardEnds.shift();
        this.rotate(index);
      }
      this.active.tree.append(c.leaves, 32 * k);
      if (this.api !== 'v1') continue; // Rekor v2 has neither lookups by UUID nor search
      this.byUuid.add(c.leaves, index, 32 * k);
      for (let j = 0; j < c.searchKeyCounts[k]!; j++, key++) this.search.add(c.searchKeys, index, 8 * key);
    }
    writeSync(this.manifestFd, c.manifest);
    this.version++;
  }

  /** Appends `n` generated entries integrated at `now`, after any pending `"at": "next"` injections; not yet published. */
  append(n: number, now = Math.floor(Date.now() / 1000)): void {
    const from = this.size;
    const next = this.injectNext.splice(0);
    const total = n + next.length;
    if (total === 0) return;
    const at = (i: number) => (i - from < next.length ? next[i - from] : this.injectAt.get(i));
    for (let done = 0; done < total; done += 4096) this.addChunk(generateChunk(this.gen, from + done, Math.min(4096, total - done), () => now, at));
    this.bodies.flush();
    this.attestations.flush();
  }

  /** Publishes the current size as the next checkpoint, unless the log is stale. */
  publish(): void {
    if (this.faults.has('stale') && this.published > 0) {
      if (this.published !== this.size) this.faults.fired('stale', `checkpoint held at ${this.published} while the log has ${this.size}`);
      return;
    }
    if (this.published !== this.size) this.version++;
    this.published = this.size;
  }

  integratedTime(index: number): number {
    return this.times[index]!;
  }

  attestation(index: number): Buffer | undefined {
    const a = this.attestations.get(index);
    return a.length > 0 ? a : undefined;
  }

  shardOf(virtualIndex: number): Shard | undefined {
    if (virtualIndex < 0 || virtualIndex >= this.size) return undefined;
    for (let i = this.shards.length - 1; i >= 0; i--) if (virtualIndex >= this.shards[i]!.offset) return this.shards[i];
    return undefined;
  }

  /** The leaf hash the log computed for virtual index `index` (before any fault). */
  honestLeaf(index: number): Uint8Array {
    const s = this.shardOf(index);
    if (!s) throw new RangeError(`no entry ${index}`);
    return s.tree.leaf(index - s.offset);
  }

  /** Virtual indexes whose honest leaf hash is `leaf`. */
  indexesOfLeaf(leaf: Uint8Array): number[] {
    return this.byUuid.get(leaf);
  }

  /** Rekor v1 search (`POST /api/v1/index/retrieve`): `hash:sha256:<hex>`, `email:…`, `subject:…`, `key:<sha256 hex of PEM>`. */
  searchIndex(key8: Uint8Array): number[] {
    return this.search.get(key8);
  }

  close(): Promise<void> {
    this.bodies.close();
    this.attestations.close();
    this.gzBundles.close();
    closeSync(this.manifestFd);
    return Promise.resolve();
  }
}
