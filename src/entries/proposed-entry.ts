/**
 * The body Rekor v1 logs for a proposed entry, so that `POST /api/v1/log/entries/retrieve` with
 * `entries` finds it by leaf hash as Rekor does (rekor.md §1.2; Rekor's SearchLogQueryHandler canonicalizes
 * each proposed entry with types.CanonicalizeEntry and looks its RFC 6962 leaf hash up). cosign's
 * FindTlogEntry searches this way with a hashedrekord built from a signature, its payload and key.
 *
 * Only hashedrekord 0.0.1, the kind clients search with. Its Canonicalize
 * (pkg/types/hashedrekord/v0.0.1/entry.go) keeps `data.hash`, the signature's content and the public key
 * re-encoded as PEM (canonicalKeyPem: certificates as they are, one block each, or a key as a PKIX
 * "PUBLIC KEY" block; 64 base64 characters a line, each block ending in a newline, Go's pem.Encode);
 * then the JSON is RFC 8785 canonical (jsoncanonicalizer).
 * Pure; a malformed proposal throws ENTRY_MALFORMED naming the field.
 */
import { createPublicKey } from 'node:crypto';
import { json } from '@sigstore/core';
import { TlogwatchError } from '../errors.ts';

const HEX_LENGTH = { sha256: 64, sha384: 96, sha512: 128 } as const;
type Algorithm = keyof typeof HEX_LENGTH;

const malformed = (field: string, why: string, what = 'proposed entry') => new TlogwatchError('ENTRY_MALFORMED', `${what}: ${field} ${why}`);

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(field, 'must be an object');
  return v as Record<string, unknown>;
}

function string(v: unknown, field: string): string {
  if (typeof v !== 'string') throw malformed(field, 'must be a string');
  return v;
}

/** Longest base64 field read (a certificate chain is a few KB; the cap bounds the PEM scan). */
const MAX_FIELD_CHARS = 64 * 1024;
/** Most PEM blocks read from a key field (Fulcio chains have two or three). */
const MAX_BLOCKS = 32;

/**
 * Base64 as Go's base64.StdEncoding decodes it (go-openapi strfmt.Base64, and pem.Decode's body): line
 * breaks ignored, padding required, unused low bits not checked.
 */
export function goBase64(s: string): Buffer | undefined {
  const t = s.replace(/[\r\n]/g, '');
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

function base64(v: unknown, field: string): Buffer {
  const s = string(v, field);
  if (s.length > MAX_FIELD_CHARS) throw malformed(field, `is longer than ${MAX_FIELD_CHARS} characters`);
  const b = goBase64(s);
  if (!b || b.length === 0) throw malformed(field, 'must be non-empty base64');
  return b;
}

interface PemBlock {
  type: string;
  der: Buffer;
}

/**
 * PEM blocks in order, as Go's pem.Decode finds them (RFC 7468 §2): text before a block is skipped; a
 * BEGIN line may end in spaces or tabs; the END line names the same type. `rest` is what follows the
 * last block's END line (its line break included), which decides Rekor's reading (canonicalKeyPem).
 * indexOf scans, at most MAX_BLOCKS blocks and twice as many BEGIN lines tried: an unterminated BEGIN
 * ends the scan, a block that is not base64 is skipped (Go looks again after its BEGIN line).
 */
function pemBlocks(text: string): { blocks: PemBlock[]; rest: string } {
  const blocks: PemBlock[] = [];
  let at = 0;
  // Each BEGIN tried costs at most one scan to its footer: 2 × MAX_BLOCKS of them bound the work.
  for (let tries = 0; blocks.length < MAX_BLOCKS && tries < 2 * MAX_BLOCKS; tries++) {
    const begin = text.indexOf('-----BEGIN ', at);
    if (begin < 0) break;
    const typeEnd = text.indexOf('-----', begin + 11);
    if (typeEnd < 0) break;
    // The BEGIN line ends here, after spaces or tabs only (scanned, never searched: that stays linear).
    let lineEnd = typeEnd + 5;
    while (text[lineEnd] === ' ' || text[lineEnd] === '\t' || text[lineEnd] === '\r') lineEnd++;
    const type = text.slice(begin + 11, typeEnd);
    if (text[lineEnd] !== '\n' || type.includes('\n')) {
      at = begin + 11;
      continue;
    }
    const footer = `-----END ${type}-----`;
    const end = text.indexOf(footer, lineEnd);
    if (end < 0) break;
    // RFC 1421 headers ("Proc-Type: …" lines) come first, as pem.Decode reads them; base64 has no colon.
    const body = text.slice(lineEnd + 1, end).replace(/^(?:[^\n:]*:[^\n]*\n)*/, '');
    const der = goBase64(body.replace(/[\t ]+/g, ''));
    if (!der || der.length === 0) {
      // pem.Decode rejects the block and looks again after its BEGIN line.
      at = lineEnd + 1;
      continue;
    }
    blocks.push({ type, der });
    const after = text.indexOf('\n', end + footer.length);
    at = after < 0 ? text.length : after + 1;
  }
  return { blocks, rest: text.slice(at) };
}

/** Go's pem.Encode of one block: base64 in lines of 64, a newline after the footer. */
export function pemEncode(type: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/**
 * The public key's CanonicalValue, as Rekor reads it (pkg/pki/x509 NewPublicKey): when anything follows
 * the first PEM block, every block is a certificate of a chain, whatever its label; a single block is a
 * `PUBLIC KEY` (re-encoded as PKIX) or a `CERTIFICATE`, and any other type is refused. Certificates keep
 * their DER. Rekor also parses each certificate and verifies the signature; a proposal that would fail
 * there finds nothing here, since the log never accepted it. Rekor trims the material's surrounding white
 * space first (bytes.TrimSpace), so only other text after the first block makes it a chain.
 * `what` names the input in errors (`proposed entry`, or the index search's `publicKey`).
 */
export function canonicalKeyPem(material: Uint8Array, field: string, what?: string): string {
  const { blocks, rest } = pemBlocks(Buffer.from(material).toString('latin1'));
  const first = blocks[0];
  if (!first) throw malformed(field, 'must be a PEM certificate or public key', what);
  if (blocks.length > 1 || rest.trim().length > 0) return blocks.map((c) => pemEncode('CERTIFICATE', c.der)).join('');
  if (first.type === 'CERTIFICATE') return pemEncode('CERTIFICATE', first.der);
  if (first.type !== 'PUBLIC KEY') throw malformed(field, `holds a ${first.type} block: Rekor takes a CERTIFICATE or PUBLIC KEY`, what);
  try {
    return pemEncode('PUBLIC KEY', createPublicKey({ key: first.der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }));
  } catch (e) {
    throw new TlogwatchError('ENTRY_MALFORMED', `${what ?? 'proposed entry'}: ${field} is not a public key it can read`, { cause: e });
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
