/**
 * /openapi.json, generated from the same zod schemas that validate the requests. Every route the app
 * serves is here (test/integration/api/api.test.ts compares this against Hono's route table).
 */
import { z } from 'zod';
import { VERSION } from '../version.ts';
import { ENTRY_UUID_PATTERN } from './rekor-swagger.ts';
import { AckBody, EntryQuery, FindingsQuery, IndexRetrieveBody, LogEntriesQuery, LogInfoQuery, LogProofQuery, PageQuery, PublicKeyQuery, RetrieveBody, SearchQuery } from './params.ts';

function queryParams(schema: z.ZodObject) {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: json.required?.includes(name) ?? false, schema: s }));
}
const jsonBody = (schema: z.ZodType, required = true) => ({ required, content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } } });

const error = { description: 'Error', content: { 'application/json': { schema: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } } } };
const withError = (description: string) => ({ ...error, description });
/**
 * Rekor's error shape (its openapi.yaml definitions/Error), which every /api/v1 route answers with: `code`
 * is the HTTP status, or on a 422 go-openapi's validation code (600–611) as Rekor sends it.
 */
const rekorError = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object', properties: { code: { type: 'integer' }, message: { type: 'string' } } } } } });
const rekorErrors = {
  400: rekorError('Bad request'),
  404: rekorError('Not found'),
  422: rekorError('A value Rekor\'s schema refuses (code 600–611), or more than 10 entries asked for (code 422)'),
  429: rekorError('Rate limited (api.rateLimit.requestsPerMinute), or on /api/v1/index/retrieve and /api/v1/log/entries/retrieve no room among the search entries in flight (api.searchEntriesInFlight); with Retry-After'),
  503: rekorError('Store unavailable, or no verified checkpoint yet'),
};
/** Any read can meet a store that is being reopened after a write fault (STORE_UNAVAILABLE); /readyz answers 503 when not ready. */
const unavailable = withError('Store unavailable (being reopened after a write fault), or not ready');
const ok = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const pathParam = (name: string, pattern: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern } });
const LOG = pathParam('log', '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$');
const INDEX = pathParam('index', '^(0|[1-9]\\d{0,15})$');
const UUID = pathParam('uuid', '^([0-9a-fA-F]{16})?[0-9a-fA-F]{64}$');
const FINDING = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
/** Admin routes: `Authorization: Bearer <api.adminToken>`; 401 carries `WWW-Authenticate: Bearer` (RFC 6750 §3). */
const admin = { security: [{ adminToken: [] }] };
const unauthorized = withError('No valid admin bearer token (or no admin token configured)');
const limited = withError('Rate limited (api.rateLimit.requestsPerMinute), or on /v1/search and /v1/logs/{log}/checkpoints no room among the entries in flight (api.searchEntriesInFlight, code API_BUSY); with Retry-After');

/** A nullable JSON number or string, as the views write them (OpenAPI 3.1 is JSON Schema 2020-12: `type` lists null). */
const maybe = (type: 'integer' | 'string', description: string) => ({ type: [type, 'null'], description });
/**
 * `GET /v1/logs`: one object per followed log (src/api/views.ts LogView), sizes in the log's own numbering
 * (virtual for Rekor v1) as store/codec.ts mirrorSizes defines them, the same the gauges show.
 */
const LOGS = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'type', 'origin', 'url', 'verifiedSize', 'verifiedRoot', 'upstreamSize', 'lag', 'state', 'lastVerifiedAt', 'mirroredFrom'],
    properties: {
      name: { type: 'string' },
      type: { type: 'string', enum: ['tiles', 'rekor-v1'] },
      origin: { type: 'string' },
      url: { type: 'string' },
      verifiedSize: maybe('integer', "The latest verified checkpoint's size; in a Rekor v1 tree after the first one followed, until a checkpoint of it verifies, where the trees before it end; null while bootstrapping (none verified yet)"),
      verifiedRoot: maybe('string', "The latest verified checkpoint's root hash, base64; null until a checkpoint of the current tree verifies"),
      upstreamSize: maybe('integer', "The log's latest signed size the mirror has seen (from its first poll, bootstrapping included); null before that"),
      lag: maybe('integer', 'Entries left to verify up to upstreamSize: from verifiedSize, or while bootstrapping from mirroredFrom; null while upstreamSize is'),
      state: { type: 'string', enum: ['bootstrapping', 'following', 'halted'], description: 'bootstrapping until the mirror has verified a checkpoint of the log, as /readyz and tlogwatch_log_state say' },
      lastVerifiedAt: maybe('string', 'When the latest verified checkpoint was verified (RFC 3339)'),
      mirroredFrom: { type: ['integer', 'null'], minimum: 0, description: 'The first index the mirror holds (where it is to start, for a log not bootstrapped yet); null for a log the store holds nothing of whose upstream has not answered yet' },
      halt: { type: 'object', required: ['code', 'message', 'at', 'evidence'], description: 'Why the log is halted, with the signed evidence' },
      transientError: { type: 'object', required: ['code', 'message', 'at', 'rounds'], description: 'While the latest rounds end in transient errors, the latest one' },
      stalled: { type: 'string', description: "While the log is stale (the daemon's mirror-stalled condition, as /readyz says), why; a log that never bootstrapped is judged alike" },
      witnesses: { type: 'object', required: ['quorum', 'of', 'verifiedCosignedBy'] },
      checkpointSources: { type: 'array', items: { type: 'object', required: ['source', 'result', 'checkedAt'] } },
    },
  },
};

export function buildOpenApi(): Record<string, unknown> {
  const get = (summary: string, parameters: unknown[] = [], schema?: unknown) => ({
    get: { summary, parameters, responses: { 200: schema ? { description: summary, content: { 'application/json': { schema } } } : ok(summary), 400: error, 404: error, 429: limited, 503: unavailable } },
  });
  const rekorGet = (summary: string, parameters: unknown[] = []) => ({ get: { summary, parameters, responses: { 200: ok(summary), ...rekorErrors } } });
  return {
    openapi: '3.1.0',
    info: { title: 'tlogwatch', version: VERSION, description: 'A verified mirror and monitor of Sigstore transparency logs.' },
    components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'api.adminToken from the config (an environment variable)' } } },
    paths: {
      '/v1/search': get('Entries by digest, identity, repository, repository owner, issuer, build signer or key fingerprint, newest first; with none of them, every fully indexed entry by time', queryParams(SearchQuery)),
      '/v1/entries/{log}/{index}': get('One mirrored entry', [LOG, INDEX, ...queryParams(EntryQuery)]),
      '/v1/entries/{log}/{index}/bundle': get('A Sigstore bundle v0.3 for the entry: the upstream SET, an inclusion proof up to the mirror\'s latest verified checkpoint, the signer\'s certificate or key and the signed content', [LOG, INDEX]),
      '/v1/entries/by-uuid/{uuid}': get('Entries with this leaf hash; an 80-hex Rekor v1 entry ID, only the one in its tree', [UUID]),
      '/v1/logs': get('State of every followed log', [], LOGS),
      '/v1/logs/{log}/checkpoints': get('Verified checkpoint history, newest first', [LOG, ...queryParams(PageQuery)]),
      '/v1/findings': get('Findings, newest first', queryParams(FindingsQuery)),
      '/v1/findings/{id}': get('One finding', [FINDING]),
      '/v1/findings/{id}/ack': {
        post: {
          summary: 'Acknowledge or suppress a finding, with a reason',
          ...admin,
          parameters: [FINDING],
          requestBody: jsonBody(AckBody),
          responses: { 200: ok('The finding with its new status'), 400: error, 401: unauthorized, 404: error, 429: limited, 503: unavailable },
        },
      },
      '/v1/bundles': {
        post: {
          summary: 'Hand the mirror a Sigstore bundle: stored and its provenance checked when it agrees with the log; a critical log-integrity finding when the log signed a disagreement',
          ...admin,
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', description: 'A Sigstore bundle v0.1–v0.3 or a Rekor v1 LogEntry response' } } } },
          responses: {
            200: ok('Per tlog entry: consistent (with its findings), pending or not-mirrored'),
            400: withError('Not a bundle, a log this mirror does not follow, proofs or signatures that fail, signatures, a certificate, a digest or a DSSE payload the tlog entry does not record, or a disagreement nothing signed by the log backs'),
            401: unauthorized,
            409: ok('A split view the log signed: the log-integrity finding with its evidence'),
            413: withError('Body larger than api.maxBodyBytes'),
            429: limited,
            503: unavailable,
          },
        },
      },
      '/v1/checkpoints': {
        post: {
          summary: "Hand the mirror a checkpoint seen elsewhere (a signed note): compared with the mirror's history of the log that signed it; a critical log-integrity finding when its root is not the mirror's at its size",
          ...admin,
          requestBody: {
            required: true,
            content: {
              'text/plain': { schema: { type: 'string', description: 'The checkpoint as a signed note (C2SP tlog-checkpoint)' } },
              'application/json': { schema: { type: 'object', required: ['checkpoint'], additionalProperties: false, properties: { checkpoint: { type: 'string' } } } },
            },
          },
          responses: {
            200: ok('{log, result: consistent | pending | not_comparable, size, reason?}'),
            400: withError('Not a checkpoint signed by a log this mirror follows'),
            401: unauthorized,
            409: ok('A split view the log signed: {log, result: split_view, size, finding}'),
            413: withError('Body larger than api.maxBodyBytes'),
            429: limited,
            503: unavailable,
          },
        },
      },
      '/api/v1/log': rekorGet('Rekor-compatible LogInfo of the mirrored Rekor v1 log', queryParams(LogInfoQuery)),
      '/api/v1/log/entries': rekorGet('Rekor-compatible LogEntry by logIndex', queryParams(LogEntriesQuery)),
      '/api/v1/log/entries/{uuid}': rekorGet('Rekor-compatible LogEntry by UUID or entry ID', [pathParam('uuid', ENTRY_UUID_PATTERN)]),
      '/api/v1/log/publicKey': {
        get: {
          summary: "Rekor-compatible public key of the log (PEM, application/x-pem-file): the trusted root's key, of the active tree or of the tree treeID names",
          parameters: queryParams(PublicKeyQuery),
          responses: { 200: { description: 'application/x-pem-file' }, ...rekorErrors },
        },
      },
      '/api/v1/log/proof': rekorGet('Rekor-compatible consistency proof: of the active tree, or of the tree treeID names (a retired shard, to its final size); rootHash is that tree\'s current (verified) root, as Rekor answers', queryParams(LogProofQuery)),
      '/api/v1/log/entries/retrieve': {
        post: {
          summary: 'Rekor-compatible batch retrieve (at most 10): entry IDs first, then UUIDs and proposed hashedrekord 0.0.1 entries (in every tree that holds them), then indexes',
          requestBody: jsonBody(RetrieveBody),
          responses: { 200: ok('LogEntry[]'), ...rekorErrors },
        },
      },
      '/api/v1/index/retrieve': {
        post: { summary: 'Rekor-compatible index search', requestBody: jsonBody(IndexRetrieveBody), responses: { 200: ok('UUIDs'), ...rekorErrors } },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text/plain' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { 200: ok('OpenAPI 3.1') } } },
      '/healthz': get('Process alive'),
      '/readyz': get('Store open and every log following'),
    },
  };
}
