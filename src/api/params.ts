/** Query and path parameter schemas (zod): the same schemas validate requests and generate /openapi.json. */
import { z } from 'zod';
import { apiError } from './errors.ts';
import { selectorSchemas } from './selectors.ts';

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

export const SearchQuery = z
  .object({
    ...selectorSchemas,
    since: unixOrIso.optional(),
    until: unixOrIso.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    cursor: z.string().max(400).regex(/^[A-Za-z0-9_-]*$/).optional(),
  })
  .strict();

export const EntryQuery = z.object({ include: z.string().regex(/^(body|proof)(,(body|proof))*$/).optional() }).strict();
export const PageQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50), cursor: z.string().max(40).regex(/^\d+$/).optional() }).strict();
export const FindingsQuery = z
  .object({
    rule: z.string().max(200).optional(),
    severity: z.enum(['info', 'low', 'medium', 'high', 'critical']).optional(),
    status: z.enum(['open', 'acked', 'suppressed']).optional(),
    since: unixOrIso.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    cursor: z.string().max(400).regex(/^[A-Za-z0-9_-]*$/).optional(),
  })
  .strict();
/** POST /v1/findings/{id}/ack. */
export const AckBody = z.object({ reason: z.string().min(1).max(2000), status: z.enum(['acked', 'suppressed']).default('acked') }).strict();
export const LogName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/);
export const Index = z.string().regex(/^(0|[1-9]\d{0,15})$/).transform(Number);
/** A 64-hex UUID or an 80-hex entry ID, in either case (Rekor's openapi pattern). */
export const Uuid = z.string().regex(/^([0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/);
export const RetrieveBody = z
  .object({
    entryUUIDs: z.array(Uuid).max(10).optional(),
    logIndexes: z.array(z.number().int().nonnegative()).max(10).optional(),
    entries: z.array(z.unknown()).max(10).optional(),
  })
  .strict();
export const IndexRetrieveBody = z
  .object({
    hash: z.string().max(140).optional(),
    email: z.string().max(512).optional(),
    subject: z.string().max(2048).optional(),
    publicKey: z.object({ format: z.string(), content: z.string().max(65536) }).optional(),
    operator: z.enum(['and', 'or']).optional(),
  })
  .strict();

/** Routes that take no query parameters (any given is refused, as everywhere else). */
export const NoQuery = z.object({}).strict();
/** GET /api/v1/log: Rekor's `stable` flag is accepted (the mirror only ever serves verified checkpoints). */
export const LogInfoQuery = z.object({ stable: z.enum(['true', 'false']).optional() }).strict();
export const LogEntriesQuery = z.object({ logIndex: z.string().regex(/^\d{1,15}$/, 'logIndex must be a non-negative integer') }).strict();
export const PublicKeyQuery = z.object({ treeID: z.string().max(40).optional() }).strict();
export const LogProofQuery = z.object({ firstSize: z.string().optional(), lastSize: z.string().optional(), treeID: z.string().max(40).optional() }).strict();

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
    throw apiError('API_BAD_REQUEST', i.code === 'unrecognized_keys' ? `unknown parameter ${i.keys.join(', ')}` : `${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}
