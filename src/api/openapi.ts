/** /openapi.json, generated from the same zod schemas that validate the requests. */
import { z } from 'zod';
import { VERSION } from '../version.ts';
import { EntryQuery, FindingsQuery, PageQuery, SearchQuery } from './params.ts';

function queryParams(schema: z.ZodObject) {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: json.required?.includes(name) ?? false, schema: s }));
}

const error = { description: 'Error', content: { 'application/json': { schema: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } } } };
/** Any read can meet a store that is being reopened after a write fault (STORE_UNAVAILABLE); /readyz answers 503 when not ready. */
const unavailable = { ...error, description: 'Store unavailable (being reopened after a write fault), or not ready' };
const ok = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const pathParam = (name: string, pattern: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern } });

export function buildOpenApi(): Record<string, unknown> {
  const get = (summary: string, parameters: unknown[] = []) => ({ get: { summary, parameters, responses: { 200: ok(summary), 400: error, 404: error, 503: unavailable } } });
  return {
    openapi: '3.1.0',
    info: { title: 'tlogwatch', version: VERSION, description: 'A verified mirror and monitor of Sigstore transparency logs.' },
    paths: {
      '/v1/search': get('Entries by digest, identity, repository, repository owner, issuer, build signer or key fingerprint, newest first; with none of them, every fully indexed entry by time', queryParams(SearchQuery)),
      '/v1/entries/{log}/{index}': get('One mirrored entry', [pathParam('log', '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$'), pathParam('index', '^\\d+$'), ...queryParams(EntryQuery)]),
      '/v1/entries/by-uuid/{uuid}': get('Entries with this leaf hash', [pathParam('uuid', '^([0-9a-f]{16})?[0-9a-f]{64}$')]),
      '/v1/logs': get('State of every followed log'),
      '/v1/logs/{log}/checkpoints': get('Verified checkpoint history, newest first', [pathParam('log', '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$'), ...queryParams(PageQuery)]),
      '/v1/findings': get('Findings, newest first', queryParams(FindingsQuery)),
      '/api/v1/log': get('Rekor-compatible LogInfo of the mirrored Rekor v1 log'),
      '/api/v1/log/entries': get('Rekor-compatible LogEntry by logIndex', [{ name: 'logIndex', in: 'query', required: true, schema: { type: 'integer', minimum: 0 } }]),
      '/api/v1/log/entries/{uuid}': get('Rekor-compatible LogEntry by UUID or entry ID', [pathParam('uuid', '^([0-9a-f]{16})?[0-9a-f]{64}$')]),
      '/api/v1/log/proof': get('Rekor-compatible consistency proof'),
      '/api/v1/log/entries/retrieve': { post: { summary: 'Rekor-compatible batch retrieve (at most 10)', responses: { 200: ok('LogEntry[]'), 422: error, 503: unavailable } } },
      '/api/v1/index/retrieve': { post: { summary: 'Rekor-compatible index search', responses: { 200: ok('UUIDs'), 503: unavailable } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text/plain' } } } },
      '/healthz': get('Process alive'),
      '/readyz': get('Store open and every log following'),
    },
  };
}
