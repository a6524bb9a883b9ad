/**
 * `tlogwatch rules check DIR`: validate rule files (file:line:column errors, exit 1 when invalid).
 * `tlogwatch rules test DIR --data-dir DIR [--log NAME] [--from N] [--to N] [--trusted-root FILE]`: replay
 * mirrored entries through the rules and print what would have fired, without storing or notifying (stop
 * `serve` first: the store is locked while the daemon runs); with a trusted root, each finding says which of
 * its CAs issued the certificate, as the daemon's do.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { forTerminal } from '../util/terminal.ts';
import { decodeEntryValue } from '../store/entry-value.ts';
import { describeError } from '../errors.ts';
import { flagErrorText } from './flag-error.ts';
import { evaluateLogged } from '../monitor/evaluate.ts';
import { CertificateAuthorities } from '../trust/certificate-authority.ts';
import { loadTrustedRootFile } from '../trust/tuf.ts';
import { withStatement } from '../mirror/ingest.ts';
import { checkRules, formatRuleErrors, formatRuleWarnings, noRuleFilesWarning, readRuleFiles } from '../monitor/load.ts';
import type { RuleSet } from '../monitor/compile.ts';
import { Bucket, entryKey, key, prefixEnd, u16 } from '../store/keys.ts';
import type { Store } from '../store/store.ts';
import { openExistingStore, storeErrorText, unknownLog } from './offline-store.ts';

export async function rulesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'data-dir': { type: 'string' }, 'trusted-root': { type: 'string' }, log: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    process.stderr.write(`${flagErrorText('rules', e)}\n`);
    return 2;
  }
  const usage = 'usage: tlogwatch rules check DIR | tlogwatch rules test DIR --data-dir DIR [--log NAME] [--from N] [--to N] [--trusted-root FILE] [--json]\n';
  if (values.help || sub === '--help' || sub === '-h') {
    process.stdout.write(usage + HELP);
    return 0;
  }
  const dir = positionals[0];
  if ((sub !== 'check' && sub !== 'test') || !dir) {
    process.stderr.write(usage);
    return 2;
  }
  let checked;
  try {
    const files = readRuleFiles(dir);
    if (files.length === 0) process.stderr.write(`warning: ${noRuleFilesWarning(dir)}\n`);
    checked = checkRules(files);
  } catch (e) {
    process.stderr.write(`tlogwatch rules: cannot read ${dir}: ${describeError(e)}\n`);
    return 2;
  }
  if (checked.warnings.length) process.stderr.write(`${formatRuleWarnings(checked.warnings)}\n`);
  if (!checked.ok) {
    process.stderr.write(`${formatRuleErrors(checked.errors)}\n`);
    return 1;
  }
  if (sub === 'check') {
    process.stdout.write(`${checked.ruleSet.rules.length} rule(s) valid in ${dir}${checked.warnings.length ? `, ${checked.warnings.length} warning(s)` : ''}\n`);
    return 0;
  }
  return rulesTest(checked.ruleSet, values);
}

const HELP = `
rules check DIR      validates the rule files in DIR (monitor-rules/README.md): each error and warning
                     as file:line:column on stderr
rules test DIR       replays the entries a store holds through the rules, notifying no one: a line per
                     finding that would fire, then how many entries and findings on stderr

  --data-dir DIR       the data directory tlogwatch serve runs with (stop serve first: it holds the store)
  --log NAME           only this log's entries (default every log in the store)
  --from N, --to N     only the entries from N to M (both included)
  --trusted-root FILE  name the certificate authority of this trusted root that issued each certificate
  --json               each finding as one line of JSON

Exit: 0 valid (check) or replayed (test; findings or not), 1 rule files with errors, 2 usage, a directory
that cannot be read, or no store or no log of that name there.
`;

/** `--from`/`--to`: a log index, undefined when the flag is absent, or the line that says what is wrong. */
function indexFlag(flag: string, v: string | undefined): number | undefined | { error: string } {
  if (v === undefined) return undefined;
  if (!/^(0|[1-9]\d{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) return { error: `--${flag} must be a log index (0, 1, 2, …), got ${JSON.stringify(v)}` };
  return Number(v);
}

interface TestFlags {
  'data-dir'?: string | undefined;
  'trusted-root'?: string | undefined;
  log?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  json?: boolean | undefined;
}

/**
 * `rules test`: the store's entries (one log's with --log, in [--from, --to]) through the rules. The
 * store must exist and hold the log asked for: a replay of nothing that exits 0 would read as "no
 * finding would fire".
 */
async function rulesTest(ruleSet: RuleSet, values: TestFlags): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`tlogwatch rules test: ${message}\n`);
    return 2;
  };
  if (!values['data-dir']) return fail('--data-dir is required');
  const from = indexFlag('from', values.from) ?? 0;
  const to = indexFlag('to', values.to) ?? Number.MAX_SAFE_INTEGER;
  if (typeof from === 'object') return fail(from.error);
  if (typeof to === 'object') return fail(to.error);
  let cas: CertificateAuthorities | undefined;
  try {
    if (values['trusted-root']) cas = new CertificateAuthorities(loadTrustedRootFile(values['trusted-root']).certificateAuthorities);
  } catch (e) {
    return fail(describeError(e));
  }
  let store: Store;
  try {
    // Reading entries changes nothing, so an older schema is not upgraded in place either (as check: store.ts).
    store = await openExistingStore(join(values['data-dir'], 'store'), 'nothing has been mirrored there', { upgrade: false });
  } catch (e) {
    return fail(storeErrorText(e));
  }
  const now = Math.floor(Date.now() / 1000);
  let entries = 0;
  let fired = 0;
  try {
    const unknown = values.log === undefined ? undefined : unknownLog(store, values.log);
    if (unknown !== undefined) return fail(unknown);
    // One log's entries are one key range (keys.ts ENTRY), read from --from on.
    const id = values.log === undefined ? undefined : await store.logId(values.log);
    const range = id === undefined ? { gte: key(Bucket.ENTRY), lt: prefixEnd(key(Bucket.ENTRY)) } : { gte: entryKey(id, from), lt: prefixEnd(key(Bucket.ENTRY, u16(id))) };
    for await (const [k, v] of store.entryDb.iterator(range)) {
      const log = store.logNameOf((k[1]! << 8) | k[2]!) ?? '?';
      const index = Number(Buffer.from(k.subarray(3)).readBigUInt64BE());
      if (index < from || index > to) continue;
      const { record, body } = decodeEntryValue(v, log, index);
      entries++;
      const entry = { ...record.entry };
      if (record.attestation) withStatement(entry, Buffer.from(record.attestation, 'base64'), 'attestation');
      for (const f of evaluateLogged(ruleSet, entry, body, now, { cas })) {
        fired++;
        process.stdout.write(values.json ? `${JSON.stringify(f)}\n` : `${f.severity.toUpperCase()}\t${f.rule}\t${forTerminal(log)}#${index}\t${f.status}\t${forTerminal(f.message)}\n`);
      }
    }
  } finally {
    await store.close();
  }
  process.stderr.write(`${entries} entries replayed, ${fired} finding(s) would have fired\n`);
  return 0;
}
