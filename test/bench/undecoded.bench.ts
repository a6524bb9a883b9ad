/**
 * The cost of the `undecoded-entry` built-in (monitor/eval/undecoded.ts). Ordinary entries: the monitor's
 * onEntries over the simulator's Fulcio-style entries, as it is (with the `if (entry.problem)` test) against
 * the loop it replaced (evaluateEntry alone), alternating. Entries the decoder refuses: the scan of the body
 * and its nested base64 layers for the values of 101 rules (202 identity watches and one on the victim),
 * beside the decode every entry pays anyway, for a certificate over the key-material bound, a body of
 * 4 MiB nested base64 (every layer decodes to more base64), one of 65,536 short base64 values, 4 MiB of
 * near misses of watched values, and a 40 MiB body (past the scan budget).
 *
 *   npx node --expose-gc test/bench/undecoded.bench.ts
 */
import type { EntriesOutcome } from '../../src/mirror/types.ts';
import { decodeRekorV1Body } from '../../src/entries/decode.ts';
import { leafHash } from '../../src/merkle/rfc6962.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { IngestedEntry } from '../../src/mirror/ingest.ts';
import { evaluateUndecoded, SCAN_BUDGET } from '../../src/monitor/eval/undecoded.ts';
import { evaluateEntry } from '../../src/monitor/evaluate.ts';
import { monitorHooks } from '../../src/monitor/hooks.ts';
import { checkRules } from '../../src/monitor/load.ts';
import { DEFAULT_BUILTINS } from '../../src/monitor/rules/compiled.ts';
import type { Finding } from '../../src/monitor/finding.ts';
import { certSigner, hashedrekordV1 } from '../sim/bodies.ts';
import { createCA, createLeaf } from '../sim/certs.ts';
import { EntryGenerator } from '../sim/generate.ts';
import { BASE_TIME } from '../sim/log.ts';
import { machine } from './machine.ts';

const VICTIM = 'victim@corp.example';
const ORDINARY = 2000;
const rules = checkRules([
  {
    name: 'bench.yaml',
    text: `rules:\n${Array.from({ length: 100 }, (_, i) => `  - id: r${i}\n    watch: { identities: ['*@org${i}.example', 'https://github.com/org${i}/*'] }\n    expect: { issuers: ['https://accounts.org${i}.example'] }\n`).join('')}  - id: victim\n    severity: critical\n    watch: { identities: ['${VICTIM}'] }\n    expect: { issuers: ['https://accounts.victim.example'] }\n`,
  },
]);
if (!rules.ok) throw new Error(JSON.stringify(rules.errors));
const rs = rules.ruleSet;

const ca = createCA('undecoded-bench', BASE_TIME - 86400, BASE_TIME + 86400);
const gen = new EntryGenerator('undecoded-bench', 'v1', ca);
const ingested = (body: Uint8Array, i: number): IngestedEntry => ({
  entry: decodeRekorV1Body(body, { log: 'bench', index: i, leafHash: leafHash(body), integratedTime: BASE_TIME + i }),
  body,
  leaf: { treeIndex: BigInt(i), logIndex: BigInt(i), body },
});
const ordinary = Array.from({ length: ORDINARY }, (_, i) => ingested(new Uint8Array(Buffer.from(gen.generate(i, BASE_TIME + i * 30).body, 'utf8')), i));
if (ordinary.some((e) => e.entry.problem)) throw new Error('an ordinary entry has a decode problem');

const metrics = createMetrics({ defaultMetrics: false });
const none = (): [] => [];
const hooks = monitorHooks(() => rs, metrics, undefined, none);
/** onEntries as it was before `undecoded-entry` (hooks.ts at 7c80460), line for line. */
function before(entries: readonly IngestedEntry[], now: number): EntriesOutcome {
  const set = (() => rs)();
  if (set.rules.length === 0) return { ops: [] };
  const ops: unknown[] = [];
  const found: Finding[] = [];
  const authorities = undefined;
  for (const { entry } of entries) {
    for (const f of evaluateEntry(set, entry, now, { cas: authorities })) {
      ops.push(...none());
      found.push(f);
    }
  }
  return { ops: [] };
}
const PASSES = 20;
const per = (f: () => unknown) => {
  const t = performance.now();
  for (let p = 0; p < PASSES; p++) f();
  return ((performance.now() - t) * 1000) / ORDINARY / PASSES;
};
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < 3; r++) {
  before(ordinary, BASE_TIME);
  hooks.onEntries!('bench', ordinary, BASE_TIME);
}
for (let r = 0; r < 15; r++) {
  a.push(per(() => before(ordinary, BASE_TIME)));
  b.push(per(() => hooks.onEntries!('bench', ordinary, BASE_TIME)));
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** A signature whose certificate carries 300 KiB in an extension: over the bound, no signer read. */
const huge = createLeaf(ca, { san: VICTIM, issuer: 'https://accounts.google.com', rawExtensions: { '1.3.6.1.4.1.99999.1': new Uint8Array(300 * 1024) } }, BASE_TIME + 7);
const hugeBody = new Uint8Array(Buffer.from(hashedrekordV1(certSigner(huge), undefined, 'ab'.repeat(32)).body, 'utf8'));
/** Base64 of base64 of base64… of `inner`, until it is `bytes` long: every layer the scan reads is more base64. */
function nested(bytes: number): Uint8Array {
  let s = Buffer.from(`${VICTIM} `.repeat(64));
  while (s.length < bytes) s = Buffer.from(s.toString('base64'));
  return new Uint8Array(Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { signature: { publicKey: { content: s.subarray(0, bytes).toString() } } } })));
}
/** 4 MiB of 64-character base64 values (65,536 of them), the shortest the scan decodes, the victim's address in the last. */
function shortValues(): Uint8Array {
  const values = Array.from({ length: 1 << 16 }, (_, i) => Buffer.alloc(48, i % 64).toString('base64'));
  values[values.length - 1] = Buffer.from(`${VICTIM}`.padEnd(48, ' ')).toString('base64');
  return new Uint8Array(Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { values } })));
}
/** 4 MiB of near misses of watched values (each address and URL one character short), as plain JSON text. */
function nearMisses(): Uint8Array {
  const miss = `${VICTIM.slice(0, -1)} u1@org1.exampl https://github.com/org1 `;
  return new Uint8Array(Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { note: miss.repeat(Math.ceil((4 * 1024 * 1024) / miss.length)) } })));
}
/** Every refused entry raised (not only those naming a watched value, the default since b5e64c1), so each row has a severity. */
const raiseAll = { ...DEFAULT_BUILTINS.undecodedEntry, watchedOnly: false };
const hostile = [
  { what: 'certificate over 256 KiB (names the victim)', body: hugeBody },
  { what: '4 MiB of nested base64', body: nested(4 * 1024 * 1024) },
  { what: '4 MiB of 64-character base64 values (the victim in the last)', body: shortValues() },
  { what: '4 MiB of near misses of watched values', body: nearMisses() },
  { what: '40 MiB of nested base64 (past the scan budget)', body: nested(40 * 1024 * 1024) },
];
const rows = hostile.map(({ what, body }, i) => {
  const decodeMs = (() => {
    const t = performance.now();
    decodeRekorV1Body(body, { log: 'bench', index: i });
    return performance.now() - t;
  })();
  const e = ingested(body, i).entry;
  if (!e.problem) throw new Error(`${what}: decoded`);
  const times: number[] = [];
  let c = evaluateUndecoded(e, body, rs.rules, raiseAll)!;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    c = evaluateUndecoded(e, body, rs.rules, raiseAll)!;
    times.push(performance.now() - t);
  }
  return `| ${what} | ${body.length.toLocaleString('en-US')} | ${decodeMs.toFixed(1)} ms | ${median(times).toFixed(1)} ms | ${c.severity}${c.watched.length ? ` (${c.watched.map((h) => `${h.rule}, layer ${h.layer}`).join('; ')})` : ''} |`;
});

console.log(`## Undecoded entries (undecoded-entry)

${machine()}. ${ORDINARY} of the simulator's Fulcio-style entries through the monitor against 101 rules,
fifteen alternating rounds of 20 passes, medians: the loop before \`undecoded-entry\` ${median(a).toFixed(2)} µs per entry, the
monitor's onEntries now ${median(b).toFixed(2)} µs (ordinary entries pay the \`if (entry.problem)\` test only).
Entries the decoder refuses, each scanned for the rules' watched values (scan budget ${SCAN_BUDGET.toLocaleString('en-US')} bytes):

| body | bytes | decode | scan (evaluateUndecoded) | severity (hit) |
|---|---:|---:|---:|---|
${rows.join('\n')}`);
