/**
 * Rekor's case folding of search keys. Rekor lower-cases every index key with Go's `strings.ToLower` when
 * it writes it (pkg/indexstorage/redis/redis.go WriteIndex; the MySQL table compares them under a
 * case-insensitive collation) and lower-cases the `hash`, `email` and `subject` of a query the same way
 * (pkg/api/index.go SearchIndexHandler), so `email`/`subject` match a certificate's SAN in any case,
 * URIs included. The mirror's SAN index keeps URIs as signed and e-mail addresses lower-cased by
 * JavaScript's rules (store/index-values.ts normaliseIdentity), which /v1/search's identity semantics rely
 * on; the Rekor-compatible route reaches Rekor's matches through the stored spellings `caseForms` lists.
 *
 * Go's ToLower maps each code point on its own (unicode.ToLower, the simple mapping). JavaScript's
 * toLowerCase applies the full mapping: U+0130 İ becomes "i̇" (two code points, where Go gives "i") and a
 * word-final Σ becomes ς (Go: σ). Those are the only two differences (Unicode SpecialCasing.txt).
 */

const DOTTED_CAPITAL_I = 0x130;

function lowerCodePoint(cp: number): number {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
  if (cp === DOTTED_CAPITAL_I) return 0x69;
  // One code point alone has no Final_Sigma context, so toLowerCase gives its simple mapping here.
  const l = String.fromCodePoint(cp).toLowerCase();
  const first = l.codePointAt(0)!;
  return l.length === (first > 0xffff ? 2 : 1) ? first : cp;
}

/** Go's `strings.ToLower` (each code point through unicode.ToLower). */
export function goLower(s: string): string {
  let out = '';
  for (const ch of s) out += String.fromCodePoint(lowerCodePoint(ch.codePointAt(0)!));
  return out;
}

let upperOf: Map<number, number[]> | undefined;

/** Planes 0 and 1: no code point past them has a lower-case mapping (the last, Adlam's, is U+1E921). */
const LAST_CASED_PLANE_END = 0x1ffff;

/** Every code point that lower-cases to another, by what it lower-cases to (built once, on first use: ~30 ms). */
function codePointsLoweringTo(): Map<number, number[]> {
  if (upperOf) return upperOf;
  const m = new Map<number, number[]>();
  for (let cp = 0; cp <= LAST_CASED_PLANE_END; cp++) {
    if (cp === 0xd800) cp = 0xe000; // no surrogates
    const l = lowerCodePoint(cp);
    if (l === cp) continue;
    const list = m.get(l);
    if (list) list.push(cp);
    else m.set(l, [cp]);
  }
  return (upperOf = m);
}

/**
 * For each code point of `folded` (a goLower result), the UTF-8 spellings a stored SAN value may have there
 * and still fold to it: the code point itself, every one Go lower-cases to it (URIs are stored as signed),
 * and what JavaScript's lower-casing wrote where Go's differs (e-mail addresses are stored that way).
 */
export function caseForms(folded: string): Uint8Array[][] {
  const pre = codePointsLoweringTo();
  const forms: Uint8Array[][] = [];
  for (const ch of folded) {
    const cp = ch.codePointAt(0)!;
    const spellings = [ch, ...(pre.get(cp) ?? []).map((u) => String.fromCodePoint(u))];
    if (ch === 'i') spellings.push('i\u0307');
    if (ch === 'σ') spellings.push('ς');
    forms.push(spellings.map((s) => Buffer.from(s, 'utf8')).sort((a, b) => Buffer.compare(a, b)));
  }
  return forms;
}
