/**
 * Strict standard base64 (RFC 4648 §4) for the hot decode path. A string is accepted only when it is the
 * canonical encoding of its bytes (§3.5: padding present, pad bits zero, no whitespace, no URL-safe
 * alphabet). Node's decoder is native but lenient: it skips or stops at what it cannot decode and also
 * takes the URL-safe alphabet (§5). So the string is decoded by Node, and then:
 *
 * - its length is a multiple of four, with at most two trailing `=`;
 * - Node produced exactly the bytes that length implies, so it skipped nothing and stopped nowhere;
 * - it has no `-` or `_`;
 * - the character before the padding has its unused low bits zero (§3.5).
 *
 * Checking by re-encoding instead allocated a second string as long as the input for every certificate,
 * a seventh of what the mirror allocates per entry. Validating with a regular expression cost ~28 µs per
 * 3 KB key, more than everything else in decoding an entry. A property test checks both functions against
 * the re-encoding definition.
 */

/** The 6-bit value of a base64 alphabet character (RFC 4648 Table 1), or -1. */
function sextet(c: number): number {
  if (c >= 65 && c <= 90) return c - 65; // A–Z
  if (c >= 97 && c <= 122) return c - 71; // a–z
  if (c >= 48 && c <= 57) return c + 4; // 0–9
  if (c === 43) return 62; // +
  if (c === 47) return 63; // /
  return -1;
}

/**
 * The number of bytes `s` encodes if it is canonical apart from characters Node's decoder skips or stops
 * at, else -1. A decode that yields exactly this many bytes makes `s` canonical.
 */
function canonicalLength(s: string): number {
  const n = s.length;
  if (n % 4 !== 0) return -1;
  if (n === 0) return 0;
  const pad = s.charCodeAt(n - 1) !== 61 ? 0 : s.charCodeAt(n - 2) !== 61 ? 1 : 2;
  if (pad > 0) {
    const last = sextet(s.charCodeAt(n - 1 - pad));
    // One `=`: the last character carries 4 of its 6 bits; two: 2 of them. The rest must be zero.
    if (last < 0 || (last & (pad === 1 ? 0b11 : 0b1111)) !== 0) return -1;
  }
  if (s.includes('-') || s.includes('_')) return -1;
  return (n / 4) * 3 - pad;
}

export function parseBase64Canonical(s: string): Uint8Array | undefined {
  const want = canonicalLength(s);
  if (want < 0) return undefined;
  const buf = Buffer.from(s, 'base64');
  return buf.length === want ? new Uint8Array(buf.buffer, buf.byteOffset, buf.length) : undefined;
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
  const want = canonicalLength(s);
  if (want < 0) return undefined;
  // Room for one more byte than wanted, so a longer decode (which would be a bug) cannot pass as `want`.
  if (want + 1 > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(want + 1, scratch.length * 2));
  const n = scratch.write(s, 'base64');
  return n === want ? new Uint8Array(scratch.buffer, scratch.byteOffset, n) : undefined;
}
