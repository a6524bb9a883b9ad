/**
 * `logs[].headers`: HTTP header fields sent with every request to a log's own URL, for a private log behind
 * an authenticating proxy (`Authorization: Basic …` or `Bearer …`, an API key header). Credentials in the
 * URL are refused (util/url.ts) because tlogwatch shows its URLs; these are never shown, and never sent to
 * another origin (sources/transport.ts sendFollowing). Values are normally `${ENV}` references (load.ts).
 *
 * Names and values are checked here, at load, so a header that Node would refuse at the first request, or
 * one that would change how the request is framed or routed, is a configuration error naming the key. No
 * message repeats a value: it is usually a secret.
 */
import { z } from 'zod';

/** RFC 9110 §5.1: a field name is a token (§5.6.2). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Names refused, lower-case. Hop-by-hop fields (RFC 9110 §7.6.1, and the legacy Keep-Alive and
 * Proxy-Connection) and message framing (Content-Length, Transfer-Encoding, RFC 9112 §6) belong to the
 * connection, which Node manages; Host routes the request (RFC 9110 §7.2) and follows the URL. The rest are
 * set by the sources on their requests (sources/http.ts, rekor-v1.ts, tiles.ts) and would be overridden
 * in silence, or break decoding (Accept-Encoding): they are not the configuration's to change.
 */
const REFUSED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'proxy-authorization',
  'accept-encoding',
  'content-type',
  'accept',
  'cache-control',
  'user-agent',
]);

/**
 * RFC 9110 §5.5: a field value is visible characters, spaces and tabs, without leading or trailing
 * whitespace; Node refuses anything else (CR, LF and NUL above all, which would split the request) at send
 * time, every request, where this says why at load. obs-text (0x80–0xFF) is allowed as Node allows it.
 */
const FIELD_VALUE = /^[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$/;

const REFUSED_WHY = 'hop-by-hop and framing fields, Host, and the fields tlogwatch sets itself (Accept, Accept-Encoding, Cache-Control, Content-Type, User-Agent, Proxy-Authorization: the egress proxy\'s URL carries that) are refused';

const HeaderName = z
  .string()
  .regex(TOKEN, 'not a header field name (RFC 9110 §5.1: letters, digits and !#$%&\'*+.^_`|~-)')
  .refine((n) => !REFUSED.has(n.toLowerCase()), `not configurable: ${REFUSED_WHY}`);

const HeaderValue = z
  .string()
  .max(8192, 'at most 8192 characters')
  .refine((v) => !/[\r\n\0]/.test(v), 'contains CR, LF or NUL (a trailing newline from a secret file or `echo`?): a header value cannot')
  .refine((v) => /[\r\n\0]/.test(v) || FIELD_VALUE.test(v), 'not a header field value (RFC 9110 §5.5: visible characters, spaces and tabs, not empty, no leading or trailing space)');

export const LogHeaders = z
  .record(HeaderName, HeaderValue)
  .superRefine((h, ctx) => {
    const names = Object.keys(h);
    if (names.length > 32) ctx.addIssue({ code: 'custom', message: 'at most 32 headers' });
    const lower = names.map((n) => n.toLowerCase());
    lower.forEach((n, i) => {
      if (lower.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: [names[i]!], message: `${names[lower.indexOf(n)]!} is given already: header names are case-insensitive (RFC 9110 §5.1)` });
    });
  })
  .describe(
    'Header fields sent with every request to this log\'s URL: checkpoint, tiles, entries, proofs (e.g. `Authorization: Bearer ${LOG_TOKEN}` or `Basic ${LOG_BASIC}` for a private log behind an authenticating proxy). Never sent to another origin (a redirect elsewhere, witnesses, checkpoint sources), and never shown.',
  );
