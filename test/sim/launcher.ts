/**
 * Ending with the process that started this one. `npm run sim` and `npm run demo` run their script under
 * `sh -c` (npm's script shell); npm passes a SIGTERM on to that shell, which ends without passing it on to
 * its child. The child, re-parented (to init or a subreaper), kept running: a simulator serving on its port,
 * or the demo's daemon holding its store, with nobody left to stop them. Linux has no portable way to ask
 * for a signal when the parent dies (prctl PR_SET_PDEATHSIG is not reachable from Node), so the parent's
 * PID is polled: it changes exactly when the parent has gone.
 *
 * Used by the simulator CLI and the demo only; `tlogwatch serve` is meant to outlive a shell (nohup, &).
 */

/** Calls `onExit` once, soon after the parent process ends; the check keeps nothing alive on its own. */
export function whenLauncherExits(onExit: () => void, everyMs = 250): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, everyMs);
  timer.unref();
}
