/**
 * A 500 tells the client only "internal error", so the daemon's log is where an operator paged by
 * TlogwatchApiErrors finds what it was (docs/operations.md): every 500 is logged with its code and path,
 * including those from errors that carry a code (a damaged entry value in a real LevelDB: STORE_CORRUPT),
 * and nothing is logged for an error that is the client's (a 404).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { entryKey } from '../../../src/store/keys.ts';
import { harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';

let h: Harness;
const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  },
});

beforeAll(async () => {
  h = await harness({ api: 'tiles', entries: 50, seed: 'server-errors' });
  await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 50n);
  // Entry 7's value damaged on disk: a version byte and a length no decoder accepts.
  await h.store.entryDb.put(entryKey(await h.store.logId('sim'), 7), new Uint8Array([2, 1, 0, 0, 0, 9]));
});
afterAll(() => h?.cleanup());

describe('server errors in the log', () => {
  it('logs a 500 from a coded error with its code and path; the client gets only its code and "internal error"', async () => {
    const app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'error', destination: sink }), logNames: () => ['sim'] });
    const res = await app.request('/v1/entries/sim/7');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'STORE_CORRUPT', message: 'internal error' } });
    expect((await app.request('/v1/entries/sim/8')).status).toBe(200);
    expect((await app.request('/v1/entries/sim/999')).status).toBe(404);
    expect(lines.map((l) => [l['msg'], l['code'], l['path'], l['status']])).toEqual([['unhandled API error', 'STORE_CORRUPT', '/v1/entries/sim/7', 500]]);
    expect(lines[0]!['err']).toBe('entry sim/7: facts length overruns the value');
  });
});
