/**
 * Sigstore TrustedRoot (protobuf-specs `sigstore_trustroot.proto`, JSON field names), narrowed from
 * unknown with zod. Gives tlogwatch what it needs to follow and verify logs: each transparency log's
 * base URL, key, key ID and validity, whether it is a Rekor v1 or a tiles (Rekor v2) log, and the
 * checkpoint verifier with the right signer name (rekor.md §1.8, §3.3).
 */
import { createHash, createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { TlogwatchError } from '../errors.ts';
import { ecdsaVerifier, ed25519KeyId, ed25519Verifier } from '../note/keys.ts';
import type { NoteVerifier } from '../note/note.ts';
import { bytesEqual, parseBase64, toHex } from '../util/bytes.ts';

const b64 = z.string().transform((s, ctx) => {
  const b = parseBase64(s);
  if (!b) {
    ctx.addIssue({ code: 'custom', message: 'not standard base64' });
    return z.NEVER;
  }
  return b;
});
const ValidFor = z.object({ start: z.string().optional(), end: z.string().optional() }).optional();
const PublicKey = z.object({ rawBytes: b64, keyDetails: z.string(), validFor: ValidFor });
const Tlog = z.object({ baseUrl: z.string(), hashAlgorithm: z.string().optional(), publicKey: PublicKey, logId: z.object({ keyId: b64 }) });
const CertChain = z.object({ certificates: z.array(z.object({ rawBytes: b64 })) });
const CA = z.object({
  subject: z.object({ organization: z.string().optional(), commonName: z.string().optional() }).optional(),
  uri: z.string().optional(),
  certChain: CertChain,
  validFor: ValidFor,
});
const TrustedRootSchema = z.object({
  mediaType: z.string(),
  tlogs: z.array(Tlog).default([]),
  certificateAuthorities: z.array(CA).default([]),
  ctlogs: z.array(Tlog).default([]),
  timestampAuthorities: z.array(CA).default([]),
});

export interface TlogTrust {
  baseUrl: string;
  /** Host (+ path) of baseUrl: the checkpoint signer name, and the origin of a tiles log. */
  name: string;
  keyId: Uint8Array;
  spki: Uint8Array;
  keyDetails: string;
  validFrom?: Date;
  validUntil?: Date;
  /** `rekor-v1` for ECDSA/RSA-keyed Rekor logs whose logId is SHA-256(SPKI); `tiles` for C2SP-keyed (Ed25519) logs. */
  type: 'rekor-v1' | 'tiles';
}

export interface CertificateAuthority {
  uri?: string;
  commonName?: string;
  chain: Uint8Array[];
  validFrom?: Date;
  validUntil?: Date;
}

export interface TrustedRoot {
  tlogs: TlogTrust[];
  certificateAuthorities: CertificateAuthority[];
  ctlogs: TlogTrust[];
  timestampAuthorities: CertificateAuthority[];
}

const date = (s: string | undefined) => (s === undefined ? undefined : new Date(s));

/** `https://log2025-1.rekor.sigstore.dev/` → `log2025-1.rekor.sigstore.dev`; a path is kept (`host/path`). */
export function signerNameFromUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  return `${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

function toTlog(t: z.infer<typeof Tlog>): TlogTrust {
  const spkiHash = new Uint8Array(createHash('sha256').update(t.publicKey.rawBytes).digest());
  const name = signerNameFromUrl(t.baseUrl);
  let type: TlogTrust['type'] = 'rekor-v1';
  if (t.publicKey.keyDetails === 'PKIX_ED25519' && !bytesEqual(spkiHash, t.logId.keyId)) type = 'tiles';
  const from = date(t.publicKey.validFor?.start);
  const until = date(t.publicKey.validFor?.end);
  return {
    baseUrl: t.baseUrl,
    name,
    keyId: t.logId.keyId,
    spki: t.publicKey.rawBytes,
    keyDetails: t.publicKey.keyDetails,
    type,
    ...(from ? { validFrom: from } : {}),
    ...(until ? { validUntil: until } : {}),
  };
}

function toCA(c: z.infer<typeof CA>): CertificateAuthority {
  const from = date(c.validFor?.start);
  const until = date(c.validFor?.end);
  return {
    chain: c.certChain.certificates.map((x) => x.rawBytes),
    ...(c.uri ? { uri: c.uri } : {}),
    ...(c.subject?.commonName ? { commonName: c.subject.commonName } : {}),
    ...(from ? { validFrom: from } : {}),
    ...(until ? { validUntil: until } : {}),
  };
}

export function parseTrustedRoot(json: unknown): TrustedRoot {
  const r = TrustedRootSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new TlogwatchError('TRUST_MALFORMED', `trusted root: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
  }
  if (!r.data.mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    throw new TlogwatchError('TRUST_MALFORMED', `trusted root: unexpected mediaType ${JSON.stringify(r.data.mediaType)}`);
  }
  return {
    tlogs: r.data.tlogs.map(toTlog),
    certificateAuthorities: r.data.certificateAuthorities.map(toCA),
    ctlogs: r.data.ctlogs.map(toTlog),
    timestampAuthorities: r.data.timestampAuthorities.map(toCA),
  };
}

export function findTlogByKeyId(root: TrustedRoot, keyId: Uint8Array): TlogTrust | undefined {
  return root.tlogs.find((t) => bytesEqual(t.keyId, keyId));
}

export function tlogsValidAt(root: TrustedRoot, at: Date): TlogTrust[] {
  return root.tlogs.filter((t) => (!t.validFrom || t.validFrom <= at) && (!t.validUntil || at < t.validUntil));
}

/**
 * The verifier of a log's checkpoints: Rekor v1 signs with ECDSA under its host name (key hash =
 * SHA-256(SPKI)[:4]); tiles logs sign with Ed25519 under their origin, and the trusted root's key ID
 * must be that key's full C2SP key ID (rekor.md §3.3) — checked here, so a mislabeled root fails loudly.
 */
export function checkpointVerifierForTlog(t: TlogTrust): NoteVerifier {
  if (t.type === 'tiles') {
    const raw = new Uint8Array(createPublicKey({ key: Buffer.from(t.spki), format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' }).subarray(-32));
    const id = ed25519KeyId(t.name, raw);
    if (!bytesEqual(id, t.keyId)) {
      throw new TlogwatchError('TRUST_MALFORMED', `log ${t.baseUrl}: key ID ${toHex(t.keyId)} is not the C2SP key ID ${toHex(id)} of its key under the name ${t.name}`);
    }
    return ed25519Verifier(t.name, raw);
  }
  return ecdsaVerifier(t.name, t.spki);
}
