/**
 * Canonical entry bodies exactly as Rekor stores them: RFC 8785 JSON (sorted keys, no whitespace), built
 * from templates because a million JSON.stringify + canonicalize calls would dominate the build; tests
 * check every kind against @sigstore/core's canonicalize and against real bodies' shapes.
 * Rekor v1 (sigstore/rekor pkg/types): hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2.
 * Rekor v2 (sigstore/rekor-tiles, protojson of rekor.v2 Entry): hashedrekord 0.0.2, dsse 0.0.2.
 */
import { createPublicKey, hash, sign, type KeyObject } from 'node:crypto';
import type { CertKey } from './certs.ts';
import type { FulcioClaims } from '../../src/entries/types.ts';
import { p256, type P256PrivateKey } from './ecdsa.ts';
import { spkiOf } from './keys.ts';

export interface SigningKey {
  /** A KeyObject, or the P-256 scalar of a certificate key (keys.ts ecdsaScalarKey). */
  privateKey: P256PrivateKey;
  alg: 'ecdsa' | 'ed25519';
  isCert: boolean;
  /** DER certificate or SPKI. */
  der: Uint8Array;
  keyDetails: 'PKIX_ECDSA_P256_SHA_256' | 'PKIX_ED25519';
  /** base64 of the PEM, as Rekor v1 bodies embed keys and certificates (cached: it is in every body). */
  pemB64: string;
  /** base64 of the DER, as Rekor v2 bodies embed them. */
  derB64: string;
  /** SHA-256 hex of the PEM: the key Rekor v1's search index files the entry under (rekor.md §1.10). */
  pemSha256: string;
  /** The Rekor v2 `verifier` object's canonical JSON. */
  v2Verifier: string;
}

const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const sha256 = (b: Uint8Array | string): Buffer => hash('sha256', b, 'buffer');
/** SHA-256 as hex: crypto.hash returns a hex string several times faster than a Buffer. */
const sha256Hex = (b: Uint8Array | string): string => hash('sha256', b);
const J = JSON.stringify;
/** A JSON string of text that needs no escaping (base64, hex): what J would return, without scanning it. */
const q = (plain: string) => `"${plain}"`;

export function pem(label: string, der: Uint8Array): string {
  const text = b64(der);
  const lines: string[] = [];
  for (let at = 0; at < text.length; at += 64) lines.push(text.slice(at, at + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function signingKey(privateKey: P256PrivateKey, alg: 'ecdsa' | 'ed25519', der: Uint8Array, isCert: boolean): SigningKey {
  const text = pem(isCert ? 'CERTIFICATE' : 'PUBLIC KEY', der);
  const keyDetails = alg === 'ecdsa' ? 'PKIX_ECDSA_P256_SHA_256' : 'PKIX_ED25519';
  const v2Verifier = `{"keyDetails":${J(keyDetails)},${J(isCert ? 'x509Certificate' : 'publicKey')}:{"rawBytes":${J(b64(der))}}}`;
  return { privateKey, alg, isCert, der, keyDetails, pemB64: b64(text), derB64: b64(der), pemSha256: sha256(text).toString('hex'), v2Verifier };
}
export const keySigner = (privateKey: KeyObject, alg: 'ecdsa' | 'ed25519') => signingKey(privateKey, alg, spkiOf(createPublicKey(privateKey)), false);
export const certSigner = (c: CertKey) => signingKey(c.privateKey, 'ecdsa', c.der, true);

/** The KeyObject of an Ed25519 signing key (only P-256 keys come as scalars). */
function edKey(k: SigningKey): KeyObject {
  if (typeof k.privateKey === 'bigint') throw new TypeError('an Ed25519 key must be a KeyObject');
  return k.privateKey;
}

/** A signature over `data`: ECDSA P-256/SHA-256 (DER; ecdsa.ts says why not node:crypto), or pure Ed25519. */
export function signWith(k: SigningKey, data: Uint8Array): Buffer {
  return k.alg === 'ed25519' ? sign(null, data, edKey(k)) : p256.signHex(k.privateKey, sha256Hex(data));
}

/**
 * A signature for an artifact known only by its SHA-256 digest (injected entries): ECDSA over the digest, as
 * a hashedrekord verifier checks it. Ed25519 cannot sign a prehash in node:crypto (Rekor wants Ed25519ph
 * there), so Ed25519 keys sign the digest bytes themselves.
 */
export function signDigest(k: SigningKey, digest: Uint8Array): Buffer {
  return k.alg === 'ecdsa' ? p256.sign(k.privateKey, digest) : sign(null, digest, edKey(k));
}

/** DSSE v1 pre-authentication encoding (secure-systems-lab/dsse protocol.md). */
export function pae(type: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

export interface Built {
  body: string;
  /** The digests tlogwatch's decoder extracts from this body (the manifest's ground truth). */
  digests: string[];
  /** The in-toto statement of dsse/intoto entries: what Rekor v1 serves as `attestation.data`. */
  attestation?: Buffer;
}

/**
 * The signature of a hashedrekord: over the artifact whose SHA-256 is `digestHex` (ECDSA needs only the
 * digest for that), or, with no artifact, over the digest (signDigest).
 */
function signArtifact(k: SigningKey, artifact: Uint8Array | undefined, digestHex: string): Buffer {
  if (k.alg === 'ecdsa') return p256.signHex(k.privateKey, digestHex);
  return artifact ? signWith(k, artifact) : signDigest(k, Buffer.from(digestHex, 'hex'));
}

/** hashedrekord 0.0.1 over an artifact (signature over the artifact) or a bare digest (signature over the digest); `digestHex` is the artifact's SHA-256. */
export function hashedrekordV1(k: SigningKey, artifact: Uint8Array | undefined, digestHex: string): Built {
  const sig = signArtifact(k, artifact, digestHex);
  return {
    body: `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":${J(digestHex)}}},"signature":{"content":${q(b64(sig))},"publicKey":{"content":${q(k.pemB64)}}}}}`,
    digests: [`sha256:${digestHex}`],
  };
}

const IN_TOTO = 'application/vnd.in-toto+json';

/** A DSSE envelope over the statement as sigstore clients submit it; canonical, since Rekor hashes its canonical form. */
function envelope(k: SigningKey, statement: Buffer): { env: string; sig: Buffer } {
  const sig = signWith(k, pae(IN_TOTO, statement));
  return { env: `{"payload":${q(b64(statement))},"payloadType":${J(IN_TOTO)},"signatures":[{"keyid":"","sig":${q(b64(sig))}}]}`, sig };
}

export function dsseV1(k: SigningKey, statement: Buffer): Built {
  const { env, sig } = envelope(k, statement);
  const envelopeHash = sha256Hex(env);
  const payloadHash = sha256Hex(statement);
  return {
    body: `{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":${q(envelopeHash)}},"payloadHash":{"algorithm":"sha256","value":${q(payloadHash)}},"signatures":[{"signature":${q(b64(sig))},"verifier":${q(k.pemB64)}}]}}`,
    digests: [`sha256:${envelopeHash}`, `sha256:${payloadHash}`],
    attestation: statement,
  };
}

/** intoto 0.0.2: the envelope without its payload; `sig` and `publicKey` are base64 twice, as Rekor stores them. */
export function intotoV2(k: SigningKey, statement: Buffer): Built {
  const { env, sig } = envelope(k, statement);
  const hash = sha256Hex(env);
  const payloadHash = sha256Hex(statement);
  return {
    body: `{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":{"payloadType":${J(IN_TOTO)},"signatures":[{"publicKey":${q(k.pemB64)},"sig":${q(b64(b64(sig)))}}]},"hash":{"algorithm":"sha256","value":${q(hash)}},"payloadHash":{"algorithm":"sha256","value":${q(payloadHash)}}}}}`,
    digests: [`sha256:${hash}`, `sha256:${payloadHash}`],
    attestation: statement,
  };
}

export function hashedrekordV2(k: SigningKey, artifact: Uint8Array | undefined, digestHex: string): Built {
  const sig = signArtifact(k, artifact, digestHex);
  return {
    body: `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":${q(Buffer.from(digestHex, 'hex').toString('base64'))}},"signature":{"content":${q(b64(sig))},"verifier":${k.v2Verifier}}}}}`,
    digests: [`sha256:${digestHex}`],
  };
}

export function dsseV2(k: SigningKey, statement: Buffer): Built {
  const { sig } = envelope(k, statement);
  const payloadHash = sha256(statement);
  return {
    body: `{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash":{"algorithm":"SHA2_256","digest":${q(b64(payloadHash))}},"signatures":[{"content":${q(b64(sig))},"verifier":${k.v2Verifier}}]}}}`,
    digests: [`sha256:${payloadHash.toString('hex')}`],
    attestation: statement,
  };
}

export interface Provenance {
  subjectName: string;
  digestHex: string;
  /** Fulcio claims of the signer, when it is a GitHub Actions workflow. */
  claims?: FulcioClaims | undefined;
  /** The integrated time: the build ran in the minutes before it. */
  time: number;
}

/**
 * A SLSA provenance v1 statement (https://slsa.dev/spec/v1.0/provenance) as GitHub builds produce them.
 * builder.id is the signer's reusable workflow when one signed (slsa-github-generator), else GitHub's
 * runner (`https://github.com/actions/runner/<environment>`, as actions/attest-build-provenance writes),
 * with the signer's workflow, ref, commit and run in buildDefinition and runDetails.
 */
export function slsaStatement(p: Provenance): Buffer {
  const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000', '');
  return Buffer.from(
    `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":${J(p.subjectName)},"digest":{"sha256":${J(p.digestHex)}}}],${provenanceOf(p.claims)}"startedOn":${J(iso(p.time - 180))},"finishedOn":${J(iso(p.time - 5))}}}}}`,
  );
}

const provenances = new WeakMap<FulcioClaims, string>();
let keyProvenance: string | undefined; // signers without claims (plain keys)
/**
 * The statement from `predicateType` to `startedOn`, which depends only on the signer's claims: JSON of
 * the same objects in the same order as a whole-statement JSON.stringify, made once per signer.
 */
function provenanceOf(claims: FulcioClaims | undefined): string {
  const cached = claims ? provenances.get(claims) : keyProvenance;
  if (cached !== undefined) return cached;
  const c = claims ?? {};
  const repo = c.sourceRepositoryURI ?? 'https://github.com/unknown/unknown';
  const ref = c.sourceRepositoryRef ?? 'refs/heads/main';
  const reusable = c.buildSignerURI !== undefined && c.buildSignerURI !== c.buildConfigURI;
  const builderId = reusable ? c.buildSignerURI! : `https://github.com/actions/runner/${c.runnerEnvironment ?? 'github-hosted'}`;
  const path = c.buildConfigURI?.replace(/^https:\/\/github\.com\/[^/]+\/[^/]+\//, '').replace(/@.*$/, '') ?? '.github/workflows/release.yml';
  const buildDefinition = {
    buildType: 'https://actions.github.io/buildtypes/workflow/v1',
    externalParameters: { workflow: { ref, repository: repo, path } },
    internalParameters: {
      github: { event_name: c.buildTrigger ?? 'push', repository_id: c.sourceRepositoryIdentifier ?? '0', repository_owner_id: c.sourceRepositoryOwnerIdentifier ?? '0', runner_environment: c.runnerEnvironment ?? 'github-hosted' },
    },
    resolvedDependencies: [{ uri: `git+${repo}@${ref}`, digest: { gitCommit: c.sourceRepositoryDigest ?? '0'.repeat(40) } }],
  };
  const invocationId = c.runInvocationURI ?? `${repo}/actions/runs/1/attempts/1`;
  const made = `"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":${J(buildDefinition)},"runDetails":{"builder":${J({ id: builderId })},"metadata":{"invocationId":${J(invocationId)},`;
  if (claims) provenances.set(claims, made);
  else keyProvenance = made;
  return made;
}
