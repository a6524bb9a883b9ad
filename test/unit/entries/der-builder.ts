/**
 * A tiny DER encoder for building test certificates with chosen SANs, Fulcio extensions and times.
 * Certificates are not validly signed (neither reader under test checks signatures).
 */
import { encodeOid } from '../../../src/entries/der.ts';

export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(content);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return new Uint8Array(Buffer.concat([Buffer.from([tag, ...len]), body]));
}

export const seq = (...c: Uint8Array[]): Uint8Array => tlv(0x30, ...c);
export const oid = (dotted: string): Uint8Array => tlv(0x06, encodeOid(dotted));
export const utf8 = (s: string): Uint8Array => tlv(0x0c, Buffer.from(s, 'utf8'));
export const octet = (b: Uint8Array): Uint8Array => tlv(0x04, b);
export const int = (n: number): Uint8Array => tlv(0x02, Uint8Array.of(n));

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(seconds: number): Uint8Array {
  const d = new Date(seconds * 1000);
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
  return y >= 1950 && y < 2050 ? tlv(0x17, Buffer.from(pad(y % 100, 2) + rest)) : tlv(0x18, Buffer.from(pad(y, 4) + rest));
}

export type SanName = { type: 'uri' | 'email' | 'dns'; value: string } | { type: 'ip'; bytes: Uint8Array } | { type: 'other'; oid: string; value: string };

/** GeneralName IMPLICIT tags (RFC 5280 §4.2.1.6). */
const GN_TAG = { email: 0x81, dns: 0x82, uri: 0x86 } as const;

export function generalName(n: SanName): Uint8Array {
  if (n.type === 'other') return tlv(0xa0, oid(n.oid), tlv(0xa0, utf8(n.value)));
  if (n.type === 'ip') return tlv(0x87, n.bytes);
  return tlv(GN_TAG[n.type], Buffer.from(n.value, 'latin1'));
}

export function sanExtension(names: SanName[]): Uint8Array {
  return seq(oid('2.5.29.17'), tlv(0x01, Uint8Array.of(0xff)), octet(seq(...names.map(generalName))));
}

export function extension(dotted: string, value: Uint8Array, critical = false): Uint8Array {
  return critical ? seq(oid(dotted), tlv(0x01, Uint8Array.of(0xff)), octet(value)) : seq(oid(dotted), octet(value));
}

const P256_SPKI = seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), tlv(0x03, new Uint8Array(66)));
const ALG = seq(oid('1.2.840.10045.4.3.3'));
const NAME = seq(tlv(0x31, seq(oid('2.5.4.10'), utf8('sigstore.dev'))));

/** `validity`: the two time TLVs as given, in place of notBefore and notAfter encoded by `time`. */
export function certificate(opts: { notBefore: number; notAfter: number; extensions: Uint8Array[]; serial?: number; validity?: [Uint8Array, Uint8Array] }): Uint8Array {
  const exts = opts.extensions.length > 0 ? [tlv(0xa3, seq(...opts.extensions))] : [];
  const validity = opts.validity ?? [time(opts.notBefore), time(opts.notAfter)];
  const tbs = seq(tlv(0xa0, int(2)), int(opts.serial ?? 1), ALG, NAME, seq(...validity), seq(), P256_SPKI, ...exts);
  return seq(tbs, ALG, tlv(0x03, Uint8Array.of(0, 0x30, 0x00)));
}
