/**
 * `tlogwatch check [--config FILE] [--data-dir DIR] [--only NAME [--from N] [--to N]] [--json]`: the whole
 * store checked against itself and against what the mirror verified, log by log (sunlight's checker; an
 * operator's fsck after a disk incident, a restore, or before trusting a copied store):
 *
 * - entries: exactly the held range with no gap, each body hashing into the verified frontier (from leaf 0,
 *   or from the start's verified frontier), UUID and index keys exactly those the entries imply
 *   (store/check.ts);
 * - the stored tree: every leaf hash is its body's, every node with stored children is their hash, the
 *   verified checkpoint's root and the start's frontier read back from it, retired Rekor v1 trees complete
 *   with their final roots (store/check-tree.ts).
 *
 * With --from/--to, entries N..M of one log and what can be said of them from there (store/check-range.ts),
 * with the log's checks that read only a few records (the roots, the checkpoint history); what needs the
 * whole log is listed as not checked, so a range is never reported as checked where it was not.
 *
 * A store indexed at an older decoder epoch (entries/decoder-epoch.ts) awaits the re-index `serve` runs
 * (store/reindex.ts): its index keys are counted but not compared, and the check says so (stderr, and a
 * `not checked` line per log), rather than reporting each entry the decoder now reads differently.
 *
 * Reads only: nothing is repaired, and no finding is raised (the daemon's reverify and retiredShards jobs
 * raise store-integrity findings for the same damage as they sweep). The daemon must be stopped: it holds
 * the store's lock. Exit: 0 consistent, 1 problems found (or the store could not be read through), 2 usage,
 * config, or the store could not be opened.
 */
import { parseArgs } from 'node:util';
import type { ConfigKey } from '../config/load.ts';
import { ConfigSchema } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import { DECODER_EPOCH } from '../entries/decoder-epoch.ts';
import { checkLog } from '../store/check.ts';
import { checkRange, rangeRootName, type RangeRoot } from '../store/check-range.ts';
import { checkFindingRecords } from '../store/findings.ts';
import { checkCheckpointHistory, checkRetiredShards, checkTreeHashes, checkVerifiedRoot, type TreeHashesCheck } from '../store/check-tree.ts';
import { entriesHeld, heldRange, type LogState } from '../store/codec.ts';
import type { IndexMode } from '../store/index-values.ts';
import type { Store } from '../store/store.ts';
import { openConfiguredStore, unknownLog } from './offline-store.ts';

const USAGE = 'usage: tlogwatch check [--config FILE] [--data-dir DIR] [--only NAME [--from N] [--to N]] [--json]';
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
  --from N, --to N                with --only, only its entries from --from to --to (both included;
                                  default the first and last it holds): each entry, its index and UUID
                                  keys, its leaf hash and the stored nodes over it, and whether the
                                  bodies, with the stored hashes beside the range, rebuild the verified
                                  checkpoint's root; the log's roots and checkpoint history as always.
                                  What only the whole log shows is listed as not checked
  --json                          one JSON object per log on stdout, then one for the findings

A store indexed by an older tlogwatch, whose decoder derived less from some entries, awaits re-indexing
(tlogwatch serve does it in the background): until then its index keys are counted, not compared, and
the check says so.

Exit: 0 consistent, 1 problems found or the store could not be read through, 2 usage, config, a range
the store does not hold, or the store could not be opened.`;

const MAX_PROBLEMS = 100;

/**
 * Check reads where the store is and its index mode, nothing else: the daemon's secrets (`${VAR}` in
 * api, notify, checkpointSources) need not be set to check its store.
 */
const UNUSED = (Object.keys(ConfigSchema.shape) as ConfigKey[]).filter((k) => k !== 'dataDir' && k !== 'index');

interface LogReport {
  log: string;
  ok: boolean;
  /** With --from/--to: the entries checked (the report's counts are theirs). */
  range?: { from: string; to: string };
  entries: number;
  indexKeys: number;
  /**
   * Which root the bodies were hashed into: the whole log's (store/check.ts LogCheck.rootCheck), or a
   * range's: `checkpoint` signed ones (the verified checkpoint, retired trees' final ones), `frontier` the
   * state's (the range reaches past the verified checkpoint), `none` not all of the range's (see skipped).
   */
  bodiesHashedTo: 'full' | 'start-frontier' | 'none' | 'checkpoint' | 'frontier';
  /** A range's roots, one per tree it is in. */
  roots?: Array<{ from: string; to: string; against: RangeRoot['against']; tree: number; treeID?: string; size: string }>;
  tree: TreeHashesCheck;
  verifiedSize: string | null;
  problems: string[];
  /** Problems beyond the MAX_PROBLEMS listed. */
  more: number;
  /** With --from/--to: what was not checked, that a check of the whole log would have. */
  skipped?: string[];
}

/** Entries from..to (both included, virtual indexes) of the one log --only names. */
interface Range {
  from: bigint;
  to: bigint;
}

/** The problems of one log, at most MAX_PROBLEMS of them listed. */
function problemList(): { problems: string[]; problem: (p: string) => void; more: () => number } {
  const problems: string[] = [];
  let more = 0;
  return { problems, problem: (p) => void (problems.length < MAX_PROBLEMS ? problems.push(p) : more++), more: () => more };
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
  const { problems, problem, more } = problemList();
  const held = await store.getLogState(log).then((s) => (s ? entriesHeld(s) : 0n));
  const compare = await indexKeysComparable(store, log);
  const entries = await checkLog(store, log, watched ? 'recorded' : () => true, { progress: progressLine(log, 'entries and their keys', held), indexKeys: compare });
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
    more: more(),
    ...(compare ? {} : { skipped: [reindexSkipped(store)] }),
  };
}

/**
 * A store indexed by an older decoder (entries/decoder-epoch.ts) lacks, until `serve` has re-indexed it,
 * index keys the current decoder implies (store/reindex.ts): its index keys are counted, not compared,
 * rather than every entry the decoder now reads differently being reported as damage. Everything else
 * (bodies, roots, UUID keys, the stored tree) is checked as always.
 */
const awaitsReindex = (store: Store) => store.indexedEpoch < DECODER_EPOCH;

/**
 * Whether a log's index keys can be compared with what its entries imply: the store is at this decoder's
 * epoch, or the log's own re-index to it has finished (its progress `done`). Entries committed since were
 * indexed by this decoder: a tlogwatch with an older one refuses the store while a re-index to a newer
 * epoch is under way (store.ts, STORE_DECODER_EPOCH).
 */
async function indexKeysComparable(store: Store, log: string): Promise<boolean> {
  return !awaitsReindex(store) || (await store.getReindexProgress(log, DECODER_EPOCH))?.done === true;
}

function reindexSkipped(store: Store): string {
  return `whether the index keys are those the entries imply: the store was indexed by an older decoder (epoch ${store.indexedEpoch}, this tlogwatch's is ${DECODER_EPOCH}) and awaits re-indexing, which tlogwatch serve does in the background when it starts; check again once it logs "re-indexing done"`;
}

/**
 * Entries from..to of one log (store/check-range.ts), the stored tree over them (checkTreeHashes' window),
 * and the log's checks that read only a few records whatever its size: the verified root and the start's
 * frontier from the stored tree, the checkpoint history, the retired trees' final roots.
 */
async function checkPart(store: Store, log: string, state: LogState, watched: boolean, { from, to }: Range): Promise<LogReport> {
  const { problems, problem, more } = problemList();
  const size = to - from + 1n;
  const compare = await indexKeysComparable(store, log);
  const r = await checkRange(store, log, state, from, to, watched ? 'recorded' : () => true, problem, progressLine(log, 'entries and their keys', size), { indexKeys: compare });
  const tree = await checkTreeHashes(store, log, state, problem, progressLine(log, 'leaf hashes', size), { from, end: to + 1n });
  (await checkVerifiedRoot(store, log, state)).forEach(problem);
  (await checkCheckpointHistory(store, log, state)).forEach(problem);
  (await checkRetiredShards(store, log, { countEntries: false })).forEach(problem);
  const skipped = [
    ...(compare ? [] : [reindexSkipped(store)]),
    ...r.unhashed.map((u) => `the root their bodies rebuild, for ${u}`),
    `index and UUID keys that name an entry of ${from}..${to} it does not imply: they can be anywhere in the index, which only a check of the whole log reads`,
    'the entries outside the range, their keys and their leaf hashes',
    ...((state.shard?.seq ?? 0) > 0 ? ['whether each retired tree holds every entry (the entries of all of them counted); their final roots are rebuilt'] : []),
    FINDINGS_SKIPPED,
  ];
  return {
    log,
    ok: problems.length === 0,
    range: { from: from.toString(), to: to.toString() },
    entries: r.entries,
    indexKeys: r.indexKeys,
    bodiesHashedTo: r.unhashed.length ? 'none' : r.roots.some((x) => x.against === 'frontier') ? 'frontier' : 'checkpoint',
    roots: r.roots.map((x) => ({ ...x, from: x.from.toString(), to: x.to.toString(), size: x.size.toString() })),
    tree,
    verifiedSize: state.verified ? state.verified.size.toString() : null,
    problems,
    more: more(),
    skipped,
  };
}

const FINDINGS_SKIPPED = 'the findings: they belong to the whole store, checked without --only';

/**
 * --from/--to against what the store holds of the log: both within it (an index outside would check
 * nothing and pass). Absent, --from is the first entry held and --to the last.
 */
function rangeOf(state: LogState | undefined, log: string, from: bigint | undefined, to: bigint | undefined): Range | { error: string } {
  // No state: nothing mirrored yet, or a state lost, which a check of the whole log says.
  if (!state) return { error: `the store holds no state of ${log}: check it without --from and --to` };
  const held = heldRange(state);
  if (held.end <= held.start) return { error: `the store holds no entries of ${log}: there is nothing from --from to --to to check` };
  const holds = `the store holds entries ${held.start}..${held.end - 1n} of ${log}`;
  if (from !== undefined && (from < held.start || from >= held.end)) return { error: `${holds}; --from ${from} is not one of them` };
  if (to !== undefined && (to < held.start || to >= held.end)) return { error: `${holds}; --to ${to} is not one of them` };
  return { from: from ?? held.start, to: to ?? held.end - 1n };
}

/** `--from`/`--to`: a log index (as backfill's --to), undefined when absent, or the line that says what is wrong. */
function indexFlag(flag: string, v: string | undefined): bigint | undefined | { error: string } {
  if (v === undefined) return undefined;
  if (!/^(0|[1-9]\d{0,19})$/.test(v) || BigInt(v) >= 1n << 64n) return { error: `--${flag} must be a log index (0, 1, 2, …), got ${JSON.stringify(v)}` };
  return BigInt(v);
}

const n = (x: number) => x.toLocaleString('en-US');
/** A count and its noun, singular for one: "1 entry", "2 entries". */
const count = (x: number, one: string, many: string) => `${n(x)} ${x === 1 ? one : many}`;

function text(r: LogReport): string {
  const facts = [
    ...(r.range ? [`entries ${r.range.from}..${r.range.to}`] : []),
    count(r.entries, 'entry', 'entries'),
    count(r.indexKeys, 'index key', 'index keys'),
    `${count(r.tree.leaves, 'leaf hash', 'leaf hashes')} re-hashed from bodies`,
    r.tree.nodes === 1 ? '1 node from its children' : `${n(r.tree.nodes)} nodes from their children`,
    ...(r.roots ? r.roots.map((x) => rootFact(x, r.ok, r.roots!.length > 1)) : []),
    r.verifiedSize === null ? 'no verified checkpoint yet' : r.ok ? `root of the verified checkpoint (size ${r.verifiedSize}) rebuilt${r.roots ? ' from the stored tree' : ''}` : `verified checkpoint size ${r.verifiedSize}`,
  ];
  const head = `${r.ok ? 'ok' : 'FAILED'}\t${r.log}\t${facts.join(', ')}\n`;
  const skipped = (r.skipped ?? []).map((x) => `\tnot checked: ${x}\n`).join('');
  return head + r.problems.map((p) => `\t${p}\n`).join('') + (r.more ? `\t(${r.more} more)\n` : '') + skipped;
}

/** What a range's bodies were hashed into, as text: rebuilt when the log is ok, else only compared. */
function rootFact(x: NonNullable<LogReport['roots']>[number], ok: boolean, many: boolean): string {
  const which = rangeRootName(x);
  const whose = many ? `entries ${x.from}..${x.to}: ` : '';
  return ok ? `${whose}root of ${which} (size ${x.size}) rebuilt from their bodies and the stored hashes beside them` : `${whose}bodies hashed towards ${which} (size ${x.size})`;
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
  const { problems, problem, more } = problemList();
  const findings = await checkFindingRecords(store, problem);
  const ok = problems.length === 0;
  if (json) process.stdout.write(`${JSON.stringify({ findings, ok, problems, more: more() })}\n`);
  else process.stdout.write(`${ok ? 'ok' : 'FAILED'}\t(findings)\t${n(findings)} findings, each readable and in the time index\n${problems.map((p) => `\t${p}\n`).join('')}${more() ? `\t(${more()} more)\n` : ''}`);
  return ok;
}

export async function checkCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { config: { type: 'string' }, 'data-dir': { type: 'string' }, only: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    return fail(`${describeError(e)}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const from = indexFlag('from', values.from);
  const to = indexFlag('to', values.to);
  if (typeof from === 'object') return fail(from.error);
  if (typeof to === 'object') return fail(to.error);
  const ranged = from !== undefined || to !== undefined;
  // Indexes are per log: a range over every log would name different entries in each.
  if (ranged && values.only === undefined) return fail(`--from and --to are indexes of one log: give it with --only NAME\n${USAGE}`);
  if (from !== undefined && to !== undefined && from > to) return fail(`--from ${from} is after --to ${to}`);
  // Check changes nothing, so it does not upgrade an older schema in place either (store.ts).
  const opened = await openConfiguredStore({ config: values.config, dataDir: values['data-dir'] }, UNUSED);
  if ('error' in opened) return fail(opened.error);
  const { store, config } = opened;
  try {
    const mode = indexModeOf(store, values.config === undefined ? undefined : { file: values.config, mode: config.index });
    if (typeof mode === 'object') return fail(mode.error);
    if (awaitsReindex(store)) process.stderr.write(`tlogwatch check: the store awaits re-indexing (indexed by decoder epoch ${store.indexedEpoch}, this tlogwatch's is ${DECODER_EPOCH}): index keys are not compared with what the entries imply, but for logs whose re-index has finished; start tlogwatch serve, which re-indexes in the background, and check again once it logs "re-indexing done"\n`);
    const logs = store.logNamesKnown().sort();
    const unknown = values.only === undefined ? undefined : unknownLog(store, values.only);
    if (unknown !== undefined) return fail(unknown);
    if (ranged) return await checkRangeOf(store, values.only!, mode === 'watched', from, to, values.json === true);
    let failed = 0;
    const checked = values.only !== undefined ? [values.only] : logs;
    for (const log of checked) {
      const r = await checkOne(store, log, mode === 'watched');
      if (!r.ok) failed++;
      process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : text(r));
    }
    // The findings belong to no one log: checked with the whole store, not with --only.
    const findingsOk = values.only === undefined ? await checkFindings(store, values.json === true) : true;
    if (!values.json) {
      process.stderr.write(failed ? `${failed} of ${checked.length} log(s) have problems\n` : `${checked.length} log(s) consistent\n`);
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

/**
 * `--only NAME --from N --to M`: exit 2 when the range is not within what the store holds of the log.
 * A range that is all of it is the whole log's check (which also finds keys no entry implies).
 */
async function checkRangeOf(store: Store, log: string, watched: boolean, from: bigint | undefined, to: bigint | undefined, json: boolean): Promise<number> {
  const state = await store.getLogState(log);
  const range = rangeOf(state, log, from, to);
  if ('error' in range) return fail(range.error);
  const held = heldRange(state!);
  const r =
    range.from === held.start && range.to === held.end - 1n
      ? await checkOne(store, log, watched).then((one) => ({ ...one, range: { from: range.from.toString(), to: range.to.toString() }, skipped: [...(one.skipped ?? []), FINDINGS_SKIPPED] }))
      : await checkPart(store, log, state!, watched, range);
  process.stdout.write(json ? `${JSON.stringify(r)}\n` : text(r));
  if (!json) process.stderr.write(`entries ${range.from}..${range.to} of ${log} ${r.ok ? 'consistent, as far as checked (what was not is listed)' : 'have problems'}\n`);
  return r.ok ? 0 : 1;
}
