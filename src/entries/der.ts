/**
 * A minimal strict DER reader (ITU-T X.690 §8, §10): just enough to walk an X.509 certificate to its
 * validity, SAN and Fulcio extensions without building an object tree. Definite lengths only, minimal
 * length encoding, bounds checked: a hostile certificate gets a DerError, never an out-of-range read.
 */
export class DerError extends Error {}

export interface Tlv {
  tag: number;
  /** Offset of the value's first byte. */
  start: number;
  /** Offset one past the value's last byte. */
  end: number;
  /** Offset one past the whole TLV. */
  next: number;
}

export function readTlv(b: Uint8Array, off: number, limit: number = b.length): Tlv {
  if (off + 2 > limit) throw new DerError(`truncated TLV at ${off}`);
  const tag = b[off]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used in X.509');
  let len = b[off + 1]!;
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('indefinite or oversized length');
    if (start + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    if (len < 0x80 || (n > 1 && b[start] === 0)) throw new DerError('non-minimal length');
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError(`value of ${len} bytes overruns its container`);
  return { tag, start, end, next: end };
}

/** The children of a constructed TLV. */
export function children(b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.start; off < parent.end; ) {
    const t = readTlv(b, off, parent.end);
    out.push(t);
    off = t.next;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got ${t ? `0x${t.tag.toString(16)}` : 'nothing'}`);
  return t;
}

/** Dotted OID from the value bytes of an OBJECT IDENTIFIER (X.690 §8.19). */
export function decodeOid(b: Uint8Array, t: Tlv): string {
  if (t.end <= t.start) throw new DerError('empty OID');
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    const byte = b[i]!;
    if (v === 0 && byte === 0x80) throw new DerError('non-minimal OID arc');
    v = v * 128 + (byte & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((byte & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  if ((b[t.end - 1]! & 0x80) !== 0) throw new DerError('truncated OID');
  const first = parts.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeString(b: Uint8Array, t: Tlv, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  const bytes = b.subarray(t.start, t.end);
  return encoding === 'utf8' ? utf8.decode(bytes) : latin1.decode(bytes);
}

/** UTCTime (YYMMDDHHMMSSZ, RFC 5280 §4.1.2.5.1) or GeneralizedTime (YYYYMMDDHHMMSSZ) → Unix seconds. */
export function decodeTime(b: Uint8Array, t: Tlv): number {
  const s = decodeString(b, t, 'latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (t.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    year = Number(m[1]);
  } else throw new DerError(`bad time ${JSON.stringify(s)}`);
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
}
