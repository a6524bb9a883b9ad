/**
 * What a notification shows a person (an email's subject and text, a Slack message, Alertmanager's
 * annotations), as opposed to what it hands another system exactly (the webhook's and a command's JSON, the
 * JSON copy in an email). A finding quotes what a logged certificate says, and anyone can log one:
 *
 * - Controls, bidi and invisible characters are shown as `\u{…}` escapes (util/terminal.ts forTerminal),
 *   as the CLI shows them: a CR or LF must not start a line that passes for tlogwatch's, a U+202E must not
 *   reorder what is read, a zero-width space must not make two identities look alike.
 * - Each text has a bound. A certificate in a Rekor v1 entry may hold 256 KiB (entries/kinds/common.ts
 *   MAX_KEY_BYTES) and a DSSE entry several such signers in its 4 MiB, and a finding's message quotes up to
 *   five identities of each signer (monitor/evaluate.ts): a message can be over 100,000 characters from one
 *   certificate. Past its bound a text is cut at a character, never inside an escape, and ends saying how
 *   much was cut and where the whole finding is.
 */
import { forTerminal } from '../util/terminal.ts';

/** A finding's message as a notification shows it, at most (characters, before the note of a cut). */
export const MESSAGE_MAX = 2000;
/** An identity, a digest or a title line. A Fulcio identity is rarely over 200 characters. */
export const FIELD_MAX = 500;

/** Where the whole finding can be read, for the note of a cut. */
export const wholeFindingAt = (id: string) => `GET /v1/findings/${id}`;

/**
 * `s` as a person should see it: forTerminal, then `markup` (a channel's escaping of characters, which may
 * be applied to one character at a time),
 * at most `max` UTF-16 units in all. A longer text keeps what fits and ends with
 * ` … [N more characters cut; the whole finding: <whole>]`.
 */
export function forPeople(s: string, max: number, whole: string, markup: (c: string) => string = (c) => c): string {
  const all = markup(forTerminal(s));
  if (all.length <= max) return all;
  const note = (n: number) => ` … [${n} more characters cut; the whole finding: ${whole}]`;
  // The note of the longest possible cut, so the kept part plus the real note always fits.
  const budget = max - note(s.length).length;
  let kept = '';
  let at = 0;
  for (const c of s) {
    const shown = markup(forTerminal(c));
    if (kept.length + shown.length > budget) break;
    kept += shown;
    at += c.length;
  }
  let rest = 0;
  for (const _ of s.slice(at)) rest++;
  return `${kept}${note(rest)}`;
}
