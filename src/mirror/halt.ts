/**
 * Halting a log on misbehaviour (DESIGN.md principle 2): the state keeps its last verified position, the
 * halt records the error and its evidence, and the `log-integrity` finding (from the hooks) commits in the
 * same atomic write. Sticky across restarts; shared by the follower and `backfill`.
 */
import type { TlogwatchError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { setLogState, type Metrics } from '../metrics.ts';
import type { LogState } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import type { MirrorHooks } from './types.ts';

export interface HaltDeps {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  hooks?: MirrorHooks;
}

/** Writes `state` as halted by `e` (unix seconds `at`) and returns what was written. */
export async function recordHalt(deps: HaltDeps, state: LogState, e: TlogwatchError, at: number): Promise<LogState> {
  const halted: LogState = { ...state, status: 'halted', halt: { code: e.code, message: e.message, at, evidence: { ...e.data } } };
  const ops = deps.hooks?.onIntegrity?.(state.name, e, halted, at) ?? [];
  await deps.store.putLogState(halted, ops);
  deps.metrics.verificationFailures.inc({ log: state.name, reason: e.code });
  setLogState(deps.metrics, state.name, 'halted');
  deps.logger.error({ log: state.name, code: e.code, err: e.message }, 'log misbehaved: halted at its last verified state');
  return halted;
}
