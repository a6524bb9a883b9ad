/**
 * Text from the logs, made safe to print on a terminal. A certificate's SAN is an IA5String, which allows
 * every ASCII control character, and Rekor v1 logs certificates anyone made: an ESC sequence in a SAN
 * would reach the operator's terminal through `tlogwatch search`, `verify` or `rules test` and could
 * rewrite what it shows (move the cursor, hide text, set a hyperlink: OSC 8). C0 and C1 controls, DEL and
 * the Unicode bidirectional controls (which reorder what is displayed, "Trojan Source", CVE-2021-42574) are
 * shown as `\u{…}` escapes instead. JSON output needs none of this: JSON.stringify escapes C0 controls.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function forTerminal(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
