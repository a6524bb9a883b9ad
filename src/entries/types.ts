/**
 * The Entry record: what every stage after decoding sees (DESIGN.md "The Entry record").
 * Pure types; no runtime code beyond constants.
 */

/** Digest algorithms tlogwatch normalises; the textual form is `<alg>:<lower-case hex>`. */
export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';
export type Digest = `${DigestAlgorithm}:${string}`;

/**
 * Fulcio certificate extensions 1.3.6.1.4.1.57264.1.1–.24 by name (sigstore/fulcio docs/oid-info.md;
 * reference/rekor.md §6). `.1`–`.6` are deprecated raw strings, `.8`–`.24` DER UTF8Strings,
 * `.7` is the OtherName SAN (kept as `otherNameSan`).
 */
export const FULCIO_OIDS = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
  otherNameSan: '1.3.6.1.4.1.57264.1.7',
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerURI: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryURI: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerURI: '1.3.6.1.4.1.57264.1.16',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigURI: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationURI: '1.3.6.1.4.1.57264.1.21',
  sourceRepositoryVisibilityAtSigning: '1.3.6.1.4.1.57264.1.22',
  deploymentEnvironment: '1.3.6.1.4.1.57264.1.23',
  tokenSubject: '1.3.6.1.4.1.57264.1.24',
} as const;

export type FulcioClaimName = keyof typeof FULCIO_OIDS;
export type FulcioClaims = Partial<Record<FulcioClaimName, string>>;

export interface Signer {
  type: 'x509' | 'key';
  /** `sha256:<hex>` of the DER certificate (x509) or of the DER SubjectPublicKeyInfo (key). */
  fingerprint: Digest;
  /**
   * x509 only: `sha256:<hex>` of the certificate's DER SubjectPublicKeyInfo, the key that signed. A key signer's
   * `fingerprint` for the same key, so rules on a long-lived key (`watch.fingerprints`, `expect.keys`) also
   * see a certificate someone wrapped around it; indexed beside `fingerprint`, so a search finds it too
   * (store/index-values.ts).
   */
  keyFingerprint?: Digest;
  /**
   * The primary subject alternative name: the first URI, else the first email, else the Fulcio OtherName (.7)
   * username. A certificate Fulcio issues names exactly one identity, and this is it.
   */
  san?: string;
  /**
   * Every identity the certificate's SubjectAltName names (URIs, emails, DNS names, IP addresses, Fulcio
   * usernames; `san` first, each once, all of them: entries/subject-alt-name.ts), present only when it
   * says more than `san` does: a self-made certificate may name several, and each counts (index, search,
   * watches). Read every identity with `sansOf` (entries/subject-alt-name.ts).
   */
  sans?: readonly string[];
  /** OIDC issuer: from OID .8, else the deprecated .1. */
  issuer?: string;
  fulcio?: FulcioClaims;
  /** Certificate validity, seconds since the epoch (x509 only). */
  notBefore?: number;
  notAfter?: number;
}

/** Kinds tlogwatch decodes fully; any other kind string is kept verbatim with whatever digests its schema carries. */
export type KnownKind = 'hashedrekord' | 'dsse' | 'intoto' | 'rekord' | 'helm' | 'jar' | 'rpm' | 'tuf' | 'rfc3161' | 'alpine' | 'cose';
export type EntryKind = KnownKind | (string & {});

/** Why a body could not be fully decoded. The entry is still mirrored and indexed by what is known. */
export interface DecodeProblem {
  code: 'ENTRY_MALFORMED' | 'ENTRY_UNSUPPORTED_KIND';
  message: string;
}

/** Facts from an in-toto statement about the entry (SLSA provenance v0.2/v1; other predicates by type). */
export interface Provenance {
  predicateType: string;
  builderId?: string;
  buildType?: string;
  /** Source repository URI without `git+`, `@ref` or `.git`, e.g. https://github.com/acme/api. */
  sourceRepository?: string;
  sourceRef?: string;
  /** Source commit, lower-case hex. */
  sourceDigest?: string;
  /** Unix seconds. */
  startedOn?: number;
  finishedOn?: number;
  /** Where the statement came from. */
  from: 'attestation' | 'bundle';
}

export interface Entry {
  /** The log's name in this mirror (config key), e.g. `rekor.sigstore.dev` or `log2025-1`. */
  log: string;
  /** Virtual (global) log index for Rekor v1; the tile index for Rekor v2. A safe integer. */
  index: number;
  /** RFC 6962 leaf hash, hex: SHA-256(0x00 || canonical body). */
  leafHash: string;
  /** Rekor v1 entry UUID (= leaf hash hex); the same for v2. */
  uuid: string;
  /** Seconds since the epoch; absent on Rekor v2 (which has no integrated time). */
  integratedTime?: number;
  /** Seconds since the epoch at which this mirror first ingested the entry (orders and filters v2 entries). */
  observedAt?: number;
  /**
   * Set when this mirror ingested the entry live: appended after a checkpoint it had seen within a poll
   * interval (mirror/observed-live.ts), so `observedAt` is close to when the log took it. Absent otherwise
   * (a catch-up, a backfill, a store written before this existed).
   */
  observedLive?: true;
  kind: EntryKind;
  apiVersion: string;
  /** Normalised digests: artifact, payload, envelope, attestation subjects. Sorted, unique. */
  digests: Digest[];
  /** The first signer; `signers` carries all of them when there are several (DSSE). */
  signer?: Signer;
  signers?: Signer[];
  /** The build provenance, when an attestation or a posted bundle carried one. */
  provenance?: Provenance;
  /** Set when the body was not fully understood. */
  problem?: DecodeProblem;
}
