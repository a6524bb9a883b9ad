/**
 * A command line that node:util parseArgs refused (a flag the command does not take, a flag without its
 * value), said as one line and where to look: the command's --help. Node's text for an unknown flag goes
 * on to explain `--` for positionals that start with '-', which reads as the cause when it is a typo.
 */
import { describeError } from '../errors.ts';

/** Whether `e` is parseArgs refusing the command line (its ERR_PARSE_ARGS_* codes). */
export function isFlagError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

export function flagErrorText(command: string, e: unknown): string {
  const message = describeError(e).replace(/\. To specify a positional argument .*$/s, '');
  return `tlogwatch ${command}: ${message}\nRun 'tlogwatch ${command} --help' for its options.`;
}
