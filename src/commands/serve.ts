/** `tlogwatch serve`: the daemon (DESIGN.md "Stable contracts"). */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { startDaemon } from '../daemon.ts';
import { describeError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { startedByNpm, whenLauncherExits } from '../util/launcher.ts';
import { whenStdoutCloses } from './output.ts';

const HELP = `usage: tlogwatch serve [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--rules DIR] [--trusted-root FILE]
                       [--log TYPE=URL]... [--log-header-file NAME=FILE]... [--start N|latest]

The daemon: mirrors and verifies each configured log, evaluates the monitor rules on every entry, and
serves the API, the Rekor-compatible reads and /metrics. With no logs configured it follows the logs of
the Sigstore public-good trusted root, fetched via TUF. Once it serves it prints "listening URL" on
stdout; its logs are JSON lines on stderr. SIGTERM or Ctrl-C stops it after the batches in flight.

  --config FILE          the YAML configuration (docs/configuration.md); the flags below override it
  --data-dir DIR         dataDir, where the store is (default ./data)
  --listen HOST:PORT     listen (default 127.0.0.1:8080)
  --rules DIR            rules, the monitor rule files (reloaded when they change)
  --trusted-root FILE    trustedRoot, a trusted_root.json to use instead of TUF (offline)
  --log TYPE=URL         follow this log instead of the file's logs (TYPE tiles or rekor-v1); repeatable
  --log-header-file NAME=FILE
                         send the header NAME to the --log logs, its value read from FILE (a private
                         log: Authorization=/run/secrets/log_auth, the file holding "Bearer <token>");
                         repeatable. A file, never the secret: a command line is readable in ps
  --start N|latest       where a new mirror of each log begins (default latest)

Started through npm (npm run tlogwatch -- serve, npx tlogwatch serve) it also stops, with exit 0, when
npm ends, as a SIGTERM to npm makes it: npm's shell would not pass the signal on. Started any other way,
it runs on until it is stopped.

Exit: 0 stopped by SIGTERM or Ctrl-C, 2 when it cannot start (configuration, trust, store or address).
`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      rules: { type: 'string' },
      'trusted-root': { type: 'string' },
      log: { type: 'string', multiple: true },
      'log-header-file': { type: 'string', multiple: true },
      start: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  // Taken now: should npm end while the daemon starts, its PID is already gone when the daemon serves.
  const npm = startedByNpm(process.env);
  const launcher = process.ppid;
  const config = loadConfig(values.config, {
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values.listen ? { listen: values.listen } : {}),
    ...(values.rules ? { rules: values.rules } : {}),
    ...(values['trusted-root'] ? { trustedRoot: values['trusted-root'] } : {}),
    ...(values.log ? { logs: values.log } : {}),
    ...(values['log-header-file'] ? { logHeaderFiles: values['log-header-file'] } : {}),
    ...(values.start ? { start: values.start } : {}),
  });
  const logger = createLogger({ level: config.log.level });
  const daemon = await startDaemon(config, logger);
  // The "listening" line is for whoever started us (a script reading the URL); the daemon's own output
  // is its logs on stderr, so a reader of stdout that has gone away (or any write error there) must
  // not stop the mirror. Nothing else is written to stdout after this.
  whenStdoutCloses(() => logger.warn('stdout is closed or unwritable; tlogwatch serve keeps running and logs to stderr'));
  process.stdout.write(`listening ${daemon.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (why: Record<string, string>, message: string) => {
      logger.info(why, message);
      daemon.stop().then(resolve, (e: unknown) => {
        logger.error({ err: describeError(e) }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop({ signal: 'SIGTERM' }, 'signal received'));
    process.once('SIGINT', () => stop({ signal: 'SIGINT' }, 'signal received'));
    // Started by npm, the daemon stops with it: npm's `sh -c` does not pass a SIGTERM on (util/launcher.ts).
    if (npm) whenLauncherExits(() => stop({ launcher: npm }, `${npm} has ended, and its shell passes no signal on: stopping`), 250, launcher);
  });
  return 0;
}
