/**
 * Sigstore TrustedRoot (https://github.com/sigstore/protobuf-specs, `sigstore_trustroot.proto`, proto3
 * JSON field names), narrowed from unknown with zod. Gives tlogwatch what it needs to follow and verify
 * logs: each transparency log's base URL, key, key ID and validity, whether it is a Rekor v1 or a tiles
 * (Rekor v2) log, and its checkpoint verifier with the right signer name (rekor.md §1.8, §3.3, §3.6).
 * Pure: reading the file or TUF is in tuf.ts.
 */
import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { TlogwatchError } from '../errors.ts';
import { sha256 } from '../note/key-id.ts';
import { ecdsaVerifier, ed25519KeyId, ed25519Verifier } from '../note/keys.ts';
import type { NoteVerifier } from '../note/note.ts';
import { setKeyFromSpki, type SetKey } from '../entries/set.ts';
import { bytesEqual, parseBase64, toHex } from '../util/bytes.ts';
import { hasCredentials, withoutCredentials } from '../util/url.ts';

const b64 = z.string().transform((s, ctx) => {
  const b = parseBase64(s);
  if (!b) {
    ctx.addIssue({ code: 'custom', message: 'not standard base64' });
    return z.NEVER;
  }
  return b;
});
/** proto3 JSON Timestamp: RFC 3339 with a Z or an offset. */
const timestamp = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const ValidFor = z.strictObject({ start: timestamp.optional(), end: timestamp.optional() }).optional();
const PublicKey = z.object({ rawBytes: b64, keyDetails: z.string(), validFor: ValidFor });
const Tlog = z.object({ baseUrl: z.url({ protocol: /^https?$/ }), hashAlgorithm: z.string().optional(), publicKey: PublicKey, logId: z.object({ keyId: b64 }) });
const CA = z.object({
  subject: z.object({ organization: z.string().optional(), commonName: z.string().optional() }).optional(),
  uri: z.string().optional(),
  certChain: z.object({ certificates: z.array(z.object({ rawBytes: b64 })).min(1) }),
  validFor: ValidFor,
});
const TrustedRootSchema = z.object({
  mediaType: z.string().regex(/^application\/vnd\.dev\.sigstore\.trustedroot(\.v0\.\d+\+json|\+json;version=0\.\d+)$/, 'not a Sigstore trusted root media type'),
  tlogs: z.array(Tlog).default([]),
  certificateAuthorities: z.array(CA).default([]),
  ctlogs: z.array(Tlog).default([]),
  timestampAuthorities: z.array(CA).default([]),
});

/** A log key as the trusted root lists it (transparency logs and CT logs alike). */
export interface LogKey {
  baseUrl: string;
  keyId: Uint8Array;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** protobuf-specs PublicKeyDetails, e.g. `PKIX_ECDSA_P256_SHA_256`, `PKIX_ED25519`. */
  keyDetails: string;
  hashAlgorithm?: string;
  validFrom?: Date;
  validUntil?: Date;
}

export type TlogType = 'rekor-v1' | 'tiles';

export interface TlogTrust extends LogKey {
  /** Host (+ path) of baseUrl: the checkpoint signer name, and the origin of a tiles log. */
  name: string;
  /** From the key ID (see `tlogTypeFromKey`) unless a signing config said otherwise (`withSigningConfig`). */
  type: TlogType;
}

export interface CertificateAuthority {
  uri?: string;
  organization?: string;
  commonName?: string;
  /** DER certificates, leaf-most first as the trusted root lists them. */
  chain: Uint8Array[];
  validFrom?: Date;
  validUntil?: Date;
}

export interface TrustedRoot {
  tlogs: TlogTrust[];
  certificateAuthorities: CertificateAuthority[];
  ctlogs: LogKey[];
  timestampAuthorities: CertificateAuthority[];
}

/** `https://log2025-1.rekor.sigstore.dev/` → `log2025-1.rekor.sigstore.dev`; a port or path is kept (`host/path`). */
export function signerNameFromUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  return `${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** The raw 32-byte key of an Ed25519 SPKI, or undefined for any other key (or a broken one). */
function rawEd25519FromSpki(spki: Uint8Array): Uint8Array | undefined {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' ? new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(-32)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the key ID says about a log (rekor.md §3.3, §3.6). The trusted root has no API version field:
 * a Rekor v1 logID is SHA-256(SPKI), a Rekor v2 key ID is the full checkpoint key ID, which for Ed25519
 * is the C2SP SHA-256(origin || 0x0A || 0x01 || key). An ECDSA-keyed v2 log would also use SHA-256(SPKI),
 * so only a signing config (`majorApiVersion`) tells those apart; without one, v1 is assumed.
 * A key ID that fits neither is classified by key type, and `checkpointVerifierForTlog` refuses it.
 */
export function tlogTypeFromKey(t: Pick<LogKey, 'baseUrl' | 'keyId' | 'spki'>): TlogType {
  if (keyIdNamesLog(t)) return 'tiles';
  if (bytesEqual(sha256(t.spki), t.keyId)) return 'rekor-v1';
  return rawEd25519FromSpki(t.spki) ? 'tiles' : 'rekor-v1';
}

/**
 * Whether the log's key ID commits to the name its checkpoints are signed under, the host (+ path) of its
 * base URL: an Ed25519 key whose key ID is the C2SP key ID SHA-256(name || 0x0A || 0x01 || key) (c2sp.md
 * §1.1, rekor.md §3.3). A Rekor v2 log's origin is that name. A key ID that is SHA-256(SPKI) (Rekor v1,
 * an ECDSA-keyed tiles log) commits to no name: only the base URL, which protobuf-specs says SHOULD match
 * the checkpoint origin, speaks of one.
 */
export function keyIdNamesLog(t: Pick<LogKey, 'baseUrl' | 'keyId' | 'spki'>): boolean {
  const raw = rawEd25519FromSpki(t.spki);
  return raw !== undefined && bytesEqual(ed25519KeyId(signerNameFromUrl(t.baseUrl), raw), t.keyId);
}

function toLogKey(t: z.infer<typeof Tlog>): LogKey {
  const { start, end } = t.publicKey.validFor ?? {};
  return {
    baseUrl: t.baseUrl,
    keyId: t.logId.keyId,
    spki: t.publicKey.rawBytes,
    keyDetails: t.publicKey.keyDetails,
    ...(t.hashAlgorithm !== undefined ? { hashAlgorithm: t.hashAlgorithm } : {}),
    ...(start ? { validFrom: start } : {}),
    ...(end ? { validUntil: end } : {}),
  };
}

function toTlog(t: z.infer<typeof Tlog>): TlogTrust {
  const key = toLogKey(t);
  return { ...key, name: signerNameFromUrl(t.baseUrl), type: tlogTypeFromKey(key) };
}

function toCA(c: z.infer<typeof CA>): CertificateAuthority {
  const { start, end } = c.validFor ?? {};
  return {
    chain: c.certChain.certificates.map((x) => x.rawBytes),
    ...(c.uri ? { uri: c.uri } : {}),
    ...(c.subject?.organization ? { organization: c.subject.organization } : {}),
    ...(c.subject?.commonName ? { commonName: c.subject.commonName } : {}),
    ...(start ? { validFrom: start } : {}),
    ...(end ? { validUntil: end } : {}),
  };
}

/**
 * What a file given as a trusted root is instead, when it is one of the other Sigstore trust documents an
 * operator has at hand (the TUF repository's root.json, a signing config, a bundle): the schema's first
 * complaint (`mediaType: … received undefined`) would not say which file was meant.
 */
function otherTrustDocument(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const signed = (json as { signed?: unknown }).signed;
  if (typeof signed === 'object' && signed !== null && typeof (signed as { _type?: unknown })._type === 'string') {
    return `this is TUF ${String((signed as { _type: string })._type)} metadata, not a Sigstore trusted_root.json: a TUF repository's root.json is tufRoot (with tufMirror), or --tuf-root (with --tuf-mirror) for verify`;
  }
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string') return undefined;
  if (mediaType.includes('sigstore.signingconfig')) return 'this is a Sigstore signing config, not a trusted root: give it in signingConfigs';
  if (mediaType.includes('sigstore.bundle')) return 'this is a Sigstore bundle, not a trusted root: tlogwatch verify takes it as FILE';
  return undefined;
}

export function parseTrustedRoot(json: unknown): TrustedRoot {
  const r = TrustedRootSchema.safeParse(json);
  if (!r.success) {
    const other = otherTrustDocument(json);
    if (other) throw new TlogwatchError('TRUST_MALFORMED', `trusted root: ${other}`);
    const issue = r.error.issues[0];
    throw new TlogwatchError('TRUST_MALFORMED', `trusted root: ${issue ? `${issue.path.join('.') || '(top level)'}: ${issue.message}` : 'invalid'}`);
  }
  return {
    tlogs: r.data.tlogs.map(toTlog),
    certificateAuthorities: r.data.certificateAuthorities.map(toCA),
    ctlogs: r.data.ctlogs.map(toLogKey),
    timestampAuthorities: r.data.timestampAuthorities.map(toCA),
  };
}

/**
 * Refuses a root whose transparency log URL holds credentials (`https://user:password@host/`), as the
 * configuration refuses them in every URL (config/schema.ts HttpUrl, util/url.ts). The daemon follows these
 * URLs when no `logs` are configured and shows them: in GET /v1/logs (unauthenticated) and /readyz, in log
 * lines, in `trust-changed` findings sent to every channel, in errors. The whole root is refused, where the
 * daemon and backfill take it (tuf.ts resolveTrust), rather than the one log: its URL would still reach those
 * findings and messages. The error names the log without its credentials. `verify` does not follow or show
 * the URLs and takes such a root as it is.
 */
export function verifyLogUrlsWithoutCredentials(root: TrustedRoot): void {
  const i = root.tlogs.findIndex((t) => hasCredentials(t.baseUrl));
  if (i < 0) return;
  throw new TlogwatchError(
    'TRUST_MALFORMED',
    `trusted root: tlogs.${i}.baseUrl ${withoutCredentials(root.tlogs[i]!.baseUrl)}: credentials in a URL (user:password@host) are refused: tlogwatch follows this URL and shows it (GET /v1/logs, /readyz, findings, log lines). Remove them from the trusted root (a public document, published through TUF), and give a private log's credentials in \`logs\` (headers or headerFiles)`,
    { data: { index: i } },
  );
}

export function findTlogByKeyId(root: TrustedRoot, keyId: Uint8Array): TlogTrust | undefined {
  return root.tlogs.find((t) => bytesEqual(t.keyId, keyId));
}

/**
 * Whether a key or CA is valid at `at`. A trusted root's validFor is a protobuf-specs TimeRange, "closed and
 * includes both the start and end times ([start, end])" (sigstore_common.proto; sigstore-conformance
 * `trust-root-tlog-validity-end-inclusive`); an open end means still active.
 */
export function validAt(v: { validFrom?: Date; validUntil?: Date }, at: Date): boolean {
  return (!v.validFrom || v.validFrom <= at) && (!v.validUntil || at <= v.validUntil);
}

/** Logs whose key is valid at `at`. */
export function tlogsValidAt(root: TrustedRoot, at: Date): TlogTrust[] {
  return root.tlogs.filter((t) => validAt(t, at));
}

function refuse(t: TlogTrust, why: string): TlogwatchError {
  return new TlogwatchError('TRUST_MALFORMED', `log ${t.baseUrl}: ${why}`, { data: { baseUrl: t.baseUrl } });
}

/**
 * The verifier of a log's checkpoints. Rekor v1 signs with ECDSA under its host name, key hash
 * SHA-256(SPKI)[:4] (rekor.md §1.8); tiles logs sign under their origin with Ed25519 (key ID checked
 * against the C2SP key ID, so a mislabeled root fails loudly here rather than as "no verified signature"
 * at every poll) or ECDSA (key ID SHA-256(SPKI), as rekor-tiles `pkg/note` computes it).
 */
/**
 * The key that signs a Rekor v1 log's signed entry timestamps (the same key as its checkpoints,
 * rekor.md §1.7); undefined for tiles logs, whose entries carry none.
 */
export function setKeyForTlog(t: TlogTrust): SetKey | undefined {
  return t.type === 'rekor-v1' ? setKeyFromSpki(t.spki, t.keyId) : undefined;
}

/**
 * Every key the trusted root lists for the Rekor v1 log `t` (its own and any other under the same signer
 * name), each with its checkpoint verifier, SET key and validity. Rekor lets a retired shard keep a key of
 * its own (rekor.md §1.5), and the trusted root says when each key was the log's: `backfill` checks a
 * retired tree with the key that signed its final tree head, within that key's validity. Keys this
 * tlogwatch cannot verify with are left out (the log's own is checked where it is followed).
 */
export function rekorV1KeysOf(root: TrustedRoot, t: TlogTrust): Array<{ keyId: Uint8Array; verifier: NoteVerifier; setKey: SetKey | undefined; validFrom?: Date; validUntil?: Date }> {
  return root.tlogs
    .filter((x) => x.type === 'rekor-v1' && x.name === t.name)
    .flatMap((x) => {
      let verifier: NoteVerifier;
      try {
        verifier = checkpointVerifierForTlog(x);
      } catch {
        return [];
      }
      return [{ keyId: x.keyId, verifier, setKey: setKeyForTlog(x), ...(x.validFrom ? { validFrom: x.validFrom } : {}), ...(x.validUntil ? { validUntil: x.validUntil } : {}) }];
    });
}

export function checkpointVerifierForTlog(t: TlogTrust): NoteVerifier {
  if (t.hashAlgorithm !== undefined && t.hashAlgorithm !== 'SHA2_256') throw refuse(t, `unsupported Merkle hash ${t.hashAlgorithm}`);
  const raw = rawEd25519FromSpki(t.spki);
  if (raw) {
    if (t.type !== 'tiles') throw refuse(t, 'Ed25519-keyed Rekor v1 checkpoints are not supported');
    const id = ed25519KeyId(t.name, raw);
    if (!bytesEqual(id, t.keyId)) throw refuse(t, `key ID ${toHex(t.keyId)} is not the C2SP key ID ${toHex(id)} of its key under the name ${t.name}`);
    return ed25519Verifier(t.name, raw);
  }
  const id = sha256(t.spki);
  if (!bytesEqual(id, t.keyId)) throw refuse(t, `key ID ${toHex(t.keyId)} is not SHA-256 of its public key (${toHex(id)})`);
  try {
    return ecdsaVerifier(t.name, t.spki);
  } catch (e) {
    throw new TlogwatchError('TRUST_MALFORMED', `log ${t.baseUrl}: checkpoints need an Ed25519 or ECDSA key (${t.keyDetails})`, { cause: e });
  }
}
