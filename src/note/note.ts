/**
 * C2SP signed-note (https://c2sp.org/signed-note), parsed as golang.org/x/mod/sumdb/note `Open` does:
 *
 *   <text, ending in \n>\n
 *   — <name> base64(<4-byte key hash> || <signature>)\n   (one or more lines)
 *
 * The text must be valid UTF-8 without control characters other than \n. Names are non-empty, with no
 * whitespace and no '+'. Signatures from unknown keys (name + key hash) are kept as unverified and
 * ignored; a known key whose signature fails rejects the whole note; at least one known key must verify.
 * Stricter than Go in one place: signature base64 must be canonical (zero padding bits), so a note has
 * exactly one spelling.
 */
import { TlogwatchError } from '../errors.ts';
import { parseBase64, toBase64, utf8 } from '../util/bytes.ts';
import { keyHashHex } from './key-id.ts';

export interface NoteSignature {
  name: string;
  keyHash: Uint8Array;
  signature: Uint8Array;
}

export interface Note {
  text: string;
  signatures: NoteSignature[];
}

export interface NoteVerifier {
  name: string;
  keyHash: Uint8Array;
  kind: 'ed25519' | 'ecdsa' | 'cosignature' | 'rfc6962';
  /** False when the signature does not verify, which rejects the note. `undefined` means the line cannot be
   *  this key's at all (a cosignature of the wrong length): it is then ignored like an unknown signer,
   *  as sigsum-go does. */
  verify(text: Uint8Array, signature: Uint8Array): boolean | undefined;
}

export interface NoteSigner {
  name: string;
  keyHash: Uint8Array;
  sign(text: Uint8Array): Uint8Array;
}

/** Go's limit; C2SP requires accepting at least 16. Bounds the work a hostile note can cause. */
export const MAX_SIGNATURES = 100;
const SIG_PREFIX = '\u2014 ';

function malformed(why: string): TlogwatchError {
  return new TlogwatchError('NOTE_MALFORMED', `malformed note: ${why}`);
}

/**
 * signed-note: key names are non-empty, with no Unicode spaces and no `+`. "Unicode spaces" as Go's
 * `unicode.IsSpace` reads them (golang.org/x/mod sumdb/note): the White_Space property, which has U+0085
 * and not U+FEFF, where JavaScript's `\s` is the other way round.
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\p{White_Space}+]/u.test(name);
}

/** A lone surrogate has no UTF-8 encoding: a string holding one is not the text of any bytes. */
export const hasLoneSurrogate = (s: string): boolean => /[\uD800-\uDFFF]/u.test(s);

/** Offset of the first ASCII control character other than \n (signed-note §Format forbids them), or -1. */
export function controlCharAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return i;
  }
  return -1;
}

function checkText(s: string): void {
  const i = controlCharAt(s);
  if (i >= 0) throw malformed(`control character 0x${s.charCodeAt(i).toString(16)} at offset ${i}`);
}

export function parseNote(msg: string | Uint8Array): Note {
  let s: string;
  if (typeof msg === 'string') {
    // A lone surrogate has no UTF-8 encoding: the bytes we would verify are not the text we were given.
    if (hasLoneSurrogate(msg)) throw malformed('not valid UTF-8 (lone surrogate)');
    s = msg;
  } else {
    try {
      s = utf8.decode(msg);
    } catch {
      throw malformed('not valid UTF-8');
    }
  }
  checkText(s);
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the signatures');
  const text = s.slice(0, split + 1);
  const sigs = s.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith('\n')) throw malformed('signature block must be non-empty and end with a newline');
  const lines = sigs.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw malformed(`more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    if (!line.startsWith(SIG_PREFIX)) throw malformed(`signature line does not start with an em dash and a space: ${JSON.stringify(line.slice(0, 40))}`);
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const b64 = sp < 0 ? '' : rest.slice(sp + 1);
    const raw = parseBase64(b64);
    if (!isValidKeyName(name) || !raw || raw.length < 5) throw malformed(`bad signature line for ${JSON.stringify(name)}`);
    // Go's decoder ignores non-zero padding bits; we refuse them, so one signature has one spelling.
    if (toBase64(raw) !== b64) throw malformed(`signature of ${JSON.stringify(name)} is not canonical base64`);
    return { name, keyHash: raw.slice(0, 4), signature: raw.slice(4) };
  });
  return { text, signatures };
}

/** Signers named in an error, and how long each name may be there. */
const LISTED_SIGNERS = 8;
const LISTED_NAME = 100;

/**
 * Names for an error message, bounded: they are whoever sent the note's (up to MAX_SIGNATURES names of
 * kilobytes each), and the message reaches logs, /v1/logs and the halt's finding as it is.
 */
function listed(names: readonly string[]): string {
  const shown = names.slice(0, LISTED_SIGNERS).map((n) => (n.length > LISTED_NAME ? `${n.slice(0, LISTED_NAME)}…` : n));
  return shown.join(', ') + (names.length > LISTED_SIGNERS ? ` and ${names.length - LISTED_SIGNERS} more` : '');
}

const sameHash = (a: Uint8Array, b: Uint8Array) => a.length === 4 && b.length === 4 && a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];

export function verifyNote(msg: string | Uint8Array, verifiers: readonly NoteVerifier[]): { note: Note; verifiedBy: NoteSignature[] } {
  const note = parseNote(msg);
  const text = utf8.encode(note.text);
  const verifiedBy: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of note.signatures) {
    const v = verifiers.find((x) => x.name === sig.name && sameHash(x.keyHash, sig.keyHash));
    if (!v) continue;
    const ok = v.verify(text, sig.signature);
    if (ok === undefined) continue;
    if (!ok) {
      throw new TlogwatchError('NOTE_BAD_SIGNATURE', `invalid signature for key ${sig.name}+${keyHashHex(sig.keyHash)}`, { data: { name: sig.name } });
    }
    const id = `${sig.name}+${keyHashHex(sig.keyHash)}`;
    if (!seen.has(id)) {
      seen.add(id);
      verifiedBy.push(sig);
    }
  }
  if (verifiedBy.length === 0) {
    const names = listed(note.signatures.map((s) => `${s.name}+${keyHashHex(s.keyHash)}`));
    const expected = listed(verifiers.map((v) => `${v.name}+${keyHashHex(v.keyHash)}`)) || 'none';
    throw new TlogwatchError('NOTE_NO_VERIFIED_SIGNATURE', `note has no verifiable signatures (signed by: ${names}; expected: ${expected})`);
  }
  return { note, verifiedBy };
}

/** One signature line (signed-note §Format): `— <name> base64(<key hash> || <signature>)\n`. */
function signatureLine(s: NoteSignature): string {
  const raw = new Uint8Array(4 + s.signature.length);
  raw.set(s.keyHash, 0);
  raw.set(s.signature, 4);
  return `${SIG_PREFIX}${s.name} ${toBase64(raw)}\n`;
}

/**
 * The signed note of `note`'s text and signatures, in their order. For a note `parseNote` returned this is
 * the message it was parsed from, byte for byte (the parser takes one spelling only: canonical base64, one
 * space, no blank lines), and each line is the one the note had: signatures are independent lines
 * (signed-note §Format), so a note with some of them left out verifies as before with the keys of the rest.
 */
export function formatNote(note: Note): string {
  if (note.signatures.length === 0) throw malformed('a signed note needs at least one signature');
  return `${note.text}\n${note.signatures.map(signatureLine).join('')}`;
}

export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (!text.endsWith('\n')) throw malformed('note text must end with a newline');
  checkText(text);
  const bytes = utf8.encode(text);
  const lines = signers.map((s) => {
    if (!isValidKeyName(s.name) || s.keyHash.length !== 4) throw malformed(`cannot sign as ${JSON.stringify(s.name)}: bad key name or key hash`);
    return signatureLine({ name: s.name, keyHash: s.keyHash, signature: s.sign(bytes) });
  });
  return `${text}\n${lines.join('')}`;
}
