/**
 * What an end-to-end test started, stopped after its tests: the daemons first (they read the simulators
 * and the other servers), then the simulators, the other servers, and the temporary directory. A
 * `beforeAll` that failed half-way leaves some of them unset; those are skipped rather than awaited.
 */
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Daemon } from '../../src/daemon.ts';
import type { Simulator } from '../sim/index.ts';

export async function stopAll(o: { daemons?: ReadonlyArray<Daemon | undefined>; sims?: ReadonlyArray<Simulator | undefined>; servers?: ReadonlyArray<Server | undefined>; dir: string }): Promise<void> {
  for (const d of o.daemons ?? []) await d?.stop();
  for (const s of o.sims ?? []) await s?.close();
  for (const s of o.servers ?? []) if (s) await new Promise((r) => s.close(r));
  rmSync(o.dir, { recursive: true, force: true });
}
