/**
 * `tlogwatch verify [--trusted-root FILE] [--json] [--witness VKEY]... [--witness-quorum N] FILE...`: offline
 * verification of Sigstore bundles, Rekor v1 LogEntry responses and Rekor v2 TransparencyLogEntry JSON, with
 * the checkpoint's witness cosignatures when witnesses are given. Each line names the signed times the
 * certificate was judged at (verify/offline.ts), so a reader knows what vouched for its validity. Exit 0 when every entry is ok,
 * 1 when any is not, 2 on usage errors or unreadable input (one line naming the file, never a stack).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { forTerminal } from '../util/terminal.ts';
import { parseTlogEntries } from '../entries/tlog-entry.ts';
import { sanSummary } from '../entries/subject-alt-name.ts';
import { describeError } from '../errors.ts';
import { flagErrorText } from './flag-error.ts';
import { resolveTrustedRoot, tufRootRequired } from '../trust/tuf.ts';
import { isoTime, verifyTlogEntry } from '../verify/offline.ts';
import { signingTimeOf } from '../verify/signing-time.ts';
import type { RuleSet } from '../monitor/compile.ts';
import { evaluateLogged } from '../monitor/evaluate.ts';
import { CertificateAuthorities } from '../trust/certificate-authority.ts';
import { checkRules, formatRuleErrors, formatRuleWarnings, noRuleFilesWarning, readRuleFiles } from '../monitor/load.ts';
import { withStatement } from '../mirror/ingest.ts';
import { parseVerifierKey, type CosignatureVerifier } from '../note/keys.ts';
import { SHARED_KEY_WHY, sharedWitnessKey, WITNESS_KEY_TYPES, type WitnessPolicy } from '../note/witness-policy.ts';

/** Sigstore bundles and Rekor responses are kilobytes; refuse anything absurd before reading it. */
const MAX_INPUT_BYTES = 32 * 1024 * 1024;

function readInput(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_INPUT_BYTES) throw new Error(`${size} bytes is larger than the ${MAX_INPUT_BYTES}-byte limit`);
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, 0);
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } finally {
    closeSync(fd);
  }
}

/** `--witness VKEY`... and `--witness-quorum N` (default: all of them) as a policy; none given, none asked for. */
function witnessPolicyOf(vkeys: string[], quorum: string | undefined): WitnessPolicy | undefined {
  if (vkeys.length === 0) {
    if (quorum !== undefined) throw new Error('--witness-quorum needs --witness keys');
    return undefined;
  }
  const witnesses = vkeys.map((k) => {
    const v = parseVerifierKey(k);
    if (v.kind !== 'cosignature') throw new Error(`--witness ${v.name}: a key of type ${v.kind}, not a witness's (${WITNESS_KEY_TYPES})`);
    return v as CosignatureVerifier;
  });
  const names = witnesses.map((w) => w.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`--witness ${twice} is given twice`);
  const shared = sharedWitnessKey(vkeys);
  if (shared) throw new Error(`--witness ${names[shared.first]} and ${names[shared.second]} have the same public key: ${SHARED_KEY_WHY}`);
  const n = quorum === undefined ? witnesses.length : Number(quorum);
  if (!/^\d+$/.test(quorum ?? '1') || n < 1 || n > witnesses.length) throw new Error(`--witness-quorum must be a whole number from 1 to ${witnesses.length} (the witnesses given)`);
  return { witnesses, quorum: n };
}

export async function verifyCommand(argv: string[]): Promise<number> {
  let values: { 'trusted-root'?: string; 'tuf-mirror'?: string; 'tuf-root'?: string; json?: boolean; help?: boolean; rules?: string; witness?: string[]; 'witness-quorum'?: string };
  let files: string[];
  try {
    ({ values, positionals: files } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'trusted-root': { type: 'string' }, 'tuf-mirror': { type: 'string' }, 'tuf-root': { type: 'string' }, json: { type: 'boolean' }, rules: { type: 'string' }, witness: { type: 'string', multiple: true }, 'witness-quorum': { type: 'string' }, help: { type: 'boolean' } },
    }));
  } catch (e) {
    process.stderr.write(`${flagErrorText('verify', e)}\n`);
    return 2;
  }
  if (values.help || files.length === 0) {
    // Asked for, the usage is the answer (stdout); otherwise it explains a usage error (stderr).
    (values.help ? process.stdout : process.stderr).write(`usage: tlogwatch verify [--trusted-root FILE | --tuf-mirror URL --tuf-root FILE] [--json] [--rules DIR] [--witness VKEY]... [--witness-quorum N] FILE...
Checks each transparency-log entry of Sigstore bundles and Rekor responses: body, inclusion, checkpoint,
set (the signed entry timestamp), tsa (the bundle's RFC 3161 timestamps) and certificate (valid at every
signed time: the SET's, each timestamp's; a bundle signed with a certificate needs one). Exit 0 when every
entry is ok, 1 when one is not (or, with --rules DIR, an open violation of a monitor rule), 2 on usage
errors or unreadable input. --rules judges time windows and the issuing CA at a signed time only: the
SET's integrated time, else the earliest verified timestamp's; with neither, a time window is broken
("no signed time").
`);
    return values.help ? 0 : 2;
  }
  let witnesses: WitnessPolicy | undefined;
  try {
    witnesses = witnessPolicyOf(values.witness ?? [], values['witness-quorum']);
  } catch (e) {
    process.stderr.write(`tlogwatch verify: ${describeError(e)}\n`);
    return 2;
  }
  if (values['trusted-root'] && (values['tuf-mirror'] || values['tuf-root'])) {
    process.stderr.write('tlogwatch verify: --tuf-mirror and --tuf-root have no effect with --trusted-root (the root is then that file)\n');
    return 2;
  }
  if (!values['tuf-root'] && tufRootRequired(values['tuf-mirror'])) {
    process.stderr.write(`tlogwatch verify: --tuf-mirror ${values['tuf-mirror']} needs --tuf-root FILE: only the public-good repository's first root is built in\n`);
    return 2;
  }
  let trust;
  try {
    trust = await resolveTrustedRoot(values['trusted-root'], join(homedir(), '.cache', 'tlogwatch', 'tuf'), {
      ...(values['tuf-mirror'] ? { mirrorURL: values['tuf-mirror'] } : {}),
      ...(values['tuf-root'] ? { rootPath: values['tuf-root'] } : {}),
    });
  } catch (e) {
    process.stderr.write(`tlogwatch verify: ${describeError(e)}\n`);
    return 2;
  }
  let ruleSet: RuleSet | undefined;
  if (values.rules) {
    try {
      const files = readRuleFiles(values.rules);
      // A policy check in CI that checks nothing passes every bundle: say so.
      if (files.length === 0) process.stderr.write(`warning: ${noRuleFilesWarning(values.rules)}\n`);
      const r = checkRules(files);
      if (r.warnings.length) process.stderr.write(`${formatRuleWarnings(r.warnings)}\n`);
      if (!r.ok) {
        process.stderr.write(`${formatRuleErrors(r.errors)}\n`);
        return 2;
      }
      ruleSet = r.ruleSet;
    } catch (e) {
      process.stderr.write(`tlogwatch verify: --rules ${values.rules}: ${describeError(e)}\n`);
      return 2;
    }
  }
  let code = 0;
  let cas: CertificateAuthorities | undefined;
  for (const file of files) {
    let entries;
    try {
      let doc: unknown;
      const text = readInput(file);
      try {
        doc = JSON.parse(text) as unknown;
      } catch (e) {
        throw new Error(`not JSON (${(e as Error).message.slice(0, 80)})`, { cause: e });
      }
      entries = parseTlogEntries(doc);
    } catch (e) {
      process.stderr.write(`tlogwatch verify: ${file}: ${describeError(e).replace(/\s+/g, ' ')}\n`);
      code = 2;
      continue;
    }
    for (const t of entries) {
      const r = verifyTlogEntry(t, trust, witnesses);
      if (!r.ok && code === 0) code = 1;
      if (values.json) {
        const line = { file, log: r.log, logIndex: r.logIndex, checks: r.checks, signedTimes: r.signedTimes, ok: r.ok, ...(r.error ? { error: r.error } : {}), ...(r.warning ? { warning: r.warning } : {}) };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      } else {
        const c = r.checks;
        // A certificate naming several identities shows its primary and how many more, as `search` does.
        const signer = r.entry.signer;
        const who = (signer && sanSummary(signer)) ?? signer?.fingerprint ?? '';
        // Which times the certificate was judged at: the verdict names them, so a reader knows what vouched for it.
        const times = r.signedTimes.map((s) => `${isoTime(s.time)} (${s.by === 'set' ? `SET, ${s.log}` : `RFC 3161 timestamp, ${s.tsa}`})`).join(', ');
        const checks = `body=${c.body} inclusion=${c.inclusion} checkpoint=${c.checkpoint} set=${c.set} tsa=${c.tsa} certificate=${c.certificate}${c.witnessed ? ` witnessed=${c.witnessed}` : ''}`;
        const notes = `${times ? `; signed times: ${times}` : ''}${r.error ? ` (${r.error})` : ''}${r.warning ? ` (warning: ${r.warning})` : ''}`;
        process.stdout.write(`${forTerminal(`${r.ok ? 'OK  ' : 'FAIL'} ${file} ${r.log}#${r.logIndex} ${r.entry.kind} ${checks} ${who}${notes}`)}\n`);
      }
      if (ruleSet) {
        // The rules see an integrated time only when a SET signed it (anyone can edit it otherwise), and
        // judge time windows and the issuing CA at the signed time alone (verify/signing-time.ts).
        const { integratedTime: _unsigned, ...unsigned } = r.entry;
        const entry = r.checks.set === 'ok' ? r.entry : unsigned;
        const env = t.bundleContent?.dsseEnvelope;
        if (env) withStatement(entry, env.payload, 'bundle', env.payloadType);
        const now = Math.floor(Date.now() / 1000);
        cas ??= new CertificateAuthorities(trust.certificateAuthorities);
        for (const f of evaluateLogged(ruleSet, entry, t.body, now, { cas, signedTime: signingTimeOf(r.signedTimes) })) {
          if (f.kind === 'violation' && f.status === 'open' && code === 0) code = 1;
          process.stdout.write(values.json ? `${JSON.stringify({ file, finding: f })}\n` : `${forTerminal(`FINDING ${f.severity} ${f.rule} ${file} ${f.status}: ${f.message}`)}\n`);
        }
      }
    }
  }
  return code;
}
