/**
 * Deterministic entry generation from (seed, index): who signs, what kind, which artifact, when.
 * Certificates are cached per (identity, 10-minute slot) so each is short-lived like Fulcio's and the
 * log can be built at tens of thousands of entries per second.
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createLeaf, type CertKey } from './certs.ts';
import { dsseV1, dsseV2, hashedrekordV1, hashedrekordV1Digest, hashedrekordV2, intotoV2, slsaStatement, type Built, type SigningKey } from './bodies.ts';
import { identityPool, type Identity } from './identities.ts';
import { pick, seeded } from './prng.ts';

export interface InjectSpec {
  at: number | 'next';
  integratedTime?: string;
  kind?: 'hashedrekord' | 'dsse' | 'intoto';
  digest?: string;
  cert?: { san: string; issuer?: string; extensions?: Record<string, string> };
  key?: 'ecdsa' | 'ed25519';
}

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
}

const pemOf = (label: string, der: Uint8Array) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;

function keyFromPair(privateKey: KeyObject, alg: 'ecdsa' | 'ed25519'): SigningKey {
  const spki = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  return { privateKey, pem: pemOf('PUBLIC KEY', spki), der: spki, isCert: false, keyDetails: alg === 'ecdsa' ? 'PKIX_ECDSA_P256_SHA_256' : 'PKIX_ED25519', alg };
}

function keyFromCert(c: CertKey): SigningKey {
  return { privateKey: c.privateKey, pem: pemOf('CERTIFICATE', c.der), der: c.der, isCert: true, keyDetails: 'PKIX_ECDSA_P256_SHA_256', alg: 'ecdsa' };
}

export class EntryGenerator {
  readonly pool: Identity[];
  private readonly certs = new Map<string, CertKey>();
  private readonly seed: string;
  private readonly api: 'v1' | 'tiles';
  private readonly ca: CertKey & { cn: string };
  constructor(seed: string, api: 'v1' | 'tiles', ca: CertKey & { cn: string }) {
    this.seed = seed;
    this.api = api;
    this.ca = ca;
    this.pool = identityPool(seed);
  }

  private signingKey(idIndex: number, slot: number): SigningKey {
    const id = this.pool[idIndex]!;
    if (id.type === 'key') return keyFromPair(id.privateKey, id.alg);
    const k = `${idIndex}:${slot}`;
    let cert = this.certs.get(k);
    if (!cert) {
      cert = createLeaf(this.ca, { san: id.san, issuer: id.issuer, extensions: id.claims }, slot * 600);
      if (this.certs.size > 20_000) this.certs.clear();
      this.certs.set(k, cert);
    }
    return keyFromCert(cert);
  }

  private build(kind: string, k: SigningKey, artifactName: string, digestHex: string, artifact: Uint8Array | undefined, id: Identity | undefined, t: number): Built {
    const claims = id && id.type !== 'key' ? id.claims : undefined;
    const statement = () =>
      // GitHub's SLSA v1 provenance names the runner as the builder (as in real GitHub attestations).
      slsaStatement(artifactName, digestHex, claims?.runnerEnvironment ? `https://github.com/actions/runner/${claims.runnerEnvironment}` : 'https://example.com/builder', claims?.sourceRepositoryURI, claims?.sourceRepositoryRef, claims?.sourceRepositoryDigest, t);
    if (this.api === 'tiles') return kind === 'dsse' ? dsseV2(k, statement()) : hashedrekordV2(k, artifact, artifact ? undefined : digestHex);
    if (kind === 'dsse') return dsseV1(k, statement());
    if (kind === 'intoto') return intotoV2(k, statement());
    return artifact ? hashedrekordV1(k, artifact) : hashedrekordV1Digest(k, digestHex);
  }

  private finish(kind: string, built: Built, id: Identity | undefined, san: string | null, issuer: string | null, t: number): Generated {
    const claims = id && id.type !== 'key' ? id.claims : {};
    return {
      ...built,
      kind,
      manifest: {
        kind,
        digests: [...new Set(built.digests)].sort(),
        san,
        issuer,
        repository: claims.sourceRepositoryURI ?? null,
        buildSigner: claims.buildSignerURI ?? null,
        integratedTime: t,
      },
    };
  }

  /** The entry at `index`, integrated at `t` (Unix seconds). */
  generate(index: number, t: number): Generated {
    const r = seeded(this.seed, 'entry', index);
    const slot = Math.floor(t / 600);
    const slotRand = seeded(this.seed, 'slot', slot);
    const slotIds = [0, 1, 2, 3].map(() => Math.floor(slotRand() * this.pool.length));
    const idIndex = pick(r, slotIds);
    const id = this.pool[idIndex]!;
    const roll = r();
    let kind = this.api === 'tiles' ? (roll < 0.85 ? 'hashedrekord' : 'dsse') : roll < 0.7 ? 'hashedrekord' : roll < 0.85 ? 'dsse' : 'intoto';
    if (id.type === 'key') kind = 'hashedrekord';
    const artifactName = `artifact-${index}.tar.gz`;
    const artifact = Buffer.from(`${this.seed}:${index}:${artifactName}`);
    const digestHex = createHash('sha256').update(artifact).digest('hex');
    const built = this.build(kind, this.signingKey(idIndex, slot), artifactName, digestHex, artifact, id, t);
    return this.finish(kind, built, id, id.type === 'key' ? null : id.san, id.type === 'key' ? null : id.issuer, t);
  }

  /** An entry placed by `--inject`. */
  inject(spec: InjectSpec, index: number, t: number, keyCache: Map<string, SigningKey>): Generated {
    const kind = spec.kind ?? 'hashedrekord';
    const digestHex = spec.digest?.startsWith('sha256:') ? spec.digest.slice(7) : createHash('sha256').update(`${this.seed}:inject:${index}`).digest('hex');
    if (!/^[0-9a-f]{64}$/.test(digestHex)) throw new Error(`inject at ${index}: digest must be sha256:<64 hex>`);
    let k: SigningKey;
    let id: Identity | undefined;
    if (spec.cert) {
      const cacheKey = JSON.stringify(spec.cert) + Math.floor(t / 600);
      k = keyCache.get(cacheKey) ?? keyFromCert(createLeaf(this.ca, { san: spec.cert.san, ...(spec.cert.issuer !== undefined ? { issuer: spec.cert.issuer } : {}), ...(spec.cert.extensions ? { extensions: spec.cert.extensions } : {}) }, t - 30));
      keyCache.set(cacheKey, k);
      id = { type: 'email', san: spec.cert.san, issuer: spec.cert.issuer ?? '', claims: spec.cert.extensions ?? {} };
    } else {
      const alg = spec.key ?? 'ecdsa';
      k = keyCache.get(alg) ?? keyFromPair(generateKey(alg), alg);
      keyCache.set(alg, k);
    }
    const built = this.build(kind, k, `injected-${index}`, digestHex, undefined, id, t);
    return this.finish(kind, built, id, spec.cert?.san ?? null, spec.cert?.issuer ?? null, t);
  }
}

function generateKey(alg: 'ecdsa' | 'ed25519'): KeyObject {
  return alg === 'ecdsa' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : generateKeyPairSync('ed25519').privateKey;
}
