/** `tlogwatch serve`: the daemon (DESIGN.md "Stable contracts"). */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { startDaemon } from '../daemon.ts';
import { describeError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { whenStdoutCloses } from './output.ts';

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
      start: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('tlogwatch serve [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--rules DIR] [--trusted-root FILE] [--log TYPE=URL]... [--start N|latest]\n');
    return 0;
  }
  const config = loadConfig(values.config, {
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values.listen ? { listen: values.listen } : {}),
    ...(values.rules ? { rules: values.rules } : {}),
    ...(values['trusted-root'] ? { trustedRoot: values['trusted-root'] } : {}),
    ...(values.log ? { logs: values.log } : {}),
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
    const stop = (signal: string) => {
      logger.info({ signal }, 'signal received');
      daemon.stop().then(resolve, (e: unknown) => {
        logger.error({ err: describeError(e) }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
