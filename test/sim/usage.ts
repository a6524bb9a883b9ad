/**
 * The simulator CLI's flags (DESIGN.md "Simulator:", a stable contract) and its --help, made from one table
 * so the usage cannot leave a flag out, and from faults.ts FAULT_HELP so it cannot leave a fault out.
 * A command line it refuses is a UsageError: one line, then where the options are (main.ts).
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { FAULT_HELP, FAULT_NAMES } from './faults.ts';

export const OPTIONS = {
  api: { type: 'string', default: 'tiles' },
  entries: { type: 'string' },
  out: { type: 'string' },
  port: { type: 'string' },
  seed: { type: 'string', default: '1' },
  rate: { type: 'string' },
  shards: { type: 'string' },
  witnesses: { type: 'string' },
  'mldsa-witnesses': { type: 'string' },
  prefix: { type: 'string' },
  inject: { type: 'string' },
  fault: { type: 'string', multiple: true, default: [] },
  workers: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** Each flag's value and meaning (a Record over OPTIONS: a flag added without its line does not compile). */
const FLAG_HELP: Record<keyof typeof OPTIONS, [value: string, meaning: string]> = {
  api: ['v1|tiles', 'Rekor v1 REST, or tlog-tiles as Rekor v2 serves them (default tiles)'],
  entries: ['N', 'initial entries, integrated over the week before 2026-11-16 (default 1000)'],
  out: ['DIR', 'where trusted_root.json, manifest.jsonl and the body files go (required)'],
  port: ['P', '127.0.0.1 port to serve on; 0 (default) picks a free one'],
  seed: ['S', 'entries, identities and keys derive from it (default 1)'],
  rate: ['R', 'append R entries a second while running, with a checkpoint every second'],
  shards: ['K', 'v1: spread the initial entries over K trees (the last active)'],
  witnesses: ['K', 'tiles: K Ed25519 witnesses cosign every checkpoint (keys in DIR/witnesses.vkeys)'],
  'mldsa-witnesses': ['K', 'tiles: K more witnesses, after those, cosign with ML-DSA-44'],
  prefix: ['PATH', "tiles: the URL path prefix (default /api/v2; '' for none)"],
  inject: ['FILE.jsonl', 'entries placed at chosen indexes (test/sim/README.md "Inject")'],
  fault: ['NAME[@PARAM]', 'a fault below; repeatable; misbehaviour arms once a first checkpoint was served'],
  workers: ['W', 'worker threads for the build (default: one per core when N >= 20,000)'],
  help: ['', 'print this and exit'],
};

/** The text `--help` prints: every flag of OPTIONS and every fault of FAULT_NAMES. */
export function usage(): string {
  const flag = (name: keyof typeof OPTIONS) => {
    const [value, meaning] = FLAG_HELP[name];
    const o: { type: string; short?: string } = OPTIONS[name];
    const short = o.short ? `-${o.short}, ` : '';
    return [`${short}--${name}${value ? ` ${value}` : ''}`, meaning] as const;
  };
  const flags = (Object.keys(OPTIONS) as Array<keyof typeof OPTIONS>).map(flag);
  const faults = FAULT_NAMES.map((n) => [FAULT_HELP[n].form, FAULT_HELP[n].effect] as const);
  const table = (rows: ReadonlyArray<readonly [string, string]>) => {
    const width = Math.max(...rows.map(([a]) => a.length)) + 2;
    return rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join('\n');
  };
  return `usage: npm run sim -- --out DIR [--api v1|tiles] [--entries N] [--port P] [--seed S] [--rate R] [--shards K]
         [--witnesses K] [--mldsa-witnesses K] [--prefix PATH] [--inject FILE.jsonl] [--fault NAME[@PARAM]]... [--workers W]

A Rekor-compatible transparency log on 127.0.0.1 for tests, benchmarks and demos (test/sim/README.md).
Once serving it prints exactly one line on stdout, "ready URL" (the log's base URL); everything else goes
to stderr. It stops on SIGTERM or Ctrl-C, and when the process that started it (npm, a script) ends.

${table(flags)}

Faults (--fault):
${table(faults)}

Exit: 0 stopped, 2 on a refused command line or when it cannot start.
`;
}

/** A command line the simulator refuses: said in one line, with where the options are. */
export class UsageError extends Error {}

/** The one line for a refused command line, and the hint; parseArgs's errors (ERR_PARSE_ARGS_*) are usage errors too. */
export function usageErrorText(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (!(e instanceof UsageError) && !(typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))) return undefined;
  // Node's text for an unknown flag goes on to explain `--` for positionals, which reads as the cause of a typo.
  const message = (e as Error).message.replace(/\. To specify a positional argument .*$/s, '');
  return `sim: ${message}\nRun 'npm run sim -- --help' for its options.`;
}
