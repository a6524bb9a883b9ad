/**
 * `tlogwatch check [--config FILE] [--data-dir DIR] [--only NAME] [--json]`: the whole store checked
 * against itself and against what the mirror verified, log by log (sunlight's checker; an operator's
 * fsck after a disk incident, a restore, or before trusting a copied store):
 *
 * - entries: exactly the held range with no gap, each body hashing into the verified frontier (from leaf 0,
 *   or from the start's verified frontier), UUID and index keys exactly those the entries imply
 *   (store/check.ts);
 * - the stored tree: every leaf hash is its body's, every node with stored children is their hash, the
 *   verified checkpoint's root and the start's frontier read back from it, retired Rekor v1 trees complete
 *   with their final roots (store/check-tree.ts).
 *
 * Reads only: nothing is repaired, and no finding is raised (the daemon's reverify and retiredShards jobs
 * raise store-integrity findings for the same damage as they sweep). The daemon must be stopped: it holds
 * the store's lock. Exit: 0 consistent, 1 problems found (or the store could not be read through), 2 usage,
 * config, or the store could not be opened.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type ConfigKey } from '../config/load.ts';
import { ConfigSchema } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import { checkLog } from '../store/check.ts';
import { checkFindingRecords } from '../store/findings.ts';
import { checkCheckpointHistory, checkRetiredShards, checkTreeHashes, checkVerifiedRoot, type TreeHashesCheck } from '../store/check-tree.ts';
import { entriesHeld } from '../store/codec.ts';
import type { IndexMode } from '../store/index-values.ts';
import type { Store } from '../store/store.ts';
import { openExistingStore, storeErrorText, unknownLog } from './offline-store.ts';

const USAGE = 'usage: tlogwatch check [--config FILE] [--data-dir DIR] [--only NAME] [--json]';
const HELP = `${USAGE}

Checks every mirrored log in the store, reading everything once: the entries are exactly the range the
mirror holds, their bodies hash into the verified tree, the index and UUID keys are exactly those the
entries imply, every stored tree hash is its children's (the hashes inclusion proofs are served from),
and the verified checkpoints' roots rebuild from them; then every finding's record reads back and is in
the findings' time index (not with --only). Nothing is changed. Stop tlogwatch serve first.

  --config FILE, --data-dir DIR   where the store is, given as tlogwatch serve is given it; which index
                                  keys each entry should have is the index mode the store records (a
                                  config with another index mode is refused)
  --only NAME                     only this log (default: every log in the store)
  --json                          one JSON object per log on stdout, then one for the findings

Exit: 0 consistent, 1 problems found or the store could not be read through, 2 usage, config, or the
store could not be opened.`;

const MAX_PROBLEMS = 100;

/**
 * Check reads where the store is and its index mode, nothing else: the daemon's secrets (`${VAR}` in
 * api, notify, checkpointSources) need not be set to check its store.
 */
const UNUSED = (Object.keys(ConfigSchema.shape) as ConfigKey[]).filter((k) => k !== 'dataDir' && k !== 'index');

interface LogReport {
  log: string;
  ok: boolean;
  entries: number;
  indexKeys: number;
  /** Which root the bodies were hashed into (store/check.ts LogCheck.rootCheck). */
  bodiesHashedTo: 'full' | 'start-frontier' | 'none';
  tree: TreeHashesCheck;
  verifiedSize: string | null;
  problems: string[];
  /** Problems beyond the MAX_PROBLEMS listed. */
  more: number;
}

function fail(message: string): number {
  process.stderr.write(`tlogwatch check: ${message}\n`);
  return 2;
}

/** How often a long check says how far it is, on stderr. */
const PROGRESS_EVERY_MS = 10_000;

/** A progress line at most every PROGRESS_EVERY_MS: `log: what done of total (pct%)`. */
function progressLine(log: string, what: string, total: bigint): (done: number) => void {
  let last = performance.now();
  return (done) => {
    const now = performance.now();
    if (now - last < PROGRESS_EVERY_MS) return;
    last = now;
    const pct = total > 0n ? ` (${((done / Number(total)) * 100).toFixed(0)}%)` : '';
    process.stderr.write(`tlogwatch check: ${log}: ${what} ${n(done)} of ${n(Number(total))}${pct}\n`);
  };
}

async function checkOne(store: Store, log: string, watched: boolean): Promise<LogReport> {
  const problems: string[] = [];
  let more = 0;
  const problem = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
    else more++;
  };
  const held = await store.getLogState(log).then((s) => (s ? entriesHeld(s) : 0n));
  const entries = await checkLog(store, log, watched ? 'recorded' : () => true, { progress: progressLine(log, 'entries and their keys', held) });
  entries.problems.forEach(problem);
  const state = entries.state;
  let tree: TreeHashesCheck = { leaves: 0, nodes: 0, uncovered: 0 };
  if (state) {
    tree = await checkTreeHashes(store, log, state, problem, progressLine(log, 'leaf hashes', held));
    (await checkVerifiedRoot(store, log, state)).forEach(problem);
    (await checkCheckpointHistory(store, log, state)).forEach(problem);
    (await checkRetiredShards(store, log)).forEach(problem);
  }
  return {
    log,
    ok: problems.length === 0,
    entries: entries.entries,
    indexKeys: entries.indexKeys,
    bodiesHashedTo: entries.rootCheck,
    tree,
    verifiedSize: state?.verified ? state.verified.size.toString() : null,
    problems,
    more,
  };
}

const n = (x: number) => x.toLocaleString('en-US');

function text(r: LogReport): string {
  const facts = [
    `${n(r.entries)} entries`,
    `${n(r.indexKeys)} index keys`,
    `${n(r.tree.leaves)} leaf hashes re-hashed from bodies`,
    `${n(r.tree.nodes)} nodes from their children`,
    r.verifiedSize === null ? 'no verified checkpoint yet' : r.ok ? `root of the verified checkpoint (size ${r.verifiedSize}) rebuilt` : `verified checkpoint size ${r.verifiedSize}`,
  ];
  const head = `${r.ok ? 'ok' : 'FAILED'}\t${r.log}\t${facts.join(', ')}\n`;
  return head + r.problems.map((p) => `\t${p}\n`).join('') + (r.more ? `\t(${r.more} more)\n` : '');
}

/**
 * Which index keys the entries should have: the index mode the store records (store.ts
 * recordedIndexMode), so that a check without --config does not take a `watched` store's digest-only
 * entries for damage. A configuration that says another mode is not the one the store was written with,
 * and is refused. A store from before the record is checked as the configuration says, else as
 * `index: all`, and the check says which it assumed.
 */
function indexModeOf(store: Store, given: { file: string; mode: IndexMode } | undefined): IndexMode | { error: string } {
  const recorded = store.recordedIndexMode;
  if (recorded !== undefined && given !== undefined && given.mode !== recorded) {
    return { error: `the store records index: ${recorded} (the mode its entries were written with), ${given.file} says index: ${given.mode}: give the configuration the store was written with, or check it as it records with --data-dir alone` };
  }
  if (recorded === undefined) {
    const mode = given?.mode ?? 'all';
    const why = given ? `as ${given.file} says` : 'every entry fully indexed; give --config if the daemon runs with index: watched';
    process.stderr.write(`tlogwatch check: the store does not record its index mode (written before tlogwatch recorded it): checked as index: ${mode}, ${why}\n`);
    return mode;
  }
  return recorded;
}

/**
 * The findings' records (store/findings.ts checkFindingRecords): one line after the logs', `ok` or
 * `FAILED` with the problems, or one JSON object `{"findings", "ok", "problems", "more"}`.
 */
async function checkFindings(store: Store, json: boolean): Promise<boolean> {
  const problems: string[] = [];
  let more = 0;
  const findings = await checkFindingRecords(store, (p) => (problems.length < MAX_PROBLEMS ? problems.push(p) : more++));
  const ok = problems.length === 0;
  if (json) process.stdout.write(`${JSON.stringify({ findings, ok, problems, more })}\n`);
  else process.stdout.write(`${ok ? 'ok' : 'FAILED'}\t(findings)\t${n(findings)} findings, each readable and in the time index\n${problems.map((p) => `\t${p}\n`).join('')}${more ? `\t(${more} more)\n` : ''}`);
  return ok;
}

export async function checkCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { config: { type: 'string' }, 'data-dir': { type: 'string' }, only: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    return fail(`${describeError(e)}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig(values.config, values['data-dir'] ? { dataDir: values['data-dir'] } : {}, process.env, { unused: UNUSED });
  } catch (e) {
    return fail(describeError(e));
  }
  let store: Store;
  try {
    // Check changes nothing, so it does not upgrade an older schema in place either (store.ts).
    store = await openExistingStore(join(config.dataDir, 'store'), 'nothing has been mirrored there', { upgrade: false });
  } catch (e) {
    return fail(storeErrorText(e));
  }
  try {
    const mode = indexModeOf(store, values.config === undefined ? undefined : { file: values.config, mode: config.index });
    if (typeof mode === 'object') return fail(mode.error);
    const logs = store.logNamesKnown().sort();
    const unknown = values.only === undefined ? undefined : unknownLog(store, values.only);
    if (unknown !== undefined) return fail(unknown);
    let failed = 0;
    for (const log of values.only !== undefined ? [values.only] : logs) {
      const r = await checkOne(store, log, mode === 'watched');
      if (!r.ok) failed++;
      process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : text(r));
    }
    // The findings belong to no one log: checked with the whole store, not with --only.
    const findingsOk = values.only === undefined ? await checkFindings(store, values.json === true) : true;
    if (!values.json) {
      process.stderr.write(failed ? `${failed} of ${logs.length} log(s) have problems\n` : `${logs.length} log(s) consistent\n`);
      if (!findingsOk) process.stderr.write('the findings have problems\n');
    }
    return failed || !findingsOk ? 1 : 0;
  } catch (e) {
    // A store too damaged to read through (STORE_CORRUPT from a value's decoding, a LevelDB read error).
    process.stderr.write(`tlogwatch check: the check could not finish: ${describeError(e)}\n`);
    return 1;
  } finally {
    await store.close();
  }
}
