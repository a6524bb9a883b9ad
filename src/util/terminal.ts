/**
 * Text from the logs, made safe to show a person: on a terminal, and in what notifications show
 * (src/notify/text.ts). A certificate's SAN is an IA5String, which allows every ASCII control character,
 * and Rekor v1 logs certificates anyone made: an ESC sequence in a SAN would reach the operator's terminal
 * through `tlogwatch search`, `verify` or `rules test` and could rewrite what it shows (move the cursor,
 * hide text, set a hyperlink: OSC 8), and a CR or LF would start a line of its own in an email or a chat
 * message, one that could pass for tlogwatch's. UTF8String claims add the characters that change how text
 * is displayed without being seen: the Unicode bidirectional controls reorder it ("Trojan Source",
 * CVE-2021-42574), and zero-width and other default-ignorable characters (U+200B, U+2060, U+FEFF, the tag
 * characters U+E0000–E007F, variation selectors) make two different identities look the same.
 *
 * These are shown as `\u{…}` escapes instead: controls (Cc: C0, DEL, C1), format characters (Cf: the bidi
 * controls, zero-width characters, tags), the line and paragraph separators U+2028/U+2029 (Zl, Zp), lone
 * surrogates (Cs) and every other Default_Ignorable_Code_Point (Unicode UAX #44; e.g. U+3164, a Hangul
 * filler that renders blank). Look-alike letters (a Cyrillic `а` for a Latin `a`) are left alone: they are
 * what non-Latin names are written in. Rules match code points exactly, so a look-alike never matches a
 * watched identity; it can only mislead a person reading a finding, which quotes every identity a
 * certificate names.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/gu;

export function forTerminal(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/**
 * JSON text with the characters forTerminal escapes written as JSON `\uXXXX` escapes (UTF-16 units, RFC 8259
 * §7): it parses back to exactly the same value, and shows a person no bidi control or invisible character.
 * JSON.stringify escapes C0 controls and lone surrogates already, but writes DEL, C1, bidi and zero-width
 * characters raw. Outside strings JSON text is ASCII structure and whitespace (§2), and the only controls
 * JSON.stringify writes raw are that whitespace (TAB, LF, CR of its indentation), so these stay and every
 * other match is in a string.
 */
export function visibleJson(json: string): string {
  return json.replace(UNSAFE, (c) => (c === '\n' || c === '\r' || c === '\t' ? c : [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')));
}
