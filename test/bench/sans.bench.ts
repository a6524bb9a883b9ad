/**
 * The cost of reading every SubjectAltName (entries/subject-alt-name.ts): the worst certificate a
 * Rekor v1 entry can carry into tlogwatch (its key material is at most 256 KiB of PEM, kinds/common.ts
 * MAX_KEY_BYTES, so ~190 KB of DER) packed with as many distinct short names as fit, against an ordinary
 * Fulcio-style entry (one SAN). Per entry: the decode (no certificate cache), the index keys and their
 * bytes, the bytes it adds to a real store after a full compaction, the heap its certificate's claims hold
 * in the decoder's cache, and rule evaluation against watches on identities.
 *
 *   npx node --expose-gc test/bench/sans.bench.ts
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCertificateClaims, type CertificateClaims } from '../../src/entries/certificate.ts';
import { decodeRekorV1Body } from '../../src/entries/decode.ts';
import { sansOf } from '../../src/entries/subject-alt-name.ts';
import type { Entry } from '../../src/entries/types.ts';
import { CompactRange } from '../../src/merkle/compact.ts';
import { leafHash } from '../../src/merkle/rfc6962.ts';
import { evaluateEntry } from '../../src/monitor/evaluate.ts';
import { checkRules } from '../../src/monitor/load.ts';
import type { LogState } from '../../src/store/codec.ts';
import { indexValues } from '../../src/store/index-values.ts';
import { Store } from '../../src/store/store.ts';
import { pem, certSigner, hashedrekordV1 } from '../sim/bodies.ts';
import { createCA, createLeaf } from '../sim/certs.ts';
import { EntryGenerator } from '../sim/generate.ts';
import { BASE_TIME } from '../sim/log.ts';
import { fmt, machine } from './machine.ts';

/** What a Rekor v1 body's publicKey.content may decode to (kinds/common.ts MAX_KEY_BYTES): the PEM. */
const MAX_PEM_BYTES = 256 * 1024;
/** Printable IA5 but upper case (emails are indexed lower-cased, so upper case would collide). */
const ALPHABET = [...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))].filter((c) => c < 'A' || c > 'Z');
const HOSTILE = 20;
const ORDINARY = 2000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** The `n` shortest distinct names over ALPHABET. */
function shortNames(n: number): string[] {
  const out: string[] = [];
  for (let len = 1; out.length < n; len++) {
    const total = ALPHABET.length ** len;
    for (let k = 0; k < total && out.length < n; k++) {
      let s = '';
      for (let r = k, i = 0; i < len; i++, r = Math.floor(r / ALPHABET.length)) s += ALPHABET[r % ALPHABET.length];
      out.push(s);
    }
  }
  return out;
}

const ca = createCA('sans-bench', BASE_TIME - 86400, BASE_TIME + 86400);

/** A self-made certificate naming `victim` and then as many short names as fit a Rekor v1 body's PEM; `k` varies its serial. */
function worstCertificate(victim: string, k: number) {
  let n = 40_000;
  for (;;) {
    const leaf = createLeaf(ca, { san: victim, sans: shortNames(n), issuer: 'https://accounts.example' }, BASE_TIME + k);
    const over = Buffer.byteLength(pem('CERTIFICATE', leaf.der)) - MAX_PEM_BYTES;
    if (over <= 0) return { leaf, names: n + 1 };
    n -= Math.ceil(over / 4);
  }
}

/** Milliseconds per call of `f`, the median of `rounds`. */
function timeMs(f: () => void, rounds = 7): number {
  f();
  const t: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const s = performance.now();
    f();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).reduce((sum, f) => {
    const st = statSync(join(dir, f));
    return st.isFile() ? sum + st.size : sum;
  }, 0);
}

/** Bytes on disk of a store holding `bodies` (index mode `all`) after a full compaction. */
async function storeBytes(bodies: Uint8Array[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-sans-bench-'));
  try {
    const store = await Store.open(dir, { indexMode: 'all' });
    const range = CompactRange.empty();
    const entries = bodies.map((body, i) => {
      range.append(leafHash(body), () => {});
      return { record: { entry: decodeRekorV1Body(body, { log: 'rekor', index: i, integratedTime: BASE_TIME + i }) }, body };
    });
    const state: LogState = { name: 'rekor', type: 'rekor-v1', url: 'http://127.0.0.1:1', origin: 'rekor', status: 'following', frontier: range.serialize(), startIndex: 0n };
    for (let lo = 0; lo < entries.length; lo += 256) {
      await store.commitBatch({ entries: entries.slice(lo, lo + 256), nodes: [], state, checkpoint: { size: range.size, rootHash: range.root(), note: 'rekor\n1\nAAAA\n\n— rekor sig\n', at: 1 } });
    }
    const compact = (db: unknown) => (db as { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> }).compactRange(new Uint8Array([0]), new Uint8Array([0xff]));
    await compact(store.db);
    await store.close();
    return dirBytes(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Heap bytes that `count` claims, read from distinct certificates, hold (what ClaimsCache keeps per entry). */
function claimsHeap(ders: Uint8Array[]): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: CertificateClaims[] = ders.map((d) => readCertificateClaims(d));
  gc();
  const after = process.memoryUsage().heapUsed;
  if (kept.length !== ders.length) throw new Error('unreachable');
  return (after - before) / ders.length;
}

const VICTIM = 'release@victim.example';
const rules = checkRules([
  {
    name: 'bench.yaml',
    text: `rules:\n${Array.from({ length: 100 }, (_, i) => `  - id: r${i}\n    watch: { identities: ['*@org${i}.example', 'https://github.com/org${i}/*'] }\n    expect: { issuers: ['https://accounts.org${i}.example'] }\n`).join('')}  - id: victim\n    watch: { identities: ['${VICTIM}'] }\n    expect: { issuers: ['https://accounts.victim.example'] }\n`,
  },
]);
if (!rules.ok) throw new Error(JSON.stringify(rules.errors));

// The victim last, past every short name: the position a reader with a bound would not reach.
const hostile = Array.from({ length: HOSTILE }, (_, k) => {
  const { leaf, names } = worstCertificate('attacker@evil.example', k);
  return { leaf, names };
});
const lastLeaf = createLeaf(ca, { san: 'attacker@evil.example', sans: [...shortNames(hostile[0]!.names - 2), VICTIM], issuer: 'https://accounts.example' }, BASE_TIME + 99);
const digest = 'ab'.repeat(32);
const hostileBodies = hostile.map(({ leaf }) => Buffer.from(hashedrekordV1(certSigner(leaf), undefined, digest).body, 'utf8'));
const victimBody = Buffer.from(hashedrekordV1(certSigner(lastLeaf), undefined, digest).body, 'utf8');
const gen = new EntryGenerator('sans-bench', 'v1', ca);
const ordinaryBodies = Array.from({ length: ORDINARY }, (_, i) => Buffer.from(gen.generate(i, BASE_TIME + i * 30).body, 'utf8'));

const meta = { log: 'rekor', index: 1, integratedTime: BASE_TIME };
const decodeOrdinary = timeMs(() => ordinaryBodies.slice(0, 200).forEach((b) => decodeRekorV1Body(b, meta))) / 200;
const decodeHostile = timeMs(() => decodeRekorV1Body(hostileBodies[0]!, meta));
const hostileEntry: Entry = decodeRekorV1Body(victimBody, meta);
const ordinaryEntry: Entry = decodeRekorV1Body(ordinaryBodies[0]!, meta);
const keys = (e: Entry) => indexValues(e, true);
// An index key: bucket, field, value, 0x00, u64 time, u16 log, u64 index (store/keys.ts indexKey).
const keyBytes = (e: Entry) => keys(e).reduce((s, [, v]) => s + 21 + v.length, 0);
const indexHostile = timeMs(() => keys(hostileEntry));
const evalHostile = timeMs(() => evaluateEntry(rules.ruleSet, hostileEntry, BASE_TIME));
const evalOrdinary = timeMs(() => ordinaryBodies.slice(0, 200).forEach(() => evaluateEntry(rules.ruleSet, ordinaryEntry, BASE_TIME))) / 200;
const found = evaluateEntry(rules.ruleSet, hostileEntry, BASE_TIME).map((f) => f.rule);
const base = await storeBytes(ordinaryBodies);
const withHostile = await storeBytes([...ordinaryBodies, ...hostileBodies]);
const heapOrdinary = claimsHeap(Array.from({ length: 4000 }, (_, i) => createLeaf(ca, { san: `x${i}@example.org`, issuer: 'https://accounts.example' }, BASE_TIME + i).der));
const heapHostile = claimsHeap(hostile.map(({ leaf }) => leaf.der));

const avg = (xs: Uint8Array[]) => xs.reduce((s, b) => s + b.length, 0) / xs.length;
const ms = (x: number) => (x < 1 ? `${(x * 1000).toFixed(1)} µs` : `${x.toFixed(1)} ms`);
console.log(`## SubjectAltNames (worst-case certificate)

${machine()}. A self-made certificate whose PEM fills a Rekor v1 body's key material (${fmt(MAX_PEM_BYTES)} bytes) with ${fmt(hostile[0]!.names)} distinct names (${fmt(hostile[0]!.leaf.der.length)} bytes of DER), against the simulator's Fulcio-style entries (one SAN). Every name read: ${sansOf(hostileEntry.signer!).length === hostile[0]!.names ? 'yes' : `no (${sansOf(hostileEntry.signer!).length})`}; a watch on the last name fires: ${found.includes('victim') ? 'yes' : 'no'}.

| per entry | ordinary | worst-case certificate |
|---|---:|---:|
| body bytes | ${fmt(avg(ordinaryBodies))} | ${fmt(avg(hostileBodies))} |
| decode (no certificate cache) | ${ms(decodeOrdinary)} | ${ms(decodeHostile)} |
| index keys | ${keys(ordinaryEntry).length} | ${fmt(keys(hostileEntry).length)} |
| index key bytes (uncompressed) | ${fmt(keyBytes(ordinaryEntry))} | ${fmt(keyBytes(hostileEntry))} |
| indexValues | | ${ms(indexHostile)} |
| store bytes after compaction (${ORDINARY} ordinary; +${HOSTILE} worst-case) | ${fmt(base / ORDINARY)} | ${fmt((withHostile - base) / HOSTILE)} |
| heap of its cached certificate claims | ${fmt(heapOrdinary)} | ${fmt(heapHostile)} |
| evaluate against 101 rules (202 identity watches) | ${ms(evalOrdinary)} | ${ms(evalHostile)} |
`);
