/** A tiny DER encoder (X.690) for the simulator's certificates. */

export function tlv(tag: number, value: Uint8Array): Uint8Array {
  const n = value.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  out.set(value, 1 + len.length);
  return out;
}

const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
export const seq = (...items: Uint8Array[]) => tlv(0x30, cat(...items));
export const set = (...items: Uint8Array[]) => tlv(0x31, cat(...items));
export const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
export const ia5 = (s: string, tag = 0x16) => tlv(tag, Buffer.from(s, 'latin1'));
export const octet = (b: Uint8Array) => tlv(0x04, b);
export const bitString = (b: Uint8Array, unusedBits = 0) => tlv(0x03, cat(new Uint8Array([unusedBits]), b));
/** A DER named-bit list (X.690 §11.2.2: trailing zero bits dropped), e.g. KeyUsage, from its first byte. */
export function namedBits(byte: number): Uint8Array {
  let unused = 0;
  while (unused < 7 && (byte & (1 << unused)) === 0) unused++;
  return bitString(new Uint8Array([byte]), unused);
}
export const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 + n, inner);
export const bool = (v: boolean) => tlv(0x01, new Uint8Array([v ? 0xff : 0]));

export function integer(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && b[i + 1]! < 0x80) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! >= 0x80 ? cat(new Uint8Array([0]), v) : v);
}

const oids = new Map<string, Uint8Array>();
export function oid(dotted: string): Uint8Array {
  const cached = oids.get(dotted);
  if (cached) return cached;
  const parts = dotted.split('.').map(Number);
  const bytes = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const enc = [p & 0x7f];
    for (let x = Math.floor(p / 128); x > 0; x = Math.floor(x / 128)) enc.unshift((x & 0x7f) | 0x80);
    bytes.push(...enc);
  }
  const der = tlv(0x06, new Uint8Array(bytes));
  oids.set(dotted, der);
  return der;
}

/** UTCTime for years < 2050, GeneralizedTime after (RFC 5280 §4.1.2.5). */
export function time(unixSeconds: number): Uint8Array {
  const d = new Date(unixSeconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.startsWith('20') && Number(d.slice(0, 4)) < 2050 ? ia5(d.slice(2), 0x17) : ia5(d, 0x18);
}
