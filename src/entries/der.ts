/**
 * A minimal strict DER reader, just enough to walk an X.509 certificate without building an object tree.
 * ITU-T X.690 (02/2021) https://www.itu.int/rec/T-REC-X.690 §8.1 (TLV), §10.1 (definite, minimal lengths),
 * §8.19 (OBJECT IDENTIFIER), §11.7 (GeneralizedTime); RFC 5280 §4.1.2.5 (UTCTime/GeneralizedTime profile).
 *
 * Every read is bounds-checked against its container: a hostile certificate yields a DerError, never an
 * out-of-range read, an exception of another type, or a silently "repaired" value.
 */
export class DerError extends Error {
  override readonly name = 'DerError';
}

export interface Tlv {
  tag: number;
  /** Offset of the value's first byte. */
  start: number;
  /** Offset one past the value's last byte (also one past the whole TLV). */
  end: number;
}

/** Universal and context tags used by the certificate walker. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
} as const;

/** One TLV at `off`, which must end at or before `limit` (X.690 §8.1.2–§8.1.3, DER §10.1). */
export function readTlv(b: Uint8Array, off: number, limit: number): Tlv {
  if (off + 2 > limit) throw new DerError(`truncated TLV at offset ${off}`);
  const tag = b[off]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high-tag-number form at offset ${off} is not used in X.509`);
  let len = b[off + 1]!;
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // 0x80 is the indefinite form (BER only); 4 length bytes already allow 4 GiB.
    if (n === 0 || n > 4) throw new DerError(`indefinite or oversized length at offset ${off}`);
    if (start + n > limit) throw new DerError(`truncated length at offset ${off}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    if (len < 0x80 || b[start] === 0) throw new DerError(`non-minimal length at offset ${off}`);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError(`value of ${len} bytes at offset ${off} overruns its container`);
  return { tag, start, end };
}

/** The children of a constructed TLV, each checked to lie within it. */
export function children(b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.start; off < parent.end; ) {
    const t = readTlv(b, off, parent.end);
    out.push(t);
    off = t.end;
  }
  return out;
}

/** The single TLV that must fill `parent`'s value exactly (EXPLICIT tags, OCTET STRING wrappers). */
export function only(b: Uint8Array, parent: Tlv, what: string): Tlv {
  const t = readTlv(b, parent.start, parent.end);
  if (t.end !== parent.end) throw new DerError(`${what}: trailing bytes`);
  return t;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got ${t ? `0x${t.tag.toString(16)}` : 'nothing'}`);
  }
  return t;
}

/** X.690 §8.19: arcs base-128, no leading 0x80 byte in an arc, the last byte without the continuation bit. */
export function checkOid(b: Uint8Array, t: Tlv): void {
  if (t.end <= t.start) throw new DerError('empty OBJECT IDENTIFIER');
  let arcStart = true;
  for (let i = t.start; i < t.end; i++) {
    const byte = b[i]!;
    if (arcStart && byte === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    arcStart = (byte & 0x80) === 0;
  }
  if (!arcStart) throw new DerError('truncated OBJECT IDENTIFIER');
}

/** True when the OID's content octets equal `encoded` (comparing encodings avoids building dotted strings). */
export function oidEquals(b: Uint8Array, t: Tlv, encoded: Uint8Array): boolean {
  if (t.end - t.start !== encoded.length) return false;
  for (let i = 0; i < encoded.length; i++) if (b[t.start + i] !== encoded[i]) return false;
  return true;
}

/** Content octets of a dotted OID (X.690 §8.19.4: the first two arcs combine as 40·a + b). */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [];
  const push = (v: number): void => {
    const tmp = [v % 128];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) tmp.unshift((v % 128) | 0x80);
    out.push(...tmp);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return new Uint8Array(out);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The value's bytes as one flat string when every one is ASCII (where UTF-8, IA5 and Latin-1 read
 * alike), else undefined. Fulcio's claims are ASCII, and a Latin-1 slice of a Buffer costs less than a
 * TextDecoder call (a subarray, the binding, the fatal-mode checks) on these short values.
 */
function asciiText(b: Uint8Array, t: Tlv): string | undefined {
  for (let i = t.start; i < t.end; i++) if (b[i]! > 0x7f) return undefined;
  return (b instanceof Buffer ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('latin1', t.start, t.end);
}

/** A UTF8String (or a raw Fulcio value): invalid UTF-8 is an error, never U+FFFD. */
export function decodeUtf8(b: Uint8Array, t: Tlv): string {
  const ascii = asciiText(b, t);
  if (ascii !== undefined) return ascii;
  try {
    return utf8Decoder.decode(b.subarray(t.start, t.end));
  } catch {
    throw new DerError('invalid UTF-8 in a string value');
  }
}

/** An IA5String (rfc822Name, URI): 7-bit only (X.680 §41; RFC 5280 §4.2.1.6). */
export function decodeIa5(b: Uint8Array, t: Tlv): string {
  // One flat string: appending a character at a time built a chain of ~one V8 cons string per character
  // (3.4 KB for a 120-character workflow SAN), which the mirror's certificate cache kept alive and every
  // full collection had to mark.
  const ascii = asciiText(b, t);
  if (ascii === undefined) throw new DerError('non-ASCII byte in an IA5String');
  return ascii;
}

function digits(b: Uint8Array, off: number, n: number): number {
  let v = 0;
  for (let i = off; i < off + n; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) throw new DerError('non-digit in a time value');
    v = v * 10 + d;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * UTCTime `YYMMDDHHMMSSZ` (years 50–99 are 19xx) or GeneralizedTime `YYYYMMDDHHMMSSZ`, exactly as
 * RFC 5280 §4.1.2.5.1–.2 profiles them (seconds present, no fractions, Zulu) → Unix seconds.
 */
export function decodeTime(b: Uint8Array, t: Tlv): number {
  const len = t.end - t.start;
  let off = t.start;
  let year: number;
  if (t.tag === TAG.UTC_TIME && len === 13) {
    const yy = digits(b, off, 2);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    off += 2;
  } else if (t.tag === TAG.GENERALIZED_TIME && len === 15) {
    year = digits(b, off, 4);
    off += 4;
  } else throw new DerError(`time with tag 0x${t.tag.toString(16)} and ${len} bytes is not an RFC 5280 time`);
  const month = digits(b, off, 2);
  const day = digits(b, off + 2, 2);
  const hour = digits(b, off + 4, 2);
  const minute = digits(b, off + 6, 2);
  const second = digits(b, off + 8, 2);
  if (b[off + 10] !== 0x5a) throw new DerError('time is not in UTC (missing Z)');
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const maxDay = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (month < 1 || day < 1 || day > maxDay || hour > 23 || minute > 59 || second > 59) {
    throw new DerError('time value out of range');
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC maps years 0–99 to 1900–1999; GeneralizedTime may legitimately say 0050.
  return (year < 100 ? new Date(ms).setUTCFullYear(year) : ms) / 1000;
}
