/**
 * The simulated log: entries, Merkle trees (one per Rekor v1 shard), signed checkpoints, the manifest
 * (ground truth) and the faults' effect on what readers see.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { leafHash } from '../../src/merkle/rfc6962.ts';
import { formatCheckpoint } from '../../src/note/checkpoint.ts';
import { cosignatureSigner, ecdsaSigner, ed25519KeyId, ed25519Signer, rawEd25519 } from '../../src/note/keys.ts';
import { signNote, type NoteSigner } from '../../src/note/note.ts';
import { BodyStore } from './bodystore.ts';
import { createCA, type CertKey } from './certs.ts';
import { Faults, type FaultSpec } from './faults.ts';
import { EntryGenerator, type InjectSpec, type ManifestLine } from './generate.ts';
import type { SigningKey } from './bodies.ts';
import { seeded } from './prng.ts';
import { SimTree } from './tree.ts';

/** Initial entries are spread over the week before this instant, so they cover day and night. */
export const BASE_TIME = Date.UTC(2026, 10, 16) / 1000;
const SPAN = 7 * 86400;

export interface SimLogOptions {
  api: 'v1' | 'tiles';
  entries: number;
  seed: string;
  out: string;
  shards?: number;
  witnesses?: number;
  inject?: InjectSpec[];
  faults?: FaultSpec[];
  log?: (msg: string) => void;
}

export interface Shard {
  treeID: string;
  tree: SimTree;
  /** Virtual index of leaf 0. */
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
  readonly shards: Shard[] = [];
  readonly attestations = new Map<number, Buffer>();
  private times = new Float64Array(1024);
  readonly byDigest = new Map<string, number[]>();
  readonly bySan = new Map<string, number[]>();
  readonly fulcioRoot: CertKey & { cn: string };
  readonly fulcioIntermediate: CertKey & { cn: string };
  readonly logKey: { privateKey: KeyObject; publicKey: KeyObject };
  readonly wrongKey: { privateKey: KeyObject; publicKey: KeyObject };
  readonly witnesses: Array<{ name: string; privateKey: KeyObject; publicKey: KeyObject }>;
  /** Set once the server knows its URL: the checkpoint signer name. */
  name = '';
  baseUrl = '';
  /** The size readers are told about (lags the real size under `stale`). */
  published = 0;
  private readonly gen: EntryGenerator;
  /** The manifest is written with synchronous buffered appends: the build is synchronous, so a stream could
   *  never drain during it and would hold every line in memory. */
  private readonly manifestFd: number;
  private manifestBuf: string[] = [];
  private manifestBytes = 0;
  private readonly pendingInjects: InjectSpec[] = [];
  private readonly injectKeys = new Map<string, SigningKey>();
  private readonly checkpointCache = new Map<string, string>();
  private fork?: { at: number; tree: SimTree; body: Buffer };
  private readonly say: (msg: string) => void;

  constructor(o: SimLogOptions) {
    this.api = o.api;
    this.seed = o.seed;
    this.out = o.out;
    this.say = o.log ?? ((m) => process.stderr.write(`sim: ${m}\n`));
    this.faults = new Faults(o.faults ?? [], this.say);
    mkdirSync(o.out, { recursive: true });
    this.bodies = new BodyStore(join(o.out, 'bodies.bin'));
    this.manifestFd = openSync(join(o.out, 'manifest.jsonl'), 'w');
    const now = Math.floor(Date.now() / 1000);
    this.fulcioRoot = createCA('sigstore', BASE_TIME - 365 * 86400, now + 10 * 365 * 86400);
    this.fulcioIntermediate = createCA('sigstore-intermediate', BASE_TIME - 365 * 86400, now + 10 * 365 * 86400, this.fulcioRoot);
    this.logKey = o.api === 'v1' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    this.wrongKey = o.api === 'v1' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    this.witnesses = Array.from({ length: o.witnesses ?? 0 }, (_, i) => ({ name: `witness${i + 1}.example`, ...generateKeyPairSync('ed25519') }));
    this.gen = new EntryGenerator(o.seed, o.api, this.fulcioIntermediate);

    const injectAt = new Map<number, InjectSpec>();
    for (const s of o.inject ?? []) {
      if (s.at === 'next') this.pendingInjects.push(s);
      else injectAt.set(s.at, s);
    }
    const shardCount = o.api === 'v1' ? Math.max(1, o.shards ?? 1) : 1;
    const r = seeded(o.seed, 'trees');
    const perShard = Math.floor(o.entries / shardCount);
    for (let s = 0; s < shardCount; s++) {
      const treeID = String(BigInt(Math.floor(r() * 2 ** 52)) * 1000n + BigInt(Math.floor(r() * 1000)) + 1n);
      this.shards.push({ treeID, tree: new SimTree(), offset: this.bodies.count });
      const count = s === shardCount - 1 ? o.entries - perShard * (shardCount - 1) : perShard;
      for (let i = 0; i < count; i++) {
        const index = this.bodies.count;
        const spread = BASE_TIME - SPAN + Math.floor((index * SPAN) / Math.max(1, o.entries));
        const spec = injectAt.get(index);
        const t = spec?.integratedTime ? Math.floor(Date.parse(spec.integratedTime) / 1000) : spread;
        this.appendOne(spec ? this.gen.inject(spec, index, t, this.injectKeys) : this.gen.generate(index, t), index);
      }
      if (s < shardCount - 1) this.shards[s]!.final = this.shards[s]!.tree.size;
    }
    if (this.pendingInjects.length > 0 && o.entries > 0) this.append(0);
    this.published = this.size;
    this.bodies.flush();
    this.flushManifest();
  }

  get active(): Shard {
    return this.shards[this.shards.length - 1]!;
  }
  get size(): number {
    return this.bodies.count;
  }

  private appendOne(g: ReturnType<EntryGenerator['generate']>, index: number): void {
    const body = Buffer.from(g.body, 'utf8');
    const lh = leafHash(body);
    if (index >= this.times.length) {
      const bigger = new Float64Array(this.times.length * 2);
      bigger.set(this.times);
      this.times = bigger;
    }
    this.times[index] = g.manifest.integratedTime;
    this.bodies.append(body);
    this.active.tree.append(lh);
    this.fork?.tree.append(lh);
    if (g.attestation) this.attestations.set(index, g.attestation);
    for (const d of g.digests) (this.byDigest.get(d) ?? this.byDigest.set(d, []).get(d)!).push(index);
    if (g.manifest.san) (this.bySan.get(g.manifest.san.toLowerCase()) ?? this.bySan.set(g.manifest.san.toLowerCase(), []).get(g.manifest.san.toLowerCase())!).push(index);
    const line: ManifestLine = { index, uuid: Buffer.from(lh).toString('hex'), ...g.manifest };
    const text = `${JSON.stringify(line)}\n`;
    this.manifestBuf.push(text);
    this.manifestBytes += text.length;
    if (this.manifestBytes > 1 << 20) this.flushManifest();
  }

  /** Appends `n` generated entries (plus any pending `"at": "next"` injections) integrated now. */
  append(n: number, now = Math.floor(Date.now() / 1000)): void {
    for (const spec of this.pendingInjects.splice(0)) {
      const index = this.size;
      const t = spec.integratedTime ? Math.floor(Date.parse(spec.integratedTime) / 1000) : now;
      this.appendOne(this.gen.inject(spec, index, t, this.injectKeys), index);
    }
    for (let i = 0; i < n; i++) this.appendOne(this.gen.generate(this.size, now), this.size);
    this.bodies.flush();
    this.flushManifest();
  }

  private flushManifest(): void {
    if (this.manifestBuf.length === 0) return;
    writeSync(this.manifestFd, this.manifestBuf.join(''));
    this.manifestBuf = [];
    this.manifestBytes = 0;
  }

  /** Publishes the current size as the next checkpoint, unless the log is stale. */
  publish(): void {
    if (this.faults.has('stale') && this.published > 0) {
      if (this.published !== this.size) this.faults.fired('stale', `checkpoint held at ${this.published} while the log has ${this.size}`);
      return;
    }
    this.published = this.size;
  }

  /** Leaves [0, n) of the active tree as the current view serves them (honest or forked). */
  viewTree(shard: Shard): SimTree {
    this.activateFork();
    return shard === this.active && this.fork ? this.fork.tree : shard.tree;
  }

  private activateFork(): void {
    const f = this.faults.get('fork');
    if (!f || this.fork) return;
    const at = Math.min(f.param ?? 0, this.active.tree.size - 1);
    const tree = new SimTree();
    const body = this.bodies.get(this.active.offset + at);
    const forged = Buffer.concat([body.subarray(0, body.length - 1), Buffer.from(' }')]); // same JSON, other bytes
    for (let i = 0; i < this.active.tree.size; i++) tree.append(i === at ? leafHash(forged) : this.active.tree.leaf(i));
    this.fork = { at, tree, body: forged };
    this.checkpointCache.clear();
    this.faults.fired('fork', `serving a second history from tree index ${at}`);
  }

  /** The body readers get for a virtual index, with body-changing faults applied; undefined when dropped. */
  servedBody(index: number): Buffer | undefined {
    const drop = this.faults.get('drop');
    if (drop && (drop.param ?? 0) === index) {
      this.faults.fired('drop', `omitted entry ${index}`);
      return undefined;
    }
    for (const name of ['rewrite', 'tile-mismatch'] as const) {
      const f = this.faults.get(name);
      if (f && (f.param ?? 0) === index) {
        this.faults.fired(name, `entry ${index} body changed`);
        return Buffer.from(this.bodies.get(index).toString('utf8').replace(/"kind":"/, '"kind":"x'));
      }
    }
    this.activateFork();
    if (this.fork && index === this.active.offset + this.fork.at) return this.fork.body;
    return this.bodies.get(index);
  }

  /** A level-0 hash as tiles serve it (`rewrite` changes it to match the rewritten body). */
  servedLeafHash(treeIndex: number, tree: SimTree): Uint8Array {
    const f = this.faults.get('rewrite');
    if (f && (f.param ?? 0) === treeIndex) return leafHash(this.servedBody(treeIndex)!);
    return tree.leaf(treeIndex);
  }

  integratedTime(index: number): number {
    return this.times[index]!;
  }

  /** Rekor v1 logID: SHA-256 of the log key's SPKI. */
  logKeyId(): Uint8Array {
    return new Uint8Array(createHash('sha256').update(this.logKey.publicKey.export({ format: 'der', type: 'spki' })).digest());
  }

  origin(shard: Shard): string {
    return this.api === 'v1' ? `${this.name} - ${shard.treeID}` : this.name;
  }

  private signer(): NoteSigner {
    const wrong = this.faults.has('wrong-key');
    if (wrong) this.faults.fired('wrong-key', 'checkpoint signed with a key the trusted root does not list');
    const key = wrong ? this.wrongKey.privateKey : this.logKey.privateKey;
    return this.api === 'v1' ? ecdsaSigner(this.name, key) : ed25519Signer(this.name, key);
  }

  /** The signed checkpoint of `shard` at `size`, with faults applied. */
  checkpoint(shard: Shard, size: number): string {
    const tree = this.viewTree(shard);
    const key = `${shard.treeID}:${size}:${this.fork ? 'fork' : 'honest'}:${this.faults.has('wrong-key')}`;
    let note = this.checkpointCache.get(key);
    if (!note) {
      const text = formatCheckpoint({ origin: this.origin(shard), size: BigInt(size), rootHash: tree.root(size), extensions: [] });
      const signers = [this.signer(), ...this.witnesses.map((w) => cosignatureSigner(w.name, w.privateKey, () => Math.floor(Date.now() / 1000)))];
      note = signNote(text, signers);
      this.checkpointCache.set(key, note);
    }
    if (this.faults.has('bad-sig')) {
      this.faults.fired('bad-sig', `corrupted the signature of checkpoint ${size}`);
      const i = note.indexOf('\u2014 ') + 2 + this.name.length + 10;
      note = note.slice(0, i) + (note[i] === 'A' ? 'B' : 'A') + note.slice(i + 1);
    }
    return note;
  }

  /** The size the active tree's checkpoint claims (`shrink` makes it smaller). */
  publishedTreeSize(): number {
    const size = this.published - this.active.offset;
    if (this.faults.has('shrink')) {
      const smaller = Math.max(1, size - Math.max(1, Math.floor(size / 10)));
      this.faults.fired('shrink', `published a checkpoint of size ${smaller} after ${size}`);
      return smaller;
    }
    return size;
  }

  shardOf(virtualIndex: number): Shard | undefined {
    for (let i = this.shards.length - 1; i >= 0; i--) if (virtualIndex >= this.shards[i]!.offset) return this.shards[i];
    return undefined;
  }

  /** Writes DIR/trusted_root.json in the Sigstore TrustedRoot format. */
  writeTrustedRoot(): string {
    const spki = new Uint8Array(this.logKey.publicKey.export({ format: 'der', type: 'spki' }));
    const keyId =
      this.api === 'v1' ? this.logKeyId() : ed25519KeyId(this.name, rawEd25519(this.logKey.publicKey));
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    const start = new Date((BASE_TIME - 365 * 86400) * 1000).toISOString();
    const root = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: this.baseUrl,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: b64(spki), keyDetails: this.api === 'v1' ? 'PKIX_ECDSA_P256_SHA_256' : 'PKIX_ED25519', validFor: { start } },
          logId: { keyId: b64(keyId) },
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'sigstore.dev', commonName: 'sigstore' },
          uri: 'https://fulcio.sigstore.dev',
          certChain: { certificates: [{ rawBytes: b64(this.fulcioIntermediate.der) }, { rawBytes: b64(this.fulcioRoot.der) }] },
          validFor: { start },
        },
      ],
      ctlogs: [],
      timestampAuthorities: [],
    };
    const path = join(this.out, 'trusted_root.json');
    writeFileSync(path, JSON.stringify(root, null, 2));
    if (this.witnesses.length) {
      writeFileSync(join(this.out, 'witnesses.txt'), this.witnesses.map((w) => `${w.name} ${b64(rawEd25519(w.publicKey))}`).join('\n') + '\n');
    }
    return path;
  }

  close(): Promise<void> {
    this.bodies.close();
    this.flushManifest();
    closeSync(this.manifestFd);
    return Promise.resolve();
  }
}
