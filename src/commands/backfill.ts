/**
 * `tlogwatch backfill [serve's configuration flags] [--only NAME] [--to N] [--batch-size N]`: fills in the
 * entries before where each log's mirror started, verified as strictly as the forward mirror
 * (src/mirror/backfill.ts), with the config's rules evaluated on them. The configuration is resolved as
 * serve resolves it (the same file and the same flags), so the logs carry the names the daemon gave
 * them. The daemon must be stopped: it holds the store's lock, and the store has one writer per log.
 *
 * Exit codes: 0 done or nothing to do; 1 the log misbehaved (it is halted, with a log-integrity finding)
 * or was already halted; 2 usage, config, trust or store problems, or a log not ready to backfill; 3 the log
 * could not be read (nothing is lost: run again to resume); 130/143 stopped by SIGINT/SIGTERM, or 143 when
 * the npm that started it ends (util/launcher.ts) (run again to resume): the requests in flight are aborted
 * and the batch they were for is not committed, a batch already fetched commits first; a second signal
 * exits at once.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type ConfigKey } from '../config/load.ts';
import { anotherLogUnder, followedLogs, findingWriter, channelsOf, mirrorHooks, mirroredLogs, trustOptionsOf } from '../daemon.ts';
import { describeError, isTlogwatchError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { createMetrics } from '../metrics.ts';
import { Backfiller, type BackfillResult } from '../mirror/backfill.ts';
import { loadRules } from '../monitor/load.ts';
import type { RuleSet } from '../monitor/compile.ts';
import { Store } from '../store/store.ts';
import { storeErrorText } from './offline-store.ts';
import { startedByNpm, whenLauncherExits } from '../util/launcher.ts';
import { resolveTrust } from '../trust/tuf.ts';
import { checkpointVerifierForTlog, rekorV1KeysOf, setKeyForTlog, type TrustedRoot } from '../trust/trusted-root.ts';
import { CertificateAuthorities } from '../trust/certificate-authority.ts';

const USAGE = 'usage: tlogwatch backfill [--config FILE] [--data-dir DIR] [--rules DIR] [--trusted-root FILE] [--log TYPE=URL]... [--log-header-file NAME=FILE]... [--only NAME] [--to N] [--batch-size N]';
const HELP = `${USAGE}

Fills in the entries before where each configured log's mirror started (start: latest or N), down to
index N (--to; default 0), verified like the forward mirror, with the config's rules evaluated on them.
Rekor v1: the shard the mirror started in, then the shards retired before it, each verified against its
final signed tree head with the trusted root's key for it. Stop tlogwatch serve first. Ctrl-C stops at
once on a slow or stalled log: requests in flight are abandoned (their batch is not stored), a batch
already fetched is stored first; run again to resume. A second Ctrl-C exits without waiting. Started
through npm (npm run tlogwatch -- backfill), it stops so when npm ends too, as on SIGTERM.

  --config FILE, --data-dir DIR, --rules DIR, --trusted-root FILE, --log TYPE=URL, --log-header-file NAME=FILE
                     the configuration tlogwatch serve runs with, given the same way (a file, flags
                     that override it, or flags alone: with no logs, the Sigstore public-good logs)
  --only NAME        only this log (default: every configured log)
  --to N             stop at index N (default 0, the log's first entry)
  --batch-size N     entries per verified, atomically committed batch (10..100000; default the log's batchSize)

Exit: 0 done, 1 log misbehaviour (the log is halted), 2 usage/config/store, 3 upstream unavailable (run again),
130/143 interrupted (run again).`;

const EXIT = { ok: 0, misbehaviour: 1, usage: 2, transient: 3 } as const;

/**
 * What backfill never reads of serve's configuration, so the `${VAR}` secrets there (the admin token, a
 * peer's token) need not be set. `notify` is read: the findings backfill raises are queued for each
 * configured channel (the outbox, delivered by the next serve), so it takes that section as serve does,
 * variables included.
 */
const UNUSED: readonly ConfigKey[] = ['listen', 'api', 'checkpointSources', 'jobs', 'stalledAfter'];

function fail(message: string, code: number = EXIT.usage): number {
  process.stderr.write(`tlogwatch backfill: ${message}\n`);
  return code;
}

/** Exit code of a failed log, and the line that says what to do. */
function classify(e: unknown): { code: number; message: string } {
  const text = describeError(e);
  if (isTlogwatchError(e) && e.kind === 'misbehaviour') return { code: EXIT.misbehaviour, message: `${text}; nothing of that batch was committed, the log is halted and a log-integrity finding records the evidence` };
  if (isTlogwatchError(e, 'BACKFILL_REFUSED')) return { code: e.data['reason'] === 'halted' ? EXIT.misbehaviour : EXIT.usage, message: text };
  if (isTlogwatchError(e) && e.kind === 'transient') return { code: EXIT.transient, message: `${text}; what was committed stays, run again to resume` };
  return { code: EXIT.usage, message: text };
}

function report(r: BackfillResult): string {
  const out: string[] = [];
  if (r.status === 'nothing-to-do') out.push(`nothing to backfill: the mirror holds the log from index ${r.after}${r.target > r.floor ? ` (--to ${r.target})` : ''}`);
  else if (r.status === 'complete') out.push(`done: ${r.entries} entries verified and stored; the mirror now holds the log from index ${r.after}`);
  else out.push(`stopped after ${r.entries} entries; the mirror holds the log from index ${r.after}: run again to resume`);
  if (r.floor > 0n && r.after === r.floor) {
    out.push(`entries before index ${r.floor} are in Rekor v1 shards retired before this mirror started, whose final tree heads it has not verified yet: run tlogwatch serve until GET /api/v1/log answers, then backfill again`);
  }
  return out.map((l) => `backfill ${r.log}: ${l}\n`).join('');
}

export async function backfillCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        rules: { type: 'string' },
        'trusted-root': { type: 'string' },
        log: { type: 'string', multiple: true },
        'log-header-file': { type: 'string', multiple: true },
        only: { type: 'string' },
        to: { type: 'string' },
        'batch-size': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    return fail(`${describeError(e)}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  // Taken now: should npm end while trust and the store are read, its PID is already gone by the first batch.
  const npm = startedByNpm(process.env);
  const launcher = process.ppid;
  if (values.to !== undefined && !/^(0|[1-9]\d{0,19})$/.test(values.to)) return fail(`--to must be a log index (0, 1, 2, …), got ${JSON.stringify(values.to)}`);
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (batchSize !== undefined && !(/^\d+$/.test(values['batch-size']!) && batchSize >= 10 && batchSize <= 100_000)) {
    return fail(`--batch-size must be a whole number from 10 to 100000, got ${JSON.stringify(values['batch-size'])}`);
  }
  const to = values.to === undefined ? undefined : BigInt(values.to);

  let config;
  try {
    // The configuration serve resolves from the same file and flags (commands/serve.ts), so a daemon run
    // from flags alone (the Docker Compose service) is backfilled with the same flags.
    config = loadConfig(values.config, {
      ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
      ...(values.rules ? { rules: values.rules } : {}),
      ...(values['trusted-root'] ? { trustedRoot: values['trusted-root'] } : {}),
      ...(values.log ? { logs: values.log } : {}),
      ...(values['log-header-file'] ? { logHeaderFiles: values['log-header-file'] } : {}),
    }, process.env, { unused: UNUSED });
  } catch (e) {
    return fail(describeError(e));
  }
  // Before trust: with nothing mirrored there is nothing to do, and no reason to reach TUF.
  const storeDir = join(config.dataDir, 'store');
  if (!existsSync(join(storeDir, 'CURRENT'))) return fail(`no store at ${storeDir}: nothing has been mirrored yet (run tlogwatch serve first)`);
  const logger = createLogger({ level: config.log.level });
  let logs;
  let trust: TrustedRoot;
  let rules: RuleSet = { rules: [] };
  try {
    trust = await resolveTrust(trustOptionsOf(config, logger));
    // Configured logs are checked against the root before the store opens; without any, the logs come from
    // the root and the store together, below.
    logs = config.logs.length ? followedLogs(config, trust, new Date()) : [];
    if (config.rules) rules = loadRules(config.rules, undefined, (message) => process.stderr.write(`${message}\n`));
  } catch (e) {
    return fail(describeError(e));
  }
  let store: Store;
  try {
    store = await Store.open(storeDir, { indexMode: config.index, createIfMissing: false, onUpgrade: (message, data) => logger.info(data, message) });
    // Without configured logs, also the root's logs this store mirrors whose keys have expired since (as serve follows them).
    if (config.logs.length === 0) logs = followedLogs(config, trust, new Date(), await mirroredLogs(store, trust, new Date()));
  } catch (e) {
    return fail(storeErrorText(e));
  }
  if (values.only !== undefined) {
    logs = logs.filter((l) => l.follow.name === values.only);
    if (logs.length === 0) {
      await store.close();
      return fail(`no log named ${values.only} in the configuration`);
    }
  }

  const metrics = createMetrics({ defaultMetrics: false });
  // The daemon's writer and hooks: findings from history are stored and queued for the channels, and
  // delivered by the notifier the next time tlogwatch serve runs.
  const write = findingWriter(channelsOf(config));
  const authorities = new CertificateAuthorities(trust.certificateAuthorities);
  const hooks = mirrorHooks(() => rules, metrics, logger, write, undefined, () => authorities);
  const abort = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals, why: string) => {
    if (stoppedBy) process.exit(signal === 'SIGINT' ? 130 : 143); // a second signal: at once (each batch is one atomic write)
    stoppedBy = signal;
    // The sources' requests carry this signal (mirror/backfill.ts): a stalled log does not hold the stop
    // for its timeouts and retries. A batch already fetched still commits, whole.
    process.stderr.write(`tlogwatch backfill: ${why}: stopping: requests in flight are abandoned, a batch already fetched is stored first (again to stop at once)\n`);
    abort.abort();
  };
  // Node passes a listener the signal's number too, which must not become `why`.
  const onSignal = (signal: NodeJS.Signals) => stop(signal, signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Started by npm, it stops with npm as on a SIGTERM, which npm's `sh -c` does not pass on: left running it
  // would hold the store serve needs (util/launcher.ts). Not a second signal after one that reached it.
  if (npm) {
    whenLauncherExits(() => {
      if (!stoppedBy) stop('SIGTERM', `${npm} has ended, and its shell passes no signal on`);
    }, 250, launcher);
  }

  let code: number = EXIT.ok;
  const worse = (c: number) => {
    const rank = [EXIT.ok, EXIT.transient, EXIT.usage, EXIT.misbehaviour];
    if (rank.indexOf(c as 0) > rank.indexOf(code as 0)) code = c;
  };
  try {
    for (const { follow, tlog } of logs) {
      if (abort.signal.aborted) break;
      // The log's own key for the tree the mirror started in; for the trees before it, whichever of the log's
      // keys in the trusted root signed each one (mirror/backfill-trees.ts).
      const keys = tlog.type === 'rekor-v1' ? rekorV1KeysOf(trust, tlog) : undefined;
      const backfiller = new Backfiller(follow, { store, metrics, logger, verifiers: [checkpointVerifierForTlog(tlog)], setKey: setKeyForTlog(tlog), ...(keys ? { keys } : {}), hooks });
      try {
        const state = await store.getLogState(follow.name);
        const other = anotherLogUnder(state, follow);
        if (other) {
          process.stderr.write(`tlogwatch backfill: ${other}\n`);
          worse(EXIT.usage);
          continue;
        }
        if (!state || state.status === 'bootstrapping') {
          process.stdout.write(`backfill ${follow.name}: nothing to backfill: the log has not been mirrored yet\n`);
          continue;
        }
        const result = await backfiller.run({
          ...(to !== undefined ? { to } : {}),
          ...(batchSize !== undefined ? { batchSize } : {}),
          signal: abort.signal,
          onBatch: (p) => process.stdout.write(`backfill ${p.log}: verified and stored [${p.from}, ${p.to}); ${p.from - p.target} to go\n`),
        });
        process.stdout.write(report(result));
      } catch (e) {
        const { code: c, message } = classify(e);
        process.stderr.write(`tlogwatch backfill: ${follow.name}: ${message}\n`);
        worse(c);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
  }
  if (code === EXIT.ok && stoppedBy) return stoppedBy === 'SIGINT' ? 130 : 143;
  return code;
}
