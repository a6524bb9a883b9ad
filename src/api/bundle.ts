/**
 * GET /v1/entries/{log}/{index}/bundle: a Sigstore bundle v0.3 (protobuf-specs `sigstore_bundle.proto`,
 * JSON names) for a mirrored entry, where the log data allows: the tlog entry with the upstream SET (Rekor
 * v1), an inclusion proof and checkpoint from the mirror's latest verified checkpoint, the signer's
 * certificate, and the content the body carries (a hashedrekord's digest and signature; a DSSE envelope
 * when Rekor kept the attestation).
 */
import { pem } from '@sigstore/core';
import type { Hono } from 'hono';
import type { LogState, StoredRecord } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import { isRecord } from '../util/json.ts';
import { apiError } from './errors.ts';
import { Index, LogName, NoQuery, parseQuery } from './params.ts';
import { inclusionProofView, noEntryError, treePosition } from './views.ts';

/** hashedrekord 0.0.1's `data.hash.algorithm` values as protobuf-specs names them (sigstore_common.proto HashAlgorithm). */
const HASH_ALGORITHM: Readonly<Record<string, string>> = { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' };
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const rec = (o: unknown): Record<string, unknown> => (isRecord(o) ? o : {});

/** The verification material and content a bundle needs, read from the canonical body. */
function materialOf(record: StoredRecord, body: Uint8Array): { certificate?: string; publicKeyHint?: boolean; content: Record<string, unknown> } {
  let json: Record<string, unknown>;
  try {
    json = rec(JSON.parse(Buffer.from(body).toString('utf8')) as unknown);
  } catch {
    // The mirror keeps whatever bytes the log published (entries/decode.ts); a body that is not JSON was
    // stored with its problem, and has nothing a bundle could carry.
    throw apiError('API_NOT_FOUND', 'the entry\'s body is not JSON, so it cannot be made into a bundle');
  }
  const spec = rec(json['spec']);
  const e = record.entry;
  const fromPemB64 = (v: unknown) => {
    const text = typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '';
    return text.includes('BEGIN CERTIFICATE') ? { certificate: b64(pem.toDER(text)) } : { publicKeyHint: true };
  };
  if (e.kind === 'hashedrekord' && e.apiVersion === '0.0.1') {
    const hash = rec(rec(spec['data'])['hash']);
    const sig = rec(spec['signature']);
    const algorithm = typeof hash['algorithm'] === 'string' ? HASH_ALGORITHM[hash['algorithm']] : undefined;
    if (!algorithm) throw apiError('API_NOT_FOUND', `a hashedrekord of a ${String(hash['algorithm'])} digest cannot be made into a bundle (sha256, sha384 and sha512 can)`);
    return {
      ...fromPemB64(rec(sig['publicKey'])['content']),
      content: { messageSignature: { messageDigest: { algorithm, digest: b64(Buffer.from(String(hash['value']), 'hex')) }, signature: sig['content'] } },
    };
  }
  if (e.kind === 'hashedrekord' && e.apiVersion === '0.0.2') {
    const h = rec(spec['hashedRekordV002'] ?? spec['hashedRekordV0_0_2']);
    const verifier = rec(rec(h['signature'])['verifier']);
    const cert = rec(verifier['x509Certificate'])['rawBytes'];
    return {
      ...(typeof cert === 'string' ? { certificate: cert } : { publicKeyHint: true }),
      content: { messageSignature: { messageDigest: rec(h['data']), signature: rec(h['signature'])['content'] } },
    };
  }
  if (record.attestation && e.apiVersion === '0.0.1' && e.kind === 'dsse') {
    const s0 = rec((spec['signatures'] as unknown[] | undefined)?.[0]);
    return { ...fromPemB64(s0['verifier']), content: { dsseEnvelope: { payload: record.attestation, payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: s0['signature'], keyid: '' }] } } };
  }
  if (record.attestation && e.apiVersion === '0.0.2' && e.kind === 'intoto') {
    const env = rec(rec(spec['content'])['envelope']);
    const s0 = rec((env['signatures'] as unknown[] | undefined)?.[0]);
    return { ...fromPemB64(s0['publicKey']), content: { dsseEnvelope: { payload: record.attestation, payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: Buffer.from(String(s0['sig']), 'base64').toString('utf8'), keyid: '' }] } } };
  }
  throw apiError('API_NOT_FOUND', `a ${e.kind} ${e.apiVersion} entry without its envelope cannot be made into a bundle (the log does not keep the signed content)`);
}

export async function bundleFor(store: Store, state: LogState, record: StoredRecord, body: Uint8Array, logKeyId: Uint8Array | undefined): Promise<Record<string, unknown>> {
  const keyId = record.v1 ? Buffer.from(record.v1.logID, 'hex') : logKeyId;
  if (!keyId) throw apiError('API_NOT_FOUND', 'the log\'s key ID is unknown to this mirror');
  const m = materialOf(record, body);
  const proof = await inclusionProofView(store, state, record);
  const e = record.entry;
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      ...(m.certificate ? { certificate: { rawBytes: m.certificate } } : { publicKey: { hint: '' } }),
      tlogEntries: [
        {
          logIndex: String(e.index),
          logId: { keyId: b64(keyId) },
          kindVersion: { kind: e.kind, version: e.apiVersion },
          integratedTime: String(e.integratedTime ?? 0),
          ...(record.v1?.signedEntryTimestamp ? { inclusionPromise: { signedEntryTimestamp: record.v1.signedEntryTimestamp } } : {}),
          inclusionProof: {
            logIndex: String(treePosition(state, record).treeIndex),
            rootHash: b64(proof.rootHash),
            treeSize: String(proof.treeSize),
            hashes: proof.hashes.map(b64),
            checkpoint: { envelope: proof.checkpoint },
          },
          canonicalizedBody: b64(body),
        },
      ],
      timestampVerificationData: {},
    },
    ...m.content,
  };
}

export function bundleRoutes(app: Hono, store: Store, logKeyId: (log: string) => Uint8Array | undefined): void {
  app.get('/v1/entries/:log/:index/bundle', async (c) => {
    const log = LogName.safeParse(c.req.param('log'));
    const index = Index.safeParse(c.req.param('index'));
    if (!log.success || !index.success) throw apiError('API_BAD_REQUEST', 'log and index must be a log name and a non-negative integer');
    parseQuery(c.req.url, NoQuery);
    const [got, s] = await Promise.all([store.getEntry(log.data, index.data), store.readLogState(log.data)]);
    if (!got || !s) throw noEntryError(store, log.data, index.data, s);
    return c.json(await bundleFor(store, s, got.record, got.body, logKeyId(log.data)));
  });
}
