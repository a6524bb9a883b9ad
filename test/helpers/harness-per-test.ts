/**
 * One harness (mirror.ts) per test, and the hostile proxy in front of its simulator if the test starts one
 * (hostile-proxy.ts), both closed after each test: the proxy first, since it reads the simulator. For test
 * files whose tests each start their own log, such as those of an upstream that misbehaves.
 */
import { afterEach } from 'vitest';
import type { FollowConfig, MirrorHooks } from '../../src/mirror/types.ts';
import { startHostileProxy, type Behaviour, type HostileProxy } from './hostile-proxy.ts';
import { followerAt, harness, type Harness } from './mirror.ts';

export interface HarnessPerTest {
  /** Starts the test's harness (mirror.ts harness). */
  harness: (...args: Parameters<typeof harness>) => Promise<Harness>;
  /** Starts the test's proxy in front of its harness's simulator, passing everything on unless `initial` answers. */
  proxy: (initial?: Behaviour) => Promise<HostileProxy>;
  /** The test's harness; throws before it started one. */
  readonly h: Harness;
  /** The state of the harness's log. */
  state: () => ReturnType<Harness['store']['getLogState']>;
  /** A follower of the harness's log through the test's proxy, with metrics of its own (mirror.ts followerAt). */
  followerVia: (more?: Partial<FollowConfig>, hooks?: MirrorHooks) => ReturnType<typeof followerAt>;
}

/** Registers the teardown with the test file's afterEach: call once, at the top of the file. */
export function harnessPerTest(): HarnessPerTest {
  let h: Harness | undefined;
  let proxy: HostileProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await h?.cleanup();
    proxy = undefined;
    h = undefined;
  });
  const started = <T>(what: string, v: T | undefined): T => {
    if (v === undefined) throw new Error(`the test has not started its ${what}`);
    return v;
  };
  return {
    harness: async (...args) => (h = await harness(...args)),
    proxy: async (initial) => (proxy = await startHostileProxy(started('harness', h).sim.url, initial)),
    get h() {
      return started('harness', h);
    },
    state: () => started('harness', h).store.getLogState('sim'),
    followerVia: (more, hooks) => followerAt(started('harness', h), started('proxy', proxy).url, more, hooks),
  };
}
