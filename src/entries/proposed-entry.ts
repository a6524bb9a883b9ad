/**
 * The body Rekor v1 logs for a proposed entry, so that `POST /api/v1/log/entries/retrieve` with
 * `entries` finds it by leaf hash as Rekor does (rekor.md §1.2; Rekor's SearchLogQueryHandler canonicalizes
 * each proposed entry with types.CanonicalizeEntry and looks its RFC 6962 leaf hash up). cosign's
 * FindTlogEntry searches this way with a hashedrekord built from a signature, its payload and key.
 *
 * Only hashedrekord 0.0.1, the kind clients search with. Its Canonicalize
 * (pkg/types/hashedrekord/v0.0.1/entry.go) keeps `data.hash`, the signature's content and the public key
 * re-encoded as PEM: certificates as they are (one block each), a key as a PKIX "PUBLIC KEY" block (an
 * RSA PKCS #1 key converted), 64 base64 characters a line, each block ending in a newline (Go's
 * pem.Encode); then the JSON is RFC 8785 canonical (jsoncanonicalizer).
 * Pure; a malformed proposal throws ENTRY_MALFORMED naming the field.
 */
import { createPublicKey } from 'node:crypto';
import { json } from '@sigstore/core';
import { TlogwatchError } from '../errors.ts';
import { parseBase64Canonical } from './base64.ts';

const HEX_LENGTH = { sha256: 64, sha384: 96, sha512: 128 } as const;
type Algorithm = keyof typeof HEX_LENGTH;

const malformed = (field: string, why: string) => new TlogwatchError('ENTRY_MALFORMED', `proposed entry: ${field} ${why}`);

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(field, 'must be an object');
  return v as Record<string, unknown>;
}

function string(v: unknown, field: string): string {
  if (typeof v !== 'string') throw malformed(field, 'must be a string');
  return v;
}

function base64(v: unknown, field: string): Uint8Array {
  const b = parseBase64Canonical(string(v, field));
  if (!b || b.length === 0) throw malformed(field, 'must be non-empty base64');
  return b;
}

interface PemBlock {
  type: string;
  der: Buffer;
}

/** PEM blocks in order (RFC 7468 §2); text between them is ignored, as Go's pem.Decode skips it. */
function pemBlocks(text: string, field: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g)) {
    const body = m[2]!.replace(/[\r\n\t ]+/g, '');
    const der = parseBase64Canonical(body);
    if (!der || der.length === 0) throw malformed(field, `has a ${m[1]} block that is not base64`);
    out.push({ type: m[1]!, der: Buffer.from(der) });
  }
  return out;
}

/** Go's pem.Encode of one block: base64 in lines of 64, a newline after the footer. */
function pemEncode(type: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** The public key's CanonicalValue (Rekor pkg/pki/x509 PublicKey): its certificates, else its key, as PEM. */
function canonicalKeyPem(material: Uint8Array, field: string): string {
  const blocks = pemBlocks(Buffer.from(material).toString('latin1'), field);
  if (blocks.length === 0) throw malformed(field, 'must be a PEM certificate or public key');
  const certs = blocks.filter((b) => b.type === 'CERTIFICATE');
  if (certs.length > 0) return certs.map((c) => pemEncode('CERTIFICATE', c.der)).join('');
  const first = blocks[0]!;
  const type = first.type === 'PUBLIC KEY' ? 'spki' : first.type === 'RSA PUBLIC KEY' ? 'pkcs1' : undefined;
  if (!type) throw malformed(field, `holds a ${first.type} block, not a certificate or public key`);
  try {
    return pemEncode('PUBLIC KEY', createPublicKey({ key: first.der, format: 'der', type }).export({ type: 'spki', format: 'der' }));
  } catch (e) {
    throw new TlogwatchError('ENTRY_MALFORMED', `proposed entry: ${field} is not a public key it can read`, { cause: e });
  }
}

/** The canonical body Rekor v1 would have logged for this proposed entry (its leaf data). */
export function canonicalProposedEntry(proposal: unknown): Uint8Array {
  const e = record(proposal, 'entry');
  const kind = string(e['kind'], 'kind');
  const version = string(e['apiVersion'], 'apiVersion');
  if (kind !== 'hashedrekord' || version !== '0.0.1') {
    throw new TlogwatchError('ENTRY_UNSUPPORTED_KIND', `proposed entry: only hashedrekord 0.0.1 entries can be looked up (got ${kind} ${version}); look it up by UUID or index`);
  }
  const spec = record(e['spec'], 'spec');
  const hash = record(record(spec['data'], 'spec.data')['hash'], 'spec.data.hash');
  const algorithm = string(hash['algorithm'], 'spec.data.hash.algorithm');
  if (!Object.hasOwn(HEX_LENGTH, algorithm)) throw malformed('spec.data.hash.algorithm', 'must be sha256, sha384 or sha512');
  const value = string(hash['value'], 'spec.data.hash.value');
  if (value.length !== HEX_LENGTH[algorithm as Algorithm] || !/^[0-9a-fA-F]+$/.test(value)) throw malformed('spec.data.hash.value', `must be ${HEX_LENGTH[algorithm as Algorithm]} hex digits`);
  const signature = record(spec['signature'], 'spec.signature');
  const content = base64(signature['content'], 'spec.signature.content');
  const key = base64(record(signature['publicKey'], 'spec.signature.publicKey')['content'], 'spec.signature.publicKey.content');
  const canonical = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm, value } },
      signature: { content: Buffer.from(content).toString('base64'), publicKey: { content: Buffer.from(canonicalKeyPem(key, 'spec.signature.publicKey.content')).toString('base64') } },
    },
  };
  return Buffer.from(json.canonicalize(canonical), 'utf8');
}
