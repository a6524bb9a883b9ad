/**
 * `tlogwatch` command line (DESIGN.md "Stable contracts"). Dispatches to src/commands/*; each command
 * returns an exit code. Errors reaching here are printed as one line, never a stack trace.
 */
import { describeError } from './errors.ts';
import { VERSION } from './version.ts';

const USAGE = `tlogwatch ${VERSION}: a verified mirror and monitor of Sigstore's transparency logs

Usage:
  tlogwatch serve [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--rules DIR]
                  [--trusted-root FILE] [--log TYPE=URL]... [--start N|latest]
  tlogwatch verify [--trusted-root FILE] [--json] [--rules DIR] FILE...
  tlogwatch search --digest sha256:HEX | --identity SAN | --owner URI | ... [--since T] [--server URL] [--json]
  tlogwatch rules check DIR
  tlogwatch rules test DIR --data-dir DIR [--log NAME] [--from N] [--to N] [--json]
  tlogwatch backfill [serve's --config, --data-dir, --rules, --trusted-root, --log TYPE=URL]
                     [--only NAME] [--to N] [--batch-size N]
  tlogwatch check [--config FILE] [--data-dir DIR] [--only NAME] [--json]
  tlogwatch backup --data-dir DIR --out DIR | restore --from DIR --data-dir DIR

Run 'tlogwatch COMMAND --help' for a command's options.`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.ts')).serveCommand,
  verify: async () => (await import('./commands/verify.ts')).verifyCommand,
  search: async () => (await import('./commands/search.ts')).searchCommand,
  rules: async () => (await import('./commands/rules.ts')).rulesCommand,
  backfill: async () => (await import('./commands/backfill.ts')).backfillCommand,
  check: async () => (await import('./commands/check.ts')).checkCommand,
  backup: async () => (await import('./commands/backup.ts')).backupCommand,
  restore: async () => (await import('./commands/backup.ts')).restoreCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`tlogwatch: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    process.stderr.write(`tlogwatch ${name}: ${describeError(e)}\n`);
    return 2;
  }
}

/** Runs the CLI and sets the exit code; used by bin/tlogwatch.js and `node src/cli.ts`. */
export function run(argv: string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`tlogwatch: ${describeError(e)}\n`);
      process.exitCode = 2;
    },
  );
}

if (import.meta.main) run();
