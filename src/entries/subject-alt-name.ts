/**
 * The SubjectAltName extension: the identities a certificate names. RFC 5280 §4.2.1.6 (GeneralNames);
 * Fulcio's username OtherName (.7): https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md.
 *
 * Two readings of one extension:
 * - `san`, the primary identity, as it always was (and as @sigstore/core reads it): the first URI, else
 *   the first email, else the first otherName when it is Fulcio's username. A Fulcio certificate names
 *   exactly one identity, so for it this is the identity.
 * - `sans`, every identity the certificate names: its URIs, emails, DNS names, IP addresses and Fulcio
 *   usernames, the primary first, then the rest in certificate order, each once. Rekor v1 accepts entries
 *   signed with any self-made certificate, which may name several identities, and Rekor files an entry under
 *   all of them (sigstore/rekor pkg/pki/x509 `Subjects`: sigstore cryptoutils `GetSubjectAlternateNames`),
 *   as sigstore/rekor-monitor matches a watched identity against all of them (pkg/identity
 *   `CertMatchesPolicy`). A monitor that read only the first would miss a rogue signature that names the
 *   watched identity second. Left out when it would say no more than `san` (one name, or none).
 *
 * Values are what the certificate says, never verified. Go's x509 (Rekor's) rejects a certificate whose
 * email, DNS name or URI is not IA5 or whose IP address is not 4 or 16 bytes; the primary's names fail the
 * certificate as they always did (readClaims' DerError), any other name that cannot be read is left out and
 * the problem says so.
 */
import { checkOid, children, decodeIa5, decodeUtf8, DerError, encodeOid, expectTag, oidEquals, only, TAG, type Tlv } from './der.ts';
import { FULCIO_OIDS, type Signer } from './types.ts';

/**
 * Every GeneralName is read, with no bound of its own: a bound would be a place to hide. Rekor files an entry
 * under every name (no bound either) and rekor-monitor matches all of them, so a self-made certificate that
 * named a watched identity past a bound (128 before decoder epoch 3) was logged under it and found there by
 * the log, while the mirror neither indexed nor watched it. What bounds the work is the certificate's size,
 * which the decoder caps before it gets here (kinds/common.ts MAX_KEY_BYTES, 256 KiB; a Rekor v1 body's PEM
 * of that holds ~190 KB of DER): at most 131,072 names (two bytes each, an empty one), and reading them is
 * one pass over those bytes. Packed with 39,241 distinct short names, such a certificate costs ~24 ms to
 * decode, 39,245 index keys and 1.37 MB of store: ~4 bytes per byte of body the attacker logged
 * (BENCHMARKS.md "SubjectAltNames", docs/architecture.md).
 */
const OTHERNAME_SAN_OID = encodeOid(FULCIO_OIDS.otherNameSan);

/** GeneralName CHOICE tags (RFC 5280 §4.2.1.6, IMPLICIT): otherName [0], rfc822Name [1], dNSName [2], URI [6], iPAddress [7]. */
const GN = { otherName: 0xa0, email: 0x81, dns: 0x82, uri: 0x86, ip: 0x87 } as const;

export interface SubjectAltNames {
  san?: string;
  sans?: readonly string[];
}

const NO_SANS: readonly string[] = [];

/**
 * Every identity a signer's certificate names: `sans`, else `[san]`, else none. Read defensively (a record
 * from elsewhere may have any shape), as everything that compares identities must use it, not `san` alone.
 */
export function sansOf(s: Signer): readonly string[] {
  const many: unknown = s.sans;
  if (Array.isArray(many)) return many.every((x) => typeof x === 'string') ? many : many.filter((x): x is string => typeof x === 'string');
  const one: unknown = s.san;
  return typeof one === 'string' ? [one] : NO_SANS;
}

/**
 * A signer's identity as one line of CLI output shows it: the primary SAN (else the first), and how many more
 * the certificate names, since the one a reader looks for may be among them. Undefined when it names none.
 */
export function sanSummary(s: Signer): string | undefined {
  const sans = sansOf(s);
  const one: unknown = s.san;
  const who = typeof one === 'string' ? one : sans[0];
  if (who === undefined) return undefined;
  return sans.length > 1 ? `${who} (+${sans.length - 1} more SANs)` : who;
}

/** GeneralNames → the primary identity and, when the certificate names more than it, every identity. */
export function readSubjectAltNames(b: Uint8Array, extnValue: Tlv, problems: string[]): SubjectAltNames {
  const names = children(b, expectTag(only(b, extnValue, 'SubjectAltName'), TAG.SEQUENCE, 'GeneralNames'));
  const { san, otherAt } = readPrimary(b, names, problems);
  // Fulcio's certificates: one name, the primary (the hot path: every certificate the mirror decodes).
  if (names.length === 1 && san !== undefined) return { san };
  const sans = readAll(b, names, san, otherAt, problems);
  const out: SubjectAltNames = san !== undefined ? { san } : {};
  if (sans.length > 1 || (sans.length === 1 && san === undefined)) out.sans = Object.freeze(sans);
  return out;
}

/**
 * The first URI, else the first email, else the first otherName when it is Fulcio's username: takes the first
 * of each kind, as @sigstore/core does. `otherAt`: the position of the first otherName, whose problem, if
 * malformed, is already said.
 */
function readPrimary(b: Uint8Array, names: readonly Tlv[], problems: string[]): { san?: string; otherAt: number } {
  let uri: string | undefined;
  let email: string | undefined;
  let other: string | undefined;
  let otherAt = -1;
  for (const [i, n] of names.entries()) {
    if (n.tag === GN.uri && uri === undefined) uri = decodeIa5(b, n);
    else if (n.tag === GN.email && email === undefined) email = decodeIa5(b, n);
    else if (n.tag === GN.otherName && otherAt < 0) {
      otherAt = i;
      // Go's x509 (Rekor's) skips an otherName unread, so a log accepts any bytes in one: a malformed one
      // costs the username it would hold, not the URI or email beside it nor the certificate.
      try {
        other = readOtherName(b, n);
      } catch (e) {
        if (!(e instanceof DerError)) throw e;
        problems.push(`the SubjectAltName otherName is malformed (${e.message}): left out`);
      }
    }
  }
  const san = uri ?? email ?? other;
  return san !== undefined ? { san, otherAt } : { otherAt };
}

/** Every identity the names hold, `primary` first, each once; a name that cannot be read costs itself. */
function readAll(b: Uint8Array, names: readonly Tlv[], primary: string | undefined, otherAt: number, problems: string[]): string[] {
  const out = primary !== undefined ? [primary] : [];
  const seen = new Set(out);
  let unreadable: string[] | undefined;
  for (let i = 0; i < names.length; i++) {
    let v: string | undefined;
    try {
      v = readName(b, names[i]!);
    } catch (e) {
      if (!(e instanceof DerError)) throw e;
      if (i !== otherAt) (unreadable ??= []).push(`name ${i + 1} (${e.message})`);
      continue;
    }
    if (v === undefined || seen.has(v)) continue;
    seen.add(v);
    out.push(v);
  }
  if (unreadable) problems.push(`the SubjectAltName's ${unreadable.slice(0, 3).join(', ')}${unreadable.length > 3 ? ` and ${unreadable.length - 3} more` : ''} cannot be read: left out`);
  return out;
}

/** One GeneralName as an identity string, undefined for kinds that name none (x400Address, directoryName, …). */
function readName(b: Uint8Array, n: Tlv): string | undefined {
  switch (n.tag) {
    case GN.uri:
    case GN.email:
    case GN.dns:
      return decodeIa5(b, n);
    case GN.ip:
      return ipText(b, n);
    case GN.otherName:
      return readOtherName(b, n);
    default:
      return undefined;
  }
}

/** OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }: Fulcio's (.7) username is a UTF8String. */
function readOtherName(b: Uint8Array, n: Tlv): string | undefined {
  const [typeId, value, extra] = children(b, n);
  if (!typeId || !value || extra) throw new DerError('OtherName must hold a type-id and a value');
  checkOid(b, expectTag(typeId, TAG.OID, 'OtherName type-id'));
  expectTag(value, 0xa0, 'OtherName value');
  if (!oidEquals(b, typeId, OTHERNAME_SAN_OID)) return undefined;
  return decodeUtf8(b, expectTag(only(b, value, 'OtherName value'), TAG.UTF8_STRING, 'OtherName value'));
}

/**
 * An iPAddress as Go's net.IP String writes it, which is how Rekor files it: four bytes dotted; sixteen as
 * RFC 5952 text (lower-case hex, no leading zeros, the longest run of two or more zero groups as `::`, the
 * first of equal runs), except an IPv4-mapped address (::ffff:a.b.c.d), which Go writes dotted.
 */
export function ipText(b: Uint8Array, n: Tlv): string {
  const len = n.end - n.start;
  const at = (i: number) => b[n.start + i]!;
  const dotted = (from: number) => `${at(from)}.${at(from + 1)}.${at(from + 2)}.${at(from + 3)}`;
  if (len === 4) return dotted(0);
  if (len !== 16) throw new DerError(`iPAddress must be 4 or 16 bytes, not ${len}`);
  let mapped = at(10) === 0xff && at(11) === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = at(i) === 0;
  if (mapped) return dotted(12);
  const groups = Array.from({ length: 8 }, (_, g) => (at(2 * g) << 8) | at(2 * g + 1));
  let best = -1;
  let bestLen = 1;
  for (let g = 0; g < 8; ) {
    let end = g;
    while (end < 8 && groups[end] === 0) end++;
    if (end - g > bestLen) [best, bestLen] = [g, end - g];
    g = end > g ? end : g + 1;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}
