/**
 * Ending with the process that started this one. npm runs a script (`npm run sim`, `npm run demo`,
 * `npm run tlogwatch -- serve`) and a package's bin (`npx tlogwatch serve`, `npm exec`) under `sh -c`; npm
 * passes a SIGTERM on to that shell, which (dash, Debian's and Ubuntu's sh) ends without passing it on to
 * its child. The child, re-parented (to init or a subreaper), kept running: a simulator serving on its port,
 * a daemon holding its store and its listen address, with nobody left to stop them. Linux has no portable
 * way to ask for a signal when the parent dies (prctl PR_SET_PDEATHSIG is not reachable from Node), so the
 * parent's PID is polled: it changes exactly when the parent has gone.
 *
 * The simulator CLI and the demo always end so; `tlogwatch serve` and `backfill` only when npm started them
 * (`startedByNpm`): one started directly (`tlogwatch serve`, `nohup … &`, a container's entrypoint, a
 * systemd unit) is meant to outlive whatever started it and polls nothing.
 */

/**
 * Calls `onExit` once, soon after the process `parent` (default: this one's parent now) has ended; the
 * check keeps nothing alive on its own.
 */
export function whenLauncherExits(onExit: () => void, everyMs = 250, parent = process.ppid): void {
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, everyMs);
  timer.unref();
}

/**
 * How npm started this process, when it did, as a user would say it: `npm run tlogwatch` (the package's
 * script of that name: this repository's, or a user's own `"tlogwatch": "tlogwatch serve …"`), or `npx`
 * (`npx tlogwatch`, `npm exec`). npm names the script it runs in `npm_lifecycle_event` (`npx` for npm exec).
 * Any other npm script that runs tlogwatch is not taken for it: one may start the daemon to outlive npm
 * (`"start-bg": "nohup tlogwatch serve &"`), whose shell ends at once, and the variable is inherited by
 * everything such a script starts.
 */
export function startedByNpm(env: NodeJS.ProcessEnv): 'npm run tlogwatch' | 'npx' | undefined {
  const event = env['npm_lifecycle_event'];
  return event === 'tlogwatch' ? 'npm run tlogwatch' : event === 'npx' ? 'npx' : undefined;
}
