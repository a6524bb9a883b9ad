/** GET /v1/findings and POST /v1/findings/{id}/ack (admin token). */
import type { Hono } from 'hono';
import { SEVERITIES } from '../monitor/finding.ts';
import type { FindingsRepo } from '../store/findings.ts';
import type { ApiHelpers } from './app.ts';
import { apiError } from './errors.ts';
import { AckBody, FindingsQuery, NoQuery } from './params.ts';

export function findingsRoutes(app: Hono, h: ApiHelpers, repo: FindingsRepo, now: () => number = () => Math.floor(Date.now() / 1000)): void {
  app.get('/v1/findings', async (c) => {
    const q = h.query(c, FindingsQuery);
    return c.json(await repo.list({ limit: q.limit, ...(q.rule ? { rule: q.rule } : {}), ...(q.severity ? { severity: q.severity } : {}), ...(q.status ? { status: q.status } : {}), ...(q.since !== undefined ? { since: q.since } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) }));
  });
  app.get('/v1/findings/:id', async (c) => {
    h.query(c, NoQuery);
    const f = await repo.get(c.req.param('id'));
    if (!f) throw apiError('API_NOT_FOUND', 'no such finding');
    return c.json(f);
  });
  app.post('/v1/findings/:id/ack', async (c) => {
    h.requireAdmin(c);
    h.query(c, NoQuery);
    // Read outside the try: a body over api.maxBodyBytes is a 413, not a body that is not JSON.
    const text = await c.req.text();
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw apiError('API_BAD_REQUEST', 'body must be JSON: {"reason": "…"}');
    }
    const body = AckBody.safeParse(raw);
    if (!body.success) throw apiError('API_BAD_REQUEST', `${body.error.issues[0]?.path.join('.') ?? ''}: ${body.error.issues[0]?.message ?? 'invalid'}`);
    return c.json(await repo.setStatus(c.req.param('id'), body.data.status, body.data.reason, now()));
  });
}

export { SEVERITIES };
