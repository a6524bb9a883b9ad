/**
 * The canonical form Rekor gives an OpenPGP public key (sigstore/rekor pkg/pki/pgp/pgp.go CanonicalValue,
 * over github.com/ProtonMail/go-crypto v1.4.1 openpgp): the key ring read as `openpgp.ReadKeyRing` reads it,
 * each entity written back with `Entity.Serialize`, armored as a PUBLIC KEY BLOCK. rekord, helm and rpm
 * bodies carry the key in that form, and Rekor's search index files them under its SHA-256.
 *
 * What reading and writing back keep (keys.go ReadEntity, addUserID, addSubkey; RFC 9580 §4–5):
 * - the primary key; its key revocations; for each user ID with a signature by the primary key, the ID and
 *   all its signatures in the order read; each subkey with its revocations and its latest binding signature;
 * - not: trust and marker packets (skipped by the packet reader), user attributes, direct-key signatures of
 *   a v4 key, user IDs no self-signature certifies, older subkey bindings;
 * - packets are written with new-format headers (RFC 9580 §4.2.1), the shortest length encoding; a
 *   signature keeps its hashed area as read and re-encodes its unhashed subpackets' lengths; key material
 *   and MPIs are written as read.
 * User IDs are kept in a Go map, so Rekor writes them in no fixed order: `canonicalPgpKeys` gives every
 * order, each a form Rekor may have logged the key in.
 *
 * Not checked here, as Rekor does: the self-signatures' cryptography (Rekor refuses a key whose
 * self-signature is invalid; such a key was never logged, so its forms find nothing).
 */
import { hash } from 'node:crypto';
import { goBase64 } from '../proposed-entry.ts';

export class PgpKeyError extends Error {}

interface Packet {
  tag: number;
  body: Buffer;
}

/** Tags go-crypto's packet reader returns; it skips the others, Marker (10) and Trust (12) among them (packet.go Read). */
const KNOWN = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14, 17, 18, 20, 21]);
/** Public-key algorithms that can sign (packet.go CanSign): RSA, RSA sign-only, DSA, ECDSA, EdDSA legacy, Ed25519, Ed448. */
const SIGNING = new Set([1, 3, 17, 19, 22, 27, 28]);
const CERTIFICATIONS = new Set([0x10, 0x11, 0x12, 0x13, 0x30]);
const SUBKEY_BINDING = 0x18;
const SUBKEY_REVOCATION = 0x28;
const KEY_REVOCATION = 0x20;
/** Most orders of user IDs tried (6 user IDs); a key with more is refused rather than looked up in part. */
export const MAX_ORDERS = 720;

/** RFC 9580 §4.2: old and new packet headers; partial lengths are for data packets, never in a key. */
function readPackets(b: Buffer): Packet[] {
  const out: Packet[] = [];
  let at = 0;
  while (at < b.length) {
    const h = b[at]!;
    if ((h & 0x80) === 0) throw new PgpKeyError(`byte ${at} is not a packet header`);
    let tag: number;
    let len: number;
    let start: number;
    if (h & 0x40) {
      tag = h & 0x3f;
      const l0 = b[at + 1];
      if (l0 === undefined) throw new PgpKeyError('truncated packet header');
      if (l0 < 192) [len, start] = [l0, at + 2];
      else if (l0 < 224) {
        if (at + 3 > b.length) throw new PgpKeyError('truncated packet header');
        [len, start] = [((l0 - 192) << 8) + b[at + 2]! + 192, at + 3];
      } else if (l0 === 255) {
        if (at + 6 > b.length) throw new PgpKeyError('truncated packet header');
        [len, start] = [b.readUInt32BE(at + 2), at + 6];
      }
      else throw new PgpKeyError('a key holds no partial-length packets');
    } else {
      tag = (h >> 2) & 0x0f;
      const type = h & 3;
      if (type === 3) [len, start] = [b.length - at - 1, at + 1];
      else {
        const n = 1 << type;
        if (at + 1 + n > b.length) throw new PgpKeyError('truncated packet header');
        len = n === 1 ? b[at + 1]! : n === 2 ? b.readUInt16BE(at + 1) : b.readUInt32BE(at + 1);
        start = at + 1 + n;
      }
    }
    if (start + len > b.length) throw new PgpKeyError(`packet ${tag} runs past the end of the key`);
    out.push({ tag, body: b.subarray(start, start + len) });
    at = start + len;
  }
  return out;
}

/** RFC 9580 §4.2.1: a new-format header with the shortest length (go-crypto serializeHeader). */
function header(tag: number, len: number): Buffer {
  if (len < 192) return Buffer.of(0xc0 | tag, len);
  if (len < 8384) return Buffer.of(0xc0 | tag, 192 + ((len - 192) >> 8), (len - 192) & 0xff);
  const b = Buffer.alloc(6);
  b[0] = 0xc0 | tag;
  b[1] = 255;
  b.writeUInt32BE(len, 2);
  return b;
}

/** RFC 9580 §5.5.4.2: a v4 key's fingerprint, SHA-1 over 0x99, its two-octet length and its body. */
const fingerprint = (key: Buffer): Buffer => hash('sha1', Buffer.concat([Buffer.of(0x99, key.length >> 8, key.length & 0xff), key]), 'buffer');

interface Signature {
  type: number;
  created: number;
  issuerKeyId?: Buffer;
  issuerFingerprint?: Buffer;
  /** The packet as go-crypto writes it back. */
  written: Buffer;
}

/** RFC 9580 §5.2.3.7: a subpacket's length, shortest form (go-crypto serializeSubpacketLength). */
function subpacketLength(n: number): Buffer {
  if (n < 192) return Buffer.of(n);
  if (n < 16320) return Buffer.of(((n - 192) >> 8) + 192, (n - 192) & 0xff);
  const b = Buffer.alloc(5);
  b[0] = 255;
  b.writeUInt32BE(n, 1);
  return b;
}

/** Subpackets of one area: [type with its critical bit, contents]. */
function subpackets(area: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  let at = 0;
  while (at < area.length) {
    const l0 = area[at]!;
    let len: number;
    // RFC 9580 §5.2.3.7: one, two or five octets of length; a truncated one is the area running out.
    const width = l0 < 192 ? 1 : l0 < 255 ? 2 : 5;
    if (at + width > area.length) throw new PgpKeyError('a signature subpacket runs past its area');
    if (l0 < 192) [len, at] = [l0, at + 1];
    else if (l0 < 255) [len, at] = [((l0 - 192) << 8) + area[at + 1]! + 192, at + 2];
    else [len, at] = [area.readUInt32BE(at + 1), at + 5];
    if (len < 1 || at + len > area.length) throw new PgpKeyError('a signature subpacket runs past its area');
    out.push([area[at]!, area.subarray(at + 1, at + len)]);
    at += len;
  }
  return out;
}

/** RFC 9580 §5.2.3: a v4, v5 or v6 signature, and the packet go-crypto's Serialize writes for it. */
function readSignature(b: Buffer): Signature {
  const v = b[0];
  if (v !== 4 && v !== 5 && v !== 6) throw new PgpKeyError(`signature version ${v} is not supported`);
  const wide = v === 6;
  if (b.length < (wide ? 8 : 6)) throw new PgpKeyError('truncated signature');
  const hashedLen = wide ? b.readUInt32BE(4) : b.readUInt16BE(4);
  const hashedEnd = (wide ? 8 : 6) + hashedLen;
  if (hashedEnd + (wide ? 4 : 2) > b.length) throw new PgpKeyError('signature subpackets run past the packet');
  const unhashedLen = wide ? b.readUInt32BE(hashedEnd) : b.readUInt16BE(hashedEnd);
  const unhashedStart = hashedEnd + (wide ? 4 : 2);
  if (unhashedStart + unhashedLen + 2 > b.length) throw new PgpKeyError('signature subpackets run past the packet');
  const sig: Signature = { type: b[1]!, created: 0, written: Buffer.alloc(0) };
  const hashed = subpackets(b.subarray(wide ? 8 : 6, hashedEnd));
  const unhashed = subpackets(b.subarray(unhashedStart, unhashedStart + unhashedLen));
  for (const [t, c] of [...hashed, ...unhashed]) {
    const type = t & 0x7f;
    if (type === 2 && c.length === 4) sig.created = c.readUInt32BE(0);
    if (type === 16 && c.length === 8) sig.issuerKeyId = c;
    if (type === 33 && c.length > 1) sig.issuerFingerprint = c.subarray(1);
  }
  const area = Buffer.concat(unhashed.flatMap(([t, c]) => [subpacketLength(c.length + 1), Buffer.of(t), c]));
  const areaLen = Buffer.alloc(wide ? 4 : 2);
  if (wide) areaLen.writeUInt32BE(area.length);
  else areaLen.writeUInt16BE(area.length);
  const body = Buffer.concat([b.subarray(0, hashedEnd), areaLen, area, b.subarray(unhashedStart + unhashedLen)]);
  sig.written = Buffer.concat([header(2, body.length), body]);
  return sig;
}

interface Entity {
  key: Buffer;
  revocations: Buffer[];
  /** User IDs a self-signature certifies, each with its signatures, by ID (a later one replaces an earlier, as in the Go map). */
  identities: Map<string, Buffer>;
  subkeys: Buffer[];
}

/** keys.go ReadEntity over the packets from `at`; returns the entity, or why Go would skip it, and where the next begins. */
function readEntity(ps: Packet[], at: number): { entity?: Entity; error?: string; next: number } {
  const primary = ps[at]!;
  let i = at + 1;
  const nextEntity = () => {
    while (i < ps.length && ps[i]!.tag !== 6 && ps[i]!.tag !== 5) i++;
    return i;
  };
  if (primary.tag === 5) throw new PgpKeyError('the key block holds a secret key: send the public key');
  // v5 and v6 entities are written back differently (direct-key signatures kept); none is known in Rekor.
  if (primary.body[0] !== 4) throw new PgpKeyError(`only v4 OpenPGP keys are read here (this one is v${primary.body[0]})`);
  if (!SIGNING.has(primary.body[5] ?? -1)) return { error: 'the primary key cannot sign', next: nextEntity() };
  const fp = fingerprint(primary.body);
  const keyId = fp.subarray(12);
  const bySelf = (s: Signature) => (s.issuerFingerprint && s.issuerFingerprint.length >= 20 ? s.issuerFingerprint.equals(fp) : s.issuerKeyId?.equals(keyId) === true);
  const e: Entity = { key: Buffer.concat([header(6, primary.body.length), primary.body]), revocations: [], identities: new Map(), subkeys: [] };
  const signatures = function* () {
    while (i < ps.length && ps[i]!.tag === 2) yield readSignature(ps[i++]!.body);
  };
  while (i < ps.length) {
    const p = ps[i]!;
    if (p.tag === 6 || p.tag === 5) break;
    i++;
    if (p.tag === 13) {
      const parts = [header(13, p.body.length), p.body];
      let certified = false;
      for (const s of signatures()) {
        if (!CERTIFICATIONS.has(s.type)) return { error: 'user ID signature with wrong type', next: nextEntity() };
        certified ||= bySelf(s);
        parts.push(s.written);
      }
      if (certified) e.identities.set(p.body.toString('latin1'), Buffer.concat(parts));
    } else if (p.tag === 2) {
      const s = readSignature(p.body);
      if (s.type !== KEY_REVOCATION) continue;
      if (!bySelf(s)) return { error: 'revocation signature signed by alternate key', next: nextEntity() };
      e.revocations.push(s.written);
    } else if (p.tag === 14 || p.tag === 7) {
      if (p.tag === 7) throw new PgpKeyError('the key block holds a secret subkey: send the public key');
      const revocations: Buffer[] = [];
      let binding: Signature | undefined;
      for (const s of signatures()) {
        if (s.type === SUBKEY_REVOCATION) revocations.push(s.written);
        else if (s.type === SUBKEY_BINDING) binding = binding && s.created <= binding.created ? binding : s;
        else return { error: 'subkey signature with wrong type', next: nextEntity() };
      }
      if (!binding) return { error: 'subkey packet not followed by signature', next: nextEntity() };
      e.subkeys.push(Buffer.concat([header(14, p.body.length), p.body, ...revocations, binding.written]));
    }
  }
  if (e.identities.size === 0) return { error: 'entity without any identities', next: i };
  return { entity: e, next: i };
}

/** go-crypto armor.Encode: no headers, base64 in lines of 64, the CRC-24 line, no newline after the footer. */
function armor(data: Buffer): string {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let k = 0; k < 8; k++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  const sum = Buffer.of((crc >> 16) & 0xff, (crc >> 8) & 0xff, crc & 0xff).toString('base64');
  const lines = data.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${lines.join('\n')}\n=${sum}\n-----END PGP PUBLIC KEY BLOCK-----`;
}

/**
 * Rekor's reading of the bytes (pgp.go NewPublicKey): armored when they begin with `-----BEGIN PGP`, each
 * block up to a line beginning `-----END PGP` decoded as go-crypto's armor.Decode does (text before the
 * BEGIN line skipped, header lines up to a blank one, lines of at most 96 characters, the checksum not
 * checked); otherwise one binary key ring.
 */
function keyRingBytes(material: Uint8Array): Buffer[] {
  const b = Buffer.from(material);
  if (!b.subarray(0, 14).equals(Buffer.from('-----BEGIN PGP'))) return [b];
  const rings: Buffer[] = [];
  let block: string[] = [];
  for (const raw of b.toString('latin1').split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    block.push(line);
    if (!line.startsWith('-----END PGP')) continue;
    rings.push(dearmor(block));
    block = [];
  }
  if (rings.length === 0) throw new PgpKeyError('the armored key has no END line');
  return rings;
}

function dearmor(lines: string[]): Buffer {
  let at = lines.findIndex((l) => l.trim().length > 16 && l.trim().startsWith('-----BEGIN '));
  if (at < 0) throw new PgpKeyError('no armor BEGIN line');
  const type = lines[at]!.trim().slice(11, -5);
  if (type !== 'PGP PUBLIC KEY BLOCK') throw new PgpKeyError(type === 'PGP PRIVATE KEY BLOCK' ? 'the key block holds a secret key: send the public key' : `armor type ${type} is not a public key`);
  for (at++; at < lines.length && lines[at]!.trim().length > 0; at++) if (!lines[at]!.includes(':')) throw new PgpKeyError('armor headers must end with a blank line');
  let text = '';
  for (at++; at < lines.length; at++) {
    const l = lines[at]!.trim();
    if (l.startsWith('-----END') || (l.length === 5 && l[0] === '=')) break;
    if (l.length > 96) throw new PgpKeyError('armor line longer than 96 characters');
    text += l;
  }
  const data = goBase64(text);
  if (!data) throw new PgpKeyError('armor body is not base64');
  return data;
}

/** Every order of each entity's user IDs, entities kept in order: at most `max` combinations. */
function orders(entities: Entity[], max: number): Buffer[][] {
  const perms = <T>(xs: T[]): T[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, k) => perms([...xs.slice(0, k), ...xs.slice(k + 1)]).map((rest) => [x, ...rest])));
  let count = 1;
  for (const e of entities) for (let n = 2; n <= e.identities.size; n++) count *= n;
  if (count > max) throw new PgpKeyError(`the key's user IDs can be written in ${count} orders, more than the ${max} this looks up (Rekor writes them in no fixed order)`);
  let out: Buffer[][] = [[]];
  for (const e of entities) {
    const heads = [e.key, ...e.revocations];
    out = out.flatMap((prefix) => perms([...e.identities.values()]).map((ids) => [...prefix, ...heads, ...ids, ...e.subkeys]));
  }
  return out;
}

/** Every canonical form (armored text) Rekor may have logged this key in; PgpKeyError when it would refuse it. */
export function canonicalPgpKeys(material: Uint8Array, max = MAX_ORDERS): string[] {
  const entities: Entity[] = [];
  let lastError: string | undefined;
  for (const ring of keyRingBytes(material)) {
    const ps = readPackets(ring).filter((p) => KNOWN.has(p.tag));
    let i = ps.findIndex((p) => p.tag === 6 || p.tag === 5);
    while (i >= 0 && i < ps.length) {
      const r = readEntity(ps, i);
      if (r.entity) entities.push(r.entity);
      else lastError = r.error;
      i = r.next;
    }
  }
  if (entities.length === 0) throw new PgpKeyError(lastError ?? 'no PGP public keys could be read');
  return orders(entities, max).map((parts) => armor(Buffer.concat(parts)));
}
