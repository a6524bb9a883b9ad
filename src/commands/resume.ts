/**
 * `tlogwatch resume NAME --reason TEXT [--config FILE] [--data-dir DIR] [--json]`: lifts a log's halt once
 * its cause is understood (store/resume.ts says what it keeps, rolls back and records). The daemon holds
 * the store while it runs, so this runs with it stopped, as check and backup do; the next `serve`
 * re-verifies the log from its last verified checkpoint.
 */
import { parseArgs } from 'node:util';
import type { ConfigKey } from '../config/load.ts';
import { ConfigSchema } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import { FindingsRepo } from '../store/findings.ts';
import { resumeLog } from '../store/resume.ts';
import type { Store } from '../store/store.ts';
import { openConfiguredStore, unknownLog } from './offline-store.ts';

const USAGE = 'usage: tlogwatch resume NAME --reason TEXT [--config FILE] [--data-dir DIR] [--json]';
const HELP = `${USAGE}

Lifts the halt of log NAME, once the evidence (GET /v1/findings?rule=log-integrity, /v1/logs) shows the
cause was not the log: a wrong key in a pinned trusted root, a configuration mistake, a path that served
bad bytes for several rounds. tlogwatch never lifts a halt on its own. Stop tlogwatch serve first.

What was verified is kept; the entries fetched beyond the last verified checkpoint are rolled back (their
index keys, tree hashes and values; findings raised on them are marked entryRolledBack). A log halted
before anything of it was verified or stored starts again as new. The next serve fetches and verifies
everything past the last verified checkpoint again: a log that really misbehaved halts again.

The log-integrity finding stays as it is (ack it through the API); the halt lifted, when, why and what
was rolled back are appended to the log's resume history in the store.

  NAME                            the log's name, as /v1/logs and the configuration give it
  --reason TEXT                   why the halt no longer stands (required; kept in the resume history)
  --config FILE, --data-dir DIR   where the store is, given as tlogwatch serve is given it
  --json                          the outcome as one JSON object on stdout

Exit: 0 resumed (or the log was not halted: nothing changed, said on stderr), 2 usage, config, no such
log, or the store could not be opened or written.`;

/** Resume reads where the store is, nothing else: the daemon's secrets need not be set. */
const UNUSED = (Object.keys(ConfigSchema.shape) as ConfigKey[]).filter((k) => k !== 'dataDir');

function fail(message: string): number {
  process.stderr.write(`tlogwatch resume: ${message}\n`);
  return 2;
}

/**
 * What a resume kept, in words. With no checkpoint of the current tree verified, the kept point is not
 * "its verified checkpoint" but where its entries start: the index the mirror was started at, or, for a
 * Rekor v1 log in a later tree, where the trees before it end (each verified against its final tree head).
 */
export function keptText(verifiedSize: bigint | undefined, kept: bigint): string {
  return verifiedSize === undefined
    ? `no checkpoint of its current tree was verified yet: kept up to entry ${kept}, where its entries start or the trees before it end`
    : `kept up to its verified checkpoint of size ${verifiedSize}`;
}

/** Open log-integrity findings of `log` raised at or after its halt (firstSeen), newest first. */
async function openIntegrityFindings(store: Store, log: string, since: number): Promise<string[]> {
  const { findings } = await new FindingsRepo(store).list({ rule: 'log-integrity', status: 'open', since, limit: 100 });
  return findings.filter((f) => f.log === log).map((f) => f.id);
}

export async function resumeCommand(argv: string[]): Promise<number> {
  // A refused flag throws: cli.ts says it in one line with where the options are (flag-error.ts).
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { reason: { type: 'string' }, config: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) return fail(`give exactly one log name\n${USAGE}`);
  const name = positionals[0]!;
  if (values.reason === undefined || values.reason.trim() === '') return fail(`--reason is required: say why the halt no longer stands (it is kept in the log's resume history)\n${USAGE}`);
  const opened = await openConfiguredStore({ config: values.config, dataDir: values['data-dir'] }, UNUSED);
  if ('error' in opened) return fail(opened.error);
  const { store } = opened;
  try {
    const unknown = unknownLog(store, name);
    if (unknown !== undefined) return fail(unknown);
    const at = Math.floor(Date.now() / 1000);
    const outcome = await resumeLog(store, name, values.reason, at);
    if (!outcome.resumed) {
      if (values.json) process.stdout.write(`${JSON.stringify({ log: name, resumed: false, state: outcome.status })}\n`);
      process.stderr.write(`tlogwatch resume: ${name} is not halted (${outcome.status}): nothing to resume\n`);
      return 0;
    }
    const r = outcome.record;
    const findings = await openIntegrityFindings(store, name, r.halt.at);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ log: name, resumed: true, halt: r.halt, reason: r.reason, reset: r.reset, rolledBack: r.rolledBack, verifiedSize: outcome.verifiedSize?.toString() ?? null, keptSize: outcome.fetched.toString(), openFindings: findings })}\n`,
      );
      return 0;
    }
    const halted = `halted ${new Date(r.halt.at * 1000).toISOString()} by ${r.halt.code}: ${r.halt.message}`;
    const next = r.reset
      ? 'nothing of it was verified or stored: the next tlogwatch serve mirrors it as new, from its configured start'
      : `${keptText(outcome.verifiedSize, outcome.fetched)}; ${r.rolledBack} entries fetched beyond it were rolled back; the next tlogwatch serve fetches and verifies from there`;
    process.stdout.write(`resumed ${name} (${halted})\n  ${next}\n`);
    if (findings.length) process.stdout.write(`  open log-integrity finding(s), left as they are: ${findings.join(', ')} (POST /v1/findings/ID/ack once handled)\n`);
    return 0;
  } catch (e) {
    return fail(describeError(e));
  } finally {
    await store.close();
  }
}
