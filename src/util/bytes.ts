/** Strict encoders and decoders for untrusted bytes (STYLE.md habit 4: reject rather than normalise). */

const HEX_RE = /^(?:[0-9a-f]{2})*$/;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Zero bytes (an index key's empty value part, index-values.ts). Never a LevelDB value: store/keys.ts MARKER says why. Never written to. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Lower-case hex only; `expectedBytes` enforces an exact length. Returns undefined when invalid. */
export function parseHex(s: string, expectedBytes?: number): Uint8Array | undefined {
  if (!HEX_RE.test(s)) return undefined;
  if (expectedBytes !== undefined && s.length !== expectedBytes * 2) return undefined;
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Standard padded base64 (RFC 4648 §4). Node's decoder silently skips bad characters; this does not. */
export function parseBase64(s: string, expectedBytes?: number): Uint8Array | undefined {
  if (!B64_RE.test(s)) return undefined;
  const out = new Uint8Array(Buffer.from(s, 'base64'));
  if (expectedBytes !== undefined && out.length !== expectedBytes) return undefined;
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Frees an ArrayBuffer's memory at once (ES2024 ArrayBuffer.prototype.transfer detaches it): every view of
 * it reads as empty from then on. Only for memory that nothing else views.
 */
export function freeBytes(buffer: ArrayBuffer): void {
  (buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  /**
   * Fatal decoding: invalid UTF-8 throws instead of producing U+FFFD. A leading byte-order mark is kept
   * (TextDecoder drops it by default), so the text is exactly the bytes: a signed note's signatures are
   * over its bytes, and a BOM in front must fail them, not vanish.
   */
  decode: (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b),
};
