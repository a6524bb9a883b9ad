/**
 * `tlogwatch` command line (DESIGN.md "Stable contracts"). Dispatches to src/commands/*; each command
 * returns an exit code. Errors reaching here are printed as one line, never a stack trace.
 */
import { flagErrorText, isFlagError } from './commands/flag-error.ts';
import { closedStdoutReaction } from './commands/output.ts';
import { describeError } from './errors.ts';
import { VERSION } from './version.ts';

const USAGE = `tlogwatch ${VERSION}: a verified mirror and monitor of Sigstore's transparency logs

Usage:
  tlogwatch serve [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--rules DIR]
                  [--trusted-root FILE] [--log TYPE=URL]... [--log-header-file NAME=FILE]...
                  [--start N|latest]
  tlogwatch verify [--trusted-root FILE | --tuf-mirror URL --tuf-root FILE] [--json] [--rules DIR]
                   [--witness VKEY]... [--witness-quorum N] FILE...
  tlogwatch search --digest sha256:HEX | --identity SAN | --owner URI | ... [--since T] [--until T]
                   [--limit N | --all] [--server URL] [--json]
  tlogwatch rules check DIR
  tlogwatch rules test DIR --data-dir DIR [--log NAME] [--from N] [--to N] [--trusted-root FILE] [--json]
  tlogwatch backfill [serve's --config, --data-dir, --rules, --trusted-root, --log, --log-header-file]
                     [--only NAME] [--to N] [--batch-size N]
  tlogwatch check [--config FILE] [--data-dir DIR] [--only NAME [--from N] [--to N]] [--json]
  tlogwatch resume NAME --reason TEXT [--config FILE] [--data-dir DIR] [--json]
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
  resume: async () => (await import('./commands/resume.ts')).resumeCommand,
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
    process.stderr.write(`${isFlagError(e) ? flagErrorText(name, e) : `tlogwatch ${name}: ${describeError(e)}`}\n`);
    return 2;
  }
}

/**
 * 128 + SIGPIPE: the status of a command whose reader went away (`tlogwatch search … | head -1`). git,
 * coreutils and Go programs (cosign, rekor-cli) end so, killed by SIGPIPE at their next write; Node
 * ignores SIGPIPE and reports EPIPE instead, which unhandled is a stack trace. A shell pipeline's status is
 * the last command's (head's 0); with `set -o pipefail` it is 141, as for `git log | head -1`: the command
 * did not finish, so its status must not say that it did (exit 0 from check or verify is a verdict).
 */
export const EXIT_CLOSED_PIPE = 141;

/**
 * Every command's output, centrally: when stdout's reader has gone (EPIPE, at the write after it closed),
 * the command ends there, quietly, as if SIGPIPE had ended it, unless it said otherwise (serve keeps
 * running: commands/output.ts). Nothing is lost by not finishing: the store's writes are atomic batches,
 * which a kill -9 leaves consistent too. Any other write error (a full disk under `> file`) is one line on
 * stderr, exit 2.
 */
function endOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      const react = stream === process.stdout ? closedStdoutReaction() : undefined;
      if (react) return react();
      if (e.code === 'EPIPE') process.exit(EXIT_CLOSED_PIPE);
      if (stream === process.stdout) process.stderr.write(`tlogwatch: cannot write the output: ${describeError(e)}\n`);
      process.exit(2);
    });
  }
}

/** Runs the CLI and sets the exit code; used by bin/tlogwatch.js and `node src/cli.ts`. */
export function run(argv: string[] = process.argv.slice(2)): void {
  endOnClosedOutput();
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
