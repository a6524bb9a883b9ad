/**
 * `logs[].headers`: HTTP header fields sent with every request to a log's own URL, for a private log behind
 * an authenticating proxy (`Authorization: Basic …` or `Bearer …`, an API key header). Credentials in the
 * URL are refused (util/url.ts) because tlogwatch shows its URLs; these are never shown, and never sent to
 * another origin (sources/transport.ts sendFollowing). Values are normally `${ENV}` references (load.ts).
 *
 * `logs[].headerFiles` gives a value as a file instead (a Docker or Kubernetes secret), as `api.adminTokenFile`
 * gives the admin token: a sibling key named after the one it stands in for, rather than a second form of a
 * `headers` value (`{ file: … }`), so `headers` stays a plain map of strings, what each header is read from
 * is plain from its key, and the one-way rule (a name in both is refused) is the admin token's. The files are
 * read when `serve` or `backfill` starts (`logHeadersOf`), with the same checks as a value in the file.
 *
 * Names and values are checked here, at load, so a header that Node would refuse at the first request, or
 * one that would change how the request is framed or routed, is a configuration error naming the key. No
 * message repeats a value: it is usually a secret.
 */
import { z } from 'zod';
import { readSecretFile } from './secret-file.ts';

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

/** One name once in a map of header fields: names are case-insensitive. */
function onceEach(h: Record<string, string>, ctx: z.RefinementCtx): void {
  const names = Object.keys(h);
  const lower = names.map((n) => n.toLowerCase());
  lower.forEach((n, i) => {
    if (lower.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: [names[i]!], message: `${names[lower.indexOf(n)]!} is given already: header names are case-insensitive (RFC 9110 §5.1)` });
  });
}

const MAX_HEADERS = 32;

export const LogHeaders = z
  .record(HeaderName, HeaderValue)
  .superRefine(onceEach)
  .describe(
    'Header fields sent with every request to this log\'s URL: checkpoint, tiles, entries, proofs (e.g. `Authorization: Bearer ${LOG_TOKEN}` or `Basic ${LOG_BASIC}` for a private log behind an authenticating proxy). Never sent to another origin (a redirect elsewhere, witnesses, checkpoint sources), and never shown.',
  );

export const LogHeaderFiles = z
  .record(HeaderName, z.string().min(1, 'a file path'))
  .superRefine(onceEach)
  .describe(
    'Header fields whose values are files (a Docker or Kubernetes secret), e.g. `Authorization: /run/secrets/log_auth` holding `Bearer …`: read when serve or backfill starts, one trailing newline dropped, checked as a value in `headers`. Sent and never shown as `headers` are. A name in both is refused.',
  );

/**
 * A log's headers in both forms, as the schema checks them together (config/schema.ts LogConfig): one name
 * given one way, and at most 32 in all.
 */
export function checkLogHeaderSources(l: { headers?: Record<string, string> | undefined; headerFiles?: Record<string, string> | undefined }, ctx: z.RefinementCtx): void {
  const inline = Object.keys(l.headers ?? {});
  const files = Object.keys(l.headerFiles ?? {});
  if (inline.length + files.length > MAX_HEADERS) ctx.addIssue({ code: 'custom', path: [files.length ? 'headerFiles' : 'headers'], message: `at most ${MAX_HEADERS} headers${files.length && inline.length ? ' (headers and headerFiles together)' : ''}` });
  for (const name of files) {
    const also = inline.find((n) => n.toLowerCase() === name.toLowerCase());
    if (also !== undefined) ctx.addIssue({ code: 'custom', path: ['headerFiles', name], message: `headers.${also} is given too: give each header one way` });
  }
}

/**
 * The header fields sent to a log: `headers`, and each of `headerFiles` read now (config/secret-file.ts).
 * Errors name the log, the header and the file, never a value.
 */
export function logHeadersOf(l: { name: string; headers?: Record<string, string> | undefined; headerFiles?: Record<string, string> | undefined }): Record<string, string> | undefined {
  if (!l.headerFiles) return l.headers;
  const read = Object.entries(l.headerFiles).map(([name, file]) => [name, readSecretFile(`log ${l.name}: headerFiles.${name}`, file, HeaderValue, 'header value')] as const);
  return { ...l.headers, ...Object.fromEntries(read) };
}
