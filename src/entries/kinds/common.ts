/** Helpers shared by the kind decoders: digest normalisation and key material. */
import { isRecord } from '../../util/json.ts';
import { parseBase64 } from '../../util/bytes.ts';
import { signerFromKeyMaterial } from '../signer.ts';
import type { DecodeProblem, Digest, DigestAlgorithm, Signer } from '../types.ts';

const HEX_LEN: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };
const V1_ALG: Record<string, DigestAlgorithm> = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
const V2_ALG: Record<string, DigestAlgorithm> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };

/** `{algorithm: "sha256", value: "<hex>"}` (Rekor v1 schemas) → `sha256:<hex>`. */
export function v1Hash(o: unknown): Digest | undefined {
  if (!isRecord(o)) return undefined;
  const alg = typeof o['algorithm'] === 'string' ? V1_ALG[o['algorithm']] : undefined;
  const value = o['value'];
  if (!alg || typeof value !== 'string') return undefined;
  const hex = value.toLowerCase();
  return hex.length === HEX_LEN[alg] && /^[0-9a-f]+$/.test(hex) ? `${alg}:${hex}` : undefined;
}

/** `{algorithm: "SHA2_256", digest: "<base64>"}` (protobuf-specs HashOutput) → `sha256:<hex>`. */
export function v2Hash(o: unknown): Digest | undefined {
  if (!isRecord(o)) return undefined;
  const alg = typeof o['algorithm'] === 'string' ? V2_ALG[o['algorithm']] : undefined;
  const digest = typeof o['digest'] === 'string' ? parseBase64(o['digest']) : undefined;
  if (!alg || !digest || digest.length * 2 !== HEX_LEN[alg]) return undefined;
  return `${alg}:${Buffer.from(digest).toString('hex')}`;
}

export class Facts {
  digests: Digest[] = [];
  signers: Signer[] = [];
  problem?: DecodeProblem;

  digest(d: Digest | undefined, what: string): void {
    if (d) this.digests.push(d);
    else this.fail(`${what} is missing or not a supported hash`);
  }

  /** Key material given as base64 (of PEM or DER), as Rekor v1 bodies carry it. */
  keyBase64(b64: unknown, what: string): void {
    const bytes = typeof b64 === 'string' ? parseBase64(b64) : undefined;
    if (!bytes) return this.fail(`${what} is missing or not base64`);
    this.key(bytes, what);
  }

  key(bytes: Uint8Array, what: string): void {
    try {
      this.signers.push(signerFromKeyMaterial(bytes));
    } catch (e) {
      this.fail(`${what}: ${(e as Error).message.slice(0, 120)}`);
    }
  }

  fail(message: string): void {
    this.problem ??= { code: 'ENTRY_MALFORMED', message };
  }
}

export const rec = (o: unknown): Record<string, unknown> => (isRecord(o) ? o : {});
export const arr = (o: unknown): unknown[] => (Array.isArray(o) ? o.slice(0, 64) : []);
