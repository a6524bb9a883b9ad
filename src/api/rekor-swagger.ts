/**
 * Request validation for the Rekor-compatible routes, as Rekor's server does it: go-swagger binds each
 * request against openapi.yaml (sigstore/rekor) before a handler runs, and go-openapi serves what it
 * refuses (go-openapi/errors api.go ServeError):
 * - a body that does not decode into the operation's Go type (bad JSON, a wrong JSON type) is a
 *   ParseError, 400, `parsing <param> body from "" failed, because …`;
 * - a value that breaks the schema (pattern, enum, format, minimum, maxLength, min/maxItems, required)
 *   is a validation error: HTTP 422, with go-openapi's own code (600–611, schema.go) in the body;
 * - query parameters the operation does not declare are ignored, a repeated one counts by its last value,
 *   and an empty one is as if absent (go-swagger's generated binders).
 * Rekor's handlers then refuse what the schema lets through with 400 (pkg/api/error.go).
 */
import { REKOR_KEY_FORMATS, type RekorKeyFormat } from '../entries/rekor-pki/public-key.ts';
import { goBase64 } from '../entries/proposed-entry.ts';
import { TlogwatchError } from '../errors.ts';
import { goWellFormed, isGoMailAddress } from './go-mail-address.ts';

/** go-openapi/errors schema.go codes, served as HTTP 422 (asHTTPCode maps every code ≥ 600 to it). */
export const SWAGGER = { invalidType: 600, required: 601, tooLong: 602, pattern: 604, enum: 605, min: 608, maxItems: 610, minItems: 611 } as const;

/** A value openapi.yaml's schema refuses: 422, `{"code": <go-openapi code>, "message": …}`. */
export function schemaError(code: number, message: string): TlogwatchError {
  return new TlogwatchError('API_UNPROCESSABLE', message, { data: { rekorCode: code } });
}

/** A body that does not decode into the operation's Go type (go-openapi ParseError, 400). */
export function parseError(param: string, reason: string): TlogwatchError {
  return new TlogwatchError('API_BAD_REQUEST', `parsing ${param} body from "" failed, because ${reason}`);
}

/** Go's %q, near enough for messages: a double-quoted string with JSON's escapes. */
const q = (s: string) => JSON.stringify(s);

/** A query parameter as go-swagger binds it: the last value given; an empty one is absent. */
export function queryValue(url: string, name: string): string | undefined {
  const v = new URL(url).searchParams.getAll(name).at(-1);
  return v === undefined || v === '' ? undefined : v;
}

const INT64_MIN = -(2n ** 63n);
/** The largest int64, the type Rekor reads indexes, sizes and tree IDs as. */
export const INT64_MAX = 2n ** 63n - 1n;

/**
 * An `integer` query parameter (int64): Go's strconv.ParseInt(raw, 10, 64) reads it, so a sign and leading
 * zeros are allowed and anything past int64 is not an integer at all (600); then the schema's minimum (608).
 */
export function int64Query(url: string, name: string, opts: { required?: boolean; minimum: number }): bigint | undefined {
  const raw = queryValue(url, name);
  if (raw === undefined) {
    if (opts.required) throw schemaError(SWAGGER.required, `${name} in query is required`);
    return undefined;
  }
  const n = /^[+-]?\d+$/.test(raw) ? BigInt(raw) : undefined;
  if (n === undefined || n < INT64_MIN || n > INT64_MAX) throw schemaError(SWAGGER.invalidType, `${name} in query must be of type int64: ${q(raw)}`);
  if (n < BigInt(opts.minimum)) throw schemaError(SWAGGER.min, `${name} in query should be greater than or equal to ${opts.minimum}`);
  return n;
}

/** A string parameter with a `pattern` (604 when it does not match). */
export function patterned(name: string, where: 'query' | 'path' | 'body', v: string, pattern: string): string {
  if (!new RegExp(pattern).test(v)) throw schemaError(SWAGGER.pattern, `${name} in ${where} should match '${pattern}'`);
  return v;
}

/** openapi.yaml's patterns, verbatim (messages quote them). */
export const TREE_ID_PATTERN = '^[0-9]+$';
export const ENTRY_UUID_PATTERN = '^([0-9a-fA-F]{64}|[0-9a-fA-F]{80})$';
export const HASH_PATTERN = '^(sha512:)?[0-9a-fA-F]{128}$|^(sha256:)?[0-9a-fA-F]{64}$|^(sha1:)?[0-9a-fA-F]{40}$';
export const SUBJECT_MAX = 512;

/**
 * A request body as go-openapi's JSON consumer reads it into `param`: an empty body is a missing required
 * parameter (422), JSON that does not parse is a ParseError (400), `null` is the zero value (an empty object).
 */
export function bodyJson(text: string, param: string): unknown {
  if (text.trim() === '') throw schemaError(SWAGGER.required, `${param} in body is required`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw parseError(param, e instanceof Error ? e.message : 'invalid JSON');
  }
}

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v);

/**
 * An object body's fields as Go's encoding/json fills a struct: keys match field names case-insensitively
 * (the last key given wins), unknown keys are ignored, and `null` leaves a field unset.
 */
export function goFields(v: unknown, param: string, goType: string, names: readonly string[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (v === null) return out;
  if (jsonType(v) !== 'object') throw parseError(param, `json: cannot unmarshal ${jsonType(v)} into Go value of type ${goType}`);
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const name = names.find((n) => n.toLowerCase() === k.toLowerCase());
    if (name !== undefined && val !== null) out.set(name, val);
  }
  return out;
}

/** A field that Go decodes into a string: anything but a JSON string (or null) is a ParseError. */
function goString(fields: Map<string, unknown>, name: string, param: string, goType: string, path = name): string | undefined {
  const v = fields.get(name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw parseError(param, `json: cannot unmarshal ${jsonType(v)} into Go struct field ${goType}.${path} of type string`);
  // Go's decoder turns a lone surrogate escape into U+FFFD: the same string Rekor then validates.
  return goWellFormed(v);
}

/**
 * `format: byte` content (strfmt.Base64: Go's base64.StdEncoding, line breaks skipped), read with the
 * project's reading of it (proposed-entry.ts goBase64). StdEncoding is not Strict, so non-zero padding
 * bits are ignored: the same key spelled either way finds the same entries, as on Rekor. (Signed notes
 * refuse them, note.ts: there a signature's spelling is part of the text compared across views.)
 */
function byteContent(s: string): Uint8Array | undefined {
  const out = goBase64(s);
  return out && new Uint8Array(out);
}

/** SearchIndex (openapi.yaml definitions), bound and validated. Zero values ("" or absent) are not validated, as in Go. */
export interface SearchIndex {
  email?: string;
  subject?: string;
  hash?: string;
  operator: 'and' | 'or';
  publicKey?: { format: RekorKeyFormat; content: Uint8Array };
}

/**
 * POST /api/v1/index/retrieve's body as Rekor binds it (go-swagger models/search_index.go): decoded as
 * Go decodes it, then validated field by field in its order (email, hash, operator, publicKey, subject),
 * the first failure served.
 */
export function parseSearchIndex(text: string): SearchIndex {
  const P = 'query';
  const f = goFields(bodyJson(text, P), P, 'models.SearchIndex', ['email', 'subject', 'hash', 'operator', 'publicKey']);
  const email = goString(f, 'email', P, 'SearchIndex');
  const subject = goString(f, 'subject', P, 'SearchIndex');
  const hash = goString(f, 'hash', P, 'SearchIndex');
  const operator = goString(f, 'operator', P, 'SearchIndex');
  let publicKey: { format?: string; content: Uint8Array } | undefined;
  if (f.has('publicKey')) {
    const pk = goFields(f.get('publicKey'), P, 'models.SearchIndexPublicKey', ['format', 'content']);
    const content = goString(pk, 'content', P, 'SearchIndex', 'publicKey.content');
    const bytes = content === undefined ? new Uint8Array() : byteContent(content);
    if (!bytes) throw parseError(P, 'illegal base64 data in publicKey.content');
    publicKey = { ...(pk.has('format') ? { format: goString(pk, 'format', P, 'SearchIndex', 'publicKey.format') } : {}), content: bytes };
  }
  if (email && !isGoMailAddress(email)) throw schemaError(SWAGGER.invalidType, `email in body must be of type email: ${q(email)}`);
  if (hash) patterned('hash', 'body', hash, HASH_PATTERN);
  if (operator && operator !== 'and' && operator !== 'or') throw schemaError(SWAGGER.enum, 'operator in body should be one of [and or]');
  if (publicKey) {
    if (publicKey.format === undefined) throw schemaError(SWAGGER.required, 'publicKey.format in body is required');
    if (!(REKOR_KEY_FORMATS as readonly string[]).includes(publicKey.format)) throw schemaError(SWAGGER.enum, `publicKey.format in body should be one of [${REKOR_KEY_FORMATS.join(' ')}]`);
  }
  // maxLength counts code points (go-openapi validate.MaxLength: utf8.RuneCountInString).
  if (subject && [...subject].length > SUBJECT_MAX) throw schemaError(SWAGGER.tooLong, `subject in body should be at most ${SUBJECT_MAX} chars long`);
  return {
    ...(email ? { email } : {}),
    ...(subject ? { subject } : {}),
    ...(hash ? { hash } : {}),
    operator: operator === 'and' ? 'and' : 'or',
    ...(publicKey ? { publicKey: publicKey as SearchIndex['publicKey'] & object } : {}),
  };
}

/** SearchLogQuery (openapi.yaml definitions), bound and validated. */
export interface SearchLogQuery {
  entryUUIDs: string[];
  logIndexes: number[];
  entries: unknown[];
}

/** The most entries one retrieve may ask for, over all three lists (Rekor pkg/api/entries.go maxSearchQueries). */
export const MAX_SEARCH_QUERIES = 10;

/**
 * POST /api/v1/log/entries/retrieve's body as Rekor binds it (models/search_log_query.go): each list 1–10
 * items, checked in its order (entries, entryUUIDs, logIndexes), then the handler's limit of 10 in all
 * (422 with code 422, SearchLogQueryHandler).
 */
export function parseSearchLogQuery(text: string): SearchLogQuery {
  const P = 'entry';
  const f = goFields(bodyJson(text, P), P, 'models.SearchLogQuery', ['entries', 'entryUUIDs', 'logIndexes']);
  const list = (name: string, item: (v: unknown, i: number) => void): unknown[] => {
    const v = f.get(name);
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw parseError(P, `json: cannot unmarshal ${jsonType(v)} into Go struct field SearchLogQuery.${name} of type array`);
    v.forEach((x, i) => x !== null && item(x, i));
    return v;
  };
  const entries = list('entries', (x) => {
    if (jsonType(x) !== 'object') throw parseError(P, `json: cannot unmarshal ${jsonType(x)} into Go value of type models.ProposedEntry`);
  });
  const entryUUIDs = list('entryUUIDs', (x) => {
    if (typeof x !== 'string') throw parseError(P, `json: cannot unmarshal ${jsonType(x)} into Go struct field SearchLogQuery.entryUUIDs of type string`);
  });
  const logIndexes = list('logIndexes', (x) => {
    // Go decodes a JSON number into int64 only when it is one; JSON.parse keeps no literal, so a number that
    // is an integer below 2^53 is taken (Go would also refuse `1.0` and `1e2`).
    if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw parseError(P, `json: cannot unmarshal ${jsonType(x)} ${typeof x === 'number' ? `${x} ` : ''}into Go struct field SearchLogQuery.logIndexes of type int64`);
  });
  const items = (name: string, v: unknown[]) => {
    if (!f.has(name)) return;
    if (v.length < 1) throw schemaError(SWAGGER.minItems, `${name} in body should have at least 1 items`);
    if (v.length > MAX_SEARCH_QUERIES) throw schemaError(SWAGGER.maxItems, `${name} in body should have at most ${MAX_SEARCH_QUERIES} items`);
  };
  items('entries', entries);
  items('entryUUIDs', entryUUIDs);
  entryUUIDs.forEach((u, i) => typeof u === 'string' && patterned(`entryUUIDs.${i}`, 'body', u, ENTRY_UUID_PATTERN));
  items('logIndexes', logIndexes);
  logIndexes.forEach((n, i) => {
    if (typeof n === 'number' && n < 0) throw schemaError(SWAGGER.min, `logIndexes.${i} in body should be greater than or equal to 0`);
  });
  if (entries.length + entryUUIDs.length + logIndexes.length > MAX_SEARCH_QUERIES) {
    throw schemaError(422, `more than max allowed ${MAX_SEARCH_QUERIES} entries in request`);
  }
  // A null item binds as Go's nil and Rekor's handler then dereferences it (a 500 there): refuse it instead.
  if (entries.includes(null) || entryUUIDs.includes(null) || logIndexes.includes(null)) throw parseError(P, 'a list holds null');
  return { entries, entryUUIDs: entryUUIDs as string[], logIndexes: logIndexes as number[] };
}
