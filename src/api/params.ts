/** Query and path parameter schemas (zod): the same schemas validate requests and generate /openapi.json. */
import { z } from 'zod';
import { keysAt, unknownKeyText } from '../util/unknown-key.ts';
import { apiError } from './errors.ts';
import { selectorSchemas } from './selectors.ts';
import { REKOR_KEY_FORMATS } from '../entries/rekor-pki/public-key.ts';
import { ENTRY_UUID_PATTERN, HASH_PATTERN, SUBJECT_MAX, TREE_ID_PATTERN } from './rekor-swagger.ts';

const unixOrIso = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    if (/^\d{1,12}$/.test(v)) return Number(v);
    const t = Date.parse(v);
    if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(v)) {
      ctx.addIssue({ code: 'custom', message: 'expected Unix seconds or an ISO-8601 date' });
      return z.NEVER;
    }
    return Math.floor(t / 1000);
  });

/** A search page's size when `limit` is not given. */
export const SEARCH_DEFAULT_LIMIT = 50;

export const SearchQuery = z
  .object({
    ...selectorSchemas,
    since: unixOrIso.optional(),
    until: unixOrIso.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(SEARCH_DEFAULT_LIMIT),
    cursor: z.string().max(400).regex(/^[A-Za-z0-9_-]*$/).optional(),
  })
  .strict();

export const EntryQuery = z.object({ include: z.string().regex(/^(body|proof)(,(body|proof))*$/).optional() }).strict();
/** The page size of the checkpoint and findings listings when none is asked for. */
export const PAGE_DEFAULT_LIMIT = 50;
export const PageQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(PAGE_DEFAULT_LIMIT), cursor: z.string().max(40).regex(/^\d+$/).optional() }).strict();
export const FindingsQuery = z
  .object({
    rule: z.string().max(200).optional(),
    severity: z.enum(['info', 'low', 'medium', 'high', 'critical']).optional(),
    status: z.enum(['open', 'acked', 'suppressed']).optional(),
    since: unixOrIso.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(PAGE_DEFAULT_LIMIT),
    cursor: z.string().max(400).regex(/^[A-Za-z0-9_-]*$/).optional(),
  })
  .strict();
/** POST /v1/findings/{id}/ack. */
export const AckBody = z.object({ reason: z.string().min(1).max(2000), status: z.enum(['acked', 'suppressed']).default('acked') }).strict();
export const LogName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/);
export const Index = z.string().regex(/^(0|[1-9]\d{0,15})$/).transform(Number);
/** A 64-hex UUID or an 80-hex entry ID, in either case (Rekor's openapi pattern). */
export const Uuid = z.string().regex(/^([0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/);
/*
 * The Rekor-compatible routes' parameters as openapi.yaml (sigstore/rekor) declares them, for /openapi.json.
 * Requests to those routes are bound and validated by rekor-swagger.ts, as go-swagger does for Rekor (Go's
 * JSON decoding, 422 with go-openapi's codes), which zod cannot express; these schemas describe the same.
 */
const rekorInt64 = z.string().regex(/^[+-]?\d+$/).describe('int64');
export const RetrieveBody = z.object({
  entryUUIDs: z.array(z.string().regex(new RegExp(ENTRY_UUID_PATTERN))).min(1).max(10).optional(),
  logIndexes: z.array(z.number().int().nonnegative()).min(1).max(10).optional(),
  entries: z.array(z.object({ kind: z.string() }).loose()).min(1).max(10).optional(),
});
export const IndexRetrieveBody = z.object({
  email: z.string().describe('an address Go\'s net/mail ParseAddress reads (format: email)').optional(),
  subject: z.string().min(1).max(SUBJECT_MAX).optional(),
  hash: z.string().regex(new RegExp(HASH_PATTERN)).optional(),
  publicKey: z.object({ format: z.enum(REKOR_KEY_FORMATS), content: z.base64().optional() }).optional(),
  operator: z.enum(['and', 'or']).optional(),
});
export const LogInfoQuery = z.object({});
export const LogEntriesQuery = z.object({ logIndex: rekorInt64 });
export const PublicKeyQuery = z.object({ treeID: z.string().regex(new RegExp(TREE_ID_PATTERN)).optional() });
export const LogProofQuery = z.object({ firstSize: rekorInt64.optional(), lastSize: rekorInt64, treeID: z.string().regex(new RegExp(TREE_ID_PATTERN)).optional() });

/** Routes that take no query parameters (any given is refused, as everywhere else). */
export const NoQuery = z.object({}).strict();

/** A URL's query through `schema`: each parameter at most once; an unknown one or a bad value is API_BAD_REQUEST. */
export function parseQuery<T extends z.ZodType>(url: string, schema: T): z.output<T> {
  const obj: Record<string, string> = {};
  for (const [k, v] of new URL(url).searchParams) {
    if (k in obj) throw apiError('API_BAD_REQUEST', `parameter ${k} given more than once`);
    obj[k] = v;
  }
  const r = schema.safeParse(obj);
  if (!r.success) {
    const i = r.error.issues[0]!;
    // An unknown one with the parameter it most likely misspells (`repo`: repository), else those the route takes.
    if (i.code !== 'unrecognized_keys') throw apiError('API_BAD_REQUEST', `${i.path.join('.')}: ${i.message}`);
    const allowed = keysAt(schema, []);
    throw apiError('API_BAD_REQUEST', `${unknownKeyText(i.keys, allowed, (k) => k, 'parameter')}${allowed?.length === 0 ? ': this route takes no query parameters' : ''}`);
  }
  return r.data;
}
