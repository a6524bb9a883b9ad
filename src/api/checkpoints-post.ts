/**
 * POST /v1/checkpoints (admin token): hand the mirror a checkpoint seen elsewhere (a client's bundle, a
 * witness, another monitor) as a signed note, `text/plain`, or `{"checkpoint": "<note>"}`. It is judged the
 * way checkpoint sources are (monitor/checkpoint-sources.ts `judgeCheckpoint`): a note no followed log
 * signed proves nothing (400); one whose root is not the mirror's at its size is a split view the log
 * signed (409, a critical log-integrity finding with both checkpoints); otherwise consistent, pending (past
 * what the mirror has verified; post it again later) or not comparable (200). Nothing else is stored.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { describeError } from '../errors.ts';
import { judgeCheckpoint, type CheckpointSourcesOptions } from '../monitor/checkpoint-sources.ts';
import { verifyLogCheckpoint, type SignedTree } from '../trust/log-checkpoint.ts';
import type { TlogTrust } from '../trust/trusted-root.ts';
import type { ApiHelpers } from './app.ts';
import { apiError } from './errors.ts';

export interface CheckpointIntake extends Pick<CheckpointSourcesOptions, 'store' | 'logger' | 'raiser'> {
  /** The followed logs: their names, keys and origins (Rekor v1: the signer name). */
  logs: ReadonlyArray<{ name: string; tlog: TlogTrust; origin?: string }>;
  now?: () => number;
}

const JsonBody = z.object({ checkpoint: z.string().min(1) }).strict();

export function checkpointIntakeRoutes(app: Hono, h: ApiHelpers, x: CheckpointIntake): void {
  app.post('/v1/checkpoints', async (c) => {
    h.requireAdmin(c);
    const text = await c.req.text();
    let note = text;
    if ((c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      try {
        note = JsonBody.parse(JSON.parse(text)).checkpoint;
      } catch (e) {
        throw apiError('API_BAD_REQUEST', `expected {"checkpoint": "<signed note>"}: ${describeError(e)}`);
      }
    }
    // The log whose key verifies it; each refusal says why, for a note that is nobody's.
    const why: string[] = [];
    let found: { log: string; signed: SignedTree } | undefined;
    for (const l of x.logs) {
      try {
        found = { log: l.name, signed: verifyLogCheckpoint(note, l.tlog, l.origin ?? l.tlog.name) };
        break;
      } catch (e) {
        why.push(`${l.name}: ${describeError(e)}`);
      }
    }
    if (!found) throw apiError('API_BAD_REQUEST', `not a checkpoint signed by a log this mirror follows (${why.join('; ') || 'no logs followed'})`);
    const at = Math.floor((x.now ?? Date.now)() / 1000);
    const state = await x.store.getLogState(found.log);
    const size = Number(found.signed.size);
    if (!state?.verified) return c.json({ log: found.log, result: 'pending', size, reason: 'the mirror has not verified a checkpoint of this log yet; post it again later' }, 200);
    const r = await judgeCheckpoint(x, { source: 'POST /v1/checkpoints', shownBy: 'a checkpoint posted to /v1/checkpoints' }, found.log, state, found.signed, at);
    return c.json(
      { log: r.log, result: r.result, size, ...(r.reason !== undefined && r.result !== 'split_view' ? { reason: r.reason } : {}), ...(r.finding ? { finding: r.finding } : {}) },
      r.result === 'split_view' ? 409 : 200,
    );
  });
}
