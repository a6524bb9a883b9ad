/**
 * Strict standard base64 (RFC 4648 §4) for the hot decode path. A string is accepted only when it is the
 * canonical encoding of its bytes (§3.5: padding present, pad bits zero, no whitespace, no URL-safe
 * alphabet), checked by re-encoding: Node's decoder is native but lenient, and validating with a regular
 * expression instead cost ~28 µs per 3 KB key, more than everything else in decoding an entry.
 */
export function parseBase64Canonical(s: string): Uint8Array | undefined {
  const buf = Buffer.from(s, 'base64');
  return buf.toString('base64') === s ? new Uint8Array(buf.buffer, buf.byteOffset, buf.length) : undefined;
}

let scratch = Buffer.allocUnsafeSlow(4096);

/**
 * parseBase64Canonical into one reused buffer: the bytes are valid only until the next call, so only a
 * caller that hashes or parses them at once and keeps nothing that views them may use it (rawKey's
 * certificate or key, a digest turned into hex). Why: a decoded certificate is ~700 bytes of a pooled
 * Buffer slab per entry, which lives past a young collection, waits for a full one, and made up a large
 * share of the memory the mirror's GC pacer collects for (mirror/gc-pacer.ts).
 */
export function parseBase64CanonicalTransient(s: string): Uint8Array | undefined {
  const most = (s.length >>> 2) * 3 + 3;
  if (most > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(most, scratch.length * 2));
  const n = scratch.write(s, 'base64');
  return scratch.toString('base64', 0, n) === s ? new Uint8Array(scratch.buffer, scratch.byteOffset, n) : undefined;
}
