/**
 * Decoding throughput: real Rekor v1/v2 bodies → Entry records (certificate claims included), and the
 * certificate reader against @sigstore/core's and node:crypto's X509Certificate as baselines, in one run.
 *
 *   npx node test/bench/decode.bench.ts            # prints a "## Decoding" markdown section
 *
 * Each case runs for a fixed time after a warm-up; the median of five rounds is reported.
 */
import { X509Certificate as NodeX509 } from 'node:crypto';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { X509Certificate } from '@sigstore/core';
import { ClaimsCache, readCertificateClaims } from '../../src/entries/certificate.ts';
import { decodeRekorV1Body, decodeRekorV2Entry } from '../../src/entries/decode.ts';
import { parseTlogEntries } from '../../src/entries/tlog-entry.ts';
import { FULCIO_OIDS } from '../../src/entries/types.ts';
import { filesUnder, inInputDir, readJson, REALDATA } from '../helpers/realdata.ts';
import { realCertificates } from '../unit/entries/realdata-certs.ts';

interface Body {
  kind: string;
  body: Uint8Array;
}

/** Distinct real bodies by kind/version, from every tlog-entry input in the fixtures. */
function realBodies(): Map<string, Body[]> {
  const byKind = new Map<string, Body[]>();
  const seen = new Set<string>();
  for (const f of filesUnder(REALDATA, (p) => inInputDir(p))) {
    let inputs;
    try {
      inputs = parseTlogEntries(readJson(f));
    } catch {
      continue;
    }
    for (const e of inputs) {
      const key = Buffer.from(e.body).toString('base64');
      if (seen.has(key)) continue;
      seen.add(key);
      const kind = `${e.kind}/${e.version}`;
      byKind.set(kind, [...(byKind.get(kind) ?? []), { kind, body: e.body }]);
    }
  }
  return byKind;
}

interface Case {
  items: number;
  run: () => void;
  rates: number[];
}

const cases: Case[] = [];

/** Registers a case; `runAll` measures them all in interleaved rounds so that a load spike on a shared
 *  machine hits every case alike rather than whichever happened to run at the time. */
function measure(items: number, run: () => void): Case {
  const c: Case = { items, run, rates: [] };
  cases.push(c);
  return c;
}

function runAll(rounds: number, ms: number): void {
  for (let r = -1; r < rounds; r++) {
    for (const c of cases) {
      let n = 0;
      const start = performance.now();
      let now = start;
      while (now - start < ms) {
        c.run();
        n += c.items;
        now = performance.now();
      }
      if (r >= 0) c.rates.push((n / (now - start)) * 1000); // round -1 warms up
    }
  }
}

const median = (c: Case): number => [...c.rates].sort((a, b) => a - b)[Math.floor(c.rates.length / 2)]!;
const best = (c: Case): number => Math.max(...c.rates);

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const us = (perSecond: number): string => (1e6 / perSecond).toFixed(1);

function main(): void {
  const bodies = realBodies();
  const v1Kinds = ['hashedrekord/0.0.1', 'dsse/0.0.1', 'intoto/0.0.2'];
  const v2Kinds = ['hashedrekord/0.0.2', 'dsse/0.0.2'];
  const rowDefs: [string, number, Case, string][] = [];
  const row = (what: string, n: number, c: Case, note = ''): void => {
    rowDefs.push([what, n, c, note]);
  };

  for (const kind of [...v1Kinds, ...v2Kinds]) {
    const list = bodies.get(kind) ?? [];
    const decode = v2Kinds.includes(kind) ? decodeRekorV2Entry : decodeRekorV1Body;
    for (const b of list) if (decode(b.body, { log: 'x', index: 0 }).problem) throw new Error(`${kind} body does not decode cleanly`);
    const fn = v2Kinds.includes(kind) ? 'decodeRekorV2Entry' : 'decodeRekorV1Body';
    row(`${fn}, ${kind}, no cache`, list.length, measure(list.length, () => list.forEach((b, i) => decode(b.body, { log: 'x', index: i }))), 'every certificate parsed');
    const cache = new ClaimsCache();
    row(`${fn}, ${kind}, warm ClaimsCache`, list.length, measure(list.length, () => list.forEach((b, i) => decode(b.body, { log: 'x', index: i }, { certificates: cache }))), 'repeated signers');
  }
  const all = [...v1Kinds, ...v2Kinds].flatMap((k) => (bodies.get(k) ?? []).map((b) => ({ ...b, v2: v2Kinds.includes(k) })));
  row(
    'all of the above, mixed, no cache',
    all.length,
    measure(all.length, () => all.forEach((b, i) => (b.v2 ? decodeRekorV2Entry : decodeRekorV1Body)(b.body, { log: 'x', index: i }))),
    'the mirror-realistic figure',
  );

  // Certificate readers on the real Fulcio leaf certificates (the ones entries carry).
  const certs = realCertificates()
    .map((c) => c.der)
    .filter((der) => readCertificateClaims(der).issuer !== undefined);
  const fulcioOids = Object.values(FULCIO_OIDS).filter((o) => o !== FULCIO_OIDS.otherNameSan);
  const certRowDefs: [string, number, Case, string][] = [];
  const certRow = (what: string, c: Case, note: string): void => {
    certRowDefs.push([what, certs.length, c, note]);
  };
  const mine = measure(certs.length, () => certs.forEach((der) => readCertificateClaims(der)));
  certRow('readCertificateClaims (this module)', mine, 'validity, SAN, all Fulcio extensions, fingerprint');
  const cache = new ClaimsCache();
  certRow('ClaimsCache.read, warm', measure(certs.length, () => certs.forEach((der) => cache.read(der))), 'SHA-256 of the DER + map lookup');
  const sigstore = measure(certs.length, () =>
    certs.forEach((der) => {
      const c = X509Certificate.parse(Buffer.from(der));
      void c.notBefore;
      void c.notAfter;
      void (c.extSubjectAltName?.uri ?? c.extSubjectAltName?.rfc822Name);
      for (const oid of fulcioOids) void c.extension(oid)?.value;
    }),
  );
  certRow('@sigstore/core X509Certificate', sigstore, 'parse + validity + SAN + every Fulcio extension (baseline)');
  const node = measure(certs.length, () =>
    certs.forEach((der) => {
      const c = new NodeX509(der);
      void c.validFromDate;
      void c.validToDate;
      void c.subjectAltName;
    }),
  );
  certRow('node:crypto X509Certificate', node, 'parse + validity + SAN only: it cannot read Fulcio extensions (baseline)');

  const loadBefore = loadavg()[0]!;
  runAll(7, 250);
  const loadAfter = loadavg()[0]!;
  const table = (defs: [string, number, Case, string][]): string =>
    defs.map(([what, n, c, note]) => `| ${what} | ${n} | ${fmt(median(c))} | ${fmt(best(c))} | ${us(median(c))} | ${note} |`).join('\n');
  const cpu = cpus();
  console.log(`## Decoding

\`npx node test/bench/decode.bench.ts\` (test/bench/decode.bench.ts), ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Linux ${release()}, Node ${process.version}, one thread;
1-minute load average ${loadBefore.toFixed(2)} before and ${loadAfter.toFixed(2)} after the run (other work shares the machine).
Inputs: every distinct real entry body in test/fixtures/realdata (certificates are real Fulcio leaves, RSA and EC keys).
Seven 250 ms rounds per case after a warm-up round, all cases interleaved round by round; median and best
round reported (the machine is shared, so the best round is the closest to its capability). Decoding includes
the RFC 6962 leaf hash, UTF-8 + JSON parse, base64/PEM of the key material and the certificate claims.

| case | bodies | entries/s (median) | entries/s (best) | µs/entry (median) | note |
|---|---:|---:|---:|---:|---|
${table(rowDefs)}

Certificate claims alone:

| reader | certs | certs/s (median) | certs/s (best) | µs/cert (median) | what it extracts |
|---|---:|---:|---:|---:|---|
${table(certRowDefs)}

By median, the DER walker is ${(median(mine) / median(sigstore)).toFixed(1)}× @sigstore/core and ${(median(mine) / median(node)).toFixed(1)}× node:crypto (which does less).
`);
}

main();
