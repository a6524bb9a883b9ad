/**
 * The API over a harness's store with an admin token, as the daemon serves its intake routes
 * (POST /v1/bundles, POST /v1/checkpoints): `extend` mounts them.
 */
import type { Hono } from 'hono';
import { createApp, type ApiHelpers } from '../../src/api/app.ts';
import { createLogger } from '../../src/logger.ts';
import type { Harness } from './mirror.ts';

export function adminApp(h: Harness, adminToken: string, extend: (app: Hono, helpers: ApiHelpers) => void): Hono {
  return createApp({
    store: h.store,
    metrics: h.metrics,
    logger: createLogger({ level: 'silent' }),
    logNames: () => ['sim'],
    adminToken,
    logKeyId: () => h.tlog.keyId,
    extend,
  });
}
