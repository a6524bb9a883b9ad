/**
 * Canonical entry bodies exactly as Rekor stores them (RFC 8785 JSON: sorted keys, no whitespace; tests
 * check every kind against @sigstore/core's canonicalize). Rekor v1: hashedrekord 0.0.1, dsse 0.0.1,
 * intoto 0.0.2 (rekor pkg/types). Rekor v2: hashedrekord 0.0.2, dsse 0.0.2 (rekor-tiles protojson).
 */
import { createHash, sign, type KeyObject } from 'node:crypto';

export interface SigningKey {
  privateKey: KeyObject;
  /** PEM (certificate or public key) as Rekor v1 bodies embed it, base64 again. */
  pem: string;
  /** DER certificate or SPKI, for Rekor v2 verifiers. */
  der: Uint8Array;
  isCert: boolean;
  keyDetails: string;
  alg: 'ecdsa' | 'ed25519';
}

const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();
const J = JSON.stringify;

export function signWith(k: SigningKey, data: Uint8Array): Buffer {
  return k.alg === 'ed25519' ? sign(null, data, k.privateKey) : sign('sha256', data, { key: k.privateKey, dsaEncoding: 'der' });
}

/** DSSE v1 pre-authentication encoding (secure-systems-lab/dsse protocol.md). */
export function pae(type: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

export interface Built {
  body: string;
  /** The digests tlogwatch's decoder extracts from this body (the manifest's ground truth). */
  digests: string[];
  /** in-toto statement for intoto/dsse entries: what Rekor v1 serves as `attestation`. */
  attestation?: Buffer;
}

export function hashedrekordV1(k: SigningKey, artifact: Uint8Array): Built {
  const digest = sha256(artifact).toString('hex');
  const sig = signWith(k, artifact);
  return {
    body: `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":${J(digest)}}},"signature":{"content":${J(b64(sig))},"publicKey":{"content":${J(b64(k.pem))}}}}}`,
    digests: [`sha256:${digest}`],
  };
}

/** A hashedrekord over a digest given directly (injected entries): the signature covers the digest bytes. */
export function hashedrekordV1Digest(k: SigningKey, digestHex: string): Built {
  const sig = signWith(k, Buffer.from(digestHex, 'hex'));
  return {
    body: `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":${J(digestHex)}}},"signature":{"content":${J(b64(sig))},"publicKey":{"content":${J(b64(k.pem))}}}}}`,
    digests: [`sha256:${digestHex}`],
  };
}

function envelope(k: SigningKey, statement: Buffer): { env: string; sig: Buffer } {
  const type = 'application/vnd.in-toto+json';
  const sig = signWith(k, pae(type, statement));
  // DSSE envelope JSON as sigstore clients submit it; its canonical form is what Rekor hashes.
  const env = `{"payload":${J(b64(statement))},"payloadType":${J(type)},"signatures":[{"keyid":"","sig":${J(b64(sig))}}]}`;
  return { env, sig };
}

export function dsseV1(k: SigningKey, statement: Buffer): Built {
  const { env, sig } = envelope(k, statement);
  const envelopeHash = sha256(env).toString('hex');
  const payloadHash = sha256(statement).toString('hex');
  return {
    body: `{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":${J(envelopeHash)}},"payloadHash":{"algorithm":"sha256","value":${J(payloadHash)}},"signatures":[{"signature":${J(b64(sig))},"verifier":${J(b64(k.pem))}}]}}`,
    digests: [`sha256:${envelopeHash}`, `sha256:${payloadHash}`],
    attestation: statement,
  };
}

export function intotoV2(k: SigningKey, statement: Buffer): Built {
  const { env, sig } = envelope(k, statement);
  const hash = sha256(env).toString('hex');
  const payloadHash = sha256(statement).toString('hex');
  return {
    body: `{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":{"payloadType":"application/vnd.in-toto+json","signatures":[{"publicKey":${J(b64(k.pem))},"sig":${J(b64(b64(sig)))}}]},"hash":{"algorithm":"sha256","value":${J(hash)}},"payloadHash":{"algorithm":"sha256","value":${J(payloadHash)}}}}}`,
    digests: [`sha256:${hash}`, `sha256:${payloadHash}`],
    attestation: statement,
  };
}

function v2Verifier(k: SigningKey): string {
  return k.isCert
    ? `{"keyDetails":${J(k.keyDetails)},"x509Certificate":{"rawBytes":${J(b64(k.der))}}}`
    : `{"keyDetails":${J(k.keyDetails)},"publicKey":{"rawBytes":${J(b64(k.der))}}}`;
}

export function hashedrekordV2(k: SigningKey, artifact: Uint8Array | undefined, digestHex?: string): Built {
  const digest = digestHex ? Buffer.from(digestHex, 'hex') : sha256(artifact!);
  const sig = signWith(k, artifact ?? digest);
  return {
    body: `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":${J(b64(digest))}},"signature":{"content":${J(b64(sig))},"verifier":${v2Verifier(k)}}}}}`,
    digests: [`sha256:${digest.toString('hex')}`],
  };
}

export function dsseV2(k: SigningKey, statement: Buffer): Built {
  const { sig } = envelope(k, statement);
  const payloadHash = sha256(statement);
  return {
    body: `{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash":{"algorithm":"SHA2_256","digest":${J(b64(payloadHash))}},"signatures":[{"content":${J(b64(sig))},"verifier":${v2Verifier(k)}}]}}}`,
    digests: [`sha256:${payloadHash.toString('hex')}`],
    attestation: statement,
  };
}

/** A SLSA provenance v1 statement (https://slsa.dev/provenance/v1) for a GitHub Actions build. */
export function slsaStatement(subjectName: string, digestHex: string, builderId: string, repo: string | undefined, ref: string | undefined, sha: string | undefined, startedOn: number): Buffer {
  const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000', '');
  return Buffer.from(
    J({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: subjectName, digest: { sha256: digestHex } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://actions.github.io/buildtypes/workflow/v1',
          externalParameters: { workflow: { ref: ref ?? 'refs/heads/main', repository: repo ?? 'https://github.com/unknown/unknown', path: '.github/workflows/release.yml' } },
          resolvedDependencies: repo ? [{ uri: `git+${repo}@${ref ?? 'refs/heads/main'}`, digest: { gitCommit: sha ?? '' } }] : [],
        },
        runDetails: { builder: { id: builderId }, metadata: { invocationId: `${repo ?? ''}/actions/runs/1`, startedOn: iso(startedOn - 120), finishedOn: iso(startedOn - 5) } },
      },
    }),
  );
}
