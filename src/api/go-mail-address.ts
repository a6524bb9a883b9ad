/**
 * Whether a string is an e-mail address as Rekor judges one: its openapi gives SearchIndex.email
 * `format: email`, which go-openapi/strfmt checks with Go's net/mail ParseAddress (strfmt default.go
 * IsEmail: parses, and the address is not empty). So the same inputs pass here as there: an RFC 5322
 * addr-spec (`a@example.com`), a name-addr (`Alice <a@example.com>`), a one-mailbox group (`g: a@b;`),
 * comments, quoted local parts, domain literals holding an IP address, and UTF-8 in atoms. What Go's
 * parser refuses is refused: dots leading, trailing or doubled in a dot-atom, a missing `@`, a bare word.
 *
 * Go: src/net/mail/message.go (addrParser: parseSingleAddress, parseAddress, consumeAddrSpec,
 * consumeAtom, consumePhrase, consumeQuotedString, consumeDomainLiteral, skipCFWS). RFC 5322 §3.4.
 */
import { isIP } from 'node:net';

/** RFC 5322 §3.2.3 specials, which no atom holds. */
const SPECIALS = new Set(['(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '"']);
/** Go's isVchar: printable ASCII, or any non-ASCII code point (Go accepts UTF-8 in atoms). */
const isVchar = (c: string) => (c >= '!' && c <= '~') || c.codePointAt(0)! >= 0x80;
const isAtext = (c: string, dot: boolean) => (c === '.' ? dot : !SPECIALS.has(c) && isVchar(c));
/** Go's isQtext: printable except `"` and `\`. */
const isQtext = (c: string) => c !== '"' && c !== '\\' && isVchar(c);
/** Go's isDtext: printable except `[`, `]` and `\`. */
const isDtext = (c: string) => c !== '[' && c !== ']' && c !== '\\' && isVchar(c);

/**
 * An RFC 2047 encoded word in a charset Go's mime.WordDecoder does not read without a CharsetReader (it reads
 * utf-8, iso-8859-1 and us-ascii): Go fails the word, so the phrase (addrParser.decodeRFC2047Word).
 */
function unknownCharset(word: string): boolean {
  const m = /^=\?([^?]+)\?[bBqQ]\?[^?]*\?=$/.exec(word);
  return m !== null && !['utf-8', 'iso-8859-1', 'us-ascii'].includes(m[1]!.toLowerCase());
}

class Parser {
  private s: string[];
  constructor(s: string) {
    this.s = [...s];
  }
  empty = () => this.s.length === 0;
  peek = () => this.s[0];
  consume(c: string): boolean {
    if (this.s[0] !== c) return false;
    this.s.shift();
    return true;
  }
  skipSpace(): void {
    while (this.s[0] === ' ' || this.s[0] === '\t') this.s.shift();
  }
  /** Comments and folding white space; false for an unclosed comment. */
  skipCFWS(): boolean {
    this.skipSpace();
    while (this.consume('(')) {
      if (!this.comment()) return false;
      this.skipSpace();
    }
    return true;
  }
  private comment(): boolean {
    for (let depth = 1; depth > 0; ) {
      const c = this.s.shift();
      if (c === undefined) return false;
      if (c === '\\') {
        if (this.s.shift() === undefined) return false;
      } else if (c === '(') depth++;
      else if (c === ')') depth--;
    }
    return true;
  }
  atom(dot: boolean, permissive: boolean): string | undefined {
    let i = 0;
    while (i < this.s.length && isAtext(this.s[i]!, dot)) i++;
    if (i === 0) return undefined;
    const atom = this.s.splice(0, i).join('');
    if (!permissive && (atom.startsWith('.') || atom.includes('..') || atom.endsWith('.'))) return undefined;
    return atom;
  }
  /** A quoted string's content; nothing is read when it is not one (Go's consumeQuotedString). */
  quotedString(): string | undefined {
    if (this.s[0] !== '"') return undefined;
    let out = '';
    for (let i = 1; ; i++) {
      const c = this.s[i];
      if (c === undefined) return undefined;
      if (c === '"') {
        this.s.splice(0, i + 1);
        return out;
      }
      if (c === '\\') {
        const e = this.s[++i];
        if (e === undefined || !(isVchar(e) || e === ' ' || e === '\t')) return undefined;
        out += e;
      } else if (isQtext(c) || c === ' ' || c === '\t') out += c;
      else return undefined;
    }
  }
  domainLiteral(): string | undefined {
    this.consume('[');
    let dtext = '';
    for (;;) {
      const c = this.s.shift();
      if (c === undefined) return undefined;
      if (c === ']') break;
      if (!isDtext(c)) return undefined;
      dtext += c;
    }
    // Go accepts a domain literal only when it holds an IP address: after `IPv6:`, any address net.ParseIP
    // reads (an IPv4 one too); without it, an IPv4 address (To4, so an IPv4-mapped IPv6 one as well).
    const v6 = dtext.startsWith('IPv6:') ? dtext.slice(5) : undefined;
    const ok = v6 !== undefined ? isIP(v6) !== 0 : isIP(dtext) === 4 || (isIP(dtext) === 6 && /^(0{0,4}:){1,5}ffff:\d+\.\d+\.\d+\.\d+$/i.test(dtext.replace(/^::/, '0::')));
    return ok ? `[${dtext}]` : undefined;
  }
  addrSpec(): string | undefined {
    this.skipSpace();
    if (this.empty()) return undefined;
    // An empty quoted local part is refused too.
    const local = this.peek() === '"' ? this.quotedString() : this.atom(true, false);
    if (!local) return undefined;
    if (!this.consume('@')) return undefined;
    this.skipSpace();
    if (this.empty()) return undefined;
    const domain = this.peek() === '[' ? this.domainLiteral() : this.atom(true, false);
    return domain ? `${local}@${domain}` : undefined;
  }
  /** Words (atoms with dots anywhere, quoted strings) with comments between; undefined if there is none. */
  phrase(): string[] | undefined {
    const words: string[] = [];
    for (;;) {
      if (words.length > 0 && !this.skipCFWS()) return undefined;
      this.skipSpace();
      if (this.empty()) break;
      const quoted = this.peek() === '"';
      const w = quoted ? this.quotedString() : this.atom(true, true);
      // A word that is not one is left unread; an encoded word in an unknown charset is read, and ends
      // the phrase, as Go's loop breaks on either error.
      if (w === undefined || (!quoted && unknownCharset(w))) break;
      words.push(w);
    }
    return words.length > 0 ? words : undefined;
  }
  /** mailbox / group, each yielding its addresses (a mailbox one). */
  address(handleGroup: boolean): string[] | undefined {
    this.skipSpace();
    if (this.empty()) return undefined;
    // addr-spec is the narrower grammar: try it first, as Go does, then name-addr.
    const save = this.s.slice();
    const spec = this.addrSpec();
    if (spec !== undefined) {
      this.skipSpace();
      if (this.peek() === '(') {
        this.consume('(');
        if (!this.comment()) return undefined;
      }
      return [spec];
    }
    this.s = save;
    if (this.peek() !== '<' && this.phrase() === undefined) return undefined;
    this.skipSpace();
    if (handleGroup && this.consume(':')) return this.groupList();
    if (!this.consume('<')) return undefined;
    const inner = this.addrSpec();
    if (inner === undefined || !this.consume('>')) return undefined;
    return [inner];
  }
  private groupList(): string[] | undefined {
    const out: string[] = [];
    if (!this.skipCFWS()) return undefined;
    if (this.consume(';')) return this.skipCFWS() ? out : undefined;
    for (;;) {
      if (!this.skipCFWS()) return undefined;
      const a = this.address(false);
      if (a === undefined) return undefined;
      out.push(...a);
      if (!this.skipCFWS()) return undefined;
      if (this.consume(';')) return this.skipCFWS() ? out : undefined;
      if (!this.consume(',')) return undefined;
    }
  }
}

/** The string Go's JSON decoder makes of one with lone surrogate escapes: each becomes U+FFFD. */
export const goWellFormed = (s: string): string => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** Go's `mail.ParseAddress(s)` succeeds with a non-empty address (strfmt IsEmail). */
export function isGoMailAddress(s: string): boolean {
  // Go's JSON decoder turns a lone surrogate escape into U+FFFD before the address is parsed.
  const p = new Parser(goWellFormed(s));
  const addrs = p.address(true);
  if (addrs === undefined || !p.skipCFWS() || !p.empty()) return false;
  return addrs.length === 1 && addrs[0] !== '';
}
