/**
 * DIR/trusted_root.json in the Sigstore TrustedRoot format (sigstore/protobuf-specs
 * trustroot/v1 TrustedRoot, JSON names as in root-signing's trusted_root.json): the log's key under the
 * URL it serves on, and the simulated Fulcio chain (intermediate first), so `tlogwatch verify` and
 * `tlogwatch serve --trusted-root` take it unchanged. Names agree as in production (rekor.md §1.8, §3.3):
 * logId.keyId is SHA-256 of the SPKI for Rekor v1 and the C2SP key ID for tiles.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cosignatureVkey, ed25519KeyId, mldsaCosignatureVkey, rawEd25519, rawMldsa44 } from '../../src/note/keys.ts';
import { spkiOf } from './keys.ts';
import { BASE_TIME, type SimLog, type SimWitness } from './log.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Rekor v1 logID: SHA-256 of the log key's DER SPKI (hex in the API, base64 in the trusted root). */
export function v1LogId(log: SimLog): Uint8Array {
  return new Uint8Array(createHash('sha256').update(spkiOf(log.logKey.publicKey)).digest());
}

export function logKeyId(log: SimLog): Uint8Array {
  return log.api === 'v1' ? v1LogId(log) : ed25519KeyId(log.name, rawEd25519(log.logKey.publicKey));
}

export function trustedRoot(log: SimLog): Record<string, unknown> {
  if (!log.baseUrl || !log.name) throw new Error('trusted root: the log has no URL yet');
  const start = iso(BASE_TIME - 365 * 86400);
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: log.baseUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(spkiOf(log.logKey.publicKey)), keyDetails: log.api === 'v1' ? 'PKIX_ECDSA_P256_SHA_256' : 'PKIX_ED25519', validFor: { start } },
        logId: { keyId: b64(logKeyId(log)) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.dev', commonName: 'sigstore' },
        uri: 'https://fulcio.sigstore.dev',
        certChain: { certificates: [{ rawBytes: b64(log.fulcioIntermediate.der) }, { rawBytes: b64(log.fulcioRoot.der) }] },
        validFor: { start },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  };
}

/**
 * Writes DIR/trusted_root.json and, when there are witnesses, their keys one per line in two forms:
 * DIR/witnesses.vkeys, verifier keys (`name+hash+base64`, type 0x04 or 0x06) as `tlogwatch verify --witness`
 * and `logs[].witnesses.keys` take them, and DIR/witnesses.txt, `name base64(key)`: the raw Ed25519 key
 * (32 bytes) or ML-DSA-44 key (1312 bytes).
 */
const rawWitnessKey = (w: SimWitness): Uint8Array => (w.alg === 'ml-dsa-44' ? rawMldsa44(w.publicKey) : rawEd25519(w.publicKey));

/** A witness's verifier key, of its cosignature type. */
export const witnessVkey = (w: SimWitness): string => (w.alg === 'ml-dsa-44' ? mldsaCosignatureVkey : cosignatureVkey)(w.name, rawWitnessKey(w));

export function writeTrustedRoot(log: SimLog): string {
  const path = join(log.out, 'trusted_root.json');
  writeFileSync(path, `${JSON.stringify(trustedRoot(log), null, 2)}\n`);
  if (log.witnesses.length > 0) {
    writeFileSync(join(log.out, 'witnesses.vkeys'), log.witnesses.map((w) => `${witnessVkey(w)}\n`).join(''));
    writeFileSync(join(log.out, 'witnesses.txt'), log.witnesses.map((w) => `${w.name} ${b64(rawWitnessKey(w))}\n`).join(''));
  }
  return path;
}
