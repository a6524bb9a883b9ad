/**
 * Deterministic entry generation from (seed, index, time): who signs, what kind, which artifact. Signer
 * identities come from a seeded pool; a handful of them are active in each 10-minute slot and hold one
 * Fulcio certificate for it (short-lived, like Fulcio's), keyed by a key derived from the seed, so a
 * million entries need a few thousand certificates. Signatures are real (node:crypto), over the
 * artifact, the DSSE PAE or, for injected entries, the given digest.
 */
import { hash } from 'node:crypto';
import { createCA, createLeaf, primarySan, type CA } from './certs.ts';
import { certSigner, dsseV1, dsseV2, hashedrekordV1, hashedrekordV2, intotoV2, keySigner, slsaStatement, type Built, type SigningKey } from './bodies.ts';
import { rekorLower } from './chunk.ts';
import { identityPool, type Identity } from './identities.ts';
import type { InjectSpec } from './inject.ts';
import { ecdsaKey, ecdsaScalarKey, ed25519Key, type ScalarKey } from './keys.ts';
import { entryRandom, pick, seedWord } from './prng.ts';

export type { InjectSpec } from './inject.ts';

/** One line of DIR/manifest.jsonl: the ground truth, in this key order, null where absent. */
export interface ManifestLine {
  index: number;
  uuid: string;
  kind: string;
  digests: string[];
  san: string | null;
  issuer: string | null;
  repository: string | null;
  buildSigner: string | null;
  integratedTime: number;
}

export interface Generated extends Built {
  kind: string;
  manifest: Omit<ManifestLine, 'index' | 'uuid'>;
  /** What Rekor v1's search index files this entry under (`POST /api/v1/index/retrieve`, rekor.md §1.10). */
  searchKeys: string[];
}

const SLOT = 600; // seconds a Fulcio certificate lives
const IDS_PER_SLOT = 8;
const STREAM_ENTRY = 1;
const STREAM_SLOT = 2;

/** Inject's hex raw extension values as bytes (certs.ts LeafClaims.rawExtensions). */
function rawBytes(raw: Record<string, string> | undefined): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(raw ?? {}).map(([k, hex]) => [k, new Uint8Array(Buffer.from(hex, 'hex'))]));
}

const signerKeys = new WeakMap<SigningKey, string[]>();
/** The search keys of a signer, the same for each of its entries (made once: the index hashes them once). */
function signerSearchKeys(k: SigningKey, sans: readonly string[]): string[] {
  let keys = signerKeys.get(k);
  if (!keys) {
    keys = [`key:${k.pemSha256}`];
    // Rekor indexes every SAN of the certificate as a subject (pkg/pki/x509 Subjects), and email SANs also as emails.
    for (const san of sans) keys.push(`subject:${rekorLower(san)}`, ...(/^[^:/]+@/.test(san) ? [`email:${rekorLower(san)}`] : []));
    keys = [...new Set(keys)];
    signerKeys.set(k, keys);
  }
  return keys;
}

/** The artifact a generated hashedrekord entry signs (tests re-create it to verify the signature). */
export const artifactBytes = (seed: string, index: number): Buffer => Buffer.from(`artifact ${seed} ${index}\n`);

export class EntryGenerator {
  readonly pool: Identity[];
  private readonly certs = new Map<string, SigningKey>();
  private readonly leafKeys = new Map<string, ScalarKey>();
  private readonly seed: string;
  private readonly word: number;
  readonly api: 'v1' | 'tiles';
  private readonly ca: CA;
  private active: { slot: number; ids: number[] } | undefined;

  constructor(seed: string, api: 'v1' | 'tiles', ca: CA) {
    this.seed = seed;
    this.word = seedWord(seed, 'entries');
    this.api = api;
    this.ca = ca;
    this.pool = identityPool(seed);
  }

  /**
   * The key in identity `idIndex`'s certificate for `slot`: one per identity and day. (Each Fulcio
   * certificate has its own ephemeral key; deriving a key costs more than signing an entry, and nothing
   * a monitor checks depends on keys not repeating across an identity's certificates.)
   */
  private leafKey(idIndex: number, slot: number): ScalarKey {
    const k = `${idIndex}:${Math.floor((slot * SLOT) / 86400)}`;
    let key = this.leafKeys.get(k);
    if (!key) {
      if (this.leafKeys.size > 4096) this.leafKeys.clear();
      this.leafKeys.set(k, (key = ecdsaScalarKey(this.seed, 'leaf', k)));
    }
    return key;
  }

  /** The certificate (or plain key) identity `idIndex` signs with in `slot`. */
  private signingKey(idIndex: number, slot: number): SigningKey {
    const id = this.pool[idIndex]!;
    const k = `${idIndex}:${slot}`;
    let key = this.certs.get(k);
    if (!key) {
      key = id.type === 'key' ? keySigner(id.privateKey, id.alg) : certSigner(createLeaf(this.ca, { san: id.san, issuer: id.issuer, extensions: id.claims }, slot * SLOT, this.leafKey(idIndex, slot)));
      if (this.certs.size > 4096) this.certs.clear(); // bounded: the build moves forward in time
      this.certs.set(k, key);
    }
    return key;
  }

  private build(kind: string, k: SigningKey, subjectName: string, digestHex: string, artifact: Uint8Array | undefined, id: Identity | undefined, t: number): Built {
    const statement = () => slsaStatement({ subjectName, digestHex, claims: id && id.type !== 'key' ? id.claims : undefined, time: t });
    if (this.api === 'tiles') return kind === 'dsse' ? dsseV2(k, statement()) : hashedrekordV2(k, artifact, digestHex);
    if (kind === 'dsse') return dsseV1(k, statement());
    if (kind === 'intoto') return intotoV2(k, statement());
    return hashedrekordV1(k, artifact, digestHex);
  }

  /** `sans`: every SAN of the certificate, when it names more than `san`. */
  private finish(kind: string, built: Built, k: SigningKey, san: string | null, issuer: string | null, claims: Record<string, string | undefined>, subjectDigest: string, t: number, sans: readonly string[] = san ? [san] : []): Generated {
    const digests = built.digests.length === 1 ? built.digests : [...new Set(built.digests)].sort();
    const manifest = { kind, digests, san, issuer, repository: claims['sourceRepositoryURI'] ?? null, buildSigner: claims['buildSignerURI'] ?? null, integratedTime: t };
    const g: Generated = { body: built.body, digests: built.digests, kind, searchKeys: [], manifest };
    if (built.attestation) g.attestation = built.attestation;
    if (this.api === 'tiles') return g; // Rekor v2 has no search
    for (const d of digests) g.searchKeys.push(`hash:${d}`);
    const subject = `hash:sha256:${subjectDigest}`;
    if (!g.searchKeys.includes(subject)) g.searchKeys.push(subject);
    // Rekor files a hashedrekord's key under its bare hash, which `publicKey` searches name; dsse and intoto
    // file theirs as `sha256:<hex>` (their IndexKeys), which only a `hash` search names.
    const [key, ...subjects] = signerSearchKeys(k, sans);
    g.searchKeys.push(kind === 'hashedrekord' ? key! : `hash:sha256:${k.pemSha256}`, ...subjects);
    return g;
  }

  /** The identities active in `slot` (the last slot's are kept: entries come in time order). */
  private activeIn(slot: number): number[] {
    if (this.active?.slot !== slot) {
      const slotRand = entryRandom(this.word, STREAM_SLOT, slot);
      this.active = { slot, ids: Array.from({ length: IDS_PER_SLOT }, () => Math.floor(slotRand() * this.pool.length)) };
    }
    return this.active.ids;
  }

  /** The entry at `index`, integrated at `t` (Unix seconds). */
  generate(index: number, t: number): Generated {
    const r = entryRandom(this.word, STREAM_ENTRY, index);
    const slot = Math.floor(t / SLOT);
    const idIndex = pick(r, this.activeIn(slot));
    const id = this.pool[idIndex]!;
    const roll = r();
    const kind = this.api === 'tiles' ? (roll < 0.85 ? 'hashedrekord' : 'dsse') : roll < 0.7 ? 'hashedrekord' : roll < 0.85 ? 'dsse' : 'intoto';
    const repo = id.type === 'github' ? id.claims.githubWorkflowRepository!.split('/')[1]! : 'artifact';
    const subjectName = `${repo}-${index}.tar.gz`;
    const artifact = artifactBytes(this.seed, index);
    const digestHex = hash('sha256', artifact);
    const k = this.signingKey(idIndex, slot);
    const built = this.build(kind, k, subjectName, digestHex, artifact, id, t);
    if (id.type === 'key') return this.finish(kind, built, k, null, null, {}, digestHex, t);
    return this.finish(kind, built, k, id.san, id.issuer, id.claims, digestHex, t);
  }

  /** A rekord entry with the given key (inject.ts `rekord`): Rekor files it under the key content's SHA-256. */
  private injectRekord(r: NonNullable<InjectSpec['rekord']>, digest: string | undefined, index: number, t: number): Generated {
    if (this.api === 'tiles') throw new Error(`inject at ${index}: Rekor v2 has no rekord kind`);
    const digestHex = digest ? digest.slice('sha256:'.length) : hash('sha256', `${this.seed}:inject:${index}`);
    const sig = Buffer.from(`not a signature ${index}`).toString('base64');
    const body = `{"apiVersion":"0.0.1","kind":"rekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"${digestHex}"}},"signature":{"content":"${sig}","format":"${r.format}","publicKey":{"content":"${r.content}"}}}}`;
    const digests = [`sha256:${digestHex}`];
    const manifest = { kind: 'rekord', digests, san: null, issuer: null, repository: null, buildSigner: null, integratedTime: t };
    const keyHash = hash('sha256', Buffer.from(r.content, 'base64'));
    return { body, digests, kind: 'rekord', searchKeys: [`hash:sha256:${digestHex}`, `key:${keyHash}`], manifest };
  }

  /** An entry placed by `--inject` (see inject.ts for the line format). */
  inject(spec: InjectSpec, index: number, t: number): Generated {
    if (spec.rekord) return this.injectRekord(spec.rekord, spec.digest, index, t);
    const kind = spec.kind ?? 'hashedrekord';
    if (this.api === 'tiles' && kind === 'intoto') throw new Error(`inject at ${index}: Rekor v2 has no intoto kind (use hashedrekord or dsse)`);
    const digestHex = spec.digest ? spec.digest.slice('sha256:'.length) : hash('sha256', `${this.seed}:inject:${index}`);
    if (spec.cert) {
      const c = spec.cert;
      const slot = Math.floor(t / SLOT);
      // wrapsKey: the key `key: ecdsa` entries sign with (ecdsaKey and ecdsaScalarKey give one key for the same parts).
      const key = c.wrapsKey ? ecdsaScalarKey(this.seed, 'inject-key', 'ecdsa') : ecdsaScalarKey(this.seed, 'inject-cert', JSON.stringify(c), slot);
      // An untrusted CA copies the real intermediate's name: only its key tells it apart, as with a real spoof.
      const ca = c.untrustedCA ? createCA(this.ca.cn, t - 365 * 86400, t + 365 * 86400, undefined, ecdsaKey(this.seed, 'untrusted-ca')) : this.ca;
      const k = certSigner(createLeaf(ca, { san: c.san, ...(c.sans ? { sans: c.sans } : {}), ...(c.issuer !== undefined ? { issuer: c.issuer } : {}), extensions: c.extensions ?? {}, rawExtensions: rawBytes(c.rawExtensions) }, Math.max(slot * SLOT, t - 60), key));
      const ext = c.extensions ?? {};
      const issuer = ext['issuer'] ?? ext['issuerV1'] ?? c.issuer ?? null;
      const sans = [c.san, ...(c.sans ?? [])];
      const san = primarySan(sans);
      const built = this.build(kind, k, `injected-${index}`, digestHex, undefined, { type: 'email', san, issuer: issuer ?? '', claims: ext }, t);
      return this.finish(kind, built, k, san, issuer, ext, digestHex, t, sans);
    }
    const alg = spec.key ?? 'ecdsa';
    const pair = alg === 'ecdsa' ? ecdsaKey(this.seed, 'inject-key', alg) : ed25519Key(this.seed, 'inject-key', alg);
    const k = keySigner(pair.privateKey, alg);
    return this.finish(kind, this.build(kind, k, `injected-${index}`, digestHex, undefined, undefined, t), k, null, null, {}, digestHex, t);
  }
}
